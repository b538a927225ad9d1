"""An admin action that queues work shows its result when it is done (jobs.watched_runs):
the page refreshes while the run is queued or running, then says how it ended."""

import pytest
from django.urls import reverse

from commerce.models import Statement
from customers.models import StagedAsyncCustomer
from jobs.models import JobRun
from jobs.services import job_runs_execute
from tests.commerce import test_operator_pages
from tests.commerce.test_admin import admin_url

pytestmark = pytest.mark.django_db(databases="__all__")

REFRESH = '<meta http-equiv="refresh" content="3">'


@pytest.fixture
def statement(channel_data):
    """A failed statement (tests.commerce.test_operator_pages' ``failed_statement``)."""
    return test_operator_pages.failed_statement.__wrapped__(channel_data)


def test_post_again_refreshes_while_queued_then_shows_posted(
    admin_client, statement, channel_data, django_capture_on_commit_callbacks
):
    failed_statement = statement
    staged = StagedAsyncCustomer.objects.get(
        async_customer_id=channel_data["invalid"].async_customer_id
    )
    staged.addresses.filter(country="XXL").update(country="USA")
    page_url = admin_url(Statement, "change", failed_statement.pk)
    with django_capture_on_commit_callbacks(execute=False):
        admin_client.post(
            reverse("admin:commerce_statement_post_again", args=[failed_statement.pk])
        )
    run = JobRun.objects.filter(job="post-statements").latest("pk")

    waiting = admin_client.get(page_url).content.decode()

    assert REFRESH in waiting
    assert f"job run #{run.pk}</a> (Post statements, queued)" in waiting
    assert "Being posted again" in waiting and "Not posted:" not in waiting

    job_runs_execute(run_ids=[run.pk])
    done = admin_client.get(page_url).content.decode()

    assert REFRESH not in done and "Waiting for" not in done
    assert f"job run #{run.pk}</a>): Succeeded" in done
    assert "Posted " in done and "cannot be changed" in done
    again = admin_client.get(page_url).content.decode()
    assert "): Succeeded" not in again  # said once


def test_a_run_that_fails_ends_the_refresh_with_its_reason(admin_client, organization):
    from jobs.services import job_run_request

    run = job_run_request(job="upload", parameters={"channel_database": "HOUSTON"}, enqueue=False)
    session = admin_client.session
    session["jobs_watched_runs"] = [run.pk]
    session.save()
    assert REFRESH in admin_client.get(reverse("admin:index")).content.decode()

    JobRun.objects.filter(pk=run.pk).update(status="failed", message="OperationalError: gone")
    page = admin_client.get(reverse("admin:index")).content.decode()

    assert REFRESH not in page
    assert "): Failed – OperationalError: gone" in page
