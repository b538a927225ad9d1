"""The store's customer page (README "Admin"; R1, R11): one search over a store's
async customers and synchronous copies, links, permissions, what the store is told and a
flat query count."""

import datetime
import re
import uuid
from contextlib import ExitStack

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commerce.db import channel_aliases
from customers.admin.store_customer_text import age_text
from customers.models import ChannelRequest
from customers.services import async_customer_create
from jobs.models import JobRun
from jobs.services import job_runs_execute, job_runs_request
from tests.factories.customers import (
    AsyncCustomerFactory,
    ChannelCustomerAddressFactory,
    ChannelCustomerFactory,
    CustomerGroupFactory,
)
from tests.fixtures import person

pytestmark = pytest.mark.django_db(databases="__all__")


def page_url(store, key=None):
    if key is None:
        return reverse("admin:customers_store_customers", args=[store.pk])
    return reverse("admin:customers_store_customer", args=[store.pk, str(key)])


def rows(response) -> list[dict]:
    return response.context["rows"]


def names(response) -> set[str]:
    return {row["name"] for row in rows(response)}


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def run(job):
    runs, refused = job_runs_request(job=job, enqueue=False)
    assert not refused
    job_runs_execute(run_ids=[r.pk for r in runs])
    return list(JobRun.objects.filter(pk__in=[r.pk for r in runs]))


def convert(*, failed: int = 0):
    """Upload (P-0001), Synchronize customers and channel requests, 1010, in-process."""
    runs = [*run("upload"), *run("async-customers"), *run("distribute")]
    finished = {"succeeded", "completed_with_errors"}
    assert all(r.status in finished for r in runs), [(r.status, r.errors) for r in runs]
    assert sum(r.failed for r in runs) == failed, [r.errors for r in runs]


