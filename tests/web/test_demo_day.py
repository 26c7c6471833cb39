"""The demo loaded out of hours: the board opens on the next working day and plans it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from sqlalchemy import select

from partsvc import create_app
from partsvc.calls.models import Call
from partsvc.calls.rules import CallStatus
from partsvc.demo import load_demo
from partsvc.platform.config import Settings
from partsvc.platform.db import Database
from partsvc.routing.models import DayPlan
from tests.conftest import Clock
from tests.web.conftest import PASSWORD, csrf_token, login

SUNDAY_EVENING = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai
MONDAY = date(2026, 12, 7)


@contextmanager
def demo_loaded(url: str, at: datetime) -> Iterator[tuple[Database, Flask]]:
    """The demo loaded at ``at`` into a database of its own (it loads only into an empty
    one, and the planner reads what is committed), and the pages on it, in English."""
    database = Database(url)
    try:
        with database.unit_of_work() as session:
            assert load_demo(session, now=at, password=PASSWORD, part_count=40)
        settings = Settings(
            database_url=url, secret_key="test", plan_time_limit_s=1, default_locale="en"
        )
        yield database, create_app(settings, clock=Clock(at), database=database, TESTING=True)
    finally:
        database.dispose()


@pytest.fixture
def demo(own_database: str) -> Iterator[tuple[Database, Flask]]:
    with demo_loaded(own_database, SUNDAY_EVENING) as loaded:
        yield loaded


def test_the_demo_on_a_sunday_evening_opens_and_plans_monday(
    demo: tuple[Database, Flask],
) -> None:
    demo_database, app = demo
    with demo_database.unit_of_work(write=False) as session:
        calls = {
            call.id: (call.priority, call.onsite_due)
            for call in session.scalars(
                select(Call).where(Call.status.in_((CallStatus.NEW, CallStatus.ASSIGNED)))
            )
        }
    assert calls, "the demo has open calls"
    assert all(due > SUNDAY_EVENING for _, due in calls.values()), "nothing is missed tonight"
    client = app.test_client()
    assert login(client, "dispatch").status_code == 302
    board = client.get("/board")
    assert "The plan for Monday 7 December" in board.text
    assert "No plan for that day yet." in board.text

    planned = client.post("/board/plans", data={"csrf_token": csrf_token(board.text)})

    assert planned.status_code == 302
    with demo_database.unit_of_work(write=False) as session:
        plan = session.scalars(select(DayPlan).where(DayPlan.day == MONDAY)).one()
        served = {stop.call_id for route in plan.routes for stop in route.stops}
        routes = len([route for route in plan.routes if route.stops])
        left_out = {row.call_id: row.reason for row in plan.unassigned}
    assert routes >= 2
    assert set(calls) == served | set(left_out), "each call planned or told why"
    urgent = {key for key, (priority, _) in calls.items() if priority in ("P1", "P2")}
    assert urgent & served, left_out
    assert "The plan for Monday 7 December" in client.get("/board").text
