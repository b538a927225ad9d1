import uuid

import pytest

from commerce.models import ChannelSalesLine, ChannelSalesTransaction
from customers.models import StagingStatus
from customers.services import AddressInput, ContactInput, CustomerInput, async_customer_create
from jobs.models import JobRun, JobScopeCheck
from jobs.services import conversion_request, job_runs_execute
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
    StagedAsyncCustomerAddressFactory,
    StagedAsyncCustomerFactory,
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
def async_store():
    """A store creating customers in async mode (profile ASYNC), with its own organization."""
    return StoreFactory(functionality_profile=FunctionalityProfileFactory(code="ASYNC"))


def realtime_profile():
    """The functionality profile of stores that create customers at HQ at once."""
    return FunctionalityProfileFactory(code="REALTIME", create_customer_in_async_mode=False)


@pytest.fixture
def realtime_store():
    """A store creating customers at HQ at once (profile REALTIME)."""
    return StoreFactory(functionality_profile=realtime_profile())


def realtime_store_at(organization: dict, at: str = "houston", **fields):
    """A real-time store S0003 of ``organization``, on the channel database of its store
    ``at`` ("houston" or "seattle"); ``fields`` set more of the store."""
    return StoreFactory(
        number="S0003",
        legal_entity=organization["legal_entity"],
        default_customer=organization["default"],
        channel_database=organization[at].channel_database,
        functionality_profile=realtime_profile(),
        **fields,
    )


def failed_houston_record(*, last_error: str, **fields):
    """Ayşe Yılmaz's record from Houston (S0001), with a US address, that HQ rejected with
    ``last_error``; ``fields`` set more of the staged record."""
    staged = StagedAsyncCustomerFactory(
        channel_database="HOUSTON",
        store_number="S0001",
        first_name="Ayşe",
        last_name="Yılmaz",
        email="ayse@example.com",
        status=StagingStatus.FAILED,
        last_error=last_error,
        **fields,
    )
    StagedAsyncCustomerAddressFactory(staged_customer=staged, country="USA")
    return staged


@pytest.fixture
def settled(organization):
    """The organization with nothing left to do: the default customer is at both stores,
    and no job run or scope check is left from getting it there."""
    runs = conversion_request(enqueue=False)
    job_runs_execute(run_ids=[run.pk for run in runs])
    JobRun.objects.all().delete()
    JobScopeCheck.objects.all().delete()
    return organization


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


def run(job, via="command", **scope):
    """Request one job for its scopes and execute the runs in this process (no broker);
    returns the job runs, fresh, in request order."""
    from jobs.models import JobRun
    from jobs.services import job_runs_execute, job_runs_request

    runs, refused = job_runs_request(job=job, enqueue=False, via=via, **scope)
    assert not refused, refused
    job_runs_execute(run_ids=[r.pk for r in runs])
    return list(JobRun.objects.filter(pk__in=[r.pk for r in runs]).order_by("pk"))


def convert():
    """Upload, account creation and distribution, each run to its end in this process."""
    return [*run("upload"), *run("async-customers"), *run("distribute")]
