"""Operator language on the HQ customer pages and the possible duplicate page (README
"Admin"): attribute values in the input of their type, stored as before; the party and
affiliations by name; groups of the customer's own legal entity; a possible duplicate
titled by names, its reasons in words, reviewed from its own page."""

import pytest
from django.urls import reverse

from customers.models import (
    Customer,
    CustomerAffiliation,
    CustomerAttributeValue,
    PossibleDuplicate,
)
from tests.commerce.test_admin import admin_url, change_form_post_data
from tests.factories.commerce import LegalEntityFactory
from tests.factories.customers import (
    AffiliationFactory,
    CustomerAttributeFactory,
    CustomerAttributeValueFactory,
    CustomerFactory,
    CustomerGroupFactory,
    PartyFactory,
)

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def customer():
    usrt = LegalEntityFactory(code="USRT")
    other = LegalEntityFactory(code="DEMF")
    CustomerGroupFactory(legal_entity=other, code="HANDEL", name="Handel")
    customer = CustomerFactory(
        legal_entity=usrt,
        account="C000123",
        party=PartyFactory(first_name="Ingrid", last_name="Sørensen", name="Ingrid Sørensen"),
    )
    CustomerAttributeValueFactory(
        customer=customer,
        attribute=CustomerAttributeFactory(name="Birthday", type="date"),
        value="1985-03-14",
    )
    CustomerAttributeValueFactory(
        customer=customer,
        attribute=CustomerAttributeFactory(
            name="Loyalty tier", type="choice", choices=["Bronze", "Gold"]
        ),
        value="Gold",
    )
    CustomerAttributeValueFactory(
        customer=customer,
        attribute=CustomerAttributeFactory(name="Household size", type="integer"),
        value=3,
    )
    CustomerAffiliation.objects.create(
        customer=customer, affiliation=AffiliationFactory(name="Employees")
    )
    return customer


def test_customer_page_shows_values_in_typed_inputs_and_names_not_ids(admin_client, customer):
    page = admin_client.get(admin_url(Customer, "change", customer.pk))
    content = page.content.decode()

    inline = page.context["inline_admin_formsets"][0].formset
    by_attribute = {form.instance.attribute.name: form for form in inline.forms}
    birthday = by_attribute["Birthday"]["value"]
    assert 'type="date"' in str(birthday) and 'value="1985-03-14"' in str(birthday)
    assert "<select" in str(by_attribute["Loyalty tier"]["value"])
    assert 'type="number"' in str(by_attribute["Household size"]["value"])
    assert "&quot;1985-03-14&quot;" not in content
    # Party and affiliation by name; only the customer's legal entity's groups.
    assert "Ingrid Sørensen" in content
    assert 'name="party"' not in content
    assert "Employees (C000123)" in content
    groups = page.context["adminform"].form.fields["customer_group"].queryset
    assert {g.legal_entity.code for g in groups} == {"USRT"}


def test_a_typed_value_is_stored_as_before_and_a_wrong_one_refused(admin_client, customer):
    url = admin_url(Customer, "change", customer.pk)
    page = admin_client.get(url)
    forms = page.context["inline_admin_formsets"][0].formset.forms
    index = {form.instance.attribute.name: i for i, form in enumerate(forms)}
    prefix = page.context["inline_admin_formsets"][0].formset.prefix

    response = admin_client.post(
        url,
        change_form_post_data(
            page,
            **{
                f"{prefix}-{index['Birthday']}-value": "1986-04-15",
                f"{prefix}-{index['Household size']}-value": "4",
            },
        ),
    )

    assert response.status_code == 302
    values = {v.attribute.name: v.value for v in CustomerAttributeValue.objects.all()}
    assert values == {"Birthday": "1986-04-15", "Loyalty tier": "Gold", "Household size": 4}

    page = admin_client.get(url)
    response = admin_client.post(
        url,
        change_form_post_data(page, **{f"{prefix}-{index['Household size']}-value": "four"}),
    )
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.forms[index["Household size"]]
    assert errors.errors["value"] == ['Household size: "four" is not an integer']
    assert CustomerAttributeValue.objects.get(attribute__name="Household size").value == 4


def test_possible_duplicate_is_titled_by_names_and_reviewed_on_its_page(admin_client, customer):
    older = CustomerFactory(
        legal_entity=customer.legal_entity,
        account="C000045",
        party=PartyFactory(first_name="Ingrid", last_name="Sørensen", name="Ingrid Sørensen"),
    )
    pair = PossibleDuplicate.objects.create(
        legal_entity=customer.legal_entity,
        customer=customer,
        duplicate_of=older,
        reasons={"name_zip": "ingrid sørensen|98101", "email": "ingrid@example.com"},
    )
    url = admin_url(PossibleDuplicate, "change", pair.pk)

    content = admin_client.get(url).content.decode()

    title = "Ingrid Sørensen (C000123) may be the same as Ingrid Sørensen (C000045)"
    assert str(pair) == title and title in content
    assert "same email, same name and zip code 98101" in content
    assert "ingrid sørensen|98101" not in content
    assert 'name="_mark_reviewed"' in content and 'name="_save"' not in content

    response = admin_client.post(url, {"_mark_reviewed": "1"})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:customers_possibleduplicate_changelist")
    pair.refresh_from_db()
    assert pair.reviewed_at is not None and pair.reviewed_by.username == "admin"
    assert 'name="_mark_reviewed"' not in admin_client.get(url).content.decode()
