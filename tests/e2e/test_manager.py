"""The manager opens the dashboard: this month's figures as charts, and what is overdue."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, log_in, screenshot


def test_the_manager_opens_the_dashboard(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, "admin")
    # The demo's clock stands in November 2026: the page is titled by its month.
    expect(page.get_by_role("heading", name="November 2026")).to_be_visible()
    expect(
        page.get_by_role("img", name="Answered, on site and fixed in time, per priority")
    ).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Same-day fix|same-day fix"))).to_be_visible()
    # The demo's gold customer has a loaner a day overdue and its RMA past its target.
    overdue = page.locator("#overdue-loans tbody tr").first
    expect(overdue.locator("td").nth(3)).to_have_text("1")
    expect(page.locator("#late-rmas")).to_contain_text("RMA-000001")
    rma = page.locator("#late-rmas").get_by_role("link", name="RMA-000001")
    expect(rma).to_have_attribute("href", "/rmas/RMA-000001")
    rma.click()
    expect(page.get_by_role("heading", name=re.compile("RMA-000001"))).to_be_visible()
    screenshot(page, "manager-dashboard")
