"""R11/R5: a failed channel request is fixed in typed fields at HQ, and a stored request
whose changes are not of their types fails alone, by name."""

import pytest

from customers.models import Customer, StagedAsyncCustomer, StagedChannelRequest, StagingStatus
from customers.services import async_customer_create
from customers.services.changes import CustomerChanges, CustomerChangesError
from customers.services.requests import customer_edit_at_store
from tests.commerce.test_admin import admin_url, change_form_post_data
from tests.factories.customers import (
    CustomerAttributeFactory,
    CustomerFactory,
    CustomerGroupFactory,
    StagedChannelRequestFactory,
)
from tests.fixtures import convert, person, run

pytestmark = pytest.mark.django_db(databases="__all__")

CONFUSED = [
    ({"fields": {"email": 5}}, "email: 5 is not text"),
    ({"fields": {"first_name": ["Ona"]}}, "first_name: a list is not text"),
    ({"fields": []}, "fields: a list is not an object"),
    ({"attributes": {"Tier": float("inf")}}, "attributes.Tier: inf is not a finite number"),
    ({"attributes": {"Tier": float("nan")}}, "attributes.Tier: nan is not a finite number"),
    ({"attributes": {"Tier": {"a": [1]}}}, "attributes.Tier: an object is not a single value"),
    ({"affiliations": [{"name": "x"}]}, "affiliations: an object is not a name"),
    ({"addresses": [{"street": 5}]}, "addresses[0].street: 5 is not text"),
    ({"addresses": [{"purpose": ["home"]}]}, "addresses[0].purpose: a list is not text"),
    ({"addresses": [{"is_primary": "yes"}]}, 'addresses[0].is_primary: "yes" is not true or false'),
    (
        {"addresses": [{"async_address_id": "x"}]},
        'addresses[0].async_address_id: "x" is not a GUID',
    ),
    ({"addresses": "1 Main St"}, 'addresses: "1 Main St" is not a list'),
    ({"notes": []}, "changes: unknown part notes"),
    ("email", 'changes: "email" is not an object of changes'),
]


@pytest.mark.parametrize(("data", "message"), CONFUSED)
def test_a_change_of_the_wrong_type_is_refused_naming_field_and_value(data, message):
    with pytest.raises(CustomerChangesError) as caught:
        CustomerChanges.from_json(data)

    assert str(caught.value).startswith(message)


def test_a_nested_value_is_refused_without_spelling_it_out():
    deep: list = []
    for _ in range(3000):
        deep = [deep]

    with pytest.raises(CustomerChangesError, match="attributes.Tier: a list is not a single"):
        CustomerChanges.from_json({"attributes": {"Tier": deep}})


def test_a_well_typed_change_reads_back_as_written():
    changes = CustomerChanges.from_json(
        {
            "fields": {"email": "ona@new.example"},
            "attributes": {"Tier": "Gold", "Newsletter": None, "Visits": 3},
            "affiliations": ["Employees"],
            "addresses": [
                {
                    "purpose": "home",
                    "street": "1 A St",
                    "city": "Houston",
                    "zip": "77001",
                    "country": "USA",
                    "state": None,
                    "is_primary": True,
                    "async_address_id": None,
                }
            ],
        }
    )

    assert CustomerChanges.from_json(changes.as_json()) == changes
    assert changes.addresses[0].state == "" and changes.addresses[0].is_primary


def test_a_type_confused_request_stored_at_hq_fails_alone(organization):
    ona = async_customer_create(alias="channel", store_number="S0001", data=person("Ona", "A"))
    convert()
    account = Customer.objects.get(async_customer_id=ona.async_customer_id).account
    customer_edit_at_store(
        store=organization["houston"],
        customer=account,
        changes=CustomerChanges(fields={"phone": "+15550100"}),
    )
    jonas = async_customer_create(alias="channel", store_number="S0001", data=person("Jonas", "B"))
    run("upload")
    # As an older version (or a hand in the database) wrote it.
    StagedChannelRequest.objects.update(
        changes={"fields": {"phone": "+15550100"}, "addresses": [{"street": 5}]}
    )

    (creation,) = run("async-customers")

    request = StagedChannelRequest.objects.get()
    assert request.status == "failed"
    assert request.last_error == "Changes: Address 1: Street: 5 is not text"
    assert creation.status == "completed_with_errors"
    assert StagedAsyncCustomer.objects.get(async_customer_id=jonas.async_customer_id).status == (
        "completed"
    )
    assert Customer.objects.filter(async_customer_id=jonas.async_customer_id).exists()
    # The next run is not stopped by it either.
    async_customer_create(alias="channel", store_number="S0001", data=person("Rita", "C"))
    run("upload")
    (again,) = run("async-customers")
    assert again.status in ("succeeded", "completed_with_errors")
    assert Customer.objects.filter(party__first_name="Rita").exists()


