"""The operator's path at 1440 x 900, in Debian's Chromium, against the demo organization
served by runserver with a real qcluster (tests/browser/conftest.py): every list page
keeps its key columns on screen; a statement fails because a store's customer broke a
rule; the statement names the customer, the operator fixes its choice attribute in the
form (a bad value is refused there), saves without sending (the record shows "fixed,
not sent"), synchronizes it again, and posts the statement again.

The tests share one server and run in file order, each continuing where the one before
stopped. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import VIEWPORT
from tests.browser.test_admin_flows import (
    CHANNEL_DATABASES,
    JOB_RUNS,
    RUN_LINK,
    SYNC_STATUS,
    log_in,
    run_action,
    wait_for_run,
)
from tests.support import finished, python

pytestmark = [pytest.mark.browser]

STORES = "/admin/commerce/store/"
STATEMENTS = "/admin/commerce/statement/"
TRANSACTIONS = "/admin/commerce/salestransaction/"
STAGED_CUSTOMERS = "/admin/customers/stagedasynccustomer/"
ASYNC_CUSTOMERS = "/admin/customers/asynccustomer/"
BLOCKER = "Ayşe Yılmaz"  # her loyalty tier "Diamond" is not one of the tiers
SALE = "S0002-1-000005"

# A cash sale at Seattle for the customer HQ rejected, as the store would record it.
STORE_SALE = f"""
import datetime
from commerce.models import ChannelSalesLine, ChannelSalesTransaction, Store
from devtools.demo.organization import demo_guid
store = Store.objects.select_related("channel_database").get(number="S0002")
alias = store.channel_database.alias
sale = ChannelSalesTransaction.objects.using(alias).create(
    transaction_id={SALE!r}, store_number="S0002", type="cash_and_carry",
    business_date=datetime.date(2026, 11, 24),
    async_customer_id=demo_guid("async-customer:S0002:{BLOCKER}"),
)
ChannelSalesLine.objects.using(alias).create(
    transaction=sale, line_number=1, item="0042", quantity="2", unit_price="22.24"
)
"""

# List pages and the columns an operator needs on screen there (the failed statement and
# its transactions are checked once they exist).
KEY_COLUMNS = {
    TRANSACTIONS: ["status", "total_amount", "short_error"],
    f"{ASYNC_CUSTOMERS}?channel_db=channel2": ["status", "account"],
    ASYNC_CUSTOMERS: ["status", "account"],
    JOB_RUNS: ["scope_label", "status_badge", "progress", "timing"],
    STAGED_CUSTOMERS: ["status_text", "account", "short_error"],
}


def assert_fits(page: Page, url: str, columns=()) -> None:
    """The list has no horizontal scroll at 1440 px and ``columns`` end on screen."""
    page.goto(url)
    overflow = page.evaluate(
        """() => { const r = document.querySelector('.results');
                   return r ? r.scrollWidth - r.clientWidth : 0; }"""
    )
    assert overflow <= 1, f"{url} scrolls sideways by {overflow} px"
    for column in columns:
        header = page.locator(f"#result_list thead th.column-{column}")
        expect(header).to_be_visible()
        box = header.bounding_box()
        assert box and box["x"] + box["width"] <= VIEWPORT["width"], (url, column, box)


def test_conversion_runs_from_the_channel_databases(new_page):
    page = new_page()
    log_in(page)
    runs = run_action(
        page,
        CHANNEL_DATABASES,
        "Run the whole conversion (upload, create customers, distribute)",
        rows=["HOUSTON", "SEATTLE"],
    )
    assert len(runs) == 6
    page.goto(JOB_RUNS)
    expect(page.locator(".job-refreshing")).to_have_count(0, timeout=60_000)
    expect(page.locator("#result_list .job-status", has_text=re.compile("^Failed$"))).to_have_count(
        0
    )


def test_every_list_page_keeps_its_key_columns_on_screen(new_page, screenshot):
    page = new_page()
    log_in(page)
    page.goto("/admin/")
    screenshot(page, "index-grouped")
    expect(page.locator("#section-conversion caption")).to_contain_text("Conversion")
    expect(page.locator("#section-conversion .operator-badge")).to_contain_text("failed")
    lists = sorted(
        {
            href
            for href in page.locator("#operator-sections a").evaluate_all(
                "links => links.map(a => a.getAttribute('href'))"
            )
            if re.fullmatch(r"/admin/\w+/\w+/", href or "")
        }
    )
    assert len(lists) > 30, lists
    for url in lists:
        assert_fits(page, url)
    for url, columns in KEY_COLUMNS.items():
        assert_fits(page, url, columns)
    for url, name in [
        (TRANSACTIONS, "list-sales-transactions"),
        (f"{ASYNC_CUSTOMERS}?channel_db=channel2", "list-async-customers"),
        (JOB_RUNS, "list-job-runs"),
        (STAGED_CUSTOMERS, "list-staged-customers"),
    ]:
        page.goto(url)
        screenshot(page, name)


def test_a_failed_statement_names_the_customer_that_blocks_it(new_page, admin_server, screenshot):
    finished(python(admin_server.env, STORE_SALE))
    page = new_page()
    log_in(page)
    (upload,) = run_action(page, CHANNEL_DATABASES, "Run upload (P-0001)", rows=["SEATTLE"])
    wait_for_run(page, upload, "Succeeded")

    page.goto(STORES)
    row = page.locator("#result_list tbody tr").filter(
        has=page.get_by_role("link", name="S0002", exact=True)
    )
    row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option(label="Post statement for a business date")
    page.get_by_role("button", name="Go").click()
    # The oldest day with sales not posted yet, not today.
    expect(page.locator("input[name=business_date]")).to_have_value("2026-11-24")
    expect(page.locator("#stores-to-post")).to_contain_text("sales not posted yet on 2026-11-24")
    screenshot(page, "post-statement-date")
    page.get_by_role("button", name="Post statements").click()
    message = page.locator("ul.messagelist li.success:not(.job-outcome)")
    expect(message).to_contain_text("Post statements for store S0002, business date 2026-11-24")
    run_id = int(RUN_LINK.search(message.get_by_role("link").get_attribute("href"))[1])
    wait_for_run(page, run_id, "Completed with errors")
    expect(page.locator(".field-error_lines")).to_contain_text(BLOCKER)

    assert_fits(page, f"{TRANSACTIONS}?status__exact=posting_failed", ["status", "short_error"])
    expect(page.locator("#result_list")).to_contain_text(f"async customer {BLOCKER}"[:14])
    screenshot(page, "list-sales-transactions-posting-failed")
    assert_fits(
        page, f"{STATEMENTS}?status__exact=failed", ["status", "total_money", "short_errors"]
    )
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text(f"blocked: {SALE}")
    page.get_by_role("link", name="S0002 2026-11-24", exact=True).click()
    errors = page.locator(".field-error_sentences")
    expect(errors).to_contain_text(f"Transaction {SALE} is blocked by async customer {BLOCKER}")
    expect(errors).to_contain_text('"Diamond" is not one of Bronze, Silver, Gold, Platinum')
    expect(errors.get_by_role("link", name=BLOCKER)).to_have_attribute(
        "href", re.compile(r"/admin/customers/stagedasynccustomer/\d+/change/$")
    )
    transactions = page.locator(".inline-group")
    expect(transactions).to_contain_text(SALE)
    expect(transactions).to_contain_text("44.48 USD")
    expect(page.get_by_role("button", name="Post again")).to_be_visible()
    screenshot(page, "statement-failed")


def test_fix_the_blocking_customer_through_the_form(new_page, screenshot):
    page = new_page()
    log_in(page)
    page.goto(f"{STATEMENTS}?status__exact=failed")
    page.get_by_role("link", name="S0002 2026-11-24", exact=True).click()
    page.locator(".field-error_sentences").get_by_role("link", name=BLOCKER).click()

    expect(page).to_have_url(re.compile(r"/admin/customers/stagedasynccustomer/\d+/change/$"))
    staged_url = page.url
    expect(page.locator("p.errornote")).to_contain_text('"Diamond" is not one of')
    tier = page.locator('select[name="attribute_values-0-value"]')
    expect(tier.locator("option:checked")).to_have_text("Diamond (not one of the choices)")
    sync_again = page.get_by_role("button", name="Save and synchronize again")
    expect(sync_again).to_have_class(re.compile(r"\bdefault\b"))  # the primary button
    screenshot(page, "staged-customer-choice-select")

    # A value the job would reject is refused in the form, on its field.
    tier.select_option(label="Gold")
    page.locator("#id_email").fill("ayse.yilmaz@")
    sync_again.click()
    expect(page.locator("p.errornote", has_text="Please correct the error")).to_be_visible()
    expect(page.locator(".field-email .errorlist")).to_contain_text(
        'Email: malformed email "ayse.yilmaz@"'
    )
    screenshot(page, "staged-customer-refused")

    # Saved without sending: the record shows "fixed, not sent".
    page.locator("#id_email").fill("ayse.yilmaz@example.com.tr")
    expect(tier.locator("option:checked")).to_have_text("Gold")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("ul.messagelist li.success")).to_contain_text("was changed successfully")
    assert_fits(page, f"{STAGED_CUSTOMERS}?fix=not_sent", ["status_text", "short_error"])
    row = page.locator("#result_list tbody tr").filter(has_text=BLOCKER)
    expect(row.locator("td.field-status_text .status-failed")).to_have_text(
        "Failed – fixed, not sent"
    )
    screenshot(page, "staged-customers-fixed-not-sent")

    page.goto(staged_url)
    expect(page.locator("p.errornote")).to_contain_text("Fixed, not sent")
    page.get_by_role("button", name="Save and synchronize again").click()
    messages = page.locator("ul.messagelist")
    expect(messages).to_contain_text("Synchronize customers and channel requests for 1 selected")
    # The fix's chain (jobs.fix_chain): account creation first, then 1010 to each store.
    expect(messages).to_contain_text("Distribute customers (1010) for channel database")
    run_link = messages.locator("li.success:not(.job-outcome)").get_by_role(
        "link", name=re.compile(r"job run #\d+")
    )
    run_link = run_link.first
    run_id = int(RUN_LINK.search(run_link.get_attribute("href"))[1])
    wait_for_run(page, run_id, "Succeeded")
    expect(page.locator(".field-parameters_text")).to_contain_text(BLOCKER)

    page.goto(SYNC_STATUS)
    fixed = page.locator("#sync-rows tbody tr").filter(has_text=BLOCKER)
    # The fix ran the rest of the chain (jobs.fix_chain): created, then at the store.
    expect(fixed).to_contain_text(re.compile("Created at HQ|Synchronized"))
    screenshot(page, "sync-status-after-fix")


def test_the_fix_posted_the_statement_it_blocked(new_page, screenshot):
    """The fix's chain (jobs.fix_chain) posted the statement the customer blocked: no
    "Post again" needed ("Post again" itself: tests/jobs/test_watched_runs.py)."""
    page = new_page()
    log_in(page)
    page.goto(f"{STATEMENTS}?q=S0002")
    page.get_by_role("link", name="S0002 2026-11-24", exact=True).click()
    statement_url = page.url

    page.goto(statement_url)
    expect(page.locator(".field-status .readonly")).to_have_text("Posted")
    expect(page.get_by_role("button", name="Post again")).to_have_count(0)
    expect(page.locator(".inline-group")).not_to_contain_text("Posting failed")
    screenshot(page, "statement-posted")

    assert_fits(page, f"{TRANSACTIONS}?q={SALE}", ["status", "short_error"])
    page.get_by_role("link", name=SALE, exact=True).click()
    # A posted transaction is history: no Save, no Delete.
    expect(page.get_by_role("button", name="Save", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Delete")).to_have_count(0)
    screenshot(page, "transaction-posted-read-only")