def edit_post(response, **changes) -> dict:
    """The edit form as rendered, with ``changes`` typed in."""
    form = response.context["edit_form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(changes)
    data["_save"] = "Save changes"
    return data


def address_post(**overrides) -> dict:
    data = {
        "address-purpose": "invoice",
        "address-street": "9 New St",
        "address-city": "Houston",
        "address-state": "TX",
        "address-zip": "77009",
        "address-country": "USA",
        "address-is_primary": "",
        "_add_address": "Add address",
    }
    data.update(overrides)
    return data


@pytest.fixture
def houston(organization):
    CustomerGroupFactory(legal_entity=organization["legal_entity"], code="STAFF", name="Employees")
    return organization["houston"]


@pytest.fixture
def karen(houston):
    """A synchronous customer's copy in Houston's channel database."""
    copy = ChannelCustomerFactory(
        legal_entity="USRT",
        account="C000101",
        first_name="Karen",
        last_name="Smith",
        name="Karen Smith",
        email="karen.smith@example.com",
        phone="+1 713 555 0101",
        customer_group="RETAIL",
    )
    ChannelCustomerAddressFactory(customer=copy, street="2211 Fannin St", city="Houston")
    return copy


@pytest.fixture
def ona(houston):
    """An async customer of Houston, not uploaded yet."""
    return AsyncCustomerFactory(
        first_name="Ona",
        last_name="Smith",
        email="ona@example.com",
        phone="+37060000000",
        customer_group="RETAIL",
        created_at=timezone.now() - datetime.timedelta(hours=2, minutes=5),
    )


# --- Search ----------------------------------------------------------------------------


def test_one_search_finds_async_customers_and_synchronous_copies(admin_client, houston, karen, ona):
    response = admin_client.get(page_url(houston), {"q": "SMITH"})

    assert response.status_code == 200
    found = {row["name"]: row for row in rows(response)}
    assert set(found) == {"Ona Smith", "Karen Smith"}
    assert found["Ona Smith"]["pending_sync"] and found["Ona Smith"]["account"] is None
    assert found["Karen Smith"]["account"] == "C000101" and not found["Karen Smith"]["pending_sync"]
    assert rows(response)[0]["name"] == "Ona Smith"  # what is on its way comes first
    html = response.content.decode()
    assert "Pending sync" in html and "C000101" in html


@pytest.mark.parametrize(
    "query, expected",
    [
        ("karen", {"Karen Smith"}),
        ("ona smith", {"Ona Smith"}),
        ("KAREN.SMITH@EXAMPLE", {"Karen Smith"}),
        ("713 555", {"Karen Smith"}),
        ("+3706", {"Ona Smith"}),
        ("c000101", {"Karen Smith"}),
        ("nobody", set()),
    ],
)
def test_search_matches_name_email_phone_account(
    admin_client, houston, karen, ona, query, expected
):
    assert names(admin_client.get(page_url(houston), {"q": query})) == expected


def test_search_matches_the_async_guid_whole_or_in_part(admin_client, houston, karen, ona):
    guid = str(ona.async_customer_id)

    assert names(admin_client.get(page_url(houston), {"q": guid})) == {"Ona Smith"}
    assert names(admin_client.get(page_url(houston), {"q": guid.upper()})) == {"Ona Smith"}
    assert names(admin_client.get(page_url(houston), {"q": guid[:8]})) == {"Ona Smith"}


def test_only_the_stores_channel_database_and_legal_entity_are_searched(
    admin_client, organization, houston, karen, ona
):
    ChannelCustomerFactory(legal_entity="DEMF", account="DE000001", name="Other Smith")
    AsyncCustomerFactory(
        using="channel2", store_number="S0002", first_name="Sam", last_name="Smith"
    )  # a fixed first name: Faker could draw "Karen"
    seattle = organization["seattle"]

    assert names(admin_client.get(page_url(houston), {"q": "smith"})) == {
        "Ona Smith",
        "Karen Smith",
    }
    assert names(admin_client.get(page_url(seattle), {"q": "karen"})) == set()


def test_an_async_customer_linked_by_1010_is_listed_once_by_its_account(
    admin_client, houston, karen
):
    linked = AsyncCustomerFactory(first_name="Karen", last_name="Smith", account="C000101")

    response = admin_client.get(page_url(houston), {"q": "karen"})

    assert [row["account"] for row in rows(response)] == ["C000101"]
    # Its GUID opens the account's page.
    detail = admin_client.get(page_url(houston, linked.async_customer_id))
    assert detail.status_code == 302 and detail.url == page_url(houston, "C000101")


def test_pending_sync_shows_its_age(admin_client, houston, ona):
    response = admin_client.get(page_url(houston))

    (row,) = rows(response)
    assert row["age"] == "2 h 5 min"
    assert re.search(
        r"Pending sync</span>\s*<span[^>]*>2 h 5 min</span>", response.content.decode()
    )


@pytest.mark.parametrize(
    "seconds, text",
    [
        (0, "0 s"),
        (59, "59 s"),
        (180, "3 min"),
        (7200, "2 h"),
        (7500, "2 h 5 min"),
        (90000, "1 d 1 h"),
    ],
)
def test_age_is_said_in_words(seconds, text):
    now = timezone.now()
    assert age_text(now - datetime.timedelta(seconds=seconds), now) == text


def test_the_list_pages_by_50(admin_client, houston):
    for n in range(55):
        ChannelCustomerFactory(legal_entity="USRT", name=f"Customer {n:02d}")

    first = admin_client.get(page_url(houston))
    second = admin_client.get(page_url(houston), {"p": 2})

    assert len(rows(first)) == 50 and first.context["result_count"] == 55
    assert len(rows(second)) == 5
    assert names(first).isdisjoint(names(second))
    assert admin_client.get(page_url(houston), {"p": 9}).url == "?p=2"


def query_counts(client, url, params) -> dict[str, int]:
    with ExitStack() as stack:
        captured = {
            alias: stack.enter_context(CaptureQueriesContext(connections[alias]))
            for alias in ["default", *channel_aliases()]
        }
        response = client.get(url, params)
    assert response.status_code == 200
    return {alias: len(c.captured_queries) for alias, c in captured.items()}


def _customers_with_edits(n: int) -> None:
    """``n`` async customers and ``n`` copies, each with an edit not back from HQ."""
    for _ in range(n):
        copy = ChannelCustomerFactory(legal_entity="USRT", last_name="Many")
        ChannelCustomerAddressFactory(customer=copy)
        async_customer = AsyncCustomerFactory(last_name="Many", upload_session_id=1)
        for target in (
            {"target_account": copy.account},
            {"target_async_customer_id": async_customer.async_customer_id},
        ):
            ChannelRequest.objects.using("channel").create(
                request_id=uuid.uuid4(),
                store_number="S0001",
                edited_at=timezone.now(),
                changes={"fields": {"email": "x@example.com"}},
                upload_session_id=1,
                **target,
            )


def test_query_count_does_not_grow_with_rows(admin_client, houston):
    url = page_url(houston)
    admin_client.get(url)  # warm-up: content types, session
    _customers_with_edits(3)  # 6 rows
    few = query_counts(admin_client, url, {"q": "many"})
    _customers_with_edits(22)  # 50 rows
    response = admin_client.get(url, {"q": "many"})
    assert response.context["result_count"] == 50 and len(rows(response)) == 50
    assert all(row["pending_edits"] == 1 for row in rows(response))

    assert query_counts(admin_client, url, {"q": "many"}) == few


# --- Links and permissions ---------------------------------------------------------------


def test_store_pages_link_to_the_customers_page_and_add_customer_at_store(admin_client, houston):
    change = admin_client.get(reverse("admin:commerce_store_change", args=[houston.pk]))
    changelist = admin_client.get(reverse("admin:commerce_store_changelist"))
    customers = admin_client.get(page_url(houston))
    stores = admin_client.get(reverse("admin:customers_store_customers_index"))

    assert f'href="{page_url(houston)}"' in change.content.decode()
    assert f'href="{page_url(houston)}"' in changelist.content.decode()
    add = reverse("admin:customers_store_customer_add", args=[houston.pk])
    assert f'href="{add}"' in customers.content.decode()
    assert f'href="{page_url(houston)}"' in stores.content.decode()


def _user(client, *codenames):
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="customers", codename__in=codenames)
    )
    client.force_login(user)
    return user


