"""The engineer's day on a phone, through the pages only: set off, arrive, wait for a part
asked for in the same step, arrive again, complete the call consuming a part from the van
and placing a loaner, then collect the loaner back."""

from __future__ import annotations

import re
from typing import NamedTuple

from playwright.sync_api import Page, expect
from sqlalchemy import select

from partsvc.calls.models import Call, Engineer
from tests.demo_data import issue_a_loaner, spare_on_van
from tests.e2e.conftest import LiveServer, log_in, screenshot

CUSTOMER_SIGNS = "王建国"


class Visit(NamedTuple):
    username: str
    name: str
    call_id: int
    sku: str
    on_van: int
    loaner: str


def _a_visit(server: LiveServer) -> Visit:
    """An engineer's assigned call, a part on their van with its count, and a loaner the
    clerk puts on their van for the visit (as a clerk would before they set off)."""
    with server.database.unit_of_work() as session:
        call = session.scalars(
            select(Call).where(Call.status == "assigned").order_by(Call.id)
        ).first()
        assert call is not None and call.engineer is not None
        engineer: Engineer = call.engineer
        level = spare_on_van(session, engineer.van)
        loaner = issue_a_loaner(session, engineer.van, server.clock())
        assert engineer.user is not None
        return Visit(
            engineer.user.username,
            engineer.name,
            call.id,
            level.part.sku,
            level.on_hand,
            loaner.serial,
        )


def test_the_engineers_day_on_the_phone(phone: Page, live_server: LiveServer) -> None:
    username, name, call_id, sku, on_van, loaner = _a_visit(live_server)
    log_in(phone, live_server, username)
    expect(phone.get_by_role("heading", name=re.compile(re.escape(name)))).to_be_visible()
    expect(phone.locator("#van-loaners")).to_contain_text(loaner)  # the serial to type
    visit = phone.get_by_role("link", name=re.compile(f"^Call {call_id} "))
    expect(visit).to_be_visible()
    screenshot(phone, "engineer-1-day")

    visit.click()
    expect(phone.get_by_role("heading", name=re.compile(f"Call {call_id}"))).to_be_visible()
    expect(phone.locator("#phone-customer")).to_have_attribute("href", re.compile(r"^tel:1\d{10}$"))
    expect(phone.locator("#open-map")).to_have_attribute("href", re.compile(r"^geo:\d+\.\d+,"))
    phone.get_by_role("button", name="Set off").click()
    expect(phone.get_by_role("status")).to_contain_text(
        re.compile(f"Set off for call {call_id} at \\d\\d:\\d\\d")
    )
    expect(phone.get_by_role("heading", name=re.compile("en route"))).to_be_visible()
    screenshot(phone, "engineer-2-set-off")
    phone.get_by_role("button", name="Arrived on site").click()
    expect(phone.get_by_role("status")).to_contain_text(f"Arrived on site for call {call_id} at")
    expect(phone.get_by_role("heading", name=re.compile("on site"))).to_be_visible()
    screenshot(phone, "engineer-3-arrived")

    # The part is not on the van: ask for it, and the call waits for it, in one step.
    ask = phone.locator("#part-form")
    ask.get_by_label("Part (SKU)").fill(sku)
    ask.get_by_label("Quantity").fill("1")
    ask.get_by_role("button", name="Request it and wait for parts").click()
    expect(phone.get_by_role("status")).to_contain_text(
        f"Call {call_id} is waiting for parts since"
    )
    expect(phone.get_by_role("heading", name=re.compile("waiting for parts"))).to_be_visible()
    screenshot(phone, "engineer-4-waiting-for-parts")

    phone.get_by_role("button", name="Arrived on site").click()  # back with the part
    expect(phone.get_by_role("heading", name=re.compile("on site"))).to_be_visible()
    form = phone.locator("#complete-form")
    form.get_by_label("Work done").fill("更换定影组件 / replaced the fuser, test print OK")
    form.get_by_label("Parts used from the van").fill(f"{sku} 1")
    form.get_by_label("Loaner placed (serial)").fill(loaner)
    form.get_by_label("Customer's name (signs)").fill(CUSTOMER_SIGNS)
    screenshot(phone, "engineer-5-complete-form")
    form.get_by_role("button", name="Complete and sign").click()

    expect(phone.get_by_role("status")).to_contain_text(
        f"Call {call_id} completed, signed by {CUSTOMER_SIGNS}."
    )
    expect(phone.locator(f"#van tr[data-sku='{sku}'] .on-hand")).to_have_text(str(on_van - 1))
    loan = phone.locator("#loans li", has_text=loaner)
    expect(loan).to_be_visible()
    screenshot(phone, "engineer-6-completed")

    # The customer's own unit is back: the engineer collects the loaner onto the van.
    loan.get_by_role("button", name="Collected: book it back").click()
    expect(phone.get_by_role("status")).to_contain_text(f"Loaner {loaner} returned to")
    expect(phone.locator("#van-loaners")).to_contain_text(loaner)
    screenshot(phone, "engineer-7-loaner-returned")


def test_an_engineer_cannot_open_another_engineers_day_or_the_clerk_desk(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "lina")
    answer = page.goto(live_server.url + "/engineers/E-WANG/day")
    assert answer is not None and answer.status == 404  # as if there were no E-WANG
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("No engineer 'E-WANG'")
    page.goto(live_server.url + "/desk")
    expect(page.get_by_role("heading", name="Not for your role")).to_be_visible()
