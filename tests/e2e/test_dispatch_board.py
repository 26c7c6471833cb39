"""The dispatcher's day in a real browser, through the pages only: the phone rings and a
P1 is logged with its deadlines shown before saving; the day is planned (watching its
progress) and published; another urgent call is dropped onto the first-ranked engineer
from the candidates page; an RMA waiting since the morning is authorized. One screenshot
per step under build/screenshots/. And an open board shows a call made through the API
without a reload."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from partsvc.auth.identity import issue_token
from partsvc.auth.models import User
from partsvc.calls.models import Call
from tests.e2e.conftest import LiveServer, log_in, screenshot


def log_a_p1_by_phone(page: Page, fault: str) -> None:
    """The new-call form: the site found by typing part of the customer's Chinese name."""
    page.get_by_role("link", name="New call").first.click()
    page.wait_for_url("**/board/calls/new")
    page.get_by_label("Customer or site").fill("浦东")
    expect(page.locator("#site-options option[value='S-PUDONG-PRINT']")).to_be_attached()
    page.get_by_label("Customer or site").fill("S-PUDONG-PRINT")
    page.locator("input[name=priority][value=P1]").check()
    expect(page.locator("#deadline-preview")).to_contain_text("on site by")
    page.get_by_label("Fault, as the customer tells it").fill(fault)
    page.get_by_label("printers").check()


def test_the_dispatchers_day_through_the_pages(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, "dispatch", start="/board")
    log_a_p1_by_phone(page, "打印机停机 / printer down")
    screenshot(page, "dispatch-1-new-call")
    page.get_by_role("button", name="Log the call").click()
    expect(page.get_by_role("status").first).to_contain_text(re.compile(r"Call \d+ \(P1\) logged"))
    screenshot(page, "dispatch-2-call-logged")

    page.get_by_role("link", name="Dispatch board").first.click()
    page.get_by_role("button", name=re.compile("Plan the day")).click(no_wait_after=True)
    expect(page.locator("#plan-status")).to_contain_text("Planning…")
    expect(page.get_by_role("status").first).to_contain_text("is ready as a draft", timeout=60_000)
    expect(page.locator("#plan-summary")).to_contain_text("calls planned on")
    page.locator("#timeline .mark").first.click()
    expect(page.locator("#plan-detail")).to_be_visible()
    screenshot(page, "dispatch-3-draft-plan")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Publish the plan").click()
    expect(page.get_by_role("status").first).to_contain_text("published")
    screenshot(page, "dispatch-4-published")

    log_a_p1_by_phone(page, "又一台停机 / another one down")
    page.get_by_role("button", name="Log the call").click()
    page.get_by_role("link", name="Who can go soonest?").click()
    first = page.locator("#candidates tbody tr").first
    engineer = first.locator("td a").first.inner_text()
    screenshot(page, "dispatch-5-candidates")
    first.get_by_role("button", name="Assign").click()
    expect(page.get_by_role("status").first).to_contain_text(f"assigned to {engineer}")
    screenshot(page, "dispatch-6-assigned")

    page.get_by_role("link", name="RMAs").first.click()
    page.get_by_role("link", name="RMA-000002").click()
    expect(page.locator("#steps form")).to_have_count(2)  # authorize or reject, nothing else
    screenshot(page, "dispatch-7-rma")
    page.locator("#step-authorize textarea").fill("客户电话确认 / confirmed by phone")
    page.locator("#step-authorize").get_by_role("button", name="Authorize").click()
    expect(page.get_by_role("status").first).to_contain_text("RMA-000002 is now authorized")
    expect(page.locator("#story")).to_contain_text("dispatch")
    screenshot(page, "dispatch-8-rma-authorized")


def test_an_open_board_shows_a_call_made_through_the_api_without_a_reload(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "dispatch", start="/board")
    with live_server.database.unit_of_work() as session:
        user = session.scalars(select(User).where(User.username == "dispatch")).one()
        token = issue_token(session, user, name="e2e")
    page.evaluate("window.loadedOnce = true")  # gone if the page were loaded again
    made = page.request.post(
        live_server.url + "/api/v1/calls",
        headers={"Authorization": f"Bearer {token}"},
        data={"site": "S-PUDONG-PRINT", "priority": "P2", "description": "卡纸 / paper jam"},
    )
    assert made.status == 201, made.text()
    call_id = made.json()["id"]

    expect(page.locator(f"#calls tr[data-call='{call_id}']")).to_contain_text("P2", timeout=30_000)
    assert page.evaluate("window.loadedOnce") is True
    with live_server.database.unit_of_work(write=False) as session:
        assert session.get(Call, call_id) is not None
