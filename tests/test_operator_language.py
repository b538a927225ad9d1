"""Operator language on every admin page (README "Admin"): a walk over the admin on the
demo organization, converted (failed records, a possible duplicate, store customers,
job runs, statements), following every link of the admin from its index, asserts that
no page shows a rule code, a field path or an attribute value as raw JSON."""

import html
import io
import re
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from customers.models import (
    Customer,
    CustomerAffiliation,
    CustomerAttribute,
    CustomerAttributeValue,
    PossibleDuplicate,
    StagedAsyncCustomer,
    StagingStatus,
)

pytestmark = pytest.mark.django_db(databases="__all__")

RULE_CODE = re.compile(r"\(R\d+\)|\bR\d{1,2}\b")
# A path (``addresses[0].country``, ``attributes.Loyalty tier``) or a field's code name
# leading a message (``customer_group: unknown customer group``).
FIELD_PATH = re.compile(
    r"[0-9]\]\.|\battributes\.\w|\b(?:addresses|contacts)\[|\b[a-z]+(?:_[a-z]+)+: "
)
# An attribute value as JSON: a quoted text, a list or an object in a textarea or in a
# text input (a select's option values are never shown).
JSON_VALUE = re.compile(
    r'<textarea[^>]*>\s*(?:&quot;|"|\[|\{)'
    r'|<input(?![^>]*type="hidden")[^>]*value="(?:&quot;|\[|\{)'
)
HREF = re.compile(r'href="(/admin/[^"#]*)"')
SKIPPED = re.compile(
    r"/(logout|password_change|delete|history|jsi18n|autocomplete)/|/r/\d|_popup|_changelist_filters"
)
# Segments that name one record (a number, a GUID, an account, a key): one page of a
# kind is enough.
RECORD_SEGMENT = re.compile(r"^(\d+|[0-9a-f-]{32,36}|[A-Z]{1,2}\d{6}|[\w-]*:[\w:-]+)$")
KEPT_PARAMETERS = {"channel_db"}
PAGES_OF_A_KIND = 2


def visible_text(page: str) -> str:
    """What a person reads: the page without scripts, styles, comments and tags."""
    page = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    page = re.sub(r"(?s)<!--.*?-->", " ", page)
    page = re.sub(r"(?s)<[^>]+>", " ", page)
    return html.unescape(page)


def kind_of(url: str) -> str:
    parts = urlsplit(url)
    segments = ["*" if RECORD_SEGMENT.match(s) else s for s in parts.path.split("/")]
    query = sorted(k for k, _ in parse_qsl(parts.query))
    return "/".join(segments) + "?" + "&".join(query)


def followed(url: str) -> str:
    parts = urlsplit(html.unescape(url))
    query = [(k, v) for k, v in parse_qsl(parts.query) if k in KEPT_PARAMETERS or k == "q"]
    return parts.path + (f"?{urlencode(query)}" if query else "")


@pytest.fixture
def demo_converted():
    call_command("setup_demo", stdout=io.StringIO(), stderr=io.StringIO())
    call_command("convert_async_customers", "--sync", stdout=io.StringIO(), stderr=io.StringIO())
    call_command("run_job", "post-statements", "--sync", stdout=io.StringIO(), stderr=io.StringIO())


def test_the_walk_finds_what_it_looks_for():
    page = (
        '<p title="x">Failed: addresses[0].country: invalid country code "XXL"</p>'
        "<div>Loyalty tier (R5)</div><!-- R12 in a comment is not read -->"
        '<textarea name="value">&quot;1985-03-14&quot;</textarea>'
        '<span>customer_group: unknown customer group "PLATINUM"</span>'
    )
    text = visible_text(page)
    assert FIELD_PATH.findall(text) == ["addresses[", "0].", "customer_group: "]
    assert RULE_CODE.findall(text) == ["(R5)"]
    assert JSON_VALUE.search(page)
    assert not JSON_VALUE.search('<select><option value="&quot;Gold&quot;">Gold</option></select>')


def must_see() -> list[str]:
    """Pages the walk reaches by links, named so that none is left out: customers with
    attribute values and affiliations, every failed staged record, possible duplicates."""
    with_values = Customer.objects.filter(
        attribute_values__isnull=False, affiliations__isnull=False
    )
    pages = [
        reverse("admin:customers_customer_change", args=[pk])
        for pk in with_values.distinct().values_list("pk", flat=True)[:2]
    ]
    pages += [
        reverse("admin:customers_stagedasynccustomer_change", args=[pk])
        for pk in StagedAsyncCustomer.objects.filter(status=StagingStatus.FAILED).values_list(
            "pk", flat=True
        )
    ]
    pages += [
        reverse("admin:customers_possibleduplicate_change", args=[pk])
        for pk in PossibleDuplicate.objects.values_list("pk", flat=True)[:1]
    ]
    for model in (CustomerAttributeValue, CustomerAffiliation, CustomerAttribute):
        opts = model._meta
        pk = model.objects.values_list("pk", flat=True).first()
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk]))
    assert len(pages) >= 9
    return pages


def test_no_admin_page_shows_rule_codes_field_paths_or_json(demo_converted):
    client = Client()
    client.force_login(get_user_model().objects.get(username="admin"))
    queue = ["/admin/", *must_see()]
    seen_urls: set[str] = set()
    kinds: dict[str, int] = {}
    problems: list[str] = []
    while queue:
        url = queue.pop(0)
        if url in seen_urls:
            continue
        seen_urls.add(url)
        response = client.get(url)
        assert response.status_code in (200, 302), (url, response.status_code)
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            continue
        page = response.content.decode()
        text = visible_text(page)
        for name, pattern, where in (
            ("rule code", RULE_CODE, text),
            ("field path", FIELD_PATH, text),
            ("JSON value", JSON_VALUE, page),
        ):
            for match in pattern.finditer(where):
                context = where[max(0, match.start() - 60) : match.end() + 60]
                problems.append(f"{url}: {name}: …{' '.join(context.split())}…")
        for link in HREF.findall(page):
            if SKIPPED.search(link):
                continue
            link = followed(link)
            kind = kind_of(link)
            if link not in seen_urls and kinds.get(kind, 0) < PAGES_OF_A_KIND:
                kinds[kind] = kinds.get(kind, 0) + 1
                queue.append(link)
    assert len(seen_urls) > 60  # every list, change page and the operator pages
    assert not problems, "\n".join(problems)
