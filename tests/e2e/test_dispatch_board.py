"""The dispatcher's main task in a real browser: plan the day (watching its progress),
publish it, and drop a new urgent call onto the first-ranked engineer."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from partsvc.calls.models import Call
from tests.e2e.conftest import LiveServer, an_urgent_printer_call, log_in, screenshot


def test_the_dispatcher_plans_the_day_and_assigns_an_urgent_call(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "dispatch", start="/board")
    expect(page.get_by_role("heading", name=re.compile("Dispatch board"))).to_be_visible()
    expect(page.locator("#calls time.countdown").first).to_contain_text(
        re.compile("in |missed by ")
    )

    page.get_by_role("button", name=re.compile("Plan the day")).click(no_wait_after=True)
    expect(page.locator("#plan-status")).to_contain_text("Planning…")
    screenshot(page, "dispatch-planning")
    expect(page.get_by_role("status").first).to_contain_text("is ready as a draft", timeout=60_000)
    expect(page.locator("#timeline rect").first).to_be_visible()
    expect(page.locator("#map polyline").first).to_be_attached()
    screenshot(page, "dispatch-draft-plan")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Publish the plan").click()
    expect(page.get_by_role("status").first).to_contain_text("published")

    call_id = an_urgent_printer_call(live_server)
    page.reload()
    row = page.locator(f"#calls tr[data-call='{call_id}']")
    expect(row).to_contain_text("P1")
    row.get_by_role("link", name="Candidates").click()
    expect(page.get_by_role("heading", name=re.compile(f"call {call_id} soonest"))).to_be_visible()
    first = page.locator("#candidates tbody tr").first
    engineer = first.locator("td small").first.inner_text()
    screenshot(page, "dispatch-candidates")
    first.get_by_role("button", name="Assign").click()

    expect(page.get_by_role("status").first).to_contain_text(
        f"Call {call_id} assigned to {engineer}"
    )
    with live_server.database.unit_of_work(write=False) as session:
        assigned = session.get(Call, call_id)
        assert assigned is not None and assigned.engineer is not None
        assert assigned.engineer.code == engineer
    screenshot(page, "dispatch-assigned")
