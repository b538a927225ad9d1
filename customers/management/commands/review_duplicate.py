from django.core.management.base import BaseCommand, CommandError

from customers.management.arguments import shell_user, user_argument_add, user_for
from customers.services.review import (
    DuplicateReviewError,
    staged_customer_for_review,
    staged_customer_review,
)


class Command(BaseCommand):
    help = (
        "Resolve an async customer that needs review as a possible duplicate (R12): link "
        "it to an existing account of its legal entity, or create a new account anyway. "
        "Records who decided and when."
    )

    def add_arguments(self, parser):
        parser.add_argument("async_id", metavar="ASYNC_ID", help="The async customer's GUID.")
        decision = parser.add_mutually_exclusive_group(required=True)
        decision.add_argument(
            "--link", metavar="ACCOUNT", help="Link it to this account of its legal entity."
        )
        decision.add_argument("--create", action="store_true", help="Create a new account.")
        parser.add_argument(
            "--channel-database",
            metavar="NAME",
            help="The channel database that made the GUID, when several staged it.",
        )
        user_argument_add(parser, who="decided")

    def handle(self, *args, async_id, link, create, channel_database, user, **options):
        reviewer = user_for(user)
        try:
            staged = staged_customer_for_review(
                async_customer_id=async_id, channel_database=channel_database
            )
            result = staged_customer_review(
                staged=staged,
                link_account=link,
                create=create,
                user=reviewer,
                reviewer=shell_user(),
            )
        except DuplicateReviewError as error:
            raise CommandError(str(error)) from None
        guid = staged.async_customer_id
        if not result.ok:
            raise CommandError(f'Async customer "{guid}" could not be created: {result.error}')
        if link:
            self.stdout.write(
                f"async customer {guid} linked to account {result.account} "
                f"({result.addresses_added} address(es) and {result.contacts_added} contact(s) "
                "added); distribution (1010) links it at the store"
            )
        else:
            self.stdout.write(f"async customer {guid} created as account {result.account}")
