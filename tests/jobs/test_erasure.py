"""R14 erasure and access (README, Erasure and access): a customer who went the whole
way is erased from every table of HQ and of every channel database."""

import json
import uuid
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models, router

from commerce.db import HQ, channel_aliases
from commerce.models import ChannelSalesLine, ChannelSalesTransaction, SalesOrder, SalesTransaction
from customers.models import (
    ChannelCustomer,
    Customer,
    PossibleDuplicate,
    StagedChannelRequest,
    StagingStatus,
)
from customers.services import (
    AddressInput,
    ContactInput,
    CustomerInput,
    async_customer_create,
)
from customers.services.changes import CustomerChanges
from customers.services.requests import customer_edit_at_store
from jobs.models import JobRun
from tests.fixtures import convert, run

pytestmark = pytest.mark.django_db(databases="__all__")

FIRST, LAST = "Zebulon", "Quartermaine"
EMAIL, NEW_EMAIL = "zebulon.q@example.org", "zebulon.new@example.org"
PHONE = "+1 555 123 4567"
PERSON = [FIRST, LAST, EMAIL, NEW_EMAIL, PHONE]


def subject_input(**extra) -> CustomerInput:
    return CustomerInput(
        first_name=FIRST,
        last_name=LAST,
        email=EMAIL,
        phone=PHONE,
        addresses=(
            AddressInput(
                purpose="delivery",
                street="77 Quartermaine Road",
                city="Houston",
                zip="77001",
                country="USA",
                is_primary=True,
                async_address_id=uuid.uuid4(),
            ),
        ),
        contacts=(ContactInput(type="email", value=EMAIL),),
        attributes={"Tier": "Gold"},
        affiliations=("Employees",),
        **extra,
    )


def text_columns(model):
    return [
        f.attname
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.JSONField)
    ]


def person_found() -> list[str]:
    """Every (database, table, column, value) that still holds the person: each text
    and JSON column of every table of HQ and of every channel database."""
    found = []
    needles = [n.lower() for n in PERSON]
    for alias in [HQ, *channel_aliases()]:
        for model in apps.get_models():
            if not router.allow_migrate_model(alias, model) or model._meta.proxy:
                continue
            columns = text_columns(model)
            if not columns:
                continue
            for row in model._default_manager.using(alias).values_list(*columns):
                for column, value in zip(columns, row, strict=True):
                    text = (
                        json.dumps(value, ensure_ascii=False)
                        if not isinstance(value, str)
                        else value
                    )
                    if any(n in (text or "").lower() for n in needles):
                        found.append(f"{alias} {model._meta.db_table}.{column}: {text[:120]}")
    return found


@pytest.fixture
def whole_way(organization):
    """Async at the store with a transaction, uploaded, created, distributed to both
    channel databases, a possible duplicate, then edited at the store by a channel
    request applied at HQ and distributed again; a job run error and an admin history
    entry that quote the person."""
    subject = async_customer_create(alias="channel", store_number="S0001", data=subject_input())
    txn = ChannelSalesTransaction.objects.using("channel").create(
        transaction_id="S0001-1-000777",
        store_number="S0001",
        type="customer_order",
        business_date="2026-11-24",
        async_customer_id=subject.async_customer_id,
    )
    ChannelSalesLine.objects.using("channel").create(
        transaction=txn, line_number=1, item="0001", quantity="1", unit_price="12.50"
    )
    convert()
    run("sync-orders")
    customer = Customer.objects.get(async_customer_id=subject.async_customer_id)
    # The same phone written another way, at the other store: a possible duplicate.
    async_customer_create(
        alias="channel2",
        store_number="S0002",
        data=CustomerInput(
            first_name="Other",
            last_name="Person",
            phone="(555) 123-4567",
            addresses=(
                AddressInput(
                    purpose="delivery", street="1 Elm", city="Seattle", zip="98101", country="USA"
                ),
            ),
        ),
    )
    convert()
    assert PossibleDuplicate.objects.filter(duplicate_of=customer).exists()
    result = customer_edit_at_store(
        store=organization["houston"],
        customer=customer.account,
        changes=CustomerChanges(fields={"email": NEW_EMAIL}),
    )
    assert result.request_id is not None
    convert()
    customer.refresh_from_db()
    assert customer.email == NEW_EMAIL
    assert (
        ChannelCustomer.objects.using("channel2").get(account=customer.account).email == NEW_EMAIL
    )
    JobRun.objects.create(
        job="distribute",
        scope="channel database HOUSTON",
        status="failed",
        errors=[f"customer {customer.account}: {FIRST} {LAST} <{EMAIL}> could not be sent"],
        message=f"phone {PHONE}",
    )
    user = get_user_model().objects.create_superuser("erasure-admin", "a@b.example", "pw")
    LogEntry.objects.log_actions(
        user_id=user.pk,
        queryset=[customer],
        action_flag=CHANGE,
        change_message=f"Changed email to {NEW_EMAIL}.",
        single_object=True,
    )
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), object_id=str(customer.pk)
    ).update(object_repr=f"{FIRST} {LAST}")
    assert person_found()
    return customer


