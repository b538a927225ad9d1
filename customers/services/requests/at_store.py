"""R11 at the store (``customer_edit_at_store``): an async customer not uploaded yet is
edited in place, under its row lock (the upload holds the same lock from reading a batch
to stamping it, so an edit lands either before the upload reads the row or after it is
stamped, never in between); any other change at an async (or offline) store is
recorded as a channel request; at a real-time store a change to a synchronous customer
is applied at HQ at once, falling back to a channel request when HQ cannot be reached
(R1).
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from dataclasses import dataclass

from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from commerce.db import HQ, channel_database_check, require_channel_alias
from commerce.events import EventAction, EventKind, event_record
from commerce.models import Store
from customers.models import (
    AsyncCustomer,
    AsyncCustomerAddress,
    AsyncCustomerAffiliation,
    AsyncCustomerAttributeValue,
    AsyncCustomerContact,
    ChannelCustomer,
    ChannelCustomerAddress,
    ChannelRequest,
    Customer,
    address_values,
)
from customers.selectors import customer_payloads
from customers.selectors.reference import store_loaded, store_reference_data_or_hq
from customers.services.aliases import survivors_map
from customers.services.changes import AddressChange, CustomerChanges, customer_changes_errors
from customers.services.channel import channel_customers_apply, store_write_announce
from customers.services.requests.at_hq import hq_customers_apply
from customers.services.requests.parts import guid_or_text
from customers.services.validation import (
    CustomerValidationError,
    ReferenceData,
    StoreInputError,
    customer_changes_at_store_errors,
    edit_time_at_hq,
    edited_at_error,
)

# HQ errors that mean "HQ cannot be reached", as opposed to a bad change (R1 fallback).
HQ_UNREACHABLE = (OperationalError, InterfaceError)


class CustomerEditError(ValueError):
    """An edit a store cannot make (unknown customer, nothing to change)."""


@dataclass(frozen=True)
class StoreEditResult:
    mode: str  # "in_place", "request" or "real_time"
    customer: str  # the async GUID or account that was changed
    request_id: uuid.UUID | None = None
    fallback_reason: str = ""


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value).strip())
    except ValueError:
        return None


# --- At the store -------------------------------------------------------------------


def customer_edit_at_store(
    *,
    store: Store,
    customer: str,
    changes: CustomerChanges,
    edited_at: datetime.datetime | None = None,
) -> StoreEditResult:
    """R11: change a customer the way the store does: in place (async customer not yet
    uploaded), as a channel request (async or offline store, or HQ unreachable), or at
    HQ at once (real-time store). Raises CustomerEditError for an unknown customer, a
    customer of another legal entity (R1), an empty change or one dated in the future;
    StoreInputError (a CustomerValidationError) for what the store itself refuses
    (lengths, names, email, addresses: nothing written); CustomerValidationError when
    HQ refuses a real-time change (R5); ChannelDatabaseUnreachable (nothing changed)
    when the store's channel database cannot be reached.
    Not idempotent: each call is one more edit (a request has a new GUID)."""
    store = store_loaded(store)
    alias = store.channel_database.alias
    if changes.is_empty:
        raise CustomerEditError(
            "nothing to change: give at least one field, attribute, affiliation or address"
        )
    channel_database_check(alias, name=store.channel_database.name)
    changes = changes.with_address_guids()
    edited_at = edited_at or timezone.now()
    problem = edited_at_error(edited_at)
    if problem:
        raise CustomerEditError(problem)
    guid = _as_uuid(customer)
    if guid is not None:
        return _edit_async_customer(
            store=store, alias=alias, guid=guid, changes=changes, edited_at=edited_at
        )
    account = customer.strip()
    copy = (
        ChannelCustomer.objects.using(alias)
        .filter(legal_entity=store.legal_entity.code, account=account)
        .first()
    )
    if copy is None:
        raise CustomerEditError(
            f'unknown customer "{customer}": no async customer GUID or account of legal entity '
            f"{store.legal_entity.code} known to store {store.number}"
        )
    _store_check(store=store, changes=changes, customer_type=copy.type)
    changes = _address_refs_resolved(
        changes,
        ChannelCustomerAddress.objects.using(alias).filter(customer=copy),
        key="location_id",
        customer=account,
    )
    reason = ""
    if not store.creates_customers_async:
        try:
            _edit_at_hq_now(store=store, account=account, changes=changes, edited_at=edited_at)
        except HQ_UNREACHABLE as error:
            reason = f"HQ could not be reached ({type(error).__name__}); recorded as a request"
        else:
            return StoreEditResult(mode="real_time", customer=account)
    request = _request_record(
        store=store, alias=alias, changes=changes, edited_at=edited_at, account=account
    )
    return StoreEditResult(
        mode="request", customer=account, request_id=request.request_id, fallback_reason=reason
    )


def _edit_async_customer(
    *, store: Store, alias: str, guid: uuid.UUID, changes: CustomerChanges, edited_at
) -> StoreEditResult:
    with transaction.atomic(using=alias):
        row = (
            AsyncCustomer.objects.using(alias)
            .select_for_update()
            .filter(async_customer_id=guid)
            .first()
        )
        if row is None:
            raise CustomerEditError(
                f'unknown customer "{guid}": no async customer with this GUID in channel '
                f"database {store.channel_database.name}"
            )
        _own_legal_entity_check(store=store, row=row)
        _store_check(store=store, changes=changes, customer_type=row.type)
        changes = _address_refs_resolved(
            changes,
            AsyncCustomerAddress.objects.using(alias).filter(async_customer=row),
            key="async_address_id",
            customer=str(guid),
        )
        if row.upload_session_id is None:
            async_customer_changes_apply(alias=alias, row=row, changes=changes)
            store_edit_event_record(
                alias=alias, kind=EventKind.CUSTOMER, key=guid, changes=changes, at=edited_at
            )
            store_write_announce(alias=alias, sender=AsyncCustomer)  # freshness, after commit
            return StoreEditResult(mode="in_place", customer=str(guid))
        # Uploaded: HQ has it; the store's own view changes now, HQ through a request.
        _store_fields_apply(row, changes)
        row.save(using=alias, update_fields=[*changes.fields])
        request = _request_record(
            store=store, alias=alias, changes=changes, edited_at=edited_at, guid=guid
        )
    return StoreEditResult(mode="request", customer=str(guid), request_id=request.request_id)


def _own_legal_entity_check(*, store: Store, row: AsyncCustomer) -> None:
    """R1: a store edits only customers of its own legal entity; a channel database may
    serve stores of two legal entities, so an async customer's store decides."""
    if row.store_number == store.number:
        return
    owner = Store.objects.select_related("legal_entity").filter(number=row.store_number).first()
    if owner is None or owner.legal_entity_id != store.legal_entity_id:
        entity = owner.legal_entity.code if owner else "unknown"
        raise CustomerEditError(
            f'customer "{row.async_customer_id}": an async customer of store '
            f"{row.store_number} (legal entity {entity}), not of legal entity "
            f"{store.legal_entity.code} of store {store.number}"
        )


