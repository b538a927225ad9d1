import json

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from customers.selectors.access import customer_data
from customers.services.erasure import ErasureError, customer_find


class Command(BaseCommand):
    help = (
        "R14 access: print, as one JSON object, everything the product holds about the "
        "customer ACCOUNT, from HQ and every channel database."
    )

    def add_arguments(self, parser):
        parser.add_argument("account", metavar="ACCOUNT", help="The HQ customer account.")
        parser.add_argument(
            "--legal-entity", metavar="CODE", help="When two legal entities have the account."
        )

    def handle(self, *args, account, legal_entity, **options):
        try:
            customer = customer_find(account=account, legal_entity=legal_entity)
        except ErasureError as error:
            raise CommandError(str(error)) from None
        data = customer_data(customer)
        self.stdout.write(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
