import io

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command

from commerce.db import HQ, channel_aliases, is_channel_model
from commerce.models import ChannelSalesTransaction, Store, TransactionType
from customers.countries import ISO3166_ALPHA3
from customers.models import (
    Address,
    Affiliation,
    AsyncAddress,
    AsyncCustomer,
    AsyncCustomerAddress,
    AsyncCustomerAttributeValue,
    Customer,
    CustomerAttribute,
    CustomerGroup,
)
from devtools.demo.payload import demo_payload

pytestmark = pytest.mark.django_db(databases="__all__")


def _setup_demo() -> str:
    out = io.StringIO()
    call_command("setup_demo", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _row_counts() -> dict[str, int]:
    """Rows of every project model, HQ models in HQ and channel models per channel."""
    counts = {}
    for model in apps.get_models():
        if model._meta.app_label not in {"commerce", "customers", "jobs", "auth"}:
            continue
        aliases = channel_aliases() if is_channel_model(model) else [HQ]
        for alias in aliases:
            counts[f"{alias}:{model._meta.label}"] = model.objects.using(alias).count()
    return counts


def _rows() -> dict[str, list[dict]]:
    """Every row of every project model, HQ models in HQ and channel models per channel."""
    rows = {}
    for model in apps.get_models():
        if model._meta.app_label not in {"commerce", "customers", "jobs", "auth"}:
            continue
        aliases = channel_aliases() if is_channel_model(model) else [HQ]
        for alias in aliases:
            rows[f"{alias}:{model._meta.label}"] = list(
                model.objects.using(alias).order_by("pk").values()
            )
    return rows


def _printed_counts(output: str) -> dict[str, dict[str, int]]:
    """setup_demo's table: section -> {"created": n, "updated": n, ...}."""
    counts = {}
    for line in output.splitlines():
        section, *pairs = line.split()
        if pairs[:1] == ["created"]:
            counts[section] = {pairs[i]: int(pairs[i + 1]) for i in range(0, len(pairs), 2)}
    return counts


def _async_customers() -> list[AsyncCustomer]:
    return [c for alias in channel_aliases() for c in AsyncCustomer.objects.using(alias).all()]


def test_setup_demo_twice_adds_nothing():
    _setup_demo()
    first = _row_counts()

    output = _setup_demo()

    assert _row_counts() == first
    assert first["channel:customers.AsyncCustomer"] > 0
    assert "already exists" in output


def test_setup_demo_after_the_conversion_and_hq_changes_changes_nothing():
    _setup_demo()
    call_command("convert_async_customers", "--sync", stdout=io.StringIO())
    # The conversion made a store's async address C000103's primary address (R6).
    moved = Address.objects.get(party__customer__account="C000103", is_primary=True)
    assert moved.location_id != "DEMO-C000103"
    # HQ makes another address of C000101 its primary one, with a new version.
    karen = Customer.objects.get(account="C000101")
    (other,) = Address.objects.filter(party_id=karen.party_id, is_primary=False)
    Address.objects.filter(party_id=karen.party_id).update(is_primary=False)
    Address.objects.filter(pk=other.pk).update(is_primary=True)
    Customer.objects.filter(pk=karen.pk).update(version=karen.version + 1)
    versions = dict(Customer.objects.values_list("account", "version"))
    primaries = dict(Address.objects.values_list("location_id", "is_primary"))
    before = _rows()

    output = _setup_demo()

    assert dict(Customer.objects.values_list("account", "version")) == versions
    assert dict(Address.objects.values_list("location_id", "is_primary")) == primaries
    assert _rows() == before
    counts = _printed_counts(output)
    assert counts["customers"]["skipped"] == len(demo_payload()["customers"])
    assert all(c["created"] == c["updated"] == 0 for c in counts.values()), counts


def test_setup_demo_creates_only_what_is_missing():
    _setup_demo()
    Affiliation.objects.filter(name="Seniors").delete()
    Customer.objects.filter(account="C000101").update(email="karen@hq.example.com")

    counts = _printed_counts(_setup_demo())

    assert Affiliation.objects.filter(name="Seniors").exists()
    assert Customer.objects.get(account="C000101").email == "karen@hq.example.com"
    assert counts["affiliations"] == {"created": 1, "updated": 0, "unchanged": 0, "skipped": 3}
    assert counts["customers"]["updated"] == 0


def test_demo_payload_is_deterministic():
    assert demo_payload() == demo_payload()


def test_demo_has_three_stores_one_of_them_real_time():
    _setup_demo()

    stores = Store.objects.select_related("functionality_profile", "channel_database")
    assert stores.count() >= 3
    assert [s.number for s in stores if not s.creates_customers_async] == ["S0003"]
    assert {s.channel_database.alias for s in stores} == set(channel_aliases())


def test_demo_async_customers_spread_over_both_channel_databases():
    _setup_demo()

    per_alias = {alias: AsyncCustomer.objects.using(alias).count() for alias in channel_aliases()}
    assert sum(per_alias.values()) >= 24
    assert all(count >= 10 for count in per_alias.values()), per_alias
    assert sum(AsyncAddress.objects.using(a).count() for a in channel_aliases()) >= 3
    organizations = [c for c in _async_customers() if c.type == "organization"]
    assert len(organizations) >= 3


def test_demo_has_non_ascii_names():
    _setup_demo()

    names = {c.name for c in _async_customers()}
    for expected in ("Ona Šimkutė", "Jürgen Müller", "Øyvind Løvås", "José Núñez", "太郎 山田"):
        assert expected in names


def test_demo_has_async_customers_hq_will_reject():
    _setup_demo()
    customers = {c.name: c for c in _async_customers()}
    known_groups = set(CustomerGroup.objects.values_list("code", flat=True))
    tier = CustomerAttribute.objects.get(name="Loyalty tier")

    assert customers["Harold Whitaker"].customer_group not in known_groups
    (address,) = AsyncCustomerAddress.objects.using("channel2").filter(
        async_customer__last_name="Kovács"
    )
    assert address.country == "XXL" and "XXL" not in ISO3166_ALPHA3
    value = AsyncCustomerAttributeValue.objects.using("channel2").get(
        async_customer__last_name="Yılmaz", name="Loyalty tier"
    )
    assert value.value == "Diamond" and "Diamond" not in tier.choices


def test_demo_attributes_cover_all_six_types():
    _setup_demo()

    assert set(CustomerAttribute.objects.values_list("type", flat=True)) == {
        "boolean",
        "text",
        "integer",
        "decimal",
        "date",
        "choice",
    }


def test_demo_transactions_reference_async_customers_and_an_async_address():
    _setup_demo()
    transactions = [
        t for alias in channel_aliases() for t in ChannelSalesTransaction.objects.using(alias)
    ]
    async_address_ids = {
        str(a.async_address_id)
        for alias in channel_aliases()
        for model in (AsyncCustomerAddress, AsyncAddress)
        for a in model.objects.using(alias)
    }

    assert {t.type for t in transactions} == set(TransactionType.values)
    assert any(t.async_customer_id for t in transactions if t.type == "cash_and_carry")
    assert any(
        t.delivery_address in async_address_ids
        for t in transactions
        if t.type == "customer_order" and t.async_customer_id
    )
    assert any(t.delivery_address in async_address_ids and t.customer_account for t in transactions)


def test_demo_creates_admin_superuser_once():
    output = _setup_demo()

    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.check_password("admin")
    assert "admin / admin" in output
    admin.set_password("changed-on-purpose")
    admin.save()

    _setup_demo()

    admin.refresh_from_db()
    assert admin.check_password("changed-on-purpose")


def test_demo_async_customers_are_pending_upload():
    _setup_demo()
    out = io.StringIO()

    call_command("async_customer_status", "--status", "pending_upload", stdout=out)

    expected = sum(
        model.objects.using(alias).count()
        for alias in channel_aliases()
        for model in (AsyncCustomer, AsyncAddress)
    )
    assert expected >= 27
    assert out.getvalue().splitlines()[-1] == f"{expected} rows"
