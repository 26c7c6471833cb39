"""The board's day picker: on a Friday afternoon the dispatcher plans Monday (R26)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from partsvc import create_app
from partsvc.demo import load_demo
from partsvc.platform.config import Settings
from partsvc.platform.db import Database
from partsvc.routing.models import DayPlan
from tests.conftest import Clock
from tests.web.conftest import PASSWORD, csrf_token, login
from tests.web.test_demo_day import MONDAY

FRIDAY_AFTERNOON = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai


@pytest.fixture
def friday_demo(own_database: str) -> Iterator[Database]:
    database = Database(own_database)
    try:
        with database.unit_of_work() as session:
            assert load_demo(session, now=FRIDAY_AFTERNOON, password=PASSWORD, part_count=40)
        yield database
    finally:
        database.dispose()


def test_on_a_friday_afternoon_the_dispatcher_picks_monday_and_plans_it(
    friday_demo: Database, own_database: str
) -> None:
    settings = Settings(
        database_url=own_database, secret_key="test", plan_time_limit_s=1, default_locale="en"
    )
    app = create_app(settings, clock=Clock(FRIDAY_AFTERNOON), database=friday_demo, TESTING=True)
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
    with friday_demo.unit_of_work(write=False) as session:
        days = set(session.scalars(select(DayPlan.day)))
    assert days == {MONDAY}
    past = client.get("/board", query_string={"day": "2026-12-03"})
    assert "The plan for today, Friday 4 December" in past.text
    assert "Pick a working day from the list." in past.text
