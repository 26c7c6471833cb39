"""Reorder rules, reorder suggestions and drafting vendor orders from them (R5)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from partsvc.core.errors import InvalidInput
from partsvc.inventory.models import Location, Part
from partsvc.inventory.reservations import reserve
from partsvc.purchasing.models import PartRequest, VendorOrder, VendorOrderLine
from partsvc.purchasing.order_book import LineIn, create_vendor_order
from partsvc.purchasing.reorder import set_reorder_rule

PROBLEM = "application/problem+json"
SUGGESTIONS = "/api/v1/reorder-suggestions"
DRAFT = "/api/v1/reorder-suggestions/orders"


def rule_url(sku, location):
    return f"/api/v1/reorder-rules/{sku}/{location}"


@pytest.fixture
def clerk(client, auth):
    """Two warehouses, two vendors and a supplier to book stock in from; four parts:
    BELT and FUSER bought from V-1, ROLLER from V-2, GLUE from nobody in particular."""
    headers = auth["clerk"]

    def post(path, body):
        answer = client.post(path, json=body, headers=headers)
        assert answer.status_code == 201, answer.json

    for code, kind in [
        ("WH-A", "warehouse"),
        ("WH-B", "warehouse"),
        ("V-1", "vendor"),
        ("V-2", "vendor"),
        ("V-IN", "vendor"),
        ("VAN-1", "van"),
    ]:
        post("/api/v1/locations", {"code": code, "name": code, "kind": kind})
    post(
        "/api/v1/parts",
        {"sku": "BELT", "name": "Belt", "vendor": "V-1", "unit_cost": "12.50", "lead_time_days": 5},
    )
    post("/api/v1/parts", {"sku": "FUSER", "name": "Fuser", "vendor": "V-1"})
    post(
        "/api/v1/parts",
        {"sku": "ROLLER", "name": "Roller", "vendor": "V-2", "unit_cost": "3", "lead_time_days": 0},
    )
    post("/api/v1/parts", {"sku": "GLUE", "name": "Glue"})
    return headers


def receive(client, headers, sku, qty, to):
    move = {"sku": sku, "qty": qty, "from": "V-IN", "to": to, "reason": "receipt"}
    answer = client.post("/api/v1/moves", json=move, headers=headers)
    assert answer.status_code == 201, answer.json


def set_rule(client, headers, sku, location, **rule):
    answer = client.put(rule_url(sku, location), json=rule, headers=headers)
    assert answer.status_code == 200, answer.json
    return answer.json


def ids(session, sku, location):
    part_id = session.scalar(select(Part.id).where(Part.sku == sku))
    location_id = session.scalar(select(Location.id).where(Location.code == location))
    return part_id, location_id


def vendor_order(session, clock, sku, qty, *, deliver_to, status="sent", received=0):
    """An order of one line; other statuses are set by hand, as receiving would."""
    order = create_vendor_order(
        session,
        vendor="V-1",
        lines=[LineIn(sku=sku, qty=qty, eta=date(2026, 12, 1))],
        now=clock.now,
        status="draft" if status == "draft" else "sent",
        deliver_to=deliver_to,
    )
    order.status = status
    order.lines[0].received_qty = received
    session.commit()
    return order


def waiting_request(session, clock, sku, warehouse, qty, *, reserved=0, status="backordered"):
    part_id, warehouse_id = ids(session, sku, warehouse)
    session.add(
        PartRequest(
            part_id=part_id,
            qty=qty,
            reserved_qty=reserved,
            warehouse_id=warehouse_id,
            status=status,
            requested_at=clock.now,
            due_at=clock.now + timedelta(hours=4),
        )
    )
    session.commit()


def suggestions(client, headers, **query):
    answer = client.get(SUGGESTIONS, query_string=query, headers=headers)
    assert answer.status_code == 200, answer.json
    assert answer.json["next"] is None
    return answer.json["items"]


def order_count(session):
    return session.scalar(select(func.count()).select_from(VendorOrder))


# ---------------------------------------------------------------- rules


def test_a_rule_is_set_read_replaced_and_removed(client, auth, clerk, clock):
    rule = set_rule(client, clerk, "BELT", "WH-A", reorder_point=4, reorder_qty=10)
    assert rule["sku"] == "BELT"
    assert rule["location"] == "WH-A"
    assert (rule["reorder_point"], rule["reorder_qty"], rule["max_qty"]) == (4, 10, None)
    assert rule["updated_at"] == "2026-11-20T02:00:00+00:00"

    clock.advance(hours=1)
    replaced = set_rule(
        client, auth["admin"], "BELT", "WH-A", reorder_point=3, reorder_qty=None, max_qty=12
    )
    assert replaced["id"] == rule["id"]
    assert (replaced["reorder_point"], replaced["reorder_qty"], replaced["max_qty"]) == (
        3,
        None,
        12,
    )
    assert replaced["updated_at"] == "2026-11-20T03:00:00+00:00"
    listed = client.get("/api/v1/reorder-rules", headers=auth["dispatcher"]).json
    assert listed == {"items": [replaced], "next": None}

    assert client.delete(rule_url("BELT", "WH-A"), headers=clerk).status_code == 204
    assert client.get("/api/v1/reorder-rules", headers=clerk).json["items"] == []
    again = client.delete(rule_url("BELT", "WH-A"), headers=clerk)
    assert again.status_code == 404
    assert again.content_type == PROBLEM


def test_rules_are_listed_by_part_or_warehouse_a_page_at_a_time(client, clerk):
    set_rule(client, clerk, "BELT", "WH-A", reorder_point=1, reorder_qty=1)
    set_rule(client, clerk, "BELT", "WH-B", reorder_point=2, reorder_qty=1)
    set_rule(client, clerk, "FUSER", "WH-A", reorder_point=3, reorder_qty=1)

    def listed(**query):
        answer = client.get("/api/v1/reorder-rules", query_string=query, headers=clerk)
        assert answer.status_code == 200, answer.json
        return answer.json

    def keys(items):
        return [(rule["sku"], rule["location"]) for rule in items]

    assert keys(listed(sku="BELT")["items"]) == [("BELT", "WH-A"), ("BELT", "WH-B")]
    assert keys(listed(location="WH-A")["items"]) == [("BELT", "WH-A"), ("FUSER", "WH-A")]
    first = listed(limit=2)
    assert keys(first["items"]) == [("BELT", "WH-A"), ("BELT", "WH-B")]
    rest = listed(limit=2, cursor=first["next"])
    assert (keys(rest["items"]), rest["next"]) == ([("FUSER", "WH-A")], None)
    assert client.get(
        "/api/v1/reorder-rules", query_string={"sku": "NOPE"}, headers=clerk
    ).status_code == (404)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"reorder_qty": 5}, "reorder_point"),
        ({"reorder_point": -1, "reorder_qty": 5}, "reorder_point"),
        ({"reorder_point": "2", "reorder_qty": 5}, "reorder_point"),
        ({"reorder_point": 2}, "reorder_qty"),
        ({"reorder_point": 2, "reorder_qty": None, "max_qty": None}, "reorder_qty"),
        ({"reorder_point": 2, "reorder_qty": 5, "max_qty": 10}, "max_qty"),
        ({"reorder_point": 2, "reorder_qty": 0}, "reorder_qty"),
        ({"reorder_point": 2, "max_qty": 2}, "max_qty"),
        ({"reorder_point": 2, "reorder_qty": 5, "min_qty": 1}, "min_qty"),
    ],
)
def test_a_rule_is_a_point_and_exactly_one_of_a_quantity_or_a_maximum(client, clerk, body, field):
    answer = client.put(rule_url("BELT", "WH-A"), json=body, headers=clerk)
    assert answer.status_code == 422
    assert answer.content_type == PROBLEM
    assert field in answer.json["errors"]
    assert client.get("/api/v1/reorder-rules", headers=clerk).json["items"] == []


def test_a_rule_is_for_a_known_part_at_a_warehouse(client, clerk):
    rule = {"reorder_point": 1, "reorder_qty": 1}
    van = client.put(rule_url("BELT", "VAN-1"), json=rule, headers=clerk)
    assert van.status_code == 422
    assert van.content_type == PROBLEM
    assert "location" in van.json["errors"]
    assert client.put(rule_url("BELT", "WH-X"), json=rule, headers=clerk).status_code == 404
    unknown = client.put(rule_url("NOPE", "WH-A"), json=rule, headers=clerk)
    assert unknown.status_code == 404
    assert unknown.content_type == PROBLEM


@pytest.mark.parametrize(
    "rule, field",
    [
        ({"reorder_point": -1, "reorder_qty": 5}, "reorder_point"),
        ({"reorder_point": 2}, "reorder_qty"),
        ({"reorder_point": 2, "reorder_qty": 5, "max_qty": 10}, "reorder_qty"),
        ({"reorder_point": 2, "reorder_qty": 0}, "reorder_qty"),
        ({"reorder_point": 2, "max_qty": 2}, "max_qty"),
    ],
)
def test_the_service_refuses_a_rule_that_did_not_come_through_the_schema(
    clerk, session, clock, rule, field
):
    with pytest.raises(InvalidInput) as refused:
        set_reorder_rule(session, sku="BELT", location="WH-A", now=clock.now, **rule)
    assert field in refused.value.errors


# ---------------------------------------------------------------- suggestions


def test_the_position_counts_stock_open_orders_and_waiting_requests(client, clerk, session, clock):
    receive(client, clerk, "BELT", 10, "WH-A")
    part_id, wh_a = ids(session, "BELT", "WH-A")
    assert reserve(session, part_id, wh_a, 3)
    session.commit()
    # Counted at WH-A: sent 4, partially received 3 of 5, a draft 1. (With two warehouses
    # every order names its destination.)
    vendor_order(session, clock, "BELT", 4, deliver_to="WH-A")
    vendor_order(
        session, clock, "BELT", 5, deliver_to="WH-A", status="partially_received", received=2
    )
    vendor_order(session, clock, "BELT", 1, deliver_to="WH-A", status="draft")
    # Not counted at WH-A: cancelled, received, and on their way to WH-B.
    vendor_order(session, clock, "BELT", 50, deliver_to="WH-A", status="cancelled")
    vendor_order(session, clock, "BELT", 40, deliver_to="WH-A", status="received", received=40)
    vendor_order(session, clock, "BELT", 100, deliver_to="WH-B")
    # Waiting at WH-A: 8 - 2 backordered and 2 open; reserved, issued, cancelled ones wait
    # for nothing. 7 wait at WH-B.
    waiting_request(session, clock, "BELT", "WH-A", 8, reserved=2)
    waiting_request(session, clock, "BELT", "WH-A", 2, status="open")
    waiting_request(session, clock, "BELT", "WH-A", 5, reserved=5, status="reserved")
    waiting_request(session, clock, "BELT", "WH-A", 9, status="cancelled")
    waiting_request(session, clock, "BELT", "WH-A", 4, reserved=4, status="issued")
    waiting_request(session, clock, "BELT", "WH-B", 7)
    set_rule(client, clerk, "BELT", "WH-A", reorder_point=15, reorder_qty=10)
    set_rule(client, clerk, "BELT", "WH-B", reorder_point=120, max_qty=150)

    at_a, at_b = suggestions(client, clerk)
    assert at_a == {
        "sku": "BELT",
        "name": "Belt",
        "location": "WH-A",
        "vendor": "V-1",
        "on_hand": 10,
        "reserved": 3,
        "available": 7,
        "on_order": 4 + 3 + 1,
        "backordered": 6 + 2,
        "position": 7 + 8 - 8,
        "reorder_point": 15,
        "reorder_qty": 10,
        "max_qty": None,
        "suggested_qty": 10,  # one lot of 10 lifts 7 above 15
    }
    assert (at_b["location"], at_b["on_hand"], at_b["available"]) == ("WH-B", 0, 0)
    assert (at_b["on_order"], at_b["backordered"], at_b["position"]) == (100, 7, 93)
    assert at_b["suggested_qty"] == 150 - 93  # up to the maximum
    assert suggestions(client, clerk, location="WH-B") == [at_b]


def test_only_what_is_at_or_below_its_reorder_point_is_suggested(client, clerk):
    receive(client, clerk, "FUSER", 5, "WH-A")
    receive(client, clerk, "ROLLER", 6, "WH-A")
    set_rule(client, clerk, "FUSER", "WH-A", reorder_point=5, reorder_qty=4)  # at: suggested
    set_rule(client, clerk, "ROLLER", "WH-A", reorder_point=5, max_qty=9)  # above: not
    set_rule(client, clerk, "GLUE", "WH-A", reorder_point=0, reorder_qty=3)  # none, point 0
    set_rule(client, clerk, "BELT", "WH-B", reorder_point=2, reorder_qty=3)
    set_rule(client, clerk, "BELT", "WH-A", reorder_point=0, max_qty=1)

    found = suggestions(client, clerk)
    assert [(s["location"], s["sku"], s["suggested_qty"]) for s in found] == [
        ("WH-A", "BELT", 1),
        ("WH-A", "FUSER", 4),
        ("WH-A", "GLUE", 3),
        ("WH-B", "BELT", 3),
    ]
    assert found[2]["vendor"] is None
    assert [s["sku"] for s in suggestions(client, clerk, sku="BELT")] == ["BELT", "BELT"]


def test_suggestions_are_asked_for_a_known_warehouse(client, clerk):
    answer = client.get(SUGGESTIONS, query_string={"location": "V-1"}, headers=clerk)
    assert answer.status_code == 422
    assert answer.content_type == PROBLEM
    unknown = client.get(SUGGESTIONS, query_string={"location": "WH-X"}, headers=clerk)
    assert unknown.status_code == 404


# ---------------------------------------------------------------- drafting orders


@pytest.fixture
def short(client, clerk):
    """Everything short: BELT at both warehouses, FUSER and ROLLER and GLUE at WH-A."""
    receive(client, clerk, "BELT", 1, "WH-A")
    set_rule(client, clerk, "BELT", "WH-A", reorder_point=2, reorder_qty=5)  # 5
    set_rule(client, clerk, "FUSER", "WH-A", reorder_point=1, max_qty=4)  # 4
    set_rule(client, clerk, "ROLLER", "WH-A", reorder_point=0, reorder_qty=6)  # 6
    set_rule(client, clerk, "GLUE", "WH-A", reorder_point=0, reorder_qty=2)  # no vendor
    set_rule(client, clerk, "BELT", "WH-B", reorder_point=0, max_qty=3)  # 3
    return clerk


def test_suggestions_become_one_draft_per_vendor_and_warehouse_once(
    client, auth, short, session, clock
):
    clock.advance(hours=15)  # 2026-11-20 17:00 UTC is already the 21st in Shanghai
    answer = client.post(DRAFT, json={}, headers=short)
    assert answer.status_code == 201, answer.json
    orders = answer.json["orders"]
    assert [(o["deliver_to"], o["vendor"], o["status"]) for o in orders] == [
        ("WH-A", "V-1", "draft"),
        ("WH-A", "V-2", "draft"),
        ("WH-B", "V-1", "draft"),
    ]
    assert all(o["number"].startswith("VO-") for o in orders)

    def lines(order):
        return [
            (line["sku"], line["qty"], line["unit_cost"], line["eta"]) for line in order["lines"]
        ]

    assert lines(orders[0]) == [
        ("BELT", 5, "12.50", "2026-11-26"),  # lead time 5 days
        ("FUSER", 4, None, "2026-12-05"),  # no lead time: 14 days
    ]
    assert lines(orders[1]) == [("ROLLER", 6, "3.00", "2026-11-21")]  # lead time 0: today
    assert lines(orders[2]) == [("BELT", 3, "12.50", "2026-11-26")]
    assert all(isinstance(line["id"], int) for order in orders for line in order["lines"])
    skipped = [{"sku": "GLUE", "location": "WH-A", "reason": answer.json["skipped"][0]["reason"]}]
    assert answer.json["skipped"] == skipped
    assert "vendor" in skipped[0]["reason"]

    stored = session.scalars(select(VendorOrder).order_by(VendorOrder.id)).all()
    assert [order.number for order in stored] == [o["number"] for o in orders]
    assert {order.status for order in stored} == {"draft"}
    assert session.scalar(select(func.count()).select_from(VendorOrderLine)) == 4
    # The drafts are on order: only the part without a vendor is still suggested...
    left = suggestions(client, auth["dispatcher"])
    assert [(s["sku"], s["location"]) for s in left] == [("GLUE", "WH-A")]
    # ...and drafting again drafts nothing.
    again = client.post(DRAFT, json={}, headers=auth["admin"])
    assert again.status_code == 201, again.json
    assert again.json == {"orders": [], "skipped": skipped}
    assert order_count(session) == 3


def test_drafting_can_be_narrowed_to_a_warehouse_or_to_parts(client, short, session):
    answer = client.post(DRAFT, json={"location": "WH-B"}, headers=short)
    assert answer.status_code == 201, answer.json
    assert [(o["deliver_to"], o["vendor"]) for o in answer.json["orders"]] == [("WH-B", "V-1")]
    assert answer.json["skipped"] == []

    answer = client.post(DRAFT, json={"skus": ["ROLLER", "BELT"]}, headers=short)
    assert answer.status_code == 201, answer.json
    drafted = [
        (o["deliver_to"], o["vendor"], [line["sku"] for line in o["lines"]])
        for o in answer.json["orders"]
    ]
    assert drafted == [("WH-A", "V-1", ["BELT"]), ("WH-A", "V-2", ["ROLLER"])]
    left = [(s["sku"], s["location"]) for s in suggestions(client, short)]
    assert left == [("FUSER", "WH-A"), ("GLUE", "WH-A")]
    assert order_count(session) == 3


@pytest.mark.parametrize(
    "body, status",
    [
        ({"skus": []}, 422),
        ({"skus": ["BELT", "NOPE"]}, 404),
        ({"location": "V-1"}, 422),
        ({"location": "WH-X"}, 404),
        ({"vendor": "V-1"}, 422),
    ],
)
def test_drafting_refuses_what_it_does_not_know(client, short, session, body, status):
    answer = client.post(DRAFT, json=body, headers=short)
    assert answer.status_code == status
    assert answer.content_type == PROBLEM
    assert order_count(session) == 0


# ---------------------------------------------------------------- roles


def test_engineers_neither_see_nor_change_reorder_rules_and_dispatchers_only_read(
    client, auth, short, session
):
    rule = {"reorder_point": 1, "reorder_qty": 1}
    for role in ("engineer", "dispatcher"):
        headers = auth[role]
        assert client.put(rule_url("BELT", "WH-A"), json=rule, headers=headers).status_code == 403
        assert client.delete(rule_url("BELT", "WH-A"), headers=headers).status_code == 403
        refused = client.post(DRAFT, json={}, headers=headers)
        assert refused.status_code == 403
        assert refused.json["allowed_roles"] == ["admin", "clerk"]
    assert client.get(SUGGESTIONS, headers=auth["engineer"]).status_code == 403
    assert client.get("/api/v1/reorder-rules", headers=auth["engineer"]).status_code == 403
    assert client.get(SUGGESTIONS, headers=auth["dispatcher"]).status_code == 200
    assert order_count(session) == 0
    assert set_rule(client, short, "BELT", "WH-A", **rule)["reorder_point"] == 1
