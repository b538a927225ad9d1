"""Changes made to the HQ customer master outside the jobs (the admin's edits).

A customer's ``version`` is what distribution (R7, 1010) compares with the version a
channel database holds: raising it makes the next distribution run send the customer,
with its addresses, to every channel database again.
"""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from commerce.db import HQ
from customers.models import Customer


def customer_version_raise(
    *, customer_ids: Iterable[int] = (), party_ids: Iterable[int] = ()
) -> int:
    """Raise the version of these customers and of these parties' customers; a re-run is safe."""
    customer_ids, party_ids = set(customer_ids), set(party_ids)
    if not customer_ids and not party_ids:
        return 0
    # A re-run raises the version again: distribution only sends the customers once more.
    # The increment happens in the database, so concurrent edits both count.
    # ``modified_at`` too: a form refused as stale says when the customer changed.
    return Customer.objects.filter(Q(pk__in=customer_ids) | Q(party_id__in=party_ids)).update(
        version=F("version") + 1, modified_at=timezone.now()
    )


def customer_fields_changed(
    *, fields: Iterable[str], customer_ids: Iterable[int] = (), party_ids: Iterable[int] = ()
) -> int:
    """Record that HQ changed these fields (``email``, ``first_name``, ``attributes.Tier``)
    of these customers now, so a store's older edit of them keeps the HQ value (R11: per
    field the latest change wins). A re-run moves the times forward; it is safe."""
    fields = set(fields)
    customer_ids, party_ids = set(customer_ids), set(party_ids)
    if not fields or not (customer_ids or party_ids):
        return 0
    now = timezone.now().isoformat()
    with transaction.atomic(using=HQ):
        customers = list(
            Customer.objects.select_for_update()
            .filter(Q(pk__in=customer_ids) | Q(party_id__in=party_ids))
            .only("pk", "field_changed_at")
        )
        for customer in customers:
            customer.field_changed_at = {
                **(customer.field_changed_at or {}),
                **dict.fromkeys(fields, now),
            }
        Customer.objects.bulk_update(customers, ["field_changed_at"])
    return len(customers)
