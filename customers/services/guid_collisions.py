"""A staged async customer whose GUID another channel database made first fails by
name (``staging.guid_collision_error``): a GUID is unique only within the channel
database that made it, so HQ never merges the two. A person then has it created
under a new GUID (``staged_customer_create_under_new_guid``):

- the staged record takes a fresh GUID and keeps the store's in
  ``replaced_async_customer_id``, with who and when;
- its HQ account is created by account creation's own service
  (``staged_customers_create``, R4/R5/R12), as the job would;
- the store's GUID, in that channel database only, is linked to the new account
  (``AsyncCustomerLink``, as an R12 review links one): the sales of that store that
  name it resolve to the account (``resolution.async_customer_resolve``), so its
  orders sync and its statement posts (R8, R9), and distribution (1010, R7) links the
  store's async customer to it. The other channel database's customer is untouched.

All in one HQ transaction under the staged row's lock: a crash, or an account HQ
cannot create (validation, a possible duplicate held for review), leaves the record
as it was, failed, and the call can be made again.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone

from commerce.db import HQ
from customers.models import AsyncCustomerLink, Customer, StagedAsyncCustomer, StagingStatus
from customers.services.accounts_staged import STAGED_CUSTOMER_PREFETCH, staged_customers_create
from customers.services.staging import origin_matches


class GuidReplacementError(Exception):
    """Nothing was changed; the message is one line naming why."""


def staged_customer_guid_collides(*, staged: StagedAsyncCustomer) -> bool:
    """Whether a failed staged customer's GUID is an HQ account's from another channel
    database: what "Create under a new GUID" is offered for. Reads only."""
    if staged.status != StagingStatus.FAILED:
        return False
    origin = (
        Customer.objects.filter(async_customer_id=staged.async_customer_id)
        .values_list("async_origin", flat=True)
        .first()
    )
    return origin is not None and not origin_matches(origin, staged.channel_database)


def staged_customer_create_under_new_guid(
    *, staged: StagedAsyncCustomer, user=None
) -> StagedAsyncCustomer:
    """Create the HQ account of a staged customer that failed on another channel
    database's GUID, under a new GUID, and link the store's GUID to it in its own
    channel database; records ``user`` and the time. Returns the staged record, now
    completed with its account.

    Raises GuidReplacementError, nothing changed, for a record that did not fail so or
    whose account HQ cannot create now. Not repeatable: once done, the record is
    completed and a second call is refused."""
    with transaction.atomic(using=HQ):
        staged = (
            StagedAsyncCustomer.objects.select_for_update()
            .prefetch_related(*STAGED_CUSTOMER_PREFETCH)
            .get(pk=staged.pk)
        )
        store_guid = staged.async_customer_id
        if not staged_customer_guid_collides(staged=staged):
            raise GuidReplacementError(
                f"async customer {store_guid} of channel database {staged.channel_database} "
                "did not fail on a GUID another channel database made; nothing changed"
            )
        now = timezone.now()
        staged.async_customer_id = uuid.uuid4()
        staged.replaced_async_customer_id = store_guid
        staged.guid_replaced_by = user
        staged.guid_replaced_at = now
        staged.status = StagingStatus.PENDING
        staged.save(
            update_fields=[
                "async_customer_id",
                "replaced_async_customer_id",
                "guid_replaced_by",
                "guid_replaced_at",
                "status",
            ]
        )
        (outcome,) = staged_customers_create(staged_rows=[staged])
        if staged.status != StagingStatus.COMPLETED:
            # Raised inside the transaction: the new GUID is rolled back with the rest.
            why = outcome.error or staged.last_error or staged.get_status_display()
            raise GuidReplacementError(
                f"async customer {store_guid} could not be created under a new GUID: {why}; "
                "nothing changed"
            )
        AsyncCustomerLink.objects.create(
            async_customer_id=store_guid,
            channel_database=staged.channel_database,
            customer=Customer.objects.get(async_customer_id=staged.async_customer_id),
            linked_by=user,
            linker=user.get_username() if user is not None else "",
            linked_at=now,
        )
    return staged
