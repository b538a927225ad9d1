"""What an operator clicks through in the admin, in Debian's Chromium, against the
demo organization served by runserver with a real qcluster (tests/browser/conftest.py).

The tests share one server and run in file order, each continuing where the one
before stopped: upload both channel databases, create the accounts and distribute
them, fix a failed record and synchronize it again, then look as a view-only user.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from devtools.demo import async_records
from tests.browser.conftest import VIEWER_PASSWORD, VIEWER_USERNAME

pytestmark = [pytest.mark.browser]

JOB_SECONDS = 30
CHANNEL_DATABASES = "/admin/commerce/channeldatabase/"
STAGED_CUSTOMERS = "/admin/customers/stagedasynccustomer/"
STAGED_ADDRESSES = "/admin/customers/stagedasyncaddress/"
JOB_RUNS = "/admin/jobs/jobrun/"
SYNC_STATUS = "/admin/customers/stagedasynccustomer/sync-status/"
RUN_LINK = re.compile(r"/admin/jobs/jobrun/(\d+)/change/$")

# The demo's invalid async customers: why HQ rejects each one.
INVALID = {
    "Harold Whitaker": 'unknown customer group "PLATINUM"',
    "Zoltán Kovács": 'invalid country code "XXL"',
    "Ayşe Yılmaz": '"Diamond" is not one of',
}
ASYNC_CUSTOMERS, ASYNC_ADDRESSES = (
    len(async_records.ASYNC_CUSTOMERS),
    len(async_records.ASYNC_ADDRESSES),
)


def log_in(page: Page, username: str = "admin", password: str = "admin") -> None:
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#user-tools")).to_contain_text(username, ignore_case=True)


def run_action(page: Page, changelist: str, action: str, *, rows=(), all_rows=False) -> list[int]:
    """Tick ``rows`` (their link texts) or every row, run ``action``; returns the ids of
    the job runs the success message names, after checking it links to them."""
    page.goto(changelist)
    if all_rows:
        page.locator("#action-toggle").check()
    for name in rows:
        row = page.locator("#result_list tbody tr").filter(
            has=page.get_by_role("link", name=name, exact=True)
        )
        row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option(label=action)
    page.get_by_role("button", name="Go").click()
    # What this action queued (not the outcome of an earlier one, jobs.watched_runs).
    message = page.locator("ul.messagelist li.success:not(.job-outcome)")
    expect(message).to_contain_text("Queued")
    expect(
        page.locator(
            "ul.messagelist li.error:not(.job-outcome), ul.messagelist li.warning:not(.job-outcome)"
        )
    ).to_have_count(0)
    ids = []
    for link in message.get_by_role("link").all():
        match = RUN_LINK.search(link.get_attribute("href") or "")
        assert match, link.get_attribute("href")
        ids.append(int(match[1]))
        expect(link).to_have_text(f"job run #{match[1]}")
    assert ids, message.inner_text()
    return ids


def wait_for_run(page: Page, run_id: int, status: str = "Succeeded") -> None:
    """On the run's page, which reloads itself while the run is queued or running."""
    if not page.url.endswith(f"/admin/jobs/jobrun/{run_id}/change/"):
        page.goto(f"{JOB_RUNS}{run_id}/change/")
    expect(page.locator(".field-status_badge .job-status")).to_have_text(
        status, timeout=JOB_SECONDS * 1000
    )
    expect(page.locator(".job-refreshing")).to_have_count(0)


def wait_for_runs(page: Page, expected: dict[int, str]) -> None:
    """On the job runs list, which reloads itself while a run on it is active."""
    page.goto(JOB_RUNS)
    expect(page.locator(".job-refreshing")).to_have_count(0, timeout=JOB_SECONDS * 1000)
    for run_id, status in expected.items():
        row = page.locator("#result_list tbody tr").filter(
            has=page.locator(f'a[href="{JOB_RUNS}{run_id}/change/"]')
        )
        expect(row.locator(".job-status")).to_have_text(status)


def status_rows(page: Page) -> list[dict]:
    """The rows of the status page's table, as text, found by their column headers."""
    return page.locator("#sync-rows").evaluate(
        """table => {
            const headers = [...table.querySelectorAll("thead th")].map(
                th => th.innerText.trim().toLowerCase());
            const at = name => headers.indexOf(name);
            return [...table.querySelectorAll("tbody tr")].map(row => {
                const cells = row.querySelectorAll("td");
                const text = name => (cells[at(name)] ? cells[at(name)].innerText.trim() : "");
                return {
                    kind: text("kind"),
                    store: text("store").split("\\n")[0],
                    name: text("name"),
                    async_id: text("async id"),
                    account: text("customer account"),
                    status: text("status"),
                    error: text("last error"),
                    checkbox: !!row.querySelector("input.sync-check"),
                };
            });
        }"""
    )


