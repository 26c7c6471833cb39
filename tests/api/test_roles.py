"""Every role against every stock endpoint: allowed and answered, or 401/403.

The table below is the policy, written out by hand; the app must match it, and every
API endpoint the app serves must appear in it (default deny is checked too).
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select, update

from partsvc.auth.models import User
from partsvc.calls.models import Engineer
from partsvc.workflows.plan_jobs import PlanJob

ALL = {"admin", "clerk", "dispatcher", "engineer"}
WRITERS = {"admin", "clerk"}
LEDGER = {"admin", "clerk", "dispatcher"}
PLANNERS = {"admin", "dispatcher"}

# (method, path template, who may call it, expected success status)
POLICY = [
    ("GET", "/api/v1/parts", ALL, 200),
    ("POST", "/api/v1/parts", WRITERS, 201),
    ("GET", "/api/v1/parts/{sku}", ALL, 200),
    ("GET", "/api/v1/locations", ALL, 200),
    ("POST", "/api/v1/locations", WRITERS, 201),
    ("GET", "/api/v1/locations/{code}", ALL, 200),
    ("GET", "/api/v1/moves", LEDGER, 200),
    ("POST", "/api/v1/moves", WRITERS, 201),
    ("GET", "/api/v1/moves/{move_id}", LEDGER, 200),
    ("POST", "/api/v1/moves/{move_id}/reversal", WRITERS, 201),
    ("GET", "/api/v1/stock", ALL, 200),
    ("GET", "/api/v1/serials/{serial}", ALL, 200),
    ("POST", "/api/v1/counts", WRITERS, 201),
    ("GET", "/api/v1/counts/{count_id}", WRITERS, 200),
    ("POST", "/api/v1/customers", PLANNERS, 201),
    ("GET", "/api/v1/customers/{customer}", ALL, 200),
    ("PUT", "/api/v1/customers/{customer}/contract", PLANNERS, 200),
    ("POST", "/api/v1/sites", PLANNERS, 201),
    ("GET", "/api/v1/sites/{site}", ALL, 200),
    ("PATCH", "/api/v1/sites/{site}", PLANNERS, 200),
    ("POST", "/api/v1/engineers", PLANNERS, 201),
    ("GET", "/api/v1/engineers/{engineer}", ALL, 200),
    ("GET", "/api/v1/engineers/{engineer}/day", ALL, 200),
    ("GET", "/api/v1/engineers/{engineer}/day.pdf", {"admin", "dispatcher", "engineer"}, 200),
    ("GET", "/api/v1/calls/{call_id}/service-record.pdf", {"admin", "dispatcher", "engineer"}, 200),
    ("GET", "/api/v1/loans/{loan_id}/agreement.pdf", ALL, 200),
    ("GET", "/api/v1/rmas/{rma}/authorization.pdf", LEDGER, 200),
    ("GET", "/api/v1/vendor-orders/{number}.pdf", WRITERS, 200),
    ("GET", "/api/v1/reports/monthly.pdf", {"admin"}, 200),
    ("POST", "/api/v1/equipment", PLANNERS, 201),
    ("GET", "/api/v1/equipment/{equipment}", ALL, 200),
    ("POST", "/api/v1/calls", PLANNERS, 201),
    ("GET", "/api/v1/calls", ALL, 200),
    ("GET", "/api/v1/calls/{call_id}", ALL, 200),
    ("PATCH", "/api/v1/calls/{call_id}", PLANNERS, 200),
    ("POST", "/api/v1/calls/{call_id}/status", ALL - {"clerk"}, 200),
    ("POST", "/api/v1/calls/{call_id}/completion", ALL - {"clerk"}, 201),
    ("POST", "/api/v1/calls/{call_id}/pause", ALL - {"clerk"}, 200),
    ("POST", "/api/v1/calls/{call_id}/resume", ALL - {"clerk"}, 200),
    ("POST", "/api/v1/calls/{call_id}/satisfaction", PLANNERS, 200),
    ("POST", "/api/v1/calls/{call_id}/priority", PLANNERS, 200),
    ("POST", "/api/v1/equipment/{equipment}/label", PLANNERS, 201),
    ("DELETE", "/api/v1/equipment/{equipment}/label", PLANNERS, 204),
    ("GET", "/api/v1/equipment/{equipment}/label.pdf", PLANNERS, 200),
    ("GET", "/api/v1/sites/{site}/labels.pdf", PLANNERS, 200),
    ("GET", "/api/v1/customers/{customer}/labels.pdf", PLANNERS, 200),
    ("GET", "/api/v1/sla-policy", ALL, 200),
    ("PUT", "/api/v1/sla-policy/{tier}/{priority}", {"admin"}, 200),
    ("GET", "/api/v1/calendar", ALL, 200),
    ("PUT", "/api/v1/calendar/days/{day}", {"admin"}, 200),
    ("DELETE", "/api/v1/calendar/days/{day}", {"admin"}, 204),
    ("GET", "/api/v1/reorder-rules", LEDGER, 200),
    ("PUT", "/api/v1/reorder-rules/{sku}/{location}", WRITERS, 200),
    ("DELETE", "/api/v1/reorder-rules/{sku}/{location}", WRITERS, 204),
    ("GET", "/api/v1/reorder-suggestions", LEDGER, 200),
    ("POST", "/api/v1/reorder-suggestions/orders", WRITERS, 201),
    ("GET", "/api/v1/loans", ALL, 200),
    ("POST", "/api/v1/loans", ALL, 201),
    ("GET", "/api/v1/loans/{loan_id}", ALL, 200),
    ("POST", "/api/v1/loans/{loan_id}/extensions", PLANNERS, 201),
    ("POST", "/api/v1/loans/{loan_id}/return", ALL, 200),
    ("GET", "/api/v1/loaner-reservations", ALL, 200),
    ("POST", "/api/v1/loaner-reservations", PLANNERS, 201),
    ("POST", "/api/v1/loaner-reservations/{reservation_id}/release", PLANNERS, 200),
    ("GET", "/api/v1/loan-policy", ALL, 200),
    ("POST", "/api/v1/plans", PLANNERS, 201),
    ("GET", "/api/v1/plans/{plan_id}", PLANNERS, 200),
    ("POST", "/api/v1/plans/{plan_id}/publish", PLANNERS, 200),
    ("POST", "/api/v1/plans/{plan_id}/candidates", PLANNERS, 200),
    ("POST", "/api/v1/plans/{plan_id}/assign", PLANNERS, 200),
    ("POST", "/api/v1/plans/{plan_id}/stops/{stop_id}/collect", ALL, 200),
    ("GET", "/api/v1/plan-jobs/{job_id}", PLANNERS, 200),
    ("PUT", "/api/v1/loan-policy", {"admin"}, 200),
    ("GET", "/api/v1/rmas", ALL, 200),
    ("POST", "/api/v1/rmas", LEDGER, 201),
    ("GET", "/api/v1/rmas/{rma}", ALL, 200),
    # a new RMA is authorized or rejected; any later step is out of order (409) for it
    ("POST", "/api/v1/rmas/{rma}/authorize", LEDGER, 200),
    ("POST", "/api/v1/rmas/{rma}/reject", LEDGER, 200),
    ("POST", "/api/v1/rmas/{rma}/receive", LEDGER, 409),
    ("POST", "/api/v1/rmas/{rma}/diagnose", LEDGER, 409),
    ("POST", "/api/v1/rmas/{rma}/repair", LEDGER, 409),
    ("POST", "/api/v1/rmas/{rma}/complete", LEDGER, 409),
    ("POST", "/api/v1/rmas/{rma}/ship", LEDGER, 409),
    ("POST", "/api/v1/rmas/{rma}/close", LEDGER, 409),
    ("GET", "/api/v1/part-requests", ALL, 200),
    ("POST", "/api/v1/part-requests", ALL, 201),
    ("GET", "/api/v1/part-requests/{request_id}", ALL, 200),
    ("POST", "/api/v1/part-requests/{request_id}/issue", WRITERS, 200),
    ("POST", "/api/v1/part-requests/{request_id}/cancel", LEDGER, 200),
    ("GET", "/api/v1/vendor-orders", LEDGER, 200),
    ("POST", "/api/v1/vendor-orders", WRITERS, 201),
    ("GET", "/api/v1/vendor-orders/{number}", LEDGER, 200),
    ("PATCH", "/api/v1/vendor-orders/{number}/lines/{line_id}", WRITERS, 200),
    ("POST", "/api/v1/vendor-orders/{number}/receipts", WRITERS, 201),
    ("POST", "/api/v1/vendor-orders/{number}/send", WRITERS, 200),
    ("POST", "/api/v1/vendor-orders/{number}/cancel", WRITERS, 200),
    ("POST", "/api/v1/vendor-orders/{number}/close", WRITERS, 200),
    ("POST", "/api/v1/vendor-orders/{number}/receipts/{receipt_id}/reversal", WRITERS, 201),
    ("GET", "/api/v1/sla-policy/part-requests", ALL, 200),
    ("PUT", "/api/v1/sla-policy/part-requests", {"admin"}, 200),
    ("GET", "/api/v1/audit", {"admin"}, 200),
    ("GET", "/api/v1/tokens", ALL, 200),
    ("POST", "/api/v1/tokens", ALL, 201),
    ("POST", "/api/v1/tokens/{token_id}/revoke", ALL, 200),
    ("GET", "/api/v1/webhooks", {"admin"}, 200),
    ("POST", "/api/v1/webhooks", {"admin"}, 201),
    ("GET", "/api/v1/webhooks/{subscription_id}", {"admin"}, 200),
    ("DELETE", "/api/v1/webhooks/{subscription_id}", {"admin"}, 204),
    ("GET", "/api/v1/webhooks/{subscription_id}/deliveries", {"admin"}, 200),
    ("POST", "/api/v1/imports/parts", WRITERS, 201),
    ("POST", "/api/v1/imports/customer-file/{kind}", {"admin", "dispatcher"}, 201),
    ("GET", "/api/v1/exports/customer-file/{kind}", {"admin", "dispatcher"}, 200),
    ("POST", "/api/v1/imports/stock", WRITERS, 201),
]


def _put_the_call_on_site(client, auth, world):
    for status in ["en_route", "on_site"]:
        answer = client.post(
            f"/api/v1/calls/{world['call_id']}/status",
            json={"status": status},
            headers=auth["admin"],
        )
        assert answer.status_code == 200, answer.json


def _pause_the_call(client, auth, world):
    answer = client.post(
        f"/api/v1/calls/{world['call_id']}/pause",
        json={"reason": "customer_not_available"},
        headers=auth["admin"],
    )
    assert answer.status_code == 200, answer.json


def _close_the_call(client, auth, world):
    _put_the_call_on_site(client, auth, world)
    answer = client.post(
        f"/api/v1/calls/{world['call_id']}/completion",
        json=bodies("/api/v1/calls/{call_id}/completion", 0),
        headers=auth["admin"],
    )
    assert answer.status_code == 201, answer.json
    answer = client.post(
        f"/api/v1/calls/{world['call_id']}/status", json={"status": "closed"}, headers=auth["admin"]
    )
    assert answer.status_code == 200, answer.json


def _send_the_order(client, auth, world):
    answer = client.post(f"/api/v1/vendor-orders/{world['number']}/send", headers=auth["admin"])
    assert answer.status_code == 200, answer.json


def _receive_part_of_the_order(client, auth, world):
    _send_the_order(client, auth, world)
    answer = client.post(
        f"/api/v1/vendor-orders/{world['number']}/receipts",
        json={"location": "WH-R", "lines": [{"line": world["line_id"], "qty": 1}]},
        headers=auth["admin"],
    )
    assert answer.status_code == 201, answer.json
    world["receipt_id"] = answer.json["id"]


class _OneJob:
    """A planning queue holding one queued job (the roles need no Redis)."""

    def find(self, job_id):
        return PlanJob(
            id=job_id,
            day=date(2026, 11, 20),
            status="queued",
            progress=0.0,
            plan_id=None,
            problem=None,
            worker=None,
            queued_at=None,
            started_at=None,
            ended_at=None,
        )


def _queue_a_plan(client, auth, world):
    client.application.extensions["partsvc.plan_queue"] = _OneJob()


def _plan_the_day(client, auth, world):
    """A draft plan of the test day, and a new call it does not hold yet."""
    answer = client.post(
        "/api/v1/plans", json={"date": "2026-11-20", "time_limit_s": 0.5}, headers=auth["admin"]
    )
    assert answer.status_code == 201, answer.json
    world["plan_id"] = answer.json["id"]
    call = client.post(
        "/api/v1/calls", json={"site": "S-R", "priority": "P1"}, headers=auth["admin"]
    )
    assert call.status_code == 201, call.json
    world["new_call_id"] = call.json["id"]


def _publish_a_pickup(client, auth, world):
    """A published plan of the test day whose route (E-R's) starts with a pick-up."""
    admin = auth["admin"]
    for path, body in [
        (
            "/api/v1/locations",
            {"code": "WH-P", "name": "North", "kind": "warehouse", "lat": 31.21, "lon": 121.41},
        ),
        (
            "/api/v1/moves",
            {"sku": "P-R", "qty": 5, "from": "V-R", "to": "WH-P", "reason": "receipt"},
        ),
        ("/api/v1/calls", {"site": "S-R", "priority": "P2", "parts": [{"sku": "P-R", "qty": 1}]}),
    ]:
        answer = client.post(path, json=body, headers=admin)
        assert answer.status_code == 201, answer.json
    answer = client.post(
        "/api/v1/plans", json={"date": "2026-11-20", "time_limit_s": 0.5}, headers=admin
    )
    assert answer.status_code == 201, answer.json
    world["plan_id"] = answer.json["id"]
    published = client.post(f"/api/v1/plans/{world['plan_id']}/publish", headers=admin)
    assert published.status_code == 200, published.json
    stops = [s for r in published.json["routes"] for s in r["stops"] if s["kind"] == "pickup"]
    world["stop_id"] = stops[0]["id"]


def _label_the_unit(client, auth, world):
    issued = client.post(f"/api/v1/equipment/{world['equipment']}/label", headers=auth["admin"])
    assert issued.status_code == 201, issued.json


# What an endpoint needs done first.
PREPARE = {
    "/api/v1/equipment/{equipment}/label.pdf": _label_the_unit,
    "/api/v1/sites/{site}/labels.pdf": _label_the_unit,
    "/api/v1/customers/{customer}/labels.pdf": _label_the_unit,
    "/api/v1/plans/{plan_id}/stops/{stop_id}/collect": _publish_a_pickup,
    "/api/v1/plans/{plan_id}": _plan_the_day,
    "/api/v1/plan-jobs/{job_id}": _queue_a_plan,
    "/api/v1/plans/{plan_id}/publish": _plan_the_day,
    "/api/v1/plans/{plan_id}/candidates": _plan_the_day,
    "/api/v1/plans/{plan_id}/assign": _plan_the_day,
    "/api/v1/calls/{call_id}/completion": _put_the_call_on_site,
    "/api/v1/calls/{call_id}/resume": _pause_the_call,
    "/api/v1/calls/{call_id}/satisfaction": _close_the_call,
    "/api/v1/vendor-orders/{number}/receipts": _send_the_order,
    "/api/v1/vendor-orders/{number}/close": _receive_part_of_the_order,
    "/api/v1/vendor-orders/{number}/receipts/{receipt_id}/reversal": _receive_part_of_the_order,
}

# Query strings the GET endpoints need.
QUERIES = {
    "/api/v1/calendar": {"from": "2026-12-01", "to": "2026-12-31"},
    "/api/v1/engineers/{engineer}/day": {"date": "2026-11-20"},
    "/api/v1/engineers/{engineer}/day.pdf": {"date": "2026-11-20"},
    "/api/v1/reports/monthly.pdf": {"month": "2026-11"},
}

PUBLIC = {"/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/static/<path:filename>"}


@pytest.fixture
def world(client, auth, session, post_as_admin):
    """Data for every endpoint; fresh per test, so each call has something to act on.

    The engineer E-R is the test engineer user, and the call is assigned to them.
    """
    admin = auth["admin"]
    post = post_as_admin

    for code, kind in [("WH-R", "warehouse"), ("VAN-R", "van"), ("V-R", "vendor")]:
        post("/api/v1/locations", {"code": code, "name": code, "kind": kind})
    post("/api/v1/parts", {"sku": "P-R", "name": "Belt"})
    post("/api/v1/parts", {"sku": "S-R", "name": "Loaner", "serialized": True})
    move = post(
        "/api/v1/moves", {"sku": "P-R", "qty": 50, "from": "V-R", "to": "WH-R", "reason": "receipt"}
    )
    post(
        "/api/v1/moves",
        {
            "sku": "S-R",
            "qty": 1,
            "from": "V-R",
            "to": "WH-R",
            "reason": "receipt",
            "serials": ["S-1"],
        },
    )
    count = post("/api/v1/counts", {"location": "WH-R", "lines": [{"sku": "P-R", "counted": 50}]})
    post("/api/v1/customers", {"code": "C-R", "name": "Customer"})
    post(
        "/api/v1/sites",
        {"code": "S-R", "customer": "C-R", "address": "1 Road", "lat": 31.2, "lon": 121.4},
    )
    engineer = {"code": "E-R", "name": "Engineer", "home_lat": 31.2, "home_lon": 121.4}
    post("/api/v1/engineers", engineer)
    post(
        "/api/v1/equipment",
        {"serial": "EQ-R", "sku": "P-R", "site": "S-R", "installed_on": "2026-01-05"},
    )
    session.execute(
        update(Engineer)
        .where(Engineer.code == "E-R")
        .values(user_id=select(User.id).where(User.username == "test-engineer").scalar_subquery())
    )
    session.commit()
    rma = post(
        "/api/v1/rmas",
        {"customer": "C-R", "fault": "Belt slips", "items": [{"sku": "P-R", "qty": 1}]},
    )
    call = post("/api/v1/calls", {"site": "S-R", "priority": "P2"})
    assign = {"status": "assigned", "engineer": "E-R"}
    answer = client.post(f"/api/v1/calls/{call['id']}/status", json=assign, headers=admin)
    assert answer.status_code == 200, answer.json
    day = client.put("/api/v1/calendar/days/2026-12-24", json={"working": False}, headers=admin)
    assert day.status_code == 200, day.json
    order = post(
        "/api/v1/vendor-orders",
        {
            "vendor": "V-R",
            "lines": [{"sku": "P-R", "qty": 5, "eta": "2026-12-01"}],
            "status": "draft",
            "deliver_to": "WH-R",
        },
    )
    post("/api/v1/parts", {"sku": "P-REQ", "name": "Requested part"})
    post(
        "/api/v1/moves",
        {"sku": "P-REQ", "qty": 5, "from": "V-R", "to": "WH-R", "reason": "receipt"},
    )
    request = post(
        "/api/v1/part-requests",
        {"sku": "P-REQ", "qty": 1, "engineer": "E-R", "warehouse": "WH-R"},
    )
    assert request["status"] == "reserved"
    post("/api/v1/parts", {"sku": "LOAN-R", "name": "Loaner", "serialized": True, "loaner": True})
    post(
        "/api/v1/moves",
        {
            "sku": "LOAN-R",
            "qty": 3,
            "from": "V-R",
            "to": "WH-R",
            "reason": "receipt",
            "serials": ["LR-1", "LR-2", "LR-3"],
        },
    )
    # a 10-day loan, so a dispatcher may extend it within R11's 15 days from the day out
    policy = {"loan_days": 10, "max_days": 15, "due_soon_days": 2}
    assert client.put("/api/v1/loan-policy", json=policy, headers=admin).status_code == 200
    loan = post("/api/v1/loans", {"serial": "LR-1", "site": "S-R", "engineer": "E-R"})
    held = post("/api/v1/loaner-reservations", {"call": call["id"], "serial": "LR-2"})
    hook = post(
        "/api/v1/webhooks", {"url": "https://erp.example.com/in", "event_types": ["call.*"]}
    )
    rule = {"reorder_point": 60, "reorder_qty": 10}
    answer = client.put("/api/v1/reorder-rules/P-R/WH-R", json=rule, headers=admin)
    assert answer.status_code == 200, answer.json
    return {
        "rma": rma["number"],
        "loan_id": loan["id"],
        "reservation_id": held["id"],
        "location": "WH-R",
        "number": order["number"],
        "line_id": order["lines"][0]["id"],
        "request_id": request["id"],
        "day": "2026-12-24",
        "tier": "silver",
        "priority": "P2",
        "call_id": call["id"],
        "sku": "P-R",
        "code": "WH-R",
        "move_id": move["id"],
        "serial": "S-1",
        "kind": "customers",
        "count_id": count["id"],
        "customer": "C-R",
        "site": "S-R",
        "engineer": "E-R",
        "equipment": "EQ-R",
        "job_id": "plan-0123456789abcdef",
        "token_id": 1,
        "subscription_id": hook["id"],
    }


# Endpoints whose body is a CSV file, not JSON.
CSV_BODIES = {
    "/api/v1/imports/parts": lambda n: f"sku,name,name_zh\nIMP-{n},Imported part,导入零件\n",
    "/api/v1/imports/stock": lambda n: "sku,location,qty\nP-R,VAN-R,3\n",
    "/api/v1/imports/customer-file/{kind}": lambda n: (
        f"code,name,tier,contract_starts_on\nCF-{n},Imported customer,silver,2024-01-01\n"
    ),
}


def bodies(path: str, n: int) -> dict:
    return {
        "/api/v1/parts": {"sku": f"NEW-{n}", "name": "New part"},
        "/api/v1/locations": {"code": f"NEW-{n}", "name": "New", "kind": "site"},
        "/api/v1/moves": {"sku": "P-R", "qty": 1, "from": "WH-R", "to": "VAN-R", "reason": "issue"},
        "/api/v1/moves/{move_id}/reversal": {"reason": "test"},
        "/api/v1/counts": {"location": "WH-R", "lines": [{"sku": "P-R", "counted": 50}]},
        "/api/v1/customers": {"code": f"NEWC-{n}", "name": "New customer", "tier": "silver"},
        "/api/v1/sites": {
            "code": f"NEWS-{n}",
            "customer": "C-R",
            "address": "2 Road",
            "lat": 31.0,
            "lon": 121.0,
        },
        "/api/v1/engineers": {"code": f"E-{n}", "name": "New", "home_lat": 31.0, "home_lon": 121.0},
        "/api/v1/calls": {"site": "S-R", "priority": "P3"},
        "/api/v1/sla-policy/{tier}/{priority}": {
            "response_minutes": 15,
            "onsite_minutes": 180,
            "resolve_minutes": 720,
        },
        "/api/v1/calls/{call_id}/status": {"status": "en_route"},
        "/api/v1/calls/{call_id}": {"engineer": "E-R"},
        "/api/v1/calls/{call_id}/completion": {
            "work_done": "Belt changed",
            "signed_by": "王建国",
            "engineer_signed_by": "Engineer",
        },
        "/api/v1/calls/{call_id}/pause": {"reason": "awaiting_customer_approval"},
        "/api/v1/calls/{call_id}/satisfaction": {"score": 5},
        "/api/v1/calendar/days/{day}": {"working": False, "note": "Christmas party"},
        "/api/v1/customers/{customer}/contract": {"tier": "gold"},
        "/api/v1/part-requests": {"sku": "P-R", "qty": 1, "warehouse": "WH-R"},
        "/api/v1/vendor-orders": {
            "vendor": "V-R",
            "lines": [{"sku": "P-R", "qty": 2, "eta": "2026-12-02"}],
        },
        "/api/v1/vendor-orders/{number}/lines/{line_id}": {"eta": "2026-12-03"},
        "/api/v1/vendor-orders/{number}/receipts": {
            "location": "WH-R",
            "lines": [{"line": "LINE", "qty": 1}],
        },
        "/api/v1/sla-policy/part-requests": {"working_minutes": 300},
        "/api/v1/reorder-rules/{sku}/{location}": {"reorder_point": 5, "max_qty": 20},
        "/api/v1/reorder-suggestions/orders": {"location": "WH-R"},
        "/api/v1/loans": {"serial": "LR-3", "site": "S-R"},
        "/api/v1/rmas": {
            "customer": "C-R",
            "fault": "Does not start",
            "items": [{"serial": "EQ-R"}],
        },
        "/api/v1/rmas/{rma}/authorize": {"note": "Approved"},
        "/api/v1/rmas/{rma}/reject": {"note": "Out of warranty, declined"},
        "/api/v1/rmas/{rma}/receive": {"location": "WH-R", "items": [{"serial": "EQ-R"}]},
        "/api/v1/rmas/{rma}/diagnose": {"note": "Worn belt"},
        "/api/v1/rmas/{rma}/repair": {"place": "in_house"},
        "/api/v1/rmas/{rma}/complete": {"outcome": "repaired"},
        "/api/v1/loans/{loan_id}/extensions": {"days": 5, "reason": "Repair delayed"},
        "/api/v1/loans/{loan_id}/return": {"condition": "ok"},
        "/api/v1/loaner-reservations": {"call": "CALL", "sku": "LOAN-R"},
        "/api/v1/loan-policy": {"loan_days": 15, "max_days": 30, "due_soon_days": 2},
        "/api/v1/plans": {"date": "2026-11-20", "time_limit_s": 0.5},
        "/api/v1/tokens": {"name": f"laptop {n}"},
        "/api/v1/webhooks": {"url": f"https://erp{n}.example.com/in", "event_types": ["rma.*"]},
        "/api/v1/sites/{site}": {"contact_name": "王经理", "contact_language": "zh_CN"},
        "/api/v1/plans/{plan_id}/candidates": {"call": "NEW-CALL"},
        "/api/v1/plans/{plan_id}/assign": {"call": "NEW-CALL", "engineer": "E-R"},
        "/api/v1/calls/{call_id}/priority": {"priority": "P2"},
        "/api/v1/equipment": {
            "serial": f"EQ-{n}",
            "sku": "P-R",
            "site": "S-R",
            "installed_on": "2026-01-05",
        },
    }.get(path, {})


@pytest.mark.parametrize("role", [*sorted(ALL), None])
@pytest.mark.parametrize(
    "method, path, allowed, success", POLICY, ids=[f"{m} {p}" for m, p, _, _ in POLICY]
)
def test_each_role_is_allowed_or_refused_as_the_policy_says(
    client, auth, world, role, method, path, allowed, success
):
    if path in PREPARE:
        PREPARE[path](client, auth, world)
    if path == "/api/v1/tokens/{token_id}/revoke" and role is not None:
        # a token of the caller's own: a user revokes their own tokens, an admin anyone's
        issued = client.post("/api/v1/tokens", json={"name": "spare"}, headers=auth[role])
        world["token_id"] = issued.json["id"]
    url = path.format(**world)
    headers = auth[role] if role else {}
    body = bodies(path, hash(role) % 1000)
    if path == "/api/v1/vendor-orders/{number}/receipts":
        body["lines"][0]["line"] = world["line_id"]
    if body.get("call") == "CALL":
        body["call"] = world["call_id"]
    if body.get("call") == "NEW-CALL":
        body["call"] = world["new_call_id"]
    kwargs = {"json": body} if method in ("POST", "PUT", "PATCH") else {}
    if path in CSV_BODIES:
        kwargs = {"data": CSV_BODIES[path](hash(role) % 1000), "content_type": "text/csv"}
    answer = client.open(
        url, method=method, headers=headers, query_string=QUERIES.get(path), **kwargs
    )
    if role is None:
        assert answer.status_code == 401
    elif role in allowed:
        assert answer.status_code == success, answer.get_json()
    else:
        assert answer.status_code == 403
        assert answer.content_type == "application/problem+json"
        assert answer.json["allowed_roles"] == sorted(allowed)


def test_a_wrong_token_is_401(client, world):
    answer = client.get("/api/v1/parts", headers={"Authorization": "Bearer psv_not-a-token"})
    assert answer.status_code == 401
    answer = client.get("/api/v1/parts", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert answer.status_code == 401


def test_every_api_endpoint_is_in_the_policy(app):
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule in PUBLIC:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            template = re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule.rule)
            served.add((method, template))
    assert served == {(method, path) for method, path, _, _ in POLICY}


def test_an_api_endpoint_missing_from_the_policy_is_caught(app):
    from partsvc.api.resource import Resource, allow

    class Forgotten(Resource):
        @allow("admin")
        def delete(self, thing):
            return "", 204

    app.add_url_rule("/api/v1/forgotten/<thing>", view_func=Forgotten.as_view("forgotten"))
    with pytest.raises(AssertionError, match="forgotten"):
        test_every_api_endpoint_is_in_the_policy(app)


def test_a_view_that_declares_no_roles_is_closed_to_everyone(app, client, auth):
    from partsvc.api.resource import Resource

    class Undeclared(Resource):
        def get(self):
            return {"secret": True}

    app.add_url_rule("/api/v1/undeclared", view_func=Undeclared.as_view("undeclared"))
    for role in ALL:
        assert client.get("/api/v1/undeclared", headers=auth[role]).status_code == 403


def test_the_openapi_document_states_the_roles_of_each_operation(client):
    spec = client.get("/api/v1/openapi.json").json
    for method, path, allowed, _ in POLICY:
        operation = spec["paths"][path][method.lower()]
        assert set(operation["x-roles"]) == allowed
        assert operation["security"] == [{"bearerAuth": []}]
