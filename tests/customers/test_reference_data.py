"""R16 reference data at the store, R1 store checks against it (with HQ down), R2 defaults
(README "Store checks and edit times")."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connections

from commerce.db import HQ
from commerce.models import Store
from customers.models import (
    Address,
    Affiliation,
    AsyncCustomer,
    AsyncCustomerAffiliation,
    ChannelAffiliation,
    ChannelCustomerAttribute,
    ChannelCustomerGroup,
    ChannelReferenceVersion,
    ChannelStoreDefaults,
    CustomerAffiliation,
    CustomerAttribute,
    CustomerGroup,
)
from customers.selectors.reference import reference_snapshot
from customers.services.reference import reference_data_apply
from customers.services.store import customer_create_at_store
from customers.services.validation import AddressInput, CustomerInput, StoreInputError
from tests.factories.customers import AffiliationFactory, CustomerGroupFactory
from tests.fixtures import run

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def distributed(organization):
    """The organization with a default customer worth copying, distributed (R16)."""
    default = organization["default"]
    default.title = "Mx."
    default.language = "en-us"
    default.save()
    CustomerAffiliation.objects.create(
        customer=default, affiliation=AffiliationFactory(name="Employees")
    )
    Address.objects.create(
        party=default.party,
        location_id="LOC-DEFAULT",
        purpose="business",
        street="1 Main St",
        city="Houston",
        zip="77001",
        country="USA",
        is_primary=True,
    )
    CustomerGroupFactory(legal_entity=organization["legal_entity"], code="STAFF")
    run("distribute")
    return organization


def store_held(number="S0001") -> Store:
    """The store as a store process holds it (its relations loaded once)."""
    return Store.objects.select_related(
        "legal_entity", "channel_database", "functionality_profile"
    ).get(number=number)


@pytest.fixture
def hq_down(monkeypatch):
    """Every query on the HQ database fails as when its server cannot be reached."""

    def unreachable(*args, **kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    def down():
        monkeypatch.setattr(connections[HQ], "cursor", unreachable)
        monkeypatch.setattr(connections[HQ], "chunked_cursor", unreachable)

    return down


# --- R16: distribution -----------------------------------------------------------------


def test_distribution_brings_each_channel_database_its_reference_data(distributed):
    for alias, store in (("channel", "S0001"), ("channel2", "S0002")):
        groups = set(ChannelCustomerGroup.objects.using(alias).values_list("legal_entity", "code"))
        assert {("USRT", "RETAIL"), ("USRT", "STAFF")} <= groups
        tier = ChannelCustomerAttribute.objects.using(alias).get(name="Tier")
        assert (tier.type, tier.choices) == ("choice", ["Silver", "Gold"])
        assert ChannelAffiliation.objects.using(alias).filter(name="Employees").exists()
        (defaults,) = ChannelStoreDefaults.objects.using(alias).all()  # its own store only
        assert defaults.store_number == store
        assert (defaults.account, defaults.title, defaults.language, defaults.country) == (
            "C000001",
            "Mx.",
            "en-us",
            "USA",
        )
        assert defaults.affiliations == ["Employees"]


def test_applying_the_same_reference_data_again_changes_nothing(distributed):
    channel = distributed["houston"].channel_database
    held = ChannelReferenceVersion.objects.using("channel").get()

    again = reference_data_apply(
        alias="channel", snapshot=reference_snapshot(channel_database=channel)
    )
    assert (again.written, again.removed, again.errors) == (0, 0, [])
    assert ChannelReferenceVersion.objects.using("channel").get().applied_at == held.applied_at

    # Even without the version, equal records are not written again.
    ChannelReferenceVersion.objects.using("channel").all().delete()
    again = reference_data_apply(
        alias="channel", snapshot=reference_snapshot(channel_database=channel)
    )
    assert (again.written, again.removed) == (0, 0)


def test_reference_data_is_written_in_one_statement_per_kind(distributed):
    """A channel database taking HQ's reference data for the first time (a new store, a
    chain's rollout) writes each kind in one upsert, however many records it has."""
    from django.test.utils import CaptureQueriesContext

    channel = distributed["houston"].channel_database

    def first_apply() -> tuple[int, int]:
        """(records written, queries) of applying the snapshot to an empty channel."""
        for model in (
            ChannelCustomerGroup,
            ChannelCustomerAttribute,
            ChannelAffiliation,
            ChannelStoreDefaults,
            ChannelReferenceVersion,
        ):
            model.objects.using("channel").all().delete()
        snapshot = reference_snapshot(channel_database=channel)
        with CaptureQueriesContext(connections["channel"]) as queries:
            applied = reference_data_apply(alias="channel", snapshot=snapshot)
        assert applied.errors == [] and applied.written == len(snapshot.records)
        return applied.written, len(queries.captured_queries)

    few, few_queries = first_apply()
    for index in range(6):
        AffiliationFactory(name=f"Club {index}")
        CustomerGroupFactory(legal_entity=distributed["legal_entity"], code=f"G{index}")
    many, many_queries = first_apply()

    assert many == few + 12
    assert many_queries == few_queries
    clubs = set(ChannelAffiliation.objects.using("channel").values_list("name", flat=True))
    assert clubs >= {f"Club {index}" for index in range(6)}