def test_upload_each_channel_database_from_its_action(new_page, screenshot):
    page = new_page()
    log_in(page)
    page.get_by_role("link", name="Channel databases").first.click()
    expect(page).to_have_url(re.compile(CHANNEL_DATABASES + "$"))

    for name in ("HOUSTON", "SEATTLE"):
        (run_id,) = run_action(page, CHANNEL_DATABASES, "Run upload (P-0001)", rows=[name])
        message = page.locator("ul.messagelist li.success")
        # Scopes in words (README "Admin"), no longer "channel_database=HOUSTON".
        expect(message).to_contain_text(f"Upload (P-0001) for channel database {name}")
        if name == "HOUSTON":
            screenshot(page, "channel-databases-action-message")
        message.get_by_role("link", name=f"job run #{run_id}").click()
        expect(page).to_have_url(re.compile(f"{JOB_RUNS}{run_id}/change/$"))
        wait_for_run(page, run_id, "Succeeded")
        expect(page.locator(".field-scope_text")).to_contain_text(f"channel_database={name}")
        expect(page.locator(".field-failed .readonly")).to_have_text("0")
        assert int(page.locator(".field-succeeded .readonly").inner_text()) > 0
        if name == "HOUSTON":
            screenshot(page, "job-run-upload-houston")


def test_account_creation_and_distribution_leave_only_the_invalid_ones_failed(new_page, screenshot):
    page = new_page()
    log_in(page)
    # Each is a fix chain (jobs.fix_chain): account creation, then 1010 to the stores
    # whose channel database is not busy (a busy one is owed a distribution after).
    customers_run, *chained = run_action(
        page, STAGED_CUSTOMERS, "Synchronize selected", all_rows=True
    )
    addresses_run, *also_chained = run_action(
        page, STAGED_ADDRESSES, "Synchronize selected", all_rows=True
    )
    wait_for_runs(
        page,
        {
            customers_run: "Completed with errors",
            addresses_run: "Succeeded",
            **dict.fromkeys([*chained, *also_chained], "Succeeded"),
        },
    )
    page.goto(JOB_RUNS)  # and what the chains were owed, before asking for more
    expect(page.locator(".job-refreshing")).to_have_count(0, timeout=60_000)
    distribution_runs = run_action(
        page, CHANNEL_DATABASES, "Run distribution (1010)", rows=["HOUSTON", "SEATTLE"]
    )
    assert len(distribution_runs) == 2
    wait_for_runs(page, dict.fromkeys(distribution_runs, "Succeeded"))
    screenshot(page, "job-runs-list")

    page.goto(f"{JOB_RUNS}{customers_run}/change/")
    errors = page.locator(".field-error_lines")
    for reason in INVALID.values():
        expect(errors).to_contain_text(reason)
    screenshot(page, "job-run-account-creation-with-errors")

    page.goto("/admin/")
    page.get_by_role("link", name="Customer synchronization status").click()
    expect(page).to_have_url(re.compile(re.escape(SYNC_STATUS) + "$"))
    expect(page.locator("#sync-rows-form")).to_contain_text(
        f"{ASYNC_CUSTOMERS + ASYNC_ADDRESSES} rows"
    )
    rows = status_rows(page)
    screenshot(page, "sync-status")

    assert len(rows) == ASYNC_CUSTOMERS + ASYNC_ADDRESSES
    failed = [row for row in rows if row["status"] == "Failed"]
    assert len(failed) == len(INVALID), failed
    assert all(row["kind"] == "customer" and row["checkbox"] for row in failed)
    for reason in INVALID.values():
        assert sum(reason in row["error"] for row in failed) == 1, (reason, failed)
    others = [row for row in rows if row["status"] != "Failed"]
    assert {row["status"] for row in others} == {"Synchronized"}
    assert all(row["account"].startswith("C0") and not row["error"] for row in others)
    assert sum(row["kind"] == "address" for row in others) == ASYNC_ADDRESSES
    # failed rows come first, so a person sees them without scrolling
    assert [row["status"] for row in rows[: len(INVALID)]] == ["Failed"] * len(INVALID)