def _store_check(*, store: Store, changes: CustomerChanges, customer_type: str) -> None:
    """R1: what the store can check without HQ, before anything is written: against its
    own channel database's reference data (R16)."""
    errors = customer_changes_at_store_errors(
        changes=changes,
        legal_entity=store.legal_entity,
        refs=store_reference_data_or_hq(store=store),
        customer_type=customer_type,
    )
    if errors:
        raise StoreInputError(errors)


def _address_refs_resolved(
    changes: CustomerChanges, addresses, *, key: str, customer: str
) -> CustomerChanges:
    """R11: the addresses a change names (location id or async GUID) must be the
    customer's as the store sees it; each is stored by the key HQ finds it by (a copy's
    location id, an async address's GUID). Raises StoreInputError naming the value."""
    if not (changes.address_changes or changes.addresses_retired):
        return changes
    rows = list(addresses.only("location_id", "async_address_id"))

    def resolved(ref: str, where: str) -> str:
        ref = guid_or_text(ref)
        for row in rows:
            if ref in (row.location_id, str(row.async_address_id or "")):
                return str(getattr(row, key))
        raise StoreInputError([f'{where}: unknown address "{ref}" of customer {customer}'])

    return dataclasses.replace(
        changes,
        address_changes=tuple(
            AddressChange(address=resolved(c.address, "address"), values=c.values)
            for c in changes.address_changes
        ),
        addresses_retired=tuple(resolved(r, "retire_address") for r in changes.addresses_retired),
    )


