"""A call on hold from the pages (R22): the dispatcher pauses it from the board with a
reason from the list and resumes it; the board shows since when and stops its
countdown; the planner leaves it out and says why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from partsvc.calls.calls import report_call
from partsvc.calls.customers import create_customer, create_site
from partsvc.calls.engineers import create_engineer
from partsvc.calls.models import Call, CallHold
from partsvc.core.worktime import WorkingCalendar
from partsvc.routing import loading, plans
from partsvc.routing.solver import solve
from partsvc.routing.travel import HaversineSource
from tests.web.conftest import login, post_form

FRIDAY_MORNING = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def call_id(session, clock) -> int:
    clock.now = FRIDAY_MORNING
    create_customer(
        session,
        code="C-HOLD",
        name="华东精密",
        tier="silver",
        contract_starts_on=FRIDAY_MORNING.date(),
    )
    create_site(session, code="S-HOLD", customer="C-HOLD", address="上海浦东", lat=31.2, lon=121.5)
    create_engineer(session, code="E-HOLD", name="Wang", home_lat=31.2, home_lon=121.4, skills=[])
    call = report_call(
        session, site="S-HOLD", priority="P3", calendar=WorkingCalendar(), now=clock.now
    )
    session.commit()
    return call.id


def test_the_dispatcher_pauses_from_the_board_and_resumes(client, users, session, clock, call_id):
    login(client, "dispatcher")
    answer = post_form(
        client, "/board", f"/calls/{call_id}/pause", {"reason": "customer_asked_to_wait"}
    )
    assert answer.status_code == 302
    board = client.get("/board").text
    assert f'data-held="{call_id}"' in board
    assert "On hold since" in board and "customer asked to wait" in board
    assert "clock stopped" in board
    due = session.scalar(select(Call.resolve_due).where(Call.id == call_id))

    clock.advance(hours=2)
    answer = post_form(client, "/board", f"/calls/{call_id}/resume", {})
    assert answer.status_code == 302
    session.expire_all()
    [hold] = session.scalars(select(CallHold).where(CallHold.call_id == call_id))
    assert hold.reason == "customer_asked_to_wait" and hold.resumed_at == clock.now
    assert session.scalar(select(Call.resolve_due).where(Call.id == call_id)) > due
    assert f'data-held="{call_id}"' not in client.get("/board").text


def test_a_reason_not_on_the_list_is_refused(client, users, call_id):
    login(client, "dispatcher")
    answer = post_form(client, "/board", f"/calls/{call_id}/pause", {"reason": "waiting_for_parts"})
    assert answer.status_code == 400


def test_the_planner_leaves_a_call_on_hold_out_and_says_why(client, users, session, clock, call_id):
    login(client, "dispatcher")
    post_form(client, "/board", f"/calls/{call_id}/pause", {"reason": "customer_not_available"})
    day = FRIDAY_MORNING.date()
    loaded = loading.load_day(
        session, day, now=clock.now, calendar=WorkingCalendar(), source=HaversineSource()
    )
    assert loaded.on_hold == [call_id]
    assert call_id not in loaded.calls.values()
    stored = plans.save_plan(
        session,
        loaded,
        solve(loaded.problem, time_limit_s=1),
        time_limit_s=1,
        solve_seconds=0.1,
        source="HaversineSource",
        now=clock.now,
        by=None,
    )
    assert [(u.call_id, u.reason) for u in stored.unassigned] == [(call_id, plans.ON_HOLD)]


def test_the_manager_sees_raw_time_beside_compliance_and_downloads_the_figures(
    client, users, call_id
):
    login(client, "admin")
    page = client.get("/manager?month=2026-11").text
    assert 'id="elapsed"' in page and "Mean hours, reported to fixed" in page
    answer = client.get("/manager/figures.csv?month=2026-11")
    assert answer.status_code == 200
    assert 'filename="figures-2026-11.csv"' in answer.headers["Content-Disposition"]
    lines = answer.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("figure,priority,met,total,share,target")
    assert sum(line.startswith("time_to_fix,") for line in lines) == 3
    assert any(line.startswith("fixed_in_time,P3,") for line in lines)


def test_the_office_imports_a_customer_file_from_the_page_whole_or_not_at_all(
    client, users, session
):
    import io

    from partsvc.calls.models import Customer

    login(client, "dispatcher")
    bad = b"code,name,tier,contract_starts_on\nC-P1,Good,silver,2024-03-01\nC-P2,Bad,gold,someday\n"
    answer = post_form(
        client, "/customer-file", "/customer-file/customers", {"file": (io.BytesIO(bad), "c.csv")}
    )
    assert answer.status_code == 422
    assert 'id="problems"' in answer.text and "contract_starts_on" in answer.text
    assert session.scalar(select(Customer.id).where(Customer.code == "C-P1")) is None
    good = bad.replace(b"someday", b"2024-01-15")
    answer = post_form(
        client, "/customer-file", "/customer-file/customers", {"file": (io.BytesIO(good), "c.csv")}
    )
    assert answer.status_code == 302
    session.expire_all()
    customer = session.scalar(select(Customer).where(Customer.code == "C-P2"))
    assert customer is not None and customer.contracts[0].starts_on.isoformat() == "2024-01-15"
    listed = client.get("/customer-file/customers.csv").data.decode("utf-8-sig")
    assert "C-P2,Bad,gold,2024-01-15" in listed


def test_the_board_downloads_its_open_calls_with_the_hold_state(client, users, call_id):
    login(client, "dispatcher")
    post_form(client, "/board", f"/calls/{call_id}/pause", {"reason": "customer_not_available"})
    board = client.get("/board").text
    assert "/downloads/open-calls.xlsx" in board
    answer = client.get("/downloads/open-calls.csv")
    assert answer.status_code == 200
    header, row = answer.data.decode("utf-8-sig").splitlines()[:2]
    assert header.split(",")[0] == "id" and "on_hold" in header
    assert row.startswith(f"{call_id},") and "customer_not_available" in row


def test_the_engineer_pauses_from_the_phone_while_the_customer_approves_a_charge(
    client, session, clock
):
    from partsvc.auth.identity import set_password
    from tests.visits import engineer_on_site
    from tests.web.conftest import PASSWORD

    on_site = engineer_on_site(session, clock.now, {"E-MEI": ("mei", "mei 工程师")})
    set_password(on_site.engineers["E-MEI"].user, PASSWORD)
    session.commit()
    login(client, "mei")
    page = f"/my/calls/{on_site.call_id}"
    answer = post_form(
        client, page, f"/calls/{on_site.call_id}/pause", {"reason": "awaiting_customer_approval"}
    )
    assert answer.status_code == 302 and answer.headers["Location"].endswith(page)
    shown = client.get(page).text
    assert f'data-held="{on_site.call_id}"' in shown
    assert "awaiting the customer&#39;s approval" in shown and ">Resume<" in shown
    day = client.get("/my/day", follow_redirects=True).text
    assert f'data-held="{on_site.call_id}"' in day
