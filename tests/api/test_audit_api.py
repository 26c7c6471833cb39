"""The audit trail: every write but a move leaves one event, read by admins only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from partsvc.audit.models import AuditEvent
from partsvc.core.errors import Conflict
from tests.api.conftest import serial_receipt


@pytest.fixture
def floor(client, auth, post_as_admin):
    """A warehouse with a loaner, a site, an engineer, and a call assigned to them."""
    post = post_as_admin

    post("/api/v1/locations", {"code": "WH-A", "name": "Main", "kind": "warehouse"})
    post("/api/v1/locations", {"code": "V-A", "name": "Vendor", "kind": "vendor"})
    post("/api/v1/parts", {"sku": "LOAN-A", "name": "Loaner", "serialized": True, "loaner": True})
    post("/api/v1/moves", serial_receipt("LOAN-A", ["LA-1"], "V-A", "WH-A"))
    post("/api/v1/customers", {"code": "C-A", "name": "Customer"})
    post(
        "/api/v1/sites",
        {"code": "S-A", "customer": "C-A", "address": "1 Road", "lat": 31.2, "lon": 121.4},
    )
    post("/api/v1/engineers", {"code": "E-A", "name": "Eng", "home_lat": 31.2, "home_lon": 121.4})
    call = post("/api/v1/calls", {"site": "S-A", "priority": "P2"})
    # a 10-day loan, so a dispatcher may extend it within R11's 15 days from the day out
    policy = {"loan_days": 10, "max_days": 15, "due_soon_days": 2}
    answer = client.put("/api/v1/loan-policy", json=policy, headers=auth["admin"])
    assert answer.status_code == 200
    loan = post("/api/v1/loans", {"serial": "LA-1", "site": "S-A", "engineer": "E-A"})
    return {"call": call["id"], "loan": loan["id"]}


def _events(session, **where):
    session.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    for column, value in where.items():
        query = query.where(getattr(AuditEvent, column) == value)
    return list(session.scalars(query))


def _last_id(session):
    return session.scalar(select(func.max(AuditEvent.id))) or 0


# (role, method, path, body, action, subject kind, subject key or None to skip)
WRITES = [
    (
        "dispatcher",
        "POST",
        "/api/v1/calls/{call}/status",
        {"status": "assigned", "engineer": "E-A"},
        "call.status_changed",
        "call",
        "{call}",
    ),
    (
        "dispatcher",
        "POST",
        "/api/v1/loans/{loan}/extensions",
        {"days": 3, "reason": "Repair late"},
        "loan.extended",
        "loan",
        "{loan}",
    ),
    (
        "admin",
        "POST",
        "/api/v1/loans/{loan}/extensions",
        {"days": 60, "reason": "Customer waits for a board", "override": True},
        "loan.extension_overridden",
        "loan",
        "{loan}",
    ),
    (
        "admin",
        "PUT",
        "/api/v1/sla-policy/gold/P1",
        {"response_minutes": 10, "onsite_minutes": 120, "resolve_minutes": 480},
        "sla_policy.changed",
        "sla_target",
        "gold/P1",
    ),
    (
        "admin",
        "PUT",
        "/api/v1/sla-policy/part-requests",
        {"working_minutes": 300},
        "sla_policy.changed",
        "sla_target",
        "part_request",
    ),
    (
        "admin",
        "PUT",
        "/api/v1/loan-policy",
        {"loan_days": 20, "max_days": 40, "due_soon_days": 2},
        "loan_policy.changed",
        "loan_policy",
        None,
    ),
    (
        "admin",
        "PUT",
        "/api/v1/calendar/days/2026-12-24",
        {"working": False, "note": "Party"},
        "calendar_day.set",
        "calendar_day",
        "2026-12-24",
    ),
    (
        "clerk",
        "POST",
        "/api/v1/parts",
        {"sku": "NEW-A", "name": "Belt"},
        "POST /api/v1/parts",
        "parts",
        "NEW-A",
    ),
    (
        "dispatcher",
        "POST",
        "/api/v1/customers",
        {"code": "C-NEW", "name": "New"},
        "POST /api/v1/customers",
        "customers",
        "C-NEW",
    ),
    ("clerk", "POST", "/api/v1/tokens", {"name": "scanner"}, "token.issued", "token", None),
]


@pytest.mark.parametrize(
    "role, method, path, body, action, kind, key", WRITES, ids=[w[4] + " " + w[2] for w in WRITES]
)
def test_each_kind_of_write_leaves_exactly_one_event_signed_by_the_caller(
    client, auth, session, floor, role, method, path, body, action, kind, key
):
    before = _last_id(session)
    answer = client.open(path.format(**floor), method=method, json=body, headers=auth[role])
    assert 200 <= answer.status_code < 300, answer.json
    events = [e for e in _events(session) if e.id > before]
    assert [(e.action, e.username, e.subject_kind) for e in events] == [
        (action, f"test-{role}", kind)
    ]
    if key is not None:
        assert events[0].subject_key == key.format(**floor)
    assert events[0].client == "127.0.0.1"


def test_a_status_change_says_from_what_to_what(client, auth, session, floor):
    client.post(
        f"/api/v1/calls/{floor['call']}/status",
        json={"status": "assigned", "engineer": "E-A"},
        headers=auth["dispatcher"],
    )
    (event,) = _events(session, action="call.status_changed")
    assert event.details["from"] == "new"
    assert event.details["to"] == "assigned"
    assert event.details["engineer"] == "E-A"


def test_a_general_event_names_the_route_and_what_was_created(client, auth, session):
    answer = client.post("/api/v1/parts", json={"sku": "P-GEN", "name": "x"}, headers=auth["admin"])
    assert answer.status_code == 201
    (event,) = _events(session, action="POST /api/v1/parts")
    assert event.details == {
        "method": "POST",
        "route": "/api/v1/parts",
        "args": {},
        "created": "/api/v1/parts/P-GEN",
    }
    assert event.user_id is not None


def test_removing_a_calendar_day_is_audited(client, auth, session):
    day = "/api/v1/calendar/days/2026-12-25"
    client.put(day, json={"working": False}, headers=auth["admin"])
    assert client.delete(day, headers=auth["admin"]).status_code == 204
    (event,) = _events(session, action="calendar_day.removed")
    assert event.subject_key == "2026-12-25"


def test_a_refused_request_leaves_no_event(client, auth, session, floor):
    before = _last_id(session)
    bad = client.post("/api/v1/parts", json={"sku": "", "name": "x"}, headers=auth["clerk"])
    assert bad.status_code == 422
    wrong = client.post(
        f"/api/v1/calls/{floor['call']}/status", json={"status": "closed"}, headers=auth["admin"]
    )
    assert wrong.status_code == 409
    forbidden = client.put("/api/v1/loan-policy", json={}, headers=auth["clerk"])
    assert forbidden.status_code == 403
    assert _last_id(session) == before


def test_a_write_that_rolls_back_after_its_event_leaves_no_event(
    client, auth, session, floor, monkeypatch
):
    def fail(*args, **kwargs):
        raise Conflict("Something went wrong after the event was recorded.")

    monkeypatch.setattr("partsvc.calls.calls.record_status", fail)
    before = _last_id(session)
    answer = client.post(
        f"/api/v1/calls/{floor['call']}/status",
        json={"status": "assigned", "engineer": "E-A"},
        headers=auth["admin"],
    )
    assert answer.status_code == 409
    assert _last_id(session) == before


def test_moves_are_their_own_audit_and_leave_no_event(client, auth, session, floor):
    before = _last_id(session)
    answer = client.post(
        "/api/v1/moves",
        json={
            "sku": "LOAN-A",
            "qty": 1,
            "from": "V-A",
            "to": "WH-A",
            "reason": "receipt",
            "serials": ["LA-2"],
        },
        headers=auth["clerk"],
    )
    assert answer.status_code == 201, answer.json
    assert _last_id(session) == before


def test_an_idempotent_replay_leaves_no_second_event(client, auth, session):
    headers = {**auth["clerk"], "Idempotency-Key": "audit-once"}
    body = {"sku": "P-ONCE", "name": "Once"}
    assert client.post("/api/v1/parts", json=body, headers=headers).status_code == 201
    replay = client.post("/api/v1/parts", json=body, headers=headers)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert len(_events(session, action="POST /api/v1/parts")) == 1


def test_planning_a_day_is_audited_once_though_it_runs_its_own_transactions(
    client, auth, session, floor
):
    answer = client.post(
        "/api/v1/plans", json={"date": "2026-11-20", "time_limit_s": 0.5}, headers=auth["admin"]
    )
    assert answer.status_code == 201, answer.json
    (event,) = _events(session, action="plan.created")
    assert (event.username, event.subject_key) == ("test-admin", str(answer.json["id"]))
    assert event.client == "127.0.0.1"


def test_only_admins_read_the_audit_trail(client, auth):
    for role in ("clerk", "dispatcher", "engineer"):
        answer = client.get("/api/v1/audit", headers=auth[role])
        assert answer.status_code == 403
    assert client.get("/api/v1/audit").status_code == 401
    assert client.get("/api/v1/audit", headers=auth["admin"]).status_code == 200


def test_admins_filter_the_audit_by_actor_action_subject_and_time(
    client, auth, session, clock, floor
):
    start = clock.now
    clock.advance(hours=1)
    client.post("/api/v1/parts", json={"sku": "P-F1", "name": "x"}, headers=auth["clerk"])
    client.post(
        f"/api/v1/calls/{floor['call']}/status",
        json={"status": "assigned", "engineer": "E-A"},
        headers=auth["dispatcher"],
    )
    admin = auth["admin"]

    def read(**query):
        answer = client.get("/api/v1/audit", query_string=query, headers=admin)
        assert answer.status_code == 200, answer.json
        return [(e["username"], e["action"]) for e in answer.json["items"]]

    assert read(actor="test-clerk") == [("test-clerk", "POST /api/v1/parts")]
    assert read(action="call.status_changed") == [("test-dispatcher", "call.status_changed")]
    assert read(subject=f"call:{floor['call']}") == [("test-dispatcher", "call.status_changed")]
    assert read(subject="call:0") == []
    later = (start + timedelta(hours=1)).isoformat()
    assert len(read(since=later)) == 2
    assert ("test-clerk", "POST /api/v1/parts") not in read(until=later)
    assert read(until=later)  # the floor was laid out before


def test_the_audit_is_paged_like_other_lists(client, auth):
    for n in range(3):
        client.post("/api/v1/parts", json={"sku": f"P-PG{n}", "name": "x"}, headers=auth["clerk"])
    query = {"actor": "test-clerk", "limit": 2}
    first = client.get("/api/v1/audit", query_string=query, headers=auth["admin"]).json
    assert len(first["items"]) == 2 and first["next"]
    second = client.get(
        "/api/v1/audit", query_string={**query, "cursor": first["next"]}, headers=auth["admin"]
    ).json
    assert [e["subject_key"] for e in first["items"] + second["items"]] == [
        "P-PG0",
        "P-PG1",
        "P-PG2",
    ]
    assert second["next"] is None


def test_a_bad_audit_filter_is_a_422(client, auth):
    answer = client.get("/api/v1/audit", query_string={"since": "yesterday"}, headers=auth["admin"])
    assert answer.status_code == 422
    assert answer.content_type == "application/problem+json"


def test_no_endpoint_edits_or_deletes_the_audit_trail(app):
    methods = {
        method
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/audit")
        for method in rule.methods
    }
    assert methods <= {"GET", "HEAD", "OPTIONS"}