def _store_fields_apply(row, changes: CustomerChanges) -> None:
    for name, value in changes.fields.items():
        setattr(row, name, value)


def async_customer_changes_apply(
    *, alias: str, row: AsyncCustomer, changes: CustomerChanges
) -> None:
    """R11 in place: changes an async customer not uploaded yet (its own rows in channel
    database ``alias``). Re-run safe except for added addresses (their GUIDs are unique)."""
    if changes.fields:
        _store_fields_apply(row, changes)
        row.save(using=alias, update_fields=list(changes.fields))
    for name, value in changes.attributes.items():
        AsyncCustomerAttributeValue.objects.using(alias).update_or_create(
            async_customer=row, name=name, defaults={"value": value}
        )
    AsyncCustomerAffiliation.objects.using(alias).bulk_create(
        [AsyncCustomerAffiliation(async_customer=row, name=name) for name in changes.affiliations],
        ignore_conflicts=True,
    )
    if any(a.is_primary for a in changes.addresses):
        AsyncCustomerAddress.objects.using(alias).filter(async_customer=row).update(
            is_primary=False
        )
    AsyncCustomerAddress.objects.using(alias).bulk_create(
        [
            AsyncCustomerAddress(
                async_customer=row,
                async_address_id=a.async_address_id,
                **address_values(a),
            )
            for a in changes.addresses
        ]
    )
    _async_parts_apply(alias=alias, row=row, changes=changes)


def _async_parts_apply(*, alias: str, row: AsyncCustomer, changes: CustomerChanges) -> None:
    """R11 complete, in place: attributes cleared, affiliations removed, addresses
    changed or retired, contact info added, changed or removed."""
    cleared = [name for name, value in changes.attributes.items() if value is None]
    if cleared:
        AsyncCustomerAttributeValue.objects.using(alias).filter(
            async_customer=row, name__in=cleared
        ).delete()
    if changes.affiliations_removed:
        AsyncCustomerAffiliation.objects.using(alias).filter(
            async_customer=row, name__in=changes.affiliations_removed
        ).delete()
    addresses = AsyncCustomerAddress.objects.using(alias).filter(async_customer=row)
    for change in changes.address_changes:
        values = dict(change.values)
        if values.get("is_primary"):
            addresses.update(is_primary=False)
        addresses.filter(async_address_id=change.address).update(**values)
    if changes.addresses_retired:
        addresses.filter(async_address_id__in=changes.addresses_retired).delete()
    contacts = AsyncCustomerContact.objects.using(alias).filter(async_customer=row)
    for contact in changes.contacts:
        if contact.is_primary:
            contacts.filter(type=contact.type).update(is_primary=False)
        if not contacts.filter(type=contact.type, value=contact.value).update(
            is_primary=contact.is_primary
        ):
            AsyncCustomerContact.objects.using(alias).create(
                async_customer=row,
                type=contact.type,
                value=contact.value,
                is_primary=contact.is_primary,
            )
    for locator in changes.contacts_removed:
        found = contacts.filter(value=locator.value)
        if locator.type:
            found = found.filter(type=locator.type)
        found.delete()