# --- The typed fix form ------------------------------------------------------------------


# The request's one address; a fix of the email leaves it as it is.
PIKE_STREET = {
    "async_address_id": "6f1c9a52-4df1-4a8e-9d0e-1f6f1f1f1f1f",
    "purpose": "home",
    "street": "1 Pike St",
    "city": "Seattle",
    "state": "WA",
    "zip": "98101",
    "country": "USA",
    "is_primary": True,
}


@pytest.fixture
def failed_request(organization):
    """A Seattle request HQ rejected: a malformed email and a decimal it got as text."""
    CustomerAttributeFactory(name="Credit limit", type="decimal")
    CustomerGroupFactory(legal_entity=organization["legal_entity"], code="GOLDCLUB")
    CustomerGroupFactory(code="ELSEWHERE")  # another legal entity's group
    customer = CustomerFactory(legal_entity=organization["legal_entity"], account="C000777")
    return StagedChannelRequestFactory(
        channel_database="SEATTLE",
        store_number="S0002",
        target_account=customer.account,
        status=StagingStatus.FAILED,
        last_error='email: malformed email "ona@"',
        changes={
            "fields": {"email": "ona@", "phone": "+15550100"},
            "attributes": {"Tier": "Gold", "Credit limit": 12.5},
            "affiliations": ["Employees"],
            "addresses": [dict(PIKE_STREET)],
        },
    )


def request_page(client, row):
    return client.get(admin_url(StagedChannelRequest, "change", row.pk))


def post(client, row, page, **changes):
    url = admin_url(StagedChannelRequest, "change", row.pk)
    return client.post(url, change_form_post_data(page, **changes))


def test_the_request_is_shown_in_typed_inputs_not_json(admin_client, failed_request):
    page = request_page(admin_client, failed_request)

    form = page.context["adminform"].form
    assert "changes" not in form.fields
    html = page.content.decode()
    for name in ("shown_version", "change_email", "email", "affiliations", "address_0_street"):
        assert f'name="{name}"' in html
    assert "<textarea" not in html
    assert form["email"].value() == "ona@" and form["change_email"].value() is True
    assert form["change_first_name"].value() is False
    groups = [code for code, _ in form.fields["customer_group"].choices]
    assert "GOLDCLUB" in groups and "ELSEWHERE" not in groups  # the store's legal entity only
    tier = form.attribute_names.index("Tier")
    assert form[f"attribute_{tier}_action"].value() == "set"
    assert form["affiliations"].value() == ["Employees"]
    assert form["address_0_country"].value() == "USA"
    assert form["address_0_street"].value() == "1 Pike St"


def test_fixing_the_email_saves_typed_changes_only(admin_client, failed_request):
    page = request_page(admin_client, failed_request)

    response = post(admin_client, failed_request, page, email="ona@seattle.example")

    assert response.status_code == 302
    failed_request.refresh_from_db()
    assert failed_request.changes == {
        "fields": {"email": "ona@seattle.example", "phone": "+15550100"},
        "attributes": {"Credit limit": 12.5, "Tier": "Gold"},
        "affiliations": ["Employees"],
        "addresses": [PIKE_STREET],
    }
    assert failed_request.fixed_at is not None


