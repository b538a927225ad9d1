import json

from django.core.management.base import BaseCommand
from django.core.serializers.json import DjangoJSONEncoder

from customers.management.arguments import account_arguments_add, customer_for
from customers.selectors.access import customer_data


class Command(BaseCommand):
    help = (
        "R14 access: print, as one JSON object, everything the product holds about the "
        "customer ACCOUNT, from HQ and every channel database."
    )

    def add_arguments(self, parser):
        account_arguments_add(parser)

    def handle(self, *args, account, legal_entity, **options):
        data = customer_data(customer_for(account, legal_entity))
        self.stdout.write(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