def _request_record(
    *,
    store: Store,
    alias: str,
    changes: CustomerChanges,
    edited_at,
    guid: uuid.UUID | None = None,
    account: str = "",
) -> ChannelRequest:
    require_channel_alias(alias)
    with transaction.atomic(using=alias):
        if account:
            # The store's copy shows the change now; HQ's answer (1010) replaces it.
            ChannelCustomer.objects.using(alias).filter(
                legal_entity=store.legal_entity.code, account=account
            ).update(**{k: v for k, v in changes.fields.items() if k != "customer_group"})
            _copy_addresses_apply(store=store, alias=alias, account=account, changes=changes)
        request = ChannelRequest.objects.using(alias).create(
            request_id=uuid.uuid4(),
            store_number=store.number,
            target_async_customer_id=guid,
            target_account=account,
            edited_at=edited_at,
            changes=changes.as_json(),
        )
        store_edit_event_record(
            alias=alias,
            kind=EventKind.EDIT,
            key=request.request_id,
            changes=changes,
            at=edited_at,
            account=account,
        )
        store_write_announce(alias=alias, sender=ChannelRequest)  # freshness, after commit
    return request


def _copy_addresses_apply(*, store: Store, alias: str, account: str, changes) -> None:
    """The store's copy shows its address changes and retirements now (by location id);
    the next distribution replaces the copy's addresses with HQ's."""
    addresses = ChannelCustomerAddress.objects.using(alias).filter(
        customer__legal_entity=store.legal_entity.code, customer__account=account
    )
    for change in changes.address_changes:
        if change.values.get("is_primary"):
            addresses.update(is_primary=False)
        addresses.filter(location_id=change.address).update(**change.values)
    if changes.addresses_retired:
        addresses.filter(location_id__in=changes.addresses_retired).delete()


def store_edit_event_record(
    *, alias: str, kind: str, key, changes: CustomerChanges, at, account: str = ""
) -> None:
    """README "Event log": an edit at the store, in the store's channel database, naming
    what it changed (field names, never the values: they are the customer's data)."""
    changed = [
        *(name.replace("_", " ") for name in sorted(changes.fields)),
        *(["attributes"] if changes.attributes else []),
        *(["affiliations"] if changes.affiliations or changes.affiliations_removed else []),
        *(["addresses"] if changes.addresses or changes.address_changes else []),
        *(["addresses retired"] if changes.addresses_retired else []),
        *(["contact info"] if changes.contacts or changes.contacts_removed else []),
    ]
    event_record(
        using=alias,
        kind=kind,
        key=key,
        account=account,
        action=EventAction.EDITED,
        detail=f"changed: {', '.join(changed)}",
        at=at,
    )


def _edit_at_hq_now(*, store: Store, account: str, changes: CustomerChanges, edited_at) -> None:
    """Real-time store: apply the change at HQ and give the store the new version."""
    refs = ReferenceData.load()
    with transaction.atomic(using=HQ):
        customer = (
            Customer.objects.select_for_update()
            .select_related("party")
            .filter(legal_entity=store.legal_entity, account=account)
            .first()
        )
        if customer is not None:
            # R13: the store's copy of a merged account answers for its survivor.
            (customer,) = survivors_map(
                {account: customer},
                queryset=Customer.objects.select_for_update().select_related("party"),
            ).values()
        if customer is None:
            raise CustomerEditError(
                f'unknown customer "{account}" in legal entity {store.legal_entity.code}'
            )
        errors = customer_changes_errors(
            changes=changes,
            legal_entity=store.legal_entity,
            refs=refs,
            customer_type=customer.party.type,
        )
        if errors:
            raise CustomerValidationError(errors)
        at = edit_time_at_hq(edited_at, timezone.now())
        hq_customers_apply(items=[(customer, changes, at, store.channel_database.name)], refs=refs)
    channel_customers_apply(
        alias=store.channel_database.alias,
        channel_database=store.channel_database.name,
        payloads=customer_payloads(customer_ids=[customer.pk]),
    )
    # The other channel databases of the legal entity learn the new version (1010).
    store_write_announce(alias=store.channel_database.alias, sender=ChannelCustomer)
