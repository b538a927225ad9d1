"""R11: every HQ form that changes a customer or a staged record carries the version it
showed; a save over a newer version is refused, saying what changed since."""

import pytest

from customers.models import (
    ChannelCustomer,
    Customer,
    Party,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagingStatus,
)
from customers.services import async_customer_create
from customers.services.changes import CustomerChanges
from customers.services.requests import customer_edit_at_store
from tests.commerce.test_admin import admin_url, change_form_post_data
from tests.factories.customers import (
    StagedAsyncAddressFactory,
    StagedAsyncCustomerAttributeValueFactory,
)
from tests.fixtures import convert, failed_houston_record, person

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


def test_the_version_is_rendered_in_the_page(admin_client, ona):
    page = admin_client.get(admin_url(Customer, "change", ona.pk))

    html = page.content.decode()
    assert f'type="hidden" name="shown_version" value="{ona.version}"' in html
    assert 'name="shown_values"' in html


# --- Staged records ------------------------------------------------------------------------


@pytest.fixture
def failed_staged(organization):
    """A Houston record HQ rejected for its customer group."""
    return failed_houston_record(
        customer_group="PLATINUM",
        last_error='customer_group: unknown customer group "PLATINUM" in legal entity USRT',
    )


def test_a_staged_fix_over_a_stores_edit_applied_meanwhile_is_refused(
    admin_client, organization, failed_staged
):
    url = admin_url(StagedAsyncCustomer, "change", failed_staged.pk)
    page = admin_client.get(url)
    assert 'name="shown_version"' in page.content.decode()
    # Meanwhile the store's edit (a channel request) is applied to the staged record.
    StagedAsyncCustomer.objects.filter(pk=failed_staged.pk).update(email="ayse@store.example")

    response = admin_client.post(url, change_form_post_data(page, phone="+1 713 555 0100"))

    assert response.status_code == 200
    (error,) = response.context["adminform"].form.non_field_errors()
    assert error.startswith(
        "This staged async customer was changed after you opened it: "
        "Email is now ayse@store.example."
    )
    failed_staged.refresh_from_db()
    assert (failed_staged.email, failed_staged.phone) == ("ayse@store.example", "")
    assert failed_staged.fixed_at is None


def test_a_staged_fix_sees_a_child_added_meanwhile(admin_client, failed_staged):
    url = admin_url(StagedAsyncCustomer, "change", failed_staged.pk)
    page = admin_client.get(url)
    StagedAsyncCustomerAttributeValueFactory(
        staged_customer=failed_staged, name="Tier", value="Gold"
    )

    response = admin_client.post(url, change_form_post_data(page, customer_group=""))

    assert response.status_code == 200
    (error,) = response.context["adminform"].form.non_field_errors()
    assert "Attributes is now Tier = Gold." in error
    failed_staged.refresh_from_db()
    assert failed_staged.customer_group == "PLATINUM"


def test_a_staged_fix_at_the_current_version_is_saved(admin_client, failed_staged):
    url = admin_url(StagedAsyncCustomer, "change", failed_staged.pk)
    page = admin_client.get(url)

    response = admin_client.post(url, change_form_post_data(page, customer_group=""))

    assert response.status_code == 302
    failed_staged.refresh_from_db()
    assert failed_staged.customer_group == "" and failed_staged.fixed_at is not None


def test_a_staged_address_fix_over_a_newer_version_is_refused(admin_client, organization):
    staged = StagedAsyncAddressFactory(
        store_number="S0001",
        customer_account="C000001",
        country="XXL",
        status=StagingStatus.FAILED,
        last_error='country: invalid country code "XXL"',
    )
    url = admin_url(StagedAsyncAddress, "change", staged.pk)
    page = admin_client.get(url)
    assert 'name="shown_version"' in page.content.decode()
    StagedAsyncAddress.objects.filter(pk=staged.pk).update(customer_account="C000002")

    refused = admin_client.post(url, change_form_post_data(page, country="USA"))

    assert refused.status_code == 200
    (error,) = refused.context["adminform"].form.non_field_errors()
    assert "Customer account is now C000002." in error
    staged.refresh_from_db()
    assert staged.country == "XXL"
    StagedAsyncAddress.objects.filter(pk=staged.pk).update(customer_account="C000001")
    page = admin_client.get(url)
    saved = admin_client.post(url, change_form_post_data(page, country="USA"))
    assert saved.status_code == 302
    staged.refresh_from_db()
    assert staged.country == "USA"


def test_a_party_save_over_a_stores_name_edit_is_refused(admin_client, organization, ona):
    url = admin_url(Party, "change", ona.party_id)
    page = admin_client.get(url)
    customer_edit_at_store(
        store=organization["seattle"],
        customer=ona.account,
        changes=CustomerChanges(fields={"first_name": "Onutė"}),
    )
    convert()

    refused = admin_client.post(url, change_form_post_data(page, last_name="Aukštaitė"))

    assert refused.status_code == 200
    (error,) = refused.context["adminform"].form.non_field_errors()
    assert "First name is now Onutė." in error
    ona.party.refresh_from_db()
    assert (ona.party.first_name, ona.party.last_name) == ("Onutė", "A")
    page = admin_client.get(url)
    saved = admin_client.post(url, change_form_post_data(page, last_name="Aukštaitė"))
    assert saved.status_code == 302
    ona.party.refresh_from_db()
    assert (ona.party.first_name, ona.party.last_name) == ("Onutė", "Aukštaitė")
