import sys

from django.core.management.base import BaseCommand, CommandError

from customers.management.arguments import account_arguments_add, customer_for, user_for
from jobs.services.erasure import customer_erase_everywhere


class Command(BaseCommand):
    help = (
        "R14 erasure: make the person behind customer ACCOUNT anonymous everywhere at HQ "
        "(party, addresses, contacts, attributes, staging rows, download payloads, job run "
        "errors, match keys, change history, admin history); the next distribution (1010) "
        "does the same in every channel database. Asks for confirmation without --yes."
    )

    def add_arguments(self, parser):
        account_arguments_add(parser)
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")
        parser.add_argument("--user", metavar="USERNAME", help="The HQ user who asked.")

    def handle(self, *args, account, legal_entity, yes, user, **options):
        requester = user_for(user)
        customer = customer_for(account, legal_entity)
        if not yes:
            if not sys.stdin.isatty():
                raise CommandError("not a terminal: confirm the erasure with --yes")
            answer = input(
                f"Erase the personal data of customer {customer.account} "
                f"({customer.party.name}) everywhere? This cannot be undone. [y/N] "
            )
            if answer.strip().lower() not in ("y", "yes"):
                raise CommandError("erasure cancelled; nothing changed")
        customer, counts = customer_erase_everywhere(
            account=customer.account, legal_entity=customer.legal_entity.code, user=requester
        )
        for name, count in counts.items():
            self.stdout.write(f"{name}: {count} row(s)")
        self.stdout.write(
            f"customer {customer.account} erased; the next distribution (1010) erases it in "
            "every channel database"
        )