def test_changed_and_removed_reference_data_reach_the_channel_on_the_next_run(distributed):
    CustomerAttribute.objects.filter(name="Tier").update(choices=["Silver", "Gold", "Platinum"])
    AffiliationFactory(name="Students")
    run("distribute")
    assert ChannelAffiliation.objects.using("channel").filter(name="Students").exists()

    Affiliation.objects.filter(name="Students").delete()
    CustomerGroup.objects.filter(code="STAFF").delete()
    default = distributed["default"]
    default.title = "Dr."
    default.save()
    run("distribute")

    for alias in ("channel", "channel2"):
        assert ChannelCustomerAttribute.objects.using(alias).get(name="Tier").choices == [
            "Silver",
            "Gold",
            "Platinum",
        ]
        assert not ChannelAffiliation.objects.using(alias).filter(name="Students").exists()
        assert not ChannelCustomerGroup.objects.using(alias).filter(code="STAFF").exists()
        assert ChannelStoreDefaults.objects.using(alias).get().title == "Dr."


# --- R1 at the store, with HQ down ------------------------------------------------------


BAD_INPUTS = [
    (CustomerInput(first_name="", last_name=""), "first_name"),
    (
        CustomerInput(first_name="Ona", last_name="Š", email="notanemail"),
        'email: malformed email "notanemail"',
    ),
    (
        CustomerInput(first_name="Ona", last_name="Š", customer_group="NOPE"),
        'customer_group: unknown customer group "NOPE" in legal entity USRT',
    ),
    (CustomerInput(type="organization"), "organization_name"),
    (
        CustomerInput(first_name="Ona", last_name="Š", phone="12"),
        'phone: "12" is not a phone number',
    ),
    (
        CustomerInput(first_name="Ona", last_name="Š", attributes={"Tier": "Diamond"}),
        'attributes.Tier: "Diamond" is not one of Silver, Gold',
    ),
    (
        CustomerInput(first_name="Ona", last_name="Š", attributes={"Newsletter": "yes"}),
        'attributes.Newsletter: "yes" is not a boolean',
    ),
    (
        CustomerInput(first_name="Ona", last_name="Š", affiliations=("Pirates",)),
        'affiliations: unknown affiliation "Pirates"',
    ),
    (
        CustomerInput(
            first_name="Ona",
            last_name="Š",
            addresses=(
                AddressInput(purpose="", street="1 A St", city="X", zip="1", country="XXL"),
            ),
        ),
        'addresses[0].country: invalid country code "XXL"',
    ),
    (CustomerInput(first_name="x" * 101, last_name="Š"), "first_name"),
]


@pytest.mark.parametrize(("data", "named"), BAD_INPUTS)
def test_the_store_refuses_bad_input_against_its_own_reference_data_with_hq_down(
    distributed, hq_down, data, named
):
    store = store_held()
    hq_down()

    with pytest.raises(StoreInputError) as refused:
        customer_create_at_store(store=store, data=data)

    assert named in str(refused.value)
    assert not AsyncCustomer.objects.using("channel").exists()


def test_the_store_creates_with_its_own_defaults_with_hq_down(distributed, hq_down):
    store = store_held()
    hq_down()
    with pytest.raises(OperationalError):
        Store.objects.count()  # HQ is really down

    result = customer_create_at_store(
        store=store,
        data=CustomerInput(
            type="",
            first_name=" Jonas ",
            last_name="Naujas",
            email=" JONAS.NEW@example.com ",
            phone="713 555 0100",  # read as a number of the store's country (USA)
            attributes={"Tier": "Gold"},
            addresses=(
                AddressInput(purpose="", street="1 A St", city="X", zip="1", country="USA"),
            ),
        ),
    )

    row = AsyncCustomer.objects.using("channel").get(
        async_customer_id=result.async_customer.async_customer_id
    )
    assert (row.first_name, row.email, row.type) == ("Jonas", "JONAS.NEW@example.com", "person")
    assert (row.customer_group, row.language, row.title) == ("RETAIL", "en-us", "Mx.")
    assert [a.name for a in AsyncCustomerAffiliation.objects.using("channel")] == ["Employees"]
    assert row.addresses.get().purpose == "home"


