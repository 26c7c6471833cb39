"""On the demo's full Monday, an urgent call at the Nanjing customer still gets Li Na:
the candidates page says which routine call she drops before the dispatcher assigns,
in both languages, and assigning does exactly that (R28, R29)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from partsvc.calls.calls import report_call
from partsvc.calls.models import Call
from partsvc.core.worktime import WorkingCalendar
from partsvc.platform.db import Database
from partsvc.routing.models import DayPlan
from tests.web.conftest import csrf_token, login
from tests.web.test_demo_day import demo_loaded

MONDAY_NOON = datetime(2026, 12, 7, 3, 40, tzinfo=UTC)  # 11:40 in Shanghai


@pytest.fixture
def demo(own_database: str) -> Iterator[tuple[Database, Flask]]:
    with demo_loaded(own_database, MONDAY_NOON) as loaded:
        yield loaded


def test_a_p1_on_a_full_day_names_the_routine_call_it_moves_off_and_moves_it(
    demo: tuple[Database, Flask],
) -> None:
    database, app = demo
    client: FlaskClient = app.test_client()
    assert login(client, "dispatch").status_code == 302
    board = client.get("/board")
    assert (
        client.post("/board/plans", data={"csrf_token": csrf_token(board.text)}).status_code == 302
    )
    with database.unit_of_work(write=False) as session:
        plan_id = session.scalars(select(DayPlan.id)).one()
    board = client.get("/board")
    published = client.post(
        f"/board/plans/{plan_id}/publish", data={"csrf_token": csrf_token(board.text)}
    )
    assert published.status_code == 302
    with database.unit_of_work() as session:
        urgent = report_call(
            session,
            site="S-HUAWEI-SURVEY",
            priority="P1",
            calendar=WorkingCalendar(),
            now=MONDAY_NOON,
            skills=["survey"],
            duration_min=180,
            description="全站仪无法开机 / total station dead",
        ).id

    page = client.get(f"/board/plans/{plan_id}/calls/{urgent}")
    assert page.status_code == 200
    first = page.text.split('<tr class="', 2)[1]
    assert "E-LI" in first
    moved = re.search(r"Moves P3 calls? ([\d, and]+) off the day", first)
    assert moved, first
    shown = re.search(r'name="displaced" value="([\d,]+)"', first)
    assert shown, first
    displaced = [int(key) for key in shown.group(1).split(",")]
    chinese = client.get(
        f"/board/plans/{plan_id}/calls/{urgent}", headers={"Accept-Language": "zh-CN"}
    )
    assert "移出当天路线" in chinese.text and "班内无法到达" in chinese.text

    assigned = client.post(
        f"/board/plans/{plan_id}/assign",
        data={
            "csrf_token": csrf_token(page.text),
            "call": urgent,
            "engineer": "E-LI",
            "displaced": shown.group(1),
        },
    )
    assert assigned.status_code == 302
    with database.unit_of_work(write=False) as session:
        plan = session.get(DayPlan, plan_id)
        assert plan is not None
        left_out = {row.call_id: row.reason for row in plan.unassigned}
        li = next(r for r in plan.routes if r.engineer.code == "E-LI")
        served = [s.call_id for s in li.stops if s.kind == "call"]
        assert urgent in served
        for call_id in displaced:
            assert left_out[call_id] == "moved off the day for an urgent call"
            assert call_id not in served
            call = session.get(Call, call_id)
            assert call is not None and (call.status, call.engineer_id) == ("new", None)
