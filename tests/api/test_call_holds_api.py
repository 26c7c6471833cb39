"""Pausing and resuming a call's SLA clocks (R22) on the 2026 calendar: paused working time
moves the deadlines still running; every pause and resume is kept and audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from partsvc.auth.identity import issue_token
from partsvc.auth.models import User


def utc(text: str) -> str:
    """An instant written in Shanghai time, as the API answers it (UTC)."""
    return datetime.fromisoformat(text).astimezone(UTC).isoformat()


@pytest.fixture
def desk(client, auth, session):
    admin = auth["admin"]
    body = {"code": "C-H", "name": "华东精密", "tier": "silver"}
    assert client.post("/api/v1/customers", json=body, headers=admin).status_code == 201
    site = {"code": "S-H", "customer": "C-H", "address": "上海", "lat": 31.2, "lon": 121.5}
    assert client.post("/api/v1/sites", json=site, headers=admin).status_code == 201
    engineer = {"code": "E-H", "name": "E-H", "home_lat": 31.2, "home_lon": 121.4}
    assert client.post("/api/v1/engineers", json=engineer, headers=admin).status_code == 201
    user = session.scalar(select(User).where(User.username == "e-h"))
    session.commit()
    return {
        "dispatcher": auth["dispatcher"],
        "admin": admin,
        "E-H": {"Authorization": f"Bearer {issue_token(session, user)}"},
    }


def at(clock, local: str) -> None:
    clock.now = datetime.fromisoformat(local).astimezone(UTC)


def report(client, desk, priority="P2"):
    answer = client.post(
        "/api/v1/calls", json={"site": "S-H", "priority": priority}, headers=desk["dispatcher"]
    )
    assert answer.status_code == 201, answer.json
    return answer.json


def post(client, headers, call, action, **body):
    return client.post(f"/api/v1/calls/{call['id']}/{action}", json=body, headers=headers)


def shown(client, desk, call):
    return client.get(f"/api/v1/calls/{call['id']}", headers=desk["dispatcher"]).json


def states(call):
    return {d["deadline"]: d["state"] for d in call["deadlines"]}


def test_a_p2_paused_an_hour_on_friday_is_due_an_hour_later_after_the_weekend(client, desk, clock):
    at(clock, "2026-11-27T15:00:00+08:00")  # a Friday
    call = report(client, desk)
    # Unpaused: on site by 17:00; fixed in 12 working hours, Friday 3 and Monday 9.
    assert call["onsite_due"] == utc("2026-11-27T17:00:00+08:00")
    assert call["resolve_due"] == utc("2026-11-30T18:00:00+08:00")
    at(clock, "2026-11-27T15:05:00+08:00")
    assigned = post(client, desk["dispatcher"], call, "status", status="assigned", engineer="E-H")
    assert assigned.status_code == 200, assigned.json

    at(clock, "2026-11-27T16:00:00+08:00")
    paused = post(
        client, desk["E-H"], call, "pause", reason="customer_asked_to_wait", note="开会中"
    )
    assert paused.status_code == 200, paused.json
    assert paused.json["on_hold"]["reason"] == "customer_asked_to_wait"
    assert paused.json["on_hold"]["paused_at"] == utc("2026-11-27T16:00:00+08:00")
    at(clock, "2026-11-27T17:30:00+08:00")  # past the on-site deadline, but paused
    held = shown(client, desk, call)
    assert states(held)["onsite"] == "open" and held["flag"] is None
    missed = client.get(
        "/api/v1/calls", query_string={"flag": "missed"}, headers=desk["dispatcher"]
    )
    assert missed.json["items"] == []
    refused = post(client, desk["E-H"], call, "status", status="en_route")
    assert refused.status_code == 409
    assert "resume it" in refused.json["detail"]

    resumed = post(
        client, desk["E-H"], call, "resume", at="2026-11-27T17:00:00+08:00", note="客户回来了"
    )
    assert resumed.status_code == 200, resumed.json
    body = resumed.json
    assert body["on_hold"] is None
    assert body["response_due"] == call["response_due"]  # met before the pause
    assert body["onsite_due"] == utc("2026-11-27T18:00:00+08:00")
    assert body["resolve_due"] == utc("2026-12-01T10:00:00+08:00")  # Tuesday, one hour on
    assert [(h["reason"], h["paused_working_minutes"], h["note"]) for h in body["holds"]] == [
        ("customer_asked_to_wait", 60, "开会中")
    ]
    assert body["holds"][0]["resumed_at"] == utc("2026-11-27T17:00:00+08:00")
    assert states(body)["onsite"] == "near"  # 17:30, due 18:00: running again, and near

    events = client.get(
        "/api/v1/audit", query_string={"subject": f"call:{call['id']}"}, headers=desk["admin"]
    ).json["items"]
    pauses = [(e["action"], e["username"]) for e in events if e["action"].startswith("call.")]
    assert pauses[-2:] == [("call.paused", "e-h"), ("call.resumed", "e-h")]
    resumed_event = next(e for e in events if e["action"] == "call.resumed")
    assert resumed_event["details"]["paused_working_minutes"] == 60
    assert resumed_event["details"]["deadlines"]["resolve"] == {
        "from": utc("2026-11-30T18:00:00+08:00"),
        "to": utc("2026-12-01T10:00:00+08:00"),
    }


def test_a_pause_over_a_make_up_saturday_counts_the_saturday_as_working_time(client, desk, clock):
    at(clock, "2026-05-08T16:00:00+08:00")  # Friday; Saturday 9 May 2026 is a working day
    call = report(client, desk)
    # 12 working hours: Friday 2, the make-up Saturday 9, Monday 1.
    assert call["resolve_due"] == utc("2026-05-11T10:00:00+08:00")
    at(clock, "2026-05-08T17:00:00+08:00")
    paused = post(client, desk["dispatcher"], call, "pause", reason="customer_not_available")
    assert paused.status_code == 200, paused.json
    at(clock, "2026-05-11T09:30:00+08:00")
    resumed = post(client, desk["dispatcher"], call, "resume")
    assert resumed.status_code == 200, resumed.json
    # Paused: Friday 1 hour, Saturday 9, Monday half an hour = 10.5 working hours.
    assert resumed.json["holds"][0]["paused_working_minutes"] == 630
    assert resumed.json["resolve_due"] == utc("2026-05-12T11:30:00+08:00")


def test_pausing_twice_adds_both_pauses_and_a_second_pause_at_once_is_refused(client, desk, clock):
    at(clock, "2026-11-27T15:00:00+08:00")
    call = report(client, desk)
    post(client, desk["dispatcher"], call, "status", status="assigned", engineer="E-H")
    for start, end in (("16:00", "16:30"), ("17:00", "17:30")):
        at(clock, f"2026-11-27T{start}:00+08:00")
        first = post(client, desk["dispatcher"], call, "pause", reason="awaiting_customer_approval")
        assert first.status_code == 200, first.json
        again = post(client, desk["dispatcher"], call, "pause", reason="customer_not_available")
        assert again.status_code == 409
        assert again.content_type == "application/problem+json"
        at(clock, f"2026-11-27T{end}:00+08:00")
        assert post(client, desk["dispatcher"], call, "resume").status_code == 200
    final = shown(client, desk, call)
    assert [h["paused_working_minutes"] for h in final["holds"]] == [30, 30]
    assert final["resolve_due"] == utc("2026-12-01T10:00:00+08:00")


def test_resuming_a_call_that_is_not_paused_is_409(client, desk, clock):
    call = report(client, desk)
    answer = post(client, desk["dispatcher"], call, "resume")
    assert answer.status_code == 409
    assert answer.content_type == "application/problem+json"
    assert "not on hold" in answer.json["detail"]
    assert shown(client, desk, call)["holds"] == []


def test_waiting_for_parts_is_no_reason_to_pause(client, desk, clock):
    call = report(client, desk)
    for reason in ("waiting_for_parts", "", None):
        answer = post(client, desk["dispatcher"], call, "pause", reason=reason)
        assert answer.status_code == 422, reason
    assert shown(client, desk, call)["on_hold"] is None
