"""Fixing a failed staged record in the admin (R5): what the operator types is judged by
the job's own rules on save, named on its field; attribute values get inputs of their
type; a fix saved without sending shows as "fixed, not sent"."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client

from commerce.models import Store
from customers.admin.staging import fixed_not_sent, staged_status_label
from customers.fix_forms import attribute_value_parse
from customers.models import (
    FIXED_NOT_SENT,
    CustomerAttribute,
    StagedAsyncAddress,
    StagedAsyncCustomer,
    StagingStatus,
)
from customers.services.staging import staged_records_retry
from jobs.models import JobRun
from jobs.services import job_runs_execute, job_runs_request
from tests.commerce.test_admin import admin_url, change_form_post_data
from tests.factories.customers import (
    CustomerAttributeFactory,
    CustomerGroupFactory,
    StagedAsyncAddressFactory,
    StagedAsyncCustomerAttributeValueFactory,
    StagedAsyncCustomerFactory,
)
from tests.factories.jobs import UserFactory
from tests.fixtures import failed_houston_record

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def failed(organization):
    """A Houston record HQ rejected for its loyalty tier, otherwise valid."""
    CustomerAttributeFactory(name="Household size", type="integer")
    staged = failed_houston_record(
        last_error='attributes.Tier: "Diamond" is not one of Silver, Gold'
    )
    StagedAsyncCustomerAttributeValueFactory(staged_customer=staged, name="Tier", value="Diamond")
    staged.processed_at = staged.staged_at
    staged.save()
    return staged


def page_of(client, staged):
    return client.get(admin_url(StagedAsyncCustomer, "change", staged.pk))


def post(client, staged, page, **changes):
    return client.post(
        admin_url(StagedAsyncCustomer, "change", staged.pk), change_form_post_data(page, **changes)
    )


def field_errors(response, inline_prefix=None, index=0):
    """Errors of the header form, or of row ``index`` of an inline formset."""
    if inline_prefix is None:
        return response.context["adminform"].form.errors
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.prefix == inline_prefix:
            return inline.formset.forms[index].errors
    raise AssertionError(f"no inline {inline_prefix}")


def messages_of(response):
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


# --- Attribute values of their type ------------------------------------------------------


def test_a_choice_attribute_is_a_select_of_its_choices_keeping_the_bad_value(admin_client, failed):
    content = page_of(admin_client, failed).content.decode()

    assert '<select name="attribute_values-0-value"' in content
    assert "Diamond (not one of the choices)</option>" in content
    assert ">Gold</option>" in content and ">Silver</option>" in content
    assert "Enter a valid JSON" not in content


def test_picking_gold_saves_gold_and_marks_the_record_fixed_not_sent(admin_client, failed):
    page = page_of(admin_client, failed)
    assert not fixed_not_sent(failed)

    response = post(admin_client, failed, page, **{"attribute_values-0-value": '"Gold"'})

    assert response.status_code == 302
    assert failed.attribute_values.get().value == "Gold"
    failed.refresh_from_db()
    assert failed.status == StagingStatus.FAILED  # not sent: nothing queued
    assert failed.fixed_by.username == "admin" and failed.fixed_at is not None
    assert fixed_not_sent(failed)
    assert list(StagedAsyncCustomer.objects.filter(FIXED_NOT_SENT)) == [failed]
    assert staged_status_label(failed) == "Failed – fixed, not sent"
    assert not JobRun.objects.exists()
    again = page_of(admin_client, failed).content.decode()
    assert "Fixed, not sent" in again
    listing = admin_client.get(admin_url(StagedAsyncCustomer, "changelist"), {"fix": "not_sent"})
    assert list(listing.context["cl"].result_list) == [failed]
    assert "Failed – fixed, not sent" in listing.content.decode()


def test_typing_gold_in_a_new_attribute_row_saves_gold(admin_client, failed):
    failed.attribute_values.all().delete()
    page = page_of(admin_client, failed)

    response = post(
        admin_client,
        failed,
        page,
        **{
            "attribute_values-TOTAL_FORMS": "1",
            "attribute_values-0-name": "Tier",
            "attribute_values-0-value": "Gold",
        },
    )

    assert response.status_code == 302
    assert failed.attribute_values.get().value == "Gold"


def test_a_typed_value_the_job_would_reject_is_refused_on_its_row(admin_client, failed):
    page = page_of(admin_client, failed)

    response = post(
        admin_client,
        failed,
        page,
        **{
            "attribute_values-0-value": '"Gold"',
            "attribute_values-TOTAL_FORMS": "2",
            "attribute_values-1-name": "Household size",
            "attribute_values-1-value": "four",
        },
    )

    assert response.status_code == 200
    assert field_errors(response, "attribute_values", 1)["value"] == [
        'Household size: "four" is not an integer'
    ]
    assert failed.attribute_values.get().value == "Diamond"  # nothing saved


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("choice", "gold", "Gold"),
        ("choice", '"Silver"', "Silver"),
        ("choice", "Diamond", "Diamond"),  # kept as typed: R5 names it
        ("boolean", "Yes", True),
        ("boolean", "false", False),
        ("integer", "4", 4),
        ("integer", "four", "four"),
        ("decimal", "1500.10", "1500.10"),
        ("date", "1985-03-14", "1985-03-14"),
        ("text", "", ""),
        ("integer", "", None),
    ],
)
def test_typed_values_become_values_of_the_attribute_type(kind, text, value):
    attribute = CustomerAttribute(name="A", type=kind, choices=["Silver", "Gold"])

    assert attribute_value_parse(attribute, text) == value


def test_integer_and_date_attributes_get_number_and_date_inputs(admin_client, failed):
    CustomerAttributeFactory(name="Birthday", type="date")
    StagedAsyncCustomerAttributeValueFactory(
        staged_customer=failed, name="Birthday", value="1985-03-14"
    )
    StagedAsyncCustomerAttributeValueFactory(staged_customer=failed, name="Household size", value=4)

    content = page_of(admin_client, failed).content.decode()

    assert 'type="date" name="attribute_values-0-value" value="1985-03-14"' in content
    assert 'type="number" name="attribute_values-1-value" value="4"' in content


# --- The header, judged by R5 on save -----------------------------------------------------


def test_a_malformed_email_is_refused_naming_the_field(admin_client, failed):
    page = page_of(admin_client, failed)

    response = post(admin_client, failed, page, email="not-an-email")

    assert response.status_code == 200
    assert field_errors(response)["email"] == ['Email: malformed email "not-an-email"']
    failed.refresh_from_db()
    assert failed.email == "ayse@example.com" and failed.fixed_at is None


def test_customer_group_is_a_select_of_the_legal_entity_groups(admin_client, failed):
    CustomerGroupFactory(legal_entity=failed_legal_entity(failed), code="STAFF", name="Employees")
    StagedAsyncCustomer.objects.filter(pk=failed.pk).update(customer_group="PLATINUM")
    failed.refresh_from_db()
    page = page_of(admin_client, failed)
    content = page.content.decode()
    assert '<option value="PLATINUM" selected>PLATINUM (not a group of USRT)</option>' in content
    assert '<option value="STAFF">STAFF – Employees</option>' in content

    response = post(
        admin_client, failed, page, customer_group="STAFF", **{"attribute_values-0-value": '"Gold"'}
    )

    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.customer_group == "STAFF"


def failed_legal_entity(staged):
    return Store.objects.get(number=staged.store_number).legal_entity


def test_plain_save_keeps_an_untouched_problem_and_says_what_is_left(admin_client, failed):
    page = page_of(admin_client, failed)

    response = post(admin_client, failed, page, phone="+1 713 555 0100")

    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.phone == "+1 713 555 0100"
    (warning,) = [text for level, text in messages_of(response) if level == "warning"]
    assert 'HQ would still reject it: Tier: "Diamond" is not one of Silver, Gold' in (warning)


def test_save_and_synchronize_again_refuses_what_the_job_would_reject(
    admin_client, failed, django_capture_on_commit_callbacks
):
    page = page_of(admin_client, failed)
    data = change_form_post_data(page, phone="+1 713 555 0100")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            admin_url(StagedAsyncCustomer, "change", failed.pk), {**data, "_sync_again": "1"}
        )

    assert response.status_code == 200
    assert field_errors(response, "attribute_values", 0)["value"] == [
        'Tier: "Diamond" is not one of Silver, Gold'
    ]
    assert not JobRun.objects.exists()
    failed.refresh_from_db()
    assert failed.status == StagingStatus.FAILED and failed.phone != "+1 713 555 0100"


def test_save_and_synchronize_again_creates_the_fixed_record(
    admin_client, failed, django_capture_on_commit_callbacks
):
    page = page_of(admin_client, failed)
    data = change_form_post_data(page, **{"attribute_values-0-value": '"Gold"'})

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            admin_url(StagedAsyncCustomer, "change", failed.pk), {**data, "_sync_again": "1"}
        )

    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == StagingStatus.COMPLETED and failed.account
    assert failed.fixed_at is not None and not fixed_not_sent(failed)


def test_a_fix_that_fails_again_is_failed_not_fixed_not_sent(admin_client, failed):
    page = page_of(admin_client, failed)
    post(admin_client, failed, page, phone="+1 713 555 0100")  # Diamond left as it was
    failed.refresh_from_db()
    assert fixed_not_sent(failed)

    staged_records_retry(model=StagedAsyncCustomer, ids=[failed.pk])
    runs, _ = job_runs_request(
        job="async-customers", extra={"staged_customer_ids": [failed.pk]}, enqueue=False
    )
    job_runs_execute(run_ids=[r.pk for r in runs])

    failed.refresh_from_db()
    assert failed.status == StagingStatus.FAILED and failed.fixed_at is not None
    assert not fixed_not_sent(failed)
    assert not StagedAsyncCustomer.objects.filter(FIXED_NOT_SENT).exists()


def test_sync_again_without_the_job_permission_is_refused_before_judging(failed):
    user = UserFactory()
    for codename in ("view_stagedasynccustomer", "change_stagedasynccustomer"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client()
    client.force_login(user)
    page = page_of(client, failed)

    response = client.post(
        admin_url(StagedAsyncCustomer, "change", failed.pk),
        {**change_form_post_data(page, email="bad"), "_sync_again": "1"},
    )

    assert response.status_code == 403


def test_sync_again_is_the_primary_button(admin_client, failed):
    content = page_of(admin_client, failed).content.decode()

    primary = content.index('class="default" name="_sync_again"')
    assert primary < content.index('name="_save"')


def test_an_unknown_store_is_named_when_sending(admin_client, organization):
    staged = StagedAsyncCustomerFactory(store_number="S9999", status=StagingStatus.FAILED)
    page = page_of(admin_client, staged)

    response = admin_client.post(
        admin_url(StagedAsyncCustomer, "change", staged.pk),
        {**change_form_post_data(page), "_sync_again": "1"},
    )

    assert response.status_code == 200
    (error,) = response.context["adminform"].form.non_field_errors()
    assert error.startswith('Store: unknown store "S9999"')


# --- Staged async addresses ----------------------------------------------------------------


def test_staged_address_refuses_an_unknown_customer_account_it_was_given(
    admin_client, organization
):
    staged = StagedAsyncAddressFactory(
        channel_database="HOUSTON", store_number="S0001", customer_account="C000001"
    )
    url = admin_url(StagedAsyncAddress, "change", staged.pk)
    page = admin_client.get(url)

    response = admin_client.post(url, change_form_post_data(page, customer_account="C999999"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["customer_account"] == [
        'Customer account: unknown customer "C999999" in legal entity USRT'
    ]
    staged.refresh_from_db()
    assert staged.customer_account == "C000001"
