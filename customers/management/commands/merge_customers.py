import json

from django.core.management.base import BaseCommand, CommandError

from customers.management.arguments import shell_user, user_argument_add, user_for
from customers.selectors import customer_export_row, customer_list
from customers.services.merge import MergeError, customers_merge, merge_targets_find


class Command(BaseCommand):
    help = (
        "Merge duplicate customer accounts into a survivor (R13), in one transaction: the "
        "survivor takes their addresses, contact info, attribute values it lacks, "
        "affiliations, sales transactions and orders, and their async GUIDs; each merged "
        "account stays as an alias of the survivor. Prints the survivor as "
        "export_customers does (one JSON object)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--into", required=True, metavar="SURVIVOR", help="The account that survives."
        )
        parser.add_argument(
            "accounts", nargs="+", metavar="ACCOUNT", help="The accounts merged into it."
        )
        parser.add_argument(
            "--legal-entity",
            metavar="CODE",
            help="The legal entity of the accounts, when its account numbers repeat another's.",
        )
        user_argument_add(parser, who="merged")

    def handle(self, *args, into, accounts, legal_entity, user, **options):
        merged_by = user_for(user)
        try:
            survivor_id, merged_ids = merge_targets_find(
                survivor=into, accounts=accounts, legal_entity=legal_entity
            )
            result = customers_merge(
                survivor_id=survivor_id,
                merged_ids=merged_ids,
                user=merged_by,
                merger=shell_user(),
            )
        except MergeError as error:
            raise CommandError(str(error)) from None
        row = customer_export_row(customer_list().get(pk=result.survivor.pk))
        self.stdout.write(json.dumps(row, ensure_ascii=False))
