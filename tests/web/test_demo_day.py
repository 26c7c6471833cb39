"""The demo loaded out of hours: the board opens on the next working day and plans it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from partsvc import create_app
from partsvc.calls.models import Call
from partsvc.calls.rules import CallStatus, Priority
from partsvc.demo import load_demo
from partsvc.platform.config import Settings
from partsvc.platform.db import Database
from partsvc.routing.models import DayPlan
from tests.conftest import Clock
from tests.web.conftest import PASSWORD, csrf_token, login

SUNDAY_EVENING = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai
MONDAY = date(2026, 12, 7)


def _demo_app(session: Session, database: Database, database_url: str, at: datetime) -> Flask:
    load_demo(session, now=at, password=PASSWORD, part_count=40)
    session.commit()
    settings = Settings(database_url=database_url, secret_key="test", plan_time_limit_s=1)
    return create_app(settings, clock=Clock(at), database=database, TESTING=True)


def test_the_demo_on_a_sunday_evening_opens_and_plans_monday(
    session: Session, database: Database, database_url: str, connection: Connection
) -> None:
    app = _demo_app(session, database, database_url, SUNDAY_EVENING)
    calls = session.scalars(
        select(Call).where(Call.status.in_((CallStatus.NEW, CallStatus.ASSIGNED)))
    ).all()
    assert calls, "the demo has open calls"
    assert all(call.onsite_due > SUNDAY_EVENING for call in calls), "nothing is missed tonight"
    client = app.test_client()
    assert login(client, "dispatch").status_code == 302
    board = client.get("/board")
    assert "The plan for Monday 7 December" in board.text
    assert "No plan for that day yet." in board.text

    planned = client.post("/board/plans", data={"csrf_token": csrf_token(board.text)})

    assert planned.status_code == 302
    plan = session.scalars(select(DayPlan).where(DayPlan.day == MONDAY)).one()
    served = {stop.call_id for route in plan.routes for stop in route.stops}
    assert len([route for route in plan.routes if route.stops]) >= 2
    left_out = {row.call_id: row.reason for row in plan.unassigned}
    assert {call.id for call in calls} == served | set(left_out), "each call planned or told why"
    urgent = {call.id for call in calls if call.priority in (Priority.P1, Priority.P2)}
    assert urgent & served, left_out
    assert "The plan for Monday 7 December" in client.get("/board").text
