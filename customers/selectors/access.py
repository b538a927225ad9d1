"""R14 access (README, Erasure and access): everything the product holds about the
person behind an HQ account, from HQ and every channel database, as one JSON-ready dict.

A fixed set of queries per store (no per-row queries): rows are read as ``values()``.
"""

from __future__ import annotations

from django.db.models import Q

from commerce.db import ChannelDatabaseUnreachable, channel_database_errors
from commerce.models import (
    ChannelDatabase,
    ChannelSalesTransaction,
    SalesOrder,
    SalesTransaction,
)
from customers.models import (
    Address,
    AsyncAddress,
    AsyncCustomer,
    AsyncCustomerAddress,
    AsyncCustomerAffiliation,
    AsyncCustomerAttributeValue,
    AsyncCustomerContact,
    AsyncCustomerLink,
    ChannelCustomer,
    ChannelCustomerAddress,
    ChannelRequest,
    ContactInfo,
    Customer,
    CustomerAffiliation,
    CustomerAttributeValue,
    PossibleDuplicate,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagedAsyncCustomerAddress,
    StagedAsyncCustomerAffiliation,
    StagedAsyncCustomerAttributeValue,
    StagedAsyncCustomerContact,
    StagedChannelRequest,
)


def _rows(queryset, *fields) -> list[dict]:
    return list(queryset.values(*fields))


def _guid_q(guids, *, channel_field: str, guid_field: str) -> Q:
    q = Q(pk__in=[])
    for channel_database, guid in guids:
        q |= Q(**{channel_field: channel_database, guid_field: guid})
    return q


def customer_data(customer: Customer) -> dict:
    """R14: one dict of every row naming the customer (values as the columns hold them;
    ``json.dumps(..., cls=DjangoJSONEncoder)`` prints it)."""
    customer = Customer.objects.select_related("party", "legal_entity", "customer_group").get(
        pk=customer.pk
    )
    guids = []
    if customer.async_customer_id:
        guids.append((customer.async_origin, customer.async_customer_id))
    links = AsyncCustomerLink.objects.filter(customer=customer)
    guids += list(links.values_list("channel_database", "async_customer_id"))
    address_guids = [
        g
        for g in Address.objects.filter(party=customer.party).values_list(
            "async_address_id", flat=True
        )
        if g
    ]
    stores = list(customer.legal_entity.stores.values_list("number", flat=True))
    hq = {
        **_hq_master_data(customer, links),
        "staging": _hq_staging_data(
            customer, guids=guids, stores=stores, address_guids=address_guids
        ),
        **_hq_sales_data(customer, guids=guids, stores=stores),
    }
    channels = {}
    for channel in ChannelDatabase.objects.order_by("name"):
        own = [g for name, g in guids if name == channel.name]
        try:
            channels[channel.name] = _channel_data(
                alias=channel.alias,
                name=channel.name,
                customer=customer,
                guids=own,
                stores=stores,
                address_guids=address_guids,
            )
        except ChannelDatabaseUnreachable as error:
            channels[channel.name] = {"error": error.cannot_be_reached}
    return {"account": customer.account, "hq": hq, "channel_databases": channels}


def _hq_master_data(customer: Customer, links) -> dict:
    """The customer's rows in HQ's customer master: customer, party, addresses, contacts,
    attributes, affiliations, async links (``links``) and possible duplicates."""
    party = customer.party
    return {
        "customer": _rows(Customer.objects.filter(pk=customer.pk))[0],
        "legal_entity": customer.legal_entity.code,
        "customer_group": customer.customer_group.code,
        "party": _rows(type(party).objects.filter(pk=party.pk))[0],
        "addresses": _rows(Address.objects.filter(party=party)),
        "contacts": _rows(ContactInfo.objects.filter(party=party)),
        "attributes": _rows(
            CustomerAttributeValue.objects.filter(customer=customer), "attribute__name", "value"
        ),
        "affiliations": _rows(
            CustomerAffiliation.objects.filter(customer=customer), "affiliation__name"
        ),
        "async_links": _rows(links),
        "possible_duplicates": _rows(
            PossibleDuplicate.objects.filter(Q(customer=customer) | Q(duplicate_of=customer)),
            "customer__account",
            "duplicate_of__account",
            "reasons",
            "created_at",
            "reviewed_at",
        ),
    }


