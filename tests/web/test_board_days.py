"""The board's day picker: on a Friday afternoon the dispatcher plans Monday (R26)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import select

from partsvc.platform.db import Database
from partsvc.routing.models import DayPlan
from tests.web.conftest import csrf_token, login
from tests.web.test_demo_day import MONDAY, demo_loaded

FRIDAY_AFTERNOON = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai


def test_on_a_friday_afternoon_the_dispatcher_picks_monday_and_plans_it(
    own_database: str,
) -> None:
    with demo_loaded(own_database, FRIDAY_AFTERNOON) as (demo_database, app):
        _pick_monday_and_plan_it(demo_database, app)


def _pick_monday_and_plan_it(demo_database: Database, app: Flask) -> None:
    client = app.test_client()
    assert login(client, "dispatch").status_code == 302
    board = client.get("/board")
    assert "The plan for today, Friday 4 December" in board.text
    assert '<option value="2026-12-07">Monday 7 December</option>' in board.text
    assert '"2026-12-05"' not in board.text, "a Saturday is not offered"

    monday = client.get("/board", query_string={"day": "2026-12-07"})
    assert "The plan for Monday 7 December" in monday.text
    planned = client.post(
        "/board/plans", data={"csrf_token": csrf_token(monday.text), "day": "2026-12-07"}
    )

    assert planned.status_code == 302
    assert planned.headers["Location"].endswith("/board?day=2026-12-07")
    with demo_database.unit_of_work(write=False) as session:
        days = set(session.scalars(select(DayPlan.day)))
    assert days == {MONDAY}
    past = client.get("/board", query_string={"day": "2026-12-03"})
    assert "The plan for today, Friday 4 December" in past.text
    assert "Pick a working day from the list." in past.text