def test_export_customer_data_holds_everything(whole_way, capsys):
    call_command("export_customer_data", whole_way.account)
    data = json.loads(capsys.readouterr().out)
    assert data["hq"]["party"]["first_name"] == FIRST
    assert data["hq"]["staging"]["customers"][0]["email"] == EMAIL
    assert data["hq"]["staging"]["channel_requests"][0]["changes"]["fields"]["email"] == NEW_EMAIL
    assert data["hq"]["possible_duplicates"]
    assert data["hq"]["sales_transactions"][0]["transaction_id"] == "S0001-1-000777"
    houston, seattle = data["channel_databases"]["HOUSTON"], data["channel_databases"]["SEATTLE"]
    assert houston["async_customers"][0]["first_name"] == FIRST
    assert houston["channel_requests"] and houston["transactions"]
    assert seattle["customer_copy"][0]["email"] == NEW_EMAIL


def test_export_of_an_unknown_account_exits_1():
    with pytest.raises(CommandError, match="unknown customer account 'C999999'"):
        call_command("export_customer_data", "C999999")


def test_erase_customer_leaves_the_person_in_no_table(whole_way, capsys):
    call_command("erase_customer", whole_way.account, "--yes")
    run("distribute")

    assert person_found() == []
    customer = Customer.objects.get(pk=whole_way.pk)
    assert customer.erased_at is not None and customer.party.name == "Erased Customer"
    # Sales keep amounts, dates and the account.
    txn = SalesTransaction.objects.get(transaction_id="S0001-1-000777")
    order = SalesOrder.objects.get(transaction=txn)
    assert (order.customer_account, order.total) == (customer.account, Decimal("12.50"))
    assert txn.lines.get().unit_price == Decimal("12.50")
    copy = ChannelCustomer.objects.using("channel").get(account=customer.account)
    assert (copy.name, copy.email, copy.phone) == ("Erased Customer", "", "")
    # Idempotent: a second erasure and distribution change nothing that was erased.
    call_command("erase_customer", whole_way.account, "--yes")
    run("distribute")
    assert person_found() == []


def test_erase_without_yes_off_a_terminal_changes_nothing(whole_way):
    with pytest.raises(CommandError, match="--yes"):
        call_command("erase_customer", whole_way.account)
    assert Customer.objects.get(pk=whole_way.pk).erased_at is None


def test_a_store_edit_of_an_erased_customer_is_refused_and_kept_failed(whole_way, organization):
    call_command("erase_customer", whole_way.account, "--yes")
    run("distribute")
    customer_edit_at_store(
        store=organization["houston"],
        customer=whole_way.account,
        changes=CustomerChanges(fields={"email": "back@example.org"}),
    )
    convert()

    request = StagedChannelRequest.objects.filter(changes__fields__email="back@example.org").get()
    erased_on = Customer.objects.get(pk=whole_way.pk).erased_at.date().isoformat()
    assert request.status == StagingStatus.FAILED
    assert request.last_error == f"customer {whole_way.account} was erased on {erased_on}"
    assert Customer.objects.get(pk=whole_way.pk).email == ""
    # The store's copy, changed by the edit at the store, is HQ's anonymous one again.
    copy = ChannelCustomer.objects.using("channel").get(account=whole_way.account)
    assert (copy.email, copy.name) == ("", "Erased Customer")


def test_admin_erasure_needs_its_permission_and_a_confirmation(whole_way, client):
    from django.contrib.auth.models import Permission
    from django.urls import reverse

    staff = get_user_model().objects.create_user("clerk", password="pw", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename="change_customer"))
    client.force_login(staff)
    url = reverse("admin:customers_customer_erase", args=[whole_way.pk])
    change = client.get(reverse("admin:customers_customer_change", args=[whole_way.pk]))
    assert change.status_code == 200 and url not in change.content.decode()
    assert client.post(url).status_code == 403

    staff.user_permissions.add(Permission.objects.get(codename="erase_customer"))
    staff = get_user_model().objects.get(pk=staff.pk)
    client.force_login(staff)
    change = client.get(reverse("admin:customers_customer_change", args=[whole_way.pk]))
    assert url in change.content.decode()
    page = client.get(url)
    assert page.status_code == 200 and "This cannot be undone" in page.content.decode()
    assert Customer.objects.get(pk=whole_way.pk).erased_at is None  # opening changes nothing

    response = client.post(url)
    assert response.status_code == 302
    customer = Customer.objects.get(pk=whole_way.pk)
    assert customer.erased_at is not None and customer.erased_by == staff
    run("distribute")
    assert person_found() == []
