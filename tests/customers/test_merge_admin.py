"""R13 from the Possible duplicates page: "Merge…" (action and button), the merge page
side by side, the survivor chosen and confirmed, and a merge over a changed account
refused."""

import pytest
from django.contrib.auth.models import Permission, User

from customers.admin.merge import merge_url
from customers.models import Address, Customer, PossibleDuplicate
from tests.factories.customers import AddressFactory, CustomerFactory

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def pair(organization):
    entity = organization["legal_entity"]
    kept = CustomerFactory(legal_entity=entity, account="C000101")
    duplicate = CustomerFactory(legal_entity=entity, account="C000201")
    AddressFactory(party=duplicate.party, is_primary=True)
    listed = PossibleDuplicate.objects.create(
        legal_entity=entity, customer=duplicate, duplicate_of=kept, reasons={"email": "a@b.c"}
    )
    return kept, duplicate, listed


def test_merge_is_an_action_and_a_button_that_open_the_merge_page(admin_client, pair):
    kept, duplicate, listed = pair
    action = admin_client.post(
        "/admin/customers/possibleduplicate/",
        {"action": "merge_selected", "_selected_action": [listed.pk]},
    )
    change = admin_client.get(f"/admin/customers/possibleduplicate/{listed.pk}/change/")
    page = admin_client.get(action["Location"])

    assert action.status_code == 302 and action["Location"] == merge_url([kept.pk, duplicate.pk])
    assert "Merge…" in change.content.decode()
    assert page.status_code == 200
    assert [c["account"] for c in page.context["columns"]] == ["C000101", "C000201"]
    html = page.content.decode()
    assert "Keep account C000101" in html and "Keep account C000201" in html


def test_merging_from_the_page_keeps_the_chosen_account(admin_client, pair):
    kept, duplicate, listed = pair
    page = admin_client.get(merge_url([kept.pk, duplicate.pk]))
    form = {
        "customers": page.context["customer_ids"],
        "shown_versions": page.context["shown_versions"],
        "survivor": kept.pk,
    }

    response = admin_client.post(merge_url([kept.pk, duplicate.pk]), form)

    assert response.status_code == 302
    assert response["Location"] == f"/admin/customers/customer/{kept.pk}/change/"
    duplicate.refresh_from_db()
    assert duplicate.merged_into == kept and duplicate.merged_by.username == "admin"
    assert Address.objects.filter(party=kept.party).count() == 1
    listed.refresh_from_db()
    assert listed.reviewed_at is not None


def test_a_merge_over_an_account_changed_since_the_page_is_refused(admin_client, pair):
    kept, duplicate, _ = pair
    page = admin_client.get(merge_url([kept.pk, duplicate.pk]))
    Customer.objects.filter(pk=duplicate.pk).update(version=duplicate.version + 1)

    response = admin_client.post(
        merge_url([kept.pk, duplicate.pk]),
        {
            "customers": page.context["customer_ids"],
            "shown_versions": page.context["shown_versions"],
            "survivor": kept.pk,
        },
        follow=True,
    )

    assert "C000201 was changed after the page showed it" in response.content.decode()
    duplicate.refresh_from_db()
    assert duplicate.merged_into is None


def test_merging_needs_change_permission_on_customers(client, pair):
    kept, duplicate, _ = pair
    user = User.objects.create_user("viewer", password="x", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_possibleduplicate", "change_possibleduplicate"]
        )
    )
    client.force_login(user)
    page = client.get(merge_url([kept.pk, duplicate.pk]))

    response = client.post(
        merge_url([kept.pk, duplicate.pk]),
        {
            "customers": page.context["customer_ids"],
            "shown_versions": page.context["shown_versions"],
            "survivor": kept.pk,
        },
    )

    assert page.status_code == 200 and not page.context["may_merge"]
    assert response.status_code == 403
    duplicate.refresh_from_db()
    assert duplicate.merged_into is None


def test_a_merged_accounts_page_names_its_survivor(admin_client, pair):
    from customers.services.merge import customers_merge

    kept, duplicate, _ = pair
    customers_merge(survivor_id=kept.pk, merged_ids=[duplicate.pk], merger="ops (command line)")

    page = admin_client.get(f"/admin/customers/customer/{duplicate.pk}/change/")
    survivor_page = admin_client.get(f"/admin/customers/customer/{kept.pk}/change/")

    html = page.content.decode()
    assert "Merged into" in html and "account C000101</a>" in html
    assert "by ops (command line)" in html
    assert "Merged into" not in survivor_page.content.decode()
