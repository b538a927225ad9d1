"""Which customers a distribution (1010) looks at (README "Freshness", jobs.distribution):
a triggered run, only those changed since the last run that looked at every customer
(less a margin), so its cost follows the changes and not the customers already sent;
every customer when no such run is recent, when the channel database serves a legal
entity that run did not cover, or after a refused edit. Any other run looks at all."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connections
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commerce.db import HQ
from customers.models import ChannelCustomer, Customer
from jobs import distribution
from jobs.distribution import refused_edits_resend
from jobs.models import Job, JobScopeCheck
from jobs.services import TRIGGER, job_run_request, job_runs_execute
from tests.factories.commerce import LegalEntityFactory, StoreFactory
from tests.factories.customers import CustomerFactory

pytestmark = pytest.mark.django_db(databases="__all__")

LONG_AGO = timedelta(days=1)


def distribute(via: str) -> None:
    run = job_run_request(
        job=Job.DISTRIBUTE, parameters={"channel_database": "HOUSTON"}, via=via, enqueue=False
    )
    job_runs_execute(run_ids=[run.pk])


def held() -> set[str]:
    return set(ChannelCustomer.objects.using("channel").values_list("account", flat=True))


def customer(legal_entity, account: str, *, changed_ago: timedelta | None = None) -> Customer:
    """An HQ customer no channel database has yet; changed ``changed_ago`` (else now)."""
    created = CustomerFactory(legal_entity=legal_entity, account=account)
    if changed_ago is not None:
        Customer.objects.filter(pk=created.pk).update(modified_at=timezone.now() - changed_ago)
    return created


def test_a_triggered_run_sends_what_changed_since_the_last_complete_look_and_others_the_rest(
    organization,
):
    distribute("command")  # looks at every customer: the default one is sent
    legal_entity = organization["legal_entity"]
    customer(legal_entity, "OLD1", changed_ago=LONG_AGO)  # due, but changed long before
    customer(legal_entity, "NEW1")

    distribute(TRIGGER)

    assert "NEW1" in held() and "OLD1" not in held()

    distribute("schedule")  # the schedule, a command or the admin: every customer

    assert {"C000001", "NEW1", "OLD1"} <= held()


def test_a_triggered_run_looks_at_every_customer_when_no_run_has(organization):
    customer(organization["legal_entity"], "OLD1", changed_ago=LONG_AGO)

    distribute(TRIGGER)

    assert {"C000001", "OLD1"} <= held()


def test_a_triggered_run_looks_at_every_customer_once_the_last_complete_look_is_old(
    organization, settings
):
    distribute("command")
    customer(organization["legal_entity"], "OLD1", changed_ago=LONG_AGO)
    JobScopeCheck.objects.filter(job=Job.DISTRIBUTE).update(
        complete_from=F("complete_from")
        - timedelta(seconds=settings.DISTRIBUTION_COMPLETE_SECONDS + 1)
    )

    distribute(TRIGGER)

    assert "OLD1" in held()


def test_a_channel_database_serving_another_legal_entity_gets_a_complete_look(organization):
    distribute("command")
    other = LegalEntityFactory(code="USRT2")
    old = customer(other, "E000001", changed_ago=LONG_AGO)
    houston = organization["houston"]
    StoreFactory(
        number="S0003",
        legal_entity=other,
        default_customer=old,
        channel_database=houston.channel_database,
        functionality_profile=houston.functionality_profile,
    )

    distribute(TRIGGER)

    assert "E000001" in held()


def test_a_refused_edit_makes_the_next_triggered_run_send_hqs_values_again(organization):
    distribute("command")
    Customer.objects.filter(account="C000001").update(modified_at=timezone.now() - LONG_AGO)
    # The store edited its copy; HQ refused the edit (R11) and forgets what it sent.
    ChannelCustomer.objects.using("channel").filter(account="C000001").update(
        email="store@example.com"
    )
    request = SimpleNamespace(
        target_account="C000001",
        store_number="S0001",
        channel_database="HOUSTON",
        target_async_customer_id=None,
    )
    assert refused_edits_resend(requests=[request]) == 1

    distribute(TRIGGER)

    copy = ChannelCustomer.objects.using("channel").get(account="C000001")
    assert copy.email == Customer.objects.get(account="C000001").email


def hq_queries(via: str) -> int:
    with CaptureQueriesContext(connections[HQ]) as queries:
        distribute(via)
    return len(queries.captured_queries)


def test_a_triggered_run_costs_the_same_however_many_customers_were_sent(organization, monkeypatch):
    """Windows of two customers: a run that looks at every customer reads one more
    window per two customers there are; a triggered run reads the changed ones only."""
    monkeypatch.setattr(distribution, "DISTRIBUTION_BATCH", 2)
    legal_entity = organization["legal_entity"]
    costs = {}
    for size in (2, 12):
        for index in range(size - Customer.objects.count()):
            customer(legal_entity, f"OLD{size}-{index}")
        Customer.objects.update(modified_at=timezone.now() - LONG_AGO)
        distribute("command")
        customer(legal_entity, f"NEW{size}")
        costs[size] = hq_queries(TRIGGER)
        assert f"NEW{size}" in held()

    assert costs[12] == costs[2]
    customer(legal_entity, "NEWEST")
    assert hq_queries("command") > costs[12]  # the control: every window, every customer


def test_the_scope_checks_page_shows_when_distribution_last_looked_at_every_customer(
    organization, admin_client
):
    distribute("command")
    distribute(TRIGGER)
    check = JobScopeCheck.objects.get(job=Job.DISTRIBUTE, scope="channel_database=HOUSTON")

    page = admin_client.get(reverse("admin:jobs_jobscopecheck_changelist"))

    assert page.status_code == 200
    text = page.content.decode()
    assert "Last looked at every customer" in text
    assert timezone.localtime(check.complete_from).strftime("%Y-%m-%d %H:%M:%S") in text
