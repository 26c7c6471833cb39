"""The board's days in a browser (R26): on a Friday at 17:00 the dispatcher picks Monday
and plans it; on Sunday evening the board opens on Monday, with Monday's plan and calls."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from partsvc.routing.models import DayPlan
from tests.conftest import Clock
from tests.e2e.conftest import DESKTOP, LiveServer, browser_page, screenshot, serving
from tests.web.conftest import PASSWORD
from tests.web.test_demo_day import MONDAY, SUNDAY_EVENING, demo_loaded

FRIDAY_AT_FIVE = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai


def test_on_friday_at_five_the_dispatcher_plans_monday_and_on_sunday_the_board_opens_on_it(
    browser: Browser, own_database: str
) -> None:
    with (
        demo_loaded(own_database, FRIDAY_AT_FIVE) as (database, app),
        serving(app, database, app.extensions["partsvc.clock"]) as server,
        browser_page(browser, DESKTOP, "en") as page,
    ):
        _log_in_as_dispatch(page, server)
        expect(
            page.get_by_role("heading", name="The plan for today, Friday 4 December")
        ).to_be_visible()

        page.get_by_label("Day to plan").select_option(MONDAY.isoformat())
        page.get_by_role("button", name="Show").click()
        expect(page.get_by_role("heading", name="The plan for Monday 7 December")).to_be_visible()
        page.get_by_role("button", name="Plan the day").click()
        expect(page.locator("#plan-summary")).to_contain_text(re.compile(r"Plan \d+, draft:"))
        expect(page.get_by_role("heading", name="The plan for Monday 7 December")).to_be_visible()
        screenshot(page, "board-friday-plans-monday")
        with database.unit_of_work(write=False) as session:
            plan = session.scalars(select(DayPlan)).one()
            assert plan.day == MONDAY
            monday_calls = {stop.call_id for route in plan.routes for stop in route.stops}
        assert monday_calls

        clock = app.extensions["partsvc.clock"]
        assert isinstance(clock, Clock)
        clock.now = SUNDAY_EVENING
        page.goto(server.url + "/board")
        expect(page.get_by_role("heading", name="The plan for Monday 7 December")).to_be_visible()
        expect(page.locator("#plan-summary")).to_contain_text(f"Plan {plan.id}, draft:")
        for call_id in monday_calls:
            expect(page.locator(f"#calls tr[data-call='{call_id}']")).to_be_visible()
        screenshot(page, "board-sunday-opens-on-monday")


def _log_in_as_dispatch(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/board")
    page.get_by_label("Username").fill("dispatch")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("dispatch (")).to_be_visible()