def _hq_staging_data(customer: Customer, *, guids, stores, address_guids) -> dict:
    """The customer's rows in HQ staging: its staged async customers (by ``guids``) with
    their children, staged async addresses and staged channel requests."""
    staged = StagedAsyncCustomer.objects.filter(
        _guid_q(guids, channel_field="channel_database", guid_field="async_customer_id")
    )
    return {
        "customers": _rows(staged),
        "customer_addresses": _rows(
            StagedAsyncCustomerAddress.objects.filter(staged_customer__in=staged)
        ),
        "customer_contacts": _rows(
            StagedAsyncCustomerContact.objects.filter(staged_customer__in=staged)
        ),
        "customer_attributes": _rows(
            StagedAsyncCustomerAttributeValue.objects.filter(staged_customer__in=staged)
        ),
        "customer_affiliations": _rows(
            StagedAsyncCustomerAffiliation.objects.filter(staged_customer__in=staged)
        ),
        "addresses": _rows(
            StagedAsyncAddress.objects.filter(
                Q(customer_account=customer.account, store_number__in=stores)
                | Q(async_address_id__in=address_guids)
            )
        ),
        "channel_requests": _rows(
            StagedChannelRequest.objects.filter(
                Q(target_account=customer.account, store_number__in=stores)
                | Q(account=customer.account, store_number__in=stores)
                | _guid_q(
                    guids,
                    channel_field="channel_database",
                    guid_field="target_async_customer_id",
                )
            )
        ),
    }


def _hq_sales_data(customer: Customer, *, guids, stores) -> dict:
    """The customer's sales transactions and sales orders at HQ (of its legal entity's
    stores, or under one of its async GUIDs)."""
    transactions = SalesTransaction.objects.filter(
        Q(customer_account=customer.account, store__number__in=stores)
        | Q(posted_customer_account=customer.account, store__number__in=stores)
        | _guid_q(guids, channel_field="channel_database", guid_field="async_customer_id")
    )
    return {
        "sales_transactions": _rows(transactions),
        "sales_orders": _rows(
            SalesOrder.objects.filter(customer_account=customer.account, store__number__in=stores)
        ),
    }


def _channel_data(*, alias, name, customer, guids, stores, address_guids) -> dict:
    with channel_database_errors(alias, name=name):
        copies = ChannelCustomer.objects.using(alias).filter(
            legal_entity=customer.legal_entity.code, account=customer.account
        )
        asyncs = AsyncCustomer.objects.using(alias).filter(async_customer_id__in=guids)
        return {
            "customer_copy": _rows(copies),
            "customer_copy_addresses": _rows(
                ChannelCustomerAddress.objects.using(alias).filter(customer__in=copies)
            ),
            "async_customers": _rows(asyncs),
            "async_customer_addresses": _rows(
                AsyncCustomerAddress.objects.using(alias).filter(async_customer__in=asyncs)
            ),
            "async_customer_contacts": _rows(
                AsyncCustomerContact.objects.using(alias).filter(async_customer__in=asyncs)
            ),
            "async_customer_attributes": _rows(
                AsyncCustomerAttributeValue.objects.using(alias).filter(async_customer__in=asyncs)
            ),
            "async_customer_affiliations": _rows(
                AsyncCustomerAffiliation.objects.using(alias).filter(async_customer__in=asyncs)
            ),
            "async_addresses": _rows(
                AsyncAddress.objects.using(alias).filter(
                    Q(customer_account=customer.account, store_number__in=stores)
                    | Q(async_address_id__in=address_guids)
                )
            ),
            "channel_requests": _rows(
                ChannelRequest.objects.using(alias).filter(
                    Q(target_account=customer.account, store_number__in=stores)
                    | Q(target_async_customer_id__in=guids)
                )
            ),
            "transactions": _rows(
                ChannelSalesTransaction.objects.using(alias).filter(
                    Q(customer_account=customer.account, store_number__in=stores)
                    | Q(async_customer_id__in=guids)
                )
            ),
        }
