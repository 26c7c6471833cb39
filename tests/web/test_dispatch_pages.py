"""The dispatcher's pages through the test client, on the demo: a call taken by phone
with its deadlines previewed, the RMA pages, the board's open calls fetched again, an
engineer's day seen from the board, and the plan drawn so it reads at a glance."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from partsvc.calls.models import Call
from partsvc.platform.db import Database
from partsvc.repairs.models import Rma
from partsvc.routing.models import DayPlan, PlanStop, PlanUnassigned
from tests.web.conftest import csrf_token, login
from tests.web.test_demo_day import demo_loaded

WEDNESDAY_MORNING = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai


@pytest.fixture(scope="module")
def demo(own_database: str) -> Iterator[tuple[Database, Flask]]:
    with demo_loaded(own_database, WEDNESDAY_MORNING) as loaded:
        yield loaded


@pytest.fixture
def dispatcher(demo: tuple[Database, Flask]) -> FlaskClient:
    client = demo[1].test_client()
    assert login(client, "dispatch").status_code == 302
    return client


def _calls(database: Database) -> int:
    with database.unit_of_work(write=False) as session:
        return session.scalar(select(func.count(Call.id))) or 0


def test_the_dispatcher_logs_a_p1_by_phone_with_the_deadlines_it_gets_shown_first(
    demo: tuple[Database, Flask], dispatcher: FlaskClient
) -> None:
    found = dispatcher.get("/board/suggest/sites", query_string={"q": "浦东"}).json
    assert [site["code"] for site in found["sites"]] == ["S-PUDONG-PRINT"]
    assert "上海浦东印务有限公司" in found["sites"][0]["label"]
    units = dispatcher.get("/board/suggest/equipment", query_string={"site": "S-PUDONG-PRINT"})
    assert [unit["code"] for unit in units.json["equipment"]] == ["EQ-0002"]
    shown = dispatcher.get(
        "/board/calls/deadlines", query_string={"site": "S-PUDONG-PRINT", "priority": "P1"}
    ).json["deadlines"]
    assert shown["tier"] == "silver" and shown["onsite"] == "2026-12-02 11:30"

    form = dispatcher.get("/board/calls/new")
    typed = {
        "csrf_token": csrf_token(form.text),
        "site": "S-PUDONG-PRINT",
        "equipment": "EQ-0002",
        "priority": "P1",
        "skills": "printer",
        "description": "打印机停机",
        "duration": "90",
    }
    preview = dispatcher.post("/board/calls/new", data={**typed, "action": "preview"})
    assert preview.status_code == 200 and "on site by 2026-12-02 11:30" in preview.text
    saved = dispatcher.post("/board/calls/new", data={**typed, "action": "save"})

    assert saved.status_code == 302
    call_id = int(saved.headers["Location"].rsplit("/", 1)[1])
    with demo[0].unit_of_work(write=False) as session:
        call = session.get(Call, call_id)
        assert call is not None
        assert (call.priority, call.skills, call.duration_minutes) == ("P1", ["printer"], 90)
        assert call.onsite_due == datetime(2026, 12, 2, 3, 30, tzinfo=UTC)
    page = dispatcher.get(saved.headers["Location"])
    assert f"Call {call_id} (P1) logged" in page.text and "打印机停机" in page.text


def test_a_refused_call_books_nothing_and_keeps_what_was_typed(
    demo: tuple[Database, Flask], dispatcher: FlaskClient
) -> None:
    before = _calls(demo[0])
    form = dispatcher.get("/board/calls/new")
    refused = dispatcher.post(
        "/board/calls/new",
        data={
            "csrf_token": csrf_token(form.text),
            "site": "S-NOWHERE",
            "priority": "P2",
            "description": "打印机卡纸",
            "parts": "FU-100 2",
            "duration": "60",
        },
    )
    assert refused.status_code == 404
    assert "No site has that code" in refused.text
    assert "打印机卡纸</textarea>" in refused.text and 'value="S-NOWHERE"' in refused.text
    assert _calls(demo[0]) == before


def test_the_rma_pages_offer_only_the_steps_allowed_now_and_tell_its_story(
    demo: tuple[Database, Flask], dispatcher: FlaskClient
) -> None:
    listed = dispatcher.get("/rmas", query_string={"status": "requested"})
    assert "RMA-000002" in listed.text and "RMA-000001" not in listed.text
    page = dispatcher.get("/rmas/RMA-000002")
    offered = re.findall(r'id="step-(\w+)"', page.text)
    assert offered == ["authorize", "reject"]

    early = dispatcher.post(
        "/rmas/RMA-000002/receive",
        data={"csrf_token": csrf_token(page.text), "serial": "EQ-0002", "location": "REPAIR-SH"},
    )
    assert early.status_code == 409 and "that step cannot be taken" in early.text
    authorized = dispatcher.post(
        "/rmas/RMA-000002/authorize",
        data={"csrf_token": csrf_token(page.text), "note": "客户电话确认"},
    )

    assert authorized.status_code == 302
    story = dispatcher.get("/rmas/RMA-000002")
    assert "RMA-000002 is now authorized." in story.text
    assert re.findall(r'id="step-(\w+)"', story.text) == ["receive"]
    assert re.search(
        r"<strong>authorized</strong>\s*· <span translate=\"no\">dispatch</span>", story.text
    )
    with demo[0].unit_of_work(write=False) as session:
        rma = session.get(Rma, 2)
        assert rma is not None and [s.status for s in rma.steps] == ["requested", "authorized"]


def test_the_board_fetches_its_open_calls_again_and_links_each_engineers_day(
    demo: tuple[Database, Flask], dispatcher: FlaskClient
) -> None:
    board = dispatcher.get("/board")
    source = re.search(r'data-source="([^"]+)"', board.text)
    assert source is not None and 'data-refresh="15.0"' in board.text
    assert 'href="/engineers/E-WANG/day"' in board.text

    with demo[0].unit_of_work(write=False) as session:
        busy = session.scalars(select(Call).where(Call.engineer_id.is_not(None))).first()
        assert busy is not None and busy.engineer is not None
        code, name, call_id = busy.engineer.code, busy.engineer.name, busy.id
    day = dispatcher.get(f"/engineers/{code}/day")
    assert re.search(re.escape(name) + r"(&#39;|')s route", day.text) and "My route" not in day.text
    assert f'href="/board/calls/{call_id}"' in day.text
    assert 'href="#"' not in day.text

    fragment = dispatcher.get(source[1].replace("&amp;", "&"))
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert re.search(r'data-call="\d+"', fragment.text)


def test_the_plan_reads_at_a_glance(demo: tuple[Database, Flask], dispatcher: FlaskClient) -> None:
    board = dispatcher.get("/board")
    planned = dispatcher.post(
        "/board/plans", data={"csrf_token": csrf_token(board.text), "day": "2026-12-02"}
    )
    assert planned.status_code == 302
    database = demo[0]
    with database.unit_of_work() as session:
        plan = session.scalars(select(DayPlan).order_by(DayPlan.id.desc())).first()
        assert plan is not None
        stop = session.scalars(select(PlanStop).where(PlanStop.kind == "call").limit(1)).one()
        other = session.scalars(
            select(Call).where(Call.site_id == stop.call.site_id, Call.id != stop.call_id)
        ).first()
        assert other is not None
        # The same site has a call left out beside the planned one.
        session.add(
            PlanUnassigned(plan_id=plan.id, call_id=other.id, reason="no room left in any route")
        )
        customer = stop.call.site.customer.name
    shown = dispatcher.get("/board").text

    assert "HaversineSource" not in shown
    assert "travel times estimated from straight-line distances" in shown
    assert 'id="legend"' in shown
    site = re.search(
        r'<g class="mark site[^"]*"[^>]*data-detail="([^"]*)">\s*<circle[^>]*stroke="([^"]+)"',
        shown,
    )
    marks = re.findall(
        r'<g class="mark site[^"]*"[^>]*data-detail="([^"]*)">\s*<circle[^>]*stroke="([^"]+)"',
        shown,
    )
    together = [stroke for detail, stroke in marks if "left out" in detail and "at call" in detail]
    assert site is not None and together, "the site with both calls is drawn once"
    assert all(stroke != "#b3261e" for stroke in together), "drawn as planned, not left out"
    labels = re.findall(
        r'<text x="[^"]+" y="[^"]+" font-size="11" fill="#fff"[^>]*>([^<]+)</text>', shown
    )
    assert any(customer[:2] in label for label in labels), labels