def test_a_value_hq_would_reject_is_refused_on_its_input(admin_client, failed_request):
    page = request_page(admin_client, failed_request)
    tier = page.context["adminform"].form.attribute_names.index("Tier")

    response = post(
        admin_client,
        failed_request,
        page,
        email="still-not-an-email",
        address_0_street="",
        **{f"attribute_{tier}_value": "Platinum"},
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["email"] == ['Email: malformed email "still-not-an-email"']
    assert form.errors["address_0_street"] == ['Address 1: Street: empty street ""']
    assert form.errors[f"attribute_{tier}_value"] == ['Tier: "Platinum" is not one of Silver, Gold']
    failed_request.refresh_from_db()
    assert failed_request.changes["fields"]["email"] == "ona@"


@pytest.mark.parametrize(
    "typed",
    [
        {"phone": "5"},
        {"address_0_street": "5"},
        {"address_0_purpose": '["home"]'},
        {"address_0_country": "1e999"},
        {"email": "NaN"},
        {"customer_group": "[" * 3000 + "]" * 3000},
        {"address_0_zip": "[" * 3000 + "]" * 3000},
        {"affiliations": ["NaN", "[[[[]]]]"]},
    ],
    ids=["number", "street", "list-purpose", "1e999", "nan", "deep-group", "deep-zip", "aff"],
)
def test_type_confused_input_is_a_form_error_or_text_never_a_500(
    admin_client, failed_request, typed
):
    page = request_page(admin_client, failed_request)
    before = failed_request.changes

    response = post(admin_client, failed_request, page, **typed, _sync_again="1")

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    failed_request.refresh_from_db()
    assert failed_request.changes == before


@pytest.mark.parametrize(
    "text",
    ["1e999", "NaN", "Infinity", "[" * 3000 + "]" * 3000],
    ids=["1e999", "nan", "infinity", "deep"],
)
def test_a_non_finite_or_nested_attribute_value_is_refused(admin_client, failed_request, text):
    page = request_page(admin_client, failed_request)
    limit = page.context["adminform"].form.attribute_names.index("Credit limit")
    tier = page.context["adminform"].form.attribute_names.index("Tier")

    response = post(
        admin_client,
        failed_request,
        page,
        email="ona@seattle.example",
        **{f"attribute_{limit}_value": text, f"attribute_{tier}_value": text},
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert f"attribute_{tier}_value" in errors
    failed_request.refresh_from_db()
    assert failed_request.changes["fields"]["email"] == "ona@"


def test_a_stored_type_confused_request_opens_and_is_saved_typed(admin_client, failed_request):
    StagedChannelRequest.objects.filter(pk=failed_request.pk).update(
        changes={
            "fields": {"email": 5, "phone": ["+1"]},
            "attributes": {"Tier": {"deep": [1]}},
            "affiliations": "Employees",
            "addresses": [{"street": 5, "city": None, "purpose": ["home"], "country": 1}],
        }
    )
    page = request_page(admin_client, failed_request)
    assert page.status_code == 200
    assert page.context["adminform"].form["email"].value() == "5"
    tier = page.context["adminform"].form.attribute_names.index("Tier")

    response = post(
        admin_client,
        failed_request,
        page,
        email="ona@seattle.example",
        phone="+15550100",
        address_0_purpose="home",
        address_0_street="5 Pike St",
        address_0_city="Seattle",
        address_0_zip="98101",
        address_0_country="USA",
        **{f"attribute_{tier}_value": '"Gold"'},
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    failed_request.refresh_from_db()
    changes = CustomerChanges.from_json(failed_request.changes)  # readable by HQ now
    assert changes.fields == {"email": "ona@seattle.example", "phone": "+15550100"}
    assert changes.attributes == {"Tier": "Gold"}
    assert changes.addresses[0].street == "5 Pike St"


def test_save_and_synchronize_again_applies_the_fixed_request(
    admin_client, organization, django_capture_on_commit_callbacks
):
    ona = async_customer_create(alias="channel", store_number="S0001", data=person("Ona", "A"))
    convert()
    customer = Customer.objects.get(async_customer_id=ona.async_customer_id)
    customer_edit_at_store(
        store=organization["seattle"],
        customer=customer.account,
        changes=CustomerChanges(fields={"email": "ona@seattle.example"}),
    )
    run("upload")
    # The store checks the email too; HQ is the last word (R5): say HQ refuses it.
    StagedChannelRequest.objects.update(changes={"fields": {"email": "ona@"}})
    run("async-customers")
    row = StagedChannelRequest.objects.get()
    assert row.status == "failed"
    page = request_page(admin_client, row)

    with django_capture_on_commit_callbacks(execute=True):
        response = post(admin_client, row, page, email="ona@fixed.example", _sync_again="1")

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == "completed", row.last_error
    customer.refresh_from_db()
    assert customer.email == "ona@fixed.example"


def test_a_request_changed_since_it_was_opened_is_not_overwritten(admin_client, failed_request):
    page = request_page(admin_client, failed_request)
    StagedChannelRequest.objects.filter(pk=failed_request.pk).update(
        changes={"fields": {"email": "ona@store.example"}}
    )

    response = post(admin_client, failed_request, page, phone="+15550199")

    assert response.status_code == 200
    (error,) = response.context["adminform"].form.non_field_errors()
    assert error.startswith(
        "This channel request was changed after you opened it: Changes is now "
        "Email → ona@store.example."
    )
    failed_request.refresh_from_db()
    assert failed_request.changes == {"fields": {"email": "ona@store.example"}}
