"""The dispatcher's main task in a real browser: plan the day (watching its progress),
publish it, and drop a new urgent call onto the first-ranked engineer."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from partsvc.calls.calls import report_call
from partsvc.calls.models import Call, Site
from partsvc.core.worktime import WorkingCalendar
from tests.e2e.conftest import LiveServer, log_in, screenshot


def _an_urgent_call(server: LiveServer) -> int:
    """A customer in Shanghai phones in a P1: the printer is down."""
    with server.database.unit_of_work() as session:
        site = session.scalars(select(Site).where(Site.code == "S-PUDONG-PRINT")).first()
        assert site is not None
        call = report_call(
            session,
            site=site.code,
            priority="P1",
            calendar=WorkingCalendar(),
            now=server.clock(),
            skills=["printer"],
            description="打印机停机 / printer down",
        )
        return call.id


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

    call_id = _an_urgent_call(live_server)
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