def test_viewing_needs_view_permission_on_async_and_channel_customers(client, houston, ona):
    _user(client, "view_asynccustomer")

    assert client.get(page_url(houston)).status_code == 403
    assert client.get(page_url(houston, ona.async_customer_id)).status_code == 403


def test_a_viewer_sees_no_forms_and_cannot_post(client, houston, ona):
    _user(client, "view_asynccustomer", "view_channelcustomer")
    url = page_url(houston, ona.async_customer_id)

    page = client.get(url)
    response = client.post(url, {"email": "x@example.com", "_save": "Save changes"})

    assert page.status_code == 200 and "store-customer-edit-form" not in page.content.decode()
    assert "Add customer at store" not in client.get(page_url(houston)).content.decode()
    assert response.status_code == 403
    ona.refresh_from_db(using="channel")
    assert ona.email == "ona@example.com"


def test_editing_needs_change_permission_on_async_customers(client, houston, ona):
    _user(client, "change_asynccustomer", "view_channelcustomer")
    url = page_url(houston, ona.async_customer_id)

    response = client.post(url, edit_post(client.get(url), phone="+37061111111"))

    assert response.status_code == 302
    ona.refresh_from_db(using="channel")
    assert ona.phone == "+37061111111"


def test_forms_carry_csrf_protection(houston, ona):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.create_superuser("boss", password="pw"))
    url = page_url(houston, ona.async_customer_id)

    assert 'name="csrfmiddlewaretoken"' in client.get(url).content.decode()
    assert client.post(url, {"email": "x@example.com", "_save": "1"}).status_code == 403


def test_an_async_customer_hq_rejected_shows_why_on_the_list_and_its_page(
    admin_client, organization, houston
):
    bad = async_customer_create(
        alias="channel", store_number="S0001", data=person("Bad", "Country", country="XXL")
    )
    convert(failed=1)

    listing = admin_client.get(page_url(houston), {"q": "country"})
    (row,) = rows(listing)
    assert row["pending_sync"] and row["hq_status"] == "failed"
    assert 'invalid country code "XXL"' in row["hq_error"]
    detail = admin_client.get(page_url(houston, bad.async_customer_id))
    status = dict(detail.context["facts"])["Status"]
    assert status.startswith("Pending sync (failed). HQ says: ") and "XXL" in status


def test_the_edit_form_offers_the_names_of_the_customer_type(admin_client, houston, karen):
    ChannelCustomerFactory(
        legal_entity="USRT", account="C000102", type="organization", name="Fabrikam Inc."
    )

    person_form = admin_client.get(page_url(houston, "C000101")).context["edit_form"]
    organization_form = admin_client.get(page_url(houston, "C000102")).context["edit_form"]

    assert {"first_name", "last_name"} <= set(person_form.fields)
    assert "organization_name" not in person_form.fields
    assert "organization_name" in organization_form.fields
    assert not {"first_name", "last_name"} & set(organization_form.fields)


def test_the_edit_is_in_the_customers_admin_history(admin_client, houston, karen):
    from django.contrib.admin.models import LogEntry

    url = page_url(houston, "C000101")
    admin_client.post(url, edit_post(admin_client.get(url), email="k@new.example"))

    entry = LogEntry.objects.get()
    assert entry.object_repr == "[channel] C000101"
    assert entry.get_change_message() == "Changed Email."


def test_an_unreachable_channel_database_is_said_not_crashed(admin_client, houston, monkeypatch):
    from commerce.db import ChannelDatabaseUnreachable
    from customers.admin import store_customers

    def down(**kwargs):
        raise ChannelDatabaseUnreachable("channel", "unable to open database file", name="HOUSTON")

    monkeypatch.setattr(store_customers, "store_customer_search", down)
    response = admin_client.get(page_url(houston))

    assert response.status_code == 200
    assert "unable to open database file" in response.content.decode()
