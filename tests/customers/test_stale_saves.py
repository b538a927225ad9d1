"""R11: every HQ form that changes a customer or a staged record carries the version it
showed; a save over a newer version is refused, saying what changed since."""

import pytest

from customers.models import ChannelCustomer, Customer
from customers.services import async_customer_create
from customers.services.changes import CustomerChanges
from customers.services.requests import customer_edit_at_store
from tests.commerce.test_admin import admin_url, change_form_post_data
from tests.fixtures import convert, person

pytestmark = pytest.mark.django_db(databases="__all__")


def shown_version(page) -> str:
    return page.context["adminform"].form["shown_version"].value()


@pytest.fixture
def ona(organization):
    created = async_customer_create(alias="channel", store_number="S0001", data=person("Ona", "A"))
    convert()
    return Customer.objects.get(async_customer_id=created.async_customer_id)


def test_an_admin_save_over_both_stores_email_edits_is_refused(admin_client, organization, ona):
    url = admin_url(Customer, "change", ona.pk)
    page = admin_client.get(url)
    assert shown_version(page) == str(ona.version)
    old_phone = ona.phone
    # Meanwhile both stores change the email; account creation applies their requests.
    customer_edit_at_store(
        store=organization["houston"],
        customer=str(ona.async_customer_id),
        changes=CustomerChanges(fields={"email": "ona@houston.example"}),
    )
    customer_edit_at_store(
        store=organization["seattle"],
        customer=ona.account,
        changes=CustomerChanges(fields={"email": "ona@seattle.example"}),
    )
    convert()
    ona.refresh_from_db()
    assert ona.email == "ona@seattle.example"

    response = admin_client.post(url, change_form_post_data(page, phone="+37060000000"))

    assert response.status_code == 200
    (error,) = response.context["adminform"].form.non_field_errors()
    assert "This customer was changed at " in error
    assert "after you opened it: Email is now ona@seattle.example." in error
    assert "Phone" not in error  # the operator's own change is not news to them
    ona.refresh_from_db()
    assert (ona.email, ona.phone) == ("ona@seattle.example", old_phone)
    for alias in ("channel", "channel2"):
        copy = ChannelCustomer.objects.using(alias).get(account=ona.account)
        assert copy.email == "ona@seattle.example"


def test_an_admin_save_at_the_current_version_is_saved_and_sent(admin_client, organization, ona):
    customer_edit_at_store(
        store=organization["seattle"],
        customer=ona.account,
        changes=CustomerChanges(fields={"email": "ona@seattle.example"}),
    )
    convert()
    url = admin_url(Customer, "change", ona.pk)
    page = admin_client.get(url)
    version = int(shown_version(page))

    response = admin_client.post(url, change_form_post_data(page, phone="+37060000000"))

    assert response.status_code == 302
    ona.refresh_from_db()
    assert (ona.email, ona.phone, ona.version) == (
        "ona@seattle.example",
        "+37060000000",
        version + 1,
    )
    assert set(ona.field_changed_at) >= {"phone", "email"}
    convert()  # 1010 sends the new version to both stores
    for alias in ("channel", "channel2"):
        copy = ChannelCustomer.objects.using(alias).get(account=ona.account)
        assert (copy.email, copy.phone, copy.hq_version) == (
            "ona@seattle.example",
            "+37060000000",
            version + 1,
        )


def test_a_customer_page_without_its_version_is_refused(admin_client, ona):
    url = admin_url(Customer, "change", ona.pk)
    data = change_form_post_data(admin_client.get(url), phone="+37060000000")
    del data["shown_version"]

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "was changed" in response.context["adminform"].form.non_field_errors()[0]
    ona.refresh_from_db()
    assert ona.phone != "+37060000000"
