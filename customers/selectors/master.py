"""HQ customer master reads: the customer list, the duplicate comparison and the export."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db.models import (
    Prefetch,
    QuerySet,
)

from commerce.db import CHUNK
from customers.models import (
    Address,
    Customer,
    CustomerAffiliation,
    CustomerAttributeValue,
)


def customer_list() -> QuerySet[Customer]:
    """HQ customers with everything a list or an export shows, without N+1 queries."""
    return Customer.objects.select_related(
        "legal_entity", "party", "customer_group"
    ).prefetch_related(
        Prefetch("party__addresses", queryset=Address.objects.order_by("location_id")),
        Prefetch(
            "attribute_values",
            queryset=CustomerAttributeValue.objects.select_related("attribute"),
        ),
        Prefetch(
            "affiliations", queryset=CustomerAffiliation.objects.select_related("affiliation")
        ),
    )


# What a payload carries, as read by ``values_list`` (``customer_payloads``) or from
# instances (``customer_payload``); both go through ``_payload`` and ``_address_payload``.
def customers_for_comparison(*, customer_ids: Iterable[int | None]) -> QuerySet[Customer]:
    """HQ customers with what the duplicate comparison (R12) shows, in a fixed number of
    queries: party, group, addresses (primary first) and contact info."""
    return (
        Customer.objects.filter(pk__in=[pk for pk in customer_ids if pk])
        .select_related("party", "customer_group", "legal_entity")
        .prefetch_related(
            Prefetch(
                "party__addresses", queryset=Address.objects.order_by("-is_primary", "location_id")
            ),
            "party__contacts",
        )
    )


def customer_export_row(customer: Customer) -> dict:
    party = customer.party
    return {
        "account": customer.account,
        "legal_entity": customer.legal_entity.code,
        "type": party.type,
        "name": party.name,
        "first_name": party.first_name,
        "last_name": party.last_name,
        "email": customer.email or None,
        "phone": customer.phone or None,
        "customer_group": customer.customer_group.code,
        "currency": customer.currency,
        "language": customer.language,
        "title": customer.title,
        "async_customer_id": str(customer.async_customer_id)
        if customer.async_customer_id
        else None,
        "addresses": [
            {
                "location_id": a.location_id,
                "purpose": a.purpose,
                "street": a.street,
                "city": a.city,
                "state": a.state,
                "zip": a.zip,
                "country": a.country,
                "primary": a.is_primary,
            }
            for a in party.addresses.all()
        ],
        "attributes": {v.attribute.name: v.value for v in customer.attribute_values.all()},
        "affiliations": sorted(a.affiliation.name for a in customer.affiliations.all()),
    }


def customer_export_rows(*, legal_entity: str | None = None) -> Iterator[dict]:
    queryset = customer_list().order_by("legal_entity__code", "account")
    if legal_entity:
        queryset = queryset.filter(legal_entity__code=legal_entity)
    for customer in queryset.iterator(chunk_size=CHUNK):
        yield customer_export_row(customer)
