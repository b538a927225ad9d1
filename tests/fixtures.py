import uuid

import pytest

from commerce.models import ChannelSalesLine, ChannelSalesTransaction
from customers.services import AddressInput, ContactInput, CustomerInput, async_customer_create
from tests.factories.commerce import (
    ChannelDatabaseFactory,
    FunctionalityProfileFactory,
    LegalEntityFactory,
    StoreFactory,
)
from tests.factories.customers import (
    AffiliationFactory,
    AsyncAddressFactory,
    CustomerAttributeFactory,
    CustomerFactory,
)


def person(first: str, last: str, *, country: str = "USA", **extra) -> CustomerInput:
    return CustomerInput(
        first_name=first,
        last_name=last,
        email=f"{first.encode('ascii', 'ignore').decode().lower()}@example.com",
        addresses=(
            AddressInput(
                purpose="delivery",
                street="1 Main St",
                city="Houston",
                zip="77001",
                country=country,
                is_primary=True,
                async_address_id=uuid.uuid4(),
            ),
            AddressInput(
                purpose="invoice",
                street="2 Side St",
                city="Houston",
                zip="77002",
                country="USA",
                async_address_id=uuid.uuid4(),
            ),
        ),
        contacts=(ContactInput(type="phone", value="+1555000"),),
        attributes={"Newsletter": True, "Tier": "Gold"},
        affiliations=("Employees",),
        **extra,
    )


@pytest.fixture
def organization(db):
    """One legal entity, two channel databases, two async stores, setup data."""
    legal_entity = LegalEntityFactory(code="USRT")
    CustomerAttributeFactory(name="Newsletter", type="boolean")
    CustomerAttributeFactory(name="Tier", type="choice", choices=["Silver", "Gold"])
    AffiliationFactory(name="Employees")
    default = CustomerFactory(legal_entity=legal_entity, account="C000001")
    profile = FunctionalityProfileFactory(code="ASYNC")
    houston = StoreFactory(
        number="S0001",
        legal_entity=legal_entity,
        default_customer=default,
        functionality_profile=profile,
        channel_database=ChannelDatabaseFactory(name="HOUSTON", alias="channel"),
    )
    seattle = StoreFactory(
        number="S0002",
        legal_entity=legal_entity,
        default_customer=default,
        functionality_profile=profile,
        channel_database=ChannelDatabaseFactory(name="SEATTLE", alias="channel2"),
    )
    return {
        "legal_entity": legal_entity,
        "default": default,
        "houston": houston,
        "seattle": seattle,
    }


@pytest.fixture
def channel_data(organization):
    """Async customers in both channel databases: 3 valid + 1 invalid in Houston, 1 in Seattle,
    an async address for the default customer and a transaction of an async customer."""
    valid = [
        async_customer_create(alias="channel", store_number="S0001", data=person(first, last))
        for first, last in [("Ona", "Šimkutė"), ("Jürgen", "Müller"), ("José", "Núñez")]
    ]
    invalid = async_customer_create(
        alias="channel", store_number="S0001", data=person("Bad", "Country", country="XXL")
    )
    seattle = async_customer_create(
        alias="channel2", store_number="S0002", data=person("Øyvind", "Hansen")
    )
    address = AsyncAddressFactory(store_number="S0001", customer_account="C000001", is_primary=True)
    txn = ChannelSalesTransaction.objects.using("channel").create(
        transaction_id="S0001-1-000001",
        store_number="S0001",
        type="customer_order",
        business_date="2026-11-24",
        async_customer_id=valid[0].async_customer_id,
    )
    ChannelSalesLine.objects.using("channel").create(
        transaction=txn, line_number=1, item="0001", quantity="2", unit_price="9.99"
    )
    return {"valid": valid, "invalid": invalid, "seattle": seattle, "address": address, "txn": txn}


def run(job, **scope):
    """Request one job for its scopes and execute the runs in this process (no broker);
    returns the job runs, fresh, in request order."""
    from jobs.models import JobRun
    from jobs.services import job_runs_execute, job_runs_request

    runs, refused = job_runs_request(job=job, enqueue=False, **scope)
    assert not refused, refused
    job_runs_execute(run_ids=[r.pk for r in runs])
    return list(JobRun.objects.filter(pk__in=[r.pk for r in runs]).order_by("pk"))


def convert():
    """Upload, account creation and distribution, each run to its end in this process."""
    return [*run("upload"), *run("async-customers"), *run("distribute")]
