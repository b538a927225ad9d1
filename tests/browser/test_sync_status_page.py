"""The customer synchronization status page and a record's timeline at 1440 x 900, in
Debian's Chromium, against the demo organization after the whole conversion ran
(tests/browser/conftest.py): the key columns are on screen, a failed row says its age
and links to its timeline, which tells the record's way in words. Screenshots go to
test-artifacts/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import VIEWPORT
from tests.browser.test_admin_flows import (
    CHANNEL_DATABASES,
    JOB_RUNS,
    SYNC_STATUS,
    log_in,
    run_action,
)

pytestmark = [pytest.mark.browser]


def test_status_page_and_timeline_of_a_failed_record(new_page, screenshot):
    page = new_page()
    log_in(page)
    run_action(
        page,
        CHANNEL_DATABASES,
        "Run the whole conversion (upload, create customers, distribute)",
        rows=["HOUSTON", "SEATTLE"],
    )
    page.goto(JOB_RUNS)
    expect(page.locator(".job-refreshing")).to_have_count(0, timeout=60_000)

    page.goto(SYNC_STATUS)
    expect(page.locator("#sync-refreshing")).to_have_count(0)
    overflow = page.evaluate(
        """() => { const r = document.querySelector('#sync-rows').closest('.results');
                   return r.scrollWidth - r.clientWidth; }"""
    )
    assert overflow <= 1, f"the status page scrolls sideways by {overflow} px"
    for header in ["Age", "Status", "Last error", "HQ staging"]:
        cell = page.locator("#sync-rows thead th", has_text=re.compile(f"^{header}$"))
        box = cell.bounding_box()
        assert box and box["x"] + box["width"] <= VIEWPORT["width"], (header, box)
    # The check-all box (a static script under the Content-Security-Policy) ticks every row.
    page.locator("#sync-check-all").check()
    boxes = page.locator("#sync-rows input.sync-check")
    assert boxes.count() > 0
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    page.locator("#sync-check-all").uncheck()
    assert not any(boxes.nth(i).is_checked() for i in range(boxes.count()))
    failed = page.locator("#sync-rows tbody tr", has=page.locator(".sync-status-failed")).first
    expect(failed.locator("td.error")).not_to_be_empty()
    expect(failed.locator("td").nth(7)).to_contain_text(re.compile(r"\d{2}:\d{2}:\d{2}"))
    screenshot(page, "sync-status-page")

    failed.get_by_role("link", name="Timeline").click()
    expect(page.locator("#timeline")).to_be_visible()
    titles = page.locator("#timeline .title").all_inner_texts()
    assert titles[0].startswith("Created at store S000"), titles
    assert "Uploaded to HQ staging" in titles and "Failed at HQ" in titles, titles
    expect(page.locator("#timeline li.failed .detail").first).not_to_be_empty()
    expect(page.locator("#timeline .when").first).to_have_text(
        re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
    )
    screenshot(page, "sync-status-timeline-failed")

    page.go_back()
    synchronized = page.locator(
        "#sync-rows tbody tr", has=page.locator(".sync-status-synchronized")
    )
    if synchronized.count():
        synchronized.first.get_by_role("link", name="Timeline").click()
    else:
        page.goto(f"{SYNC_STATUS}?status=synchronized")
        page.locator("#sync-rows tbody tr").first.get_by_role("link", name="Timeline").click()
    titles = page.locator("#timeline .title").all_inner_texts()
    assert any(t.startswith("Created at HQ as account") for t in titles), titles
    assert any(t.startswith("Linked at the store to account") for t in titles), titles
    screenshot(page, "sync-status-timeline-synchronized")