def test_fix_a_failed_record_and_synchronize_it_again(new_page, screenshot):
    page = new_page()
    log_in(page)
    page.goto(SYNC_STATUS)
    failed_row = page.locator("#sync-rows tbody tr").filter(has_text=INVALID["Zoltán Kovács"])
    expect(failed_row).to_have_count(1)
    async_id = failed_row.locator("code").inner_text().strip()
    failed_row.get_by_role("link", name="Fix…").click()

    expect(page).to_have_url(re.compile(r"/admin/customers/stagedasynccustomer/\d+/change/$"))
    expect(page.locator("#content h2").first).to_have_text(f"Zoltán Kovács ({async_id})")
    expect(page.locator("#id_last_name")).to_have_value("Kovács")
    expect(page.locator("p.errornote")).to_contain_text(INVALID["Zoltán Kovács"])
    countries = page.locator('.inline-group select[name$="-country"]').all()
    xxl = [box for box in countries if box.input_value() == "XXL"]
    assert len(xxl) == 1
    screenshot(page, "staged-customer-failed")
    staged_url = page.url
    xxl[0].select_option("USA")
    page.get_by_role("button", name="Save and synchronize again").click()

    messages = page.locator("ul.messagelist")
    expect(messages).to_contain_text("was saved")
    expect(messages).to_contain_text("Synchronize customers and channel requests")
    # The fix's chain (jobs.fix_chain): account creation, then 1010 to both stores.
    queued = messages.locator("li.success:not(.job-outcome)")
    expect(queued).to_contain_text("Distribute customers (1010) for channel database SEATTLE")
    run_ids = [
        int(RUN_LINK.search(link.get_attribute("href"))[1])
        for link in queued.get_by_role("link", name=re.compile(r"job run #\d+")).all()
    ]
    run_id = run_ids[0]
    queued.get_by_role("link", name=f"job run #{run_id}").click()
    wait_for_run(page, run_id, "Succeeded")
    expect(page.locator(".field-succeeded .readonly")).to_have_text("1")

    page.goto(staged_url)
    expect(page.locator("#content")).to_contain_text("Created at HQ as customer account")
    expect(page.get_by_role("button", name="Save and synchronize again")).to_have_count(0)

    # Kovács shops at S0002 Seattle: the chain's 1010 gave SEATTLE the account.
    wait_for_runs(page, dict.fromkeys(run_ids[1:], "Succeeded"))

    page.goto(SYNC_STATUS)
    filters = page.locator("#sync-filters")
    filters.locator("select[name=status]").select_option(label="Synchronized")
    filters.locator("select[name=store]").select_option(label="S0002 Seattle")
    filters.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"status=synchronized"))
    expect(page).to_have_url(re.compile(r"store=S0002"))
    rows = status_rows(page)
    assert rows and {(row["store"], row["status"]) for row in rows} == {("S0002", "Synchronized")}
    (fixed,) = [row for row in rows if row["async_id"] == async_id]
    assert fixed["account"].startswith("C0") and not fixed["error"]
    screenshot(page, "sync-status-filtered")

    filters = page.locator("#sync-filters")
    filters.locator("select[name=status]").select_option(label="Failed")
    filters.locator("select[name=store]").select_option(label="All stores")
    filters.get_by_role("button", name="Filter").click()
    still_failed = status_rows(page)
    assert len(still_failed) == len(INVALID) - 1
    assert not any(INVALID["Zoltán Kovács"] in row["error"] for row in still_failed)


def test_a_view_only_user_sees_no_job_actions(new_page, screenshot):
    page = new_page()
    log_in(page, VIEWER_USERNAME, VIEWER_PASSWORD)

    page.goto(CHANNEL_DATABASES)
    expect(page.get_by_role("link", name="HOUSTON", exact=True)).to_be_visible()
    expect(page.locator("select[name=action] option", has_text="Run")).to_have_count(0)
    expect(page.get_by_text("Run upload (P-0001)")).to_have_count(0)
    screenshot(page, "channel-databases-viewer")

    page.goto(SYNC_STATUS)
    expect(page.locator("#sync-rows-form")).to_contain_text(
        f"{ASYNC_CUSTOMERS + ASYNC_ADDRESSES} rows"
    )
    expect(page.locator("#sync-rows .sync-status-failed")).to_have_count(len(INVALID) - 1)
    expect(page.get_by_role("button", name="Synchronize again")).to_have_count(0)
    expect(page.locator("input.sync-check")).to_have_count(0)
    screenshot(page, "sync-status-viewer")

    failed = page.locator("#sync-rows tbody tr").filter(has_text=INVALID["Harold Whitaker"])
    expect(failed.get_by_role("link", name="Fix…")).to_have_count(0)  # a viewer cannot edit
    failed.get_by_role("link", name="View").click()
    expect(page.locator("p.errornote")).to_contain_text("PLATINUM")
    expect(page.get_by_role("button", name="Save and synchronize again")).to_have_count(0)
    expect(page.get_by_role("button", name="Save", exact=True)).to_have_count(0)