def test_an_organization_address_defaults_to_business(distributed):
    result = customer_create_at_store(
        store=store_held(),
        data=CustomerInput(
            type="organization",
            organization_name="Contoso Ltd",
            addresses=(
                AddressInput(purpose="", street="1 A St", city="X", zip="1", country="USA"),
            ),
        ),
    )
    assert result.async_customer.addresses.get().purpose == "business"


def test_an_internationalized_email_domain_is_accepted(distributed):
    result = customer_create_at_store(
        store=store_held(),
        data=CustomerInput(first_name="Jürgen", last_name="Müller", email="jurgen@bücher.de"),
    )
    assert result.async_customer.email == "jurgen@bücher.de"


def test_a_group_added_at_hq_is_refused_until_it_reaches_the_store(distributed):
    CustomerGroupFactory(legal_entity=distributed["legal_entity"], code="VIP")
    data = CustomerInput(first_name="Ona", last_name="Š", customer_group="VIP")

    with pytest.raises(StoreInputError):
        customer_create_at_store(store=store_held(), data=data)
    run("distribute")

    assert customer_create_at_store(store=store_held(), data=data).async_customer


def test_before_any_distribution_the_store_checks_against_hq(organization):
    with pytest.raises(StoreInputError, match="NOPE"):
        customer_create_at_store(
            store=organization["houston"],
            data=CustomerInput(first_name="Ona", last_name="Š", customer_group="NOPE"),
        )


# --- The commands ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ([], "First name"),
        (["--first-name", "A", "--last-name", "B", "--email", "notanemail"], "notanemail"),
        (
            ["--first-name", "A", "--last-name", "B", "--customer-group", "NOPE"],
            'customer group "NOPE"',
        ),
        (["--type", "organization"], "Organization name"),
    ],
)
def test_create_customer_at_store_refuses_bad_input_in_one_line(distributed, options, named):
    with pytest.raises(CommandError) as refused:
        call_command(
            "create_customer_at_store",
            "--store",
            "S0001",
            *options,
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )

    message = str(refused.value)
    assert "\n" not in message and named in message
    assert message.startswith("Store S0001 refused the customer: ")
    assert not AsyncCustomer.objects.using("channel").exists()


def test_edit_customer_at_store_refuses_an_unknown_group(distributed):
    created = customer_create_at_store(
        store=store_held(), data=CustomerInput(first_name="Ona", last_name="Š")
    )

    with pytest.raises(CommandError, match='unknown customer group "NOPE"'):
        call_command(
            "edit_customer_at_store",
            "--store",
            "S0001",
            "--customer",
            str(created.async_customer.async_customer_id),
            "--customer-group",
            "NOPE",
            stdout=io.StringIO(),
        )
    assert AsyncCustomer.objects.using("channel").get().customer_group == "RETAIL"


# --- The page ----------------------------------------------------------------------------


def test_add_customer_at_store_page_shows_the_stores_refusal_on_the_field(
    admin_client, distributed
):
    from django.urls import reverse

    response = admin_client.post(
        reverse("admin:customers_customer_add_at_store"),
        {
            "store": distributed["houston"].pk,
            "type": "person",
            "first_name": "Ona",
            "last_name": "Šimkutė",
            "email": "notanemail",
            "phone": "12",
            "address_purpose": "",
        },
    )

    form = response.context["form"]
    assert form.errors["email"] == ['Email: malformed email "notanemail"']
    assert form.errors["phone"] == ['Phone: "12" is not a phone number']
    assert not AsyncCustomer.objects.using("channel").exists()


def test_the_copied_title_and_affiliations_reach_the_hq_account(distributed):
    from customers.models import Customer
    from tests.fixtures import convert

    created = customer_create_at_store(
        store=store_held(), data=CustomerInput(first_name="Jonas", last_name="Naujas")
    )
    convert()

    customer = Customer.objects.get(async_customer_id=created.async_customer.async_customer_id)
    assert customer.title == "Mx."
    assert [a.affiliation.name for a in customer.affiliations.all()] == ["Employees"]
    assert exported_title(customer.account) == "Mx."


def exported_title(account: str) -> str:
    import json

    out = io.StringIO()
    call_command("export_customers", stdout=out)
    return next(row["title"] for row in json.loads(out.getvalue()) if row["account"] == account)
