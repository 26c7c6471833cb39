"""Part requests, vendor orders and receipts through the API (R7–R9)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from partsvc.inventory.models import Move
from partsvc.purchasing.models import PartRequest, Receipt, VendorOrder

FRIDAY_17 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai


@pytest.fixture
def shop(client, auth, clock, post_as_admin):
    """A warehouse, a vendor, a part it sells, a customer site with a P1 and a P3 call
    for engineer E-P; the clock at Friday 17:00."""
    admin = auth["admin"]
    post = post_as_admin

    post(
        "/api/v1/locations",
        {"code": "WH-P", "name": "Main", "kind": "warehouse", "lat": 31.2, "lon": 121.5},
    )
    post("/api/v1/locations", {"code": "V-P", "name": "Vendor", "kind": "vendor"})
    post(
        "/api/v1/parts",
        {
            "sku": "FUSER",
            "name": "Fuser",
            "vendor": "V-P",
            "lead_time_days": 7,
            "unit_cost": "120.00",
        },
    )
    post("/api/v1/parts", {"sku": "NOVENDOR", "name": "Odd part"})
    post("/api/v1/customers", {"code": "C-P", "name": "C"})
    post(
        "/api/v1/sites",
        {"code": "S-P", "customer": "C-P", "address": "上海", "lat": 31.2, "lon": 121.4},
    )
    post("/api/v1/engineers", {"code": "E-P", "name": "E", "home_lat": 31.2, "home_lon": 121.4})
    calls = {}
    for priority in ("P3", "P1"):
        call = post("/api/v1/calls", {"site": "S-P", "priority": priority})
        client.post(
            f"/api/v1/calls/{call['id']}/status",
            json={"status": "assigned", "engineer": "E-P"},
            headers=admin,
        )
        calls[priority] = call["id"]
    clock.now = FRIDAY_17
    return calls


def request(client, headers, **body):
    answer = client.post("/api/v1/part-requests", json=body, headers=headers)
    assert answer.status_code == 201, answer.json
    return answer.json


def order(client, headers, **body):
    answer = client.post("/api/v1/vendor-orders", json=body, headers=headers)
    assert answer.status_code == 201, answer.json
    return answer.json


def receive(client, headers, number, line, qty, location="WH-P", **body):
    """A receipt on one line of vendor order ``number``: ``qty`` arrive at ``location``."""
    return client.post(
        f"/api/v1/vendor-orders/{number}/receipts",
        json={"location": location, "lines": [{"line": line, "qty": qty}], **body},
        headers=headers,
    )


def stock(client, headers, sku="FUSER", location="WH-P"):
    items = client.get(
        "/api/v1/stock", query_string={"sku": sku, "location": location}, headers=headers
    ).json["items"]
    return {k: items[0][k] for k in ("on_hand", "reserved", "available")} if items else None


def test_the_whole_story_backorder_eta_change_and_receipts_most_urgent_first(client, auth, shop):
    clerk = auth["clerk"]
    vo = order(
        client,
        clerk,
        vendor="V-P",
        lines=[{"sku": "FUSER", "qty": 5, "eta": "2026-11-27"}],
        deliver_to="WH-P",
    )
    number, line = vo["number"], vo["lines"][0]["id"]
    assert (vo["status"], vo["lines"][0]["unit_cost"]) == ("sent", "120.00")

    # No stock: the P3 call's request waits on the order line and carries its ETA.
    p3 = request(client, auth["dispatcher"], sku="FUSER", qty=2, call=shop["P3"])
    assert (p3["status"], p3["eta"], p3["vendor_order"], p3["line"]) == (
        "backordered",
        "2026-11-27",
        number,
        line,
    )
    assert p3["engineer"] == "E-P"
    assert p3["warehouse"] == "WH-P"

    # The vendor moves the ETA; the request follows it; the change is kept.
    moved = client.patch(
        f"/api/v1/vendor-orders/{number}/lines/{line}",
        json={"eta": "2026-12-01", "reason": "Customs"},
        headers=clerk,
    )
    assert moved.status_code == 200, moved.json
    assert moved.json["eta_changes"][0]["old_eta"] == "2026-11-27"
    assert moved.json["eta_changes"][0]["reason"] == "Customs"
    shown = client.get(f"/api/v1/part-requests/{p3['id']}", headers=clerk).json
    assert shown["eta"] == "2026-12-01"

    # A P1 call's request comes later and waits on the same line.
    p1 = request(client, auth["dispatcher"], sku="FUSER", qty=2, call=shop["P1"])
    assert (p1["status"], p1["line"]) == ("backordered", line)

    # Two arrive: the P1 request is served first, though it was made later.
    first = receive(client, clerk, number, line, 2)
    assert first.status_code == 201, first.json
    assert first.json["order"]["status"] == "partially_received"
    p1 = client.get(f"/api/v1/part-requests/{p1['id']}", headers=clerk).json
    p3 = client.get(f"/api/v1/part-requests/{p3['id']}", headers=clerk).json
    assert (p1["status"], p1["reserved_qty"], p1["eta"]) == ("reserved", 2, None)
    assert (p3["status"], p3["reserved_qty"]) == ("backordered", 0)
    assert stock(client, clerk) == {"on_hand": 2, "reserved": 2, "available": 0}

    # The rest arrives: the order is received, P3 is served, one unit stays free.
    second = receive(client, clerk, number, line, 3)
    assert second.status_code == 201
    assert second.json["order"]["status"] == "received"
    assert client.get(f"/api/v1/part-requests/{p3['id']}", headers=clerk).json["status"] == (
        "reserved"
    )
    assert stock(client, clerk) == {"on_hand": 5, "reserved": 4, "available": 1}

    # The P1's parts go to the engineer's van through the ledger.
    issued = client.post(f"/api/v1/part-requests/{p1['id']}/issue", json={}, headers=clerk)
    assert issued.status_code == 200, issued.json
    assert issued.json["status"] == "issued"
    assert stock(client, clerk) == {"on_hand": 3, "reserved": 2, "available": 1}
    assert stock(client, clerk, location="VAN-E-P")["on_hand"] == 2


def test_stock_on_the_shelf_is_reserved_at_once(client, auth, shop):
    vo = order(
        client, auth["clerk"], vendor="V-P", lines=[{"sku": "FUSER", "qty": 3, "eta": "2026-11-19"}]
    )
    receive(client, auth["clerk"], vo["number"], vo["lines"][0]["id"], 3)
    made = request(client, auth["dispatcher"], sku="FUSER", qty=2, engineer="E-P")
    assert (made["status"], made["reserved_qty"], made["eta"]) == ("reserved", 2, None)
    assert made["processed_at"] == "2026-11-20T09:00:00+00:00"
    assert stock(client, auth["clerk"]) == {"on_hand": 3, "reserved": 2, "available": 1}


def _one_fuser_asked_on_friday_at_16_30(client, auth):
    """A dispatcher's request for one fuser from WH-P, made on Friday at 16:30 in Shanghai."""
    return request(
        client,
        auth["dispatcher"],
        sku="FUSER",
        qty=1,
        warehouse="WH-P",
        requested_at="2026-11-20T16:30:00+08:00",
    )


def test_a_request_on_friday_at_16_30_is_to_be_processed_by_monday_11_30(client, auth, shop):
    made = _one_fuser_asked_on_friday_at_16_30(client, auth)
    assert made["due_at"] == "2026-11-23T03:30:00+00:00"  # Monday 11:30 in Shanghai


def test_with_no_order_line_a_draft_is_raised_for_the_preferred_vendor(client, auth, shop):
    made = request(client, auth["dispatcher"], sku="FUSER", qty=4, warehouse="WH-P")
    assert (made["status"], made["eta"]) == ("backordered", "2026-11-27")  # 7 days' lead time
    draft = client.get(f"/api/v1/vendor-orders/{made['vendor_order']}", headers=auth["clerk"]).json
    assert (draft["status"], draft["vendor"], draft["deliver_to"]) == ("draft", "V-P", "WH-P")
    assert [(line["sku"], line["qty"]) for line in draft["lines"]] == [("FUSER", 4)]
    again = request(client, auth["dispatcher"], sku="FUSER", qty=1, warehouse="WH-P")
    assert again["vendor_order"] == made["vendor_order"]  # the same draft grows
    sent = client.post(f"/api/v1/vendor-orders/{made['vendor_order']}/send", headers=auth["clerk"])
    assert sent.json["status"] == "sent"


def test_a_part_without_a_vendor_waits_open_until_an_order_is_placed(client, auth, shop):
    made = request(client, auth["dispatcher"], sku="NOVENDOR", qty=1, warehouse="WH-P")
    assert (made["status"], made["eta"], made["processed_at"]) == ("open", None, None)
    vo = order(
        client,
        auth["clerk"],
        vendor="V-P",
        lines=[{"sku": "NOVENDOR", "qty": 1, "eta": "2026-12-03"}],
        deliver_to="WH-P",
    )
    shown = client.get(f"/api/v1/part-requests/{made['id']}", headers=auth["clerk"]).json
    assert (shown["status"], shown["eta"], shown["vendor_order"]) == (
        "backordered",
        "2026-12-03",
        vo["number"],
    )
    cancelled = client.post(f"/api/v1/vendor-orders/{vo['number']}/cancel", headers=auth["clerk"])
    assert cancelled.json["status"] == "cancelled"
    shown = client.get(f"/api/v1/part-requests/{made['id']}", headers=auth["clerk"]).json
    assert (shown["status"], shown["eta"]) == ("open", None)


def counts(session):
    return tuple(
        session.scalar(select(func.count()).select_from(model))
        for model in (Move, Receipt, PartRequest, VendorOrder)
    )


def test_over_receipt_a_cancelled_order_and_over_reservation_are_409_and_write_nothing(
    client, auth, shop, session
):
    clerk = auth["clerk"]
    vo = order(client, clerk, vendor="V-P", lines=[{"sku": "FUSER", "qty": 2, "eta": "2026-11-27"}])
    line = vo["lines"][0]["id"]
    before = counts(session)

    over = receive(client, clerk, vo["number"], line, 3)
    assert over.status_code == 409
    assert over.content_type == "application/problem+json"
    assert (over.json["open_qty"], over.json["received_qty"]) == (2, 3)
    assert counts(session) == before

    client.post(f"/api/v1/vendor-orders/{vo['number']}/cancel", headers=clerk)
    before = counts(session)
    late = receive(client, clerk, vo["number"], line, 1)
    assert late.status_code == 409
    assert late.content_type == "application/problem+json"
    assert counts(session) == before

    too_many = client.post(
        "/api/v1/part-requests",
        json={"sku": "FUSER", "qty": 1, "warehouse": "WH-P", "allow_backorder": False},
        headers=auth["dispatcher"],
    )
    assert too_many.status_code == 409
    assert too_many.content_type == "application/problem+json"
    assert too_many.json["available"] == 0
    assert counts(session) == before
    assert stock(client, clerk) is None


def test_late_lists_exactly_the_orders_with_a_line_past_its_eta(client, auth, shop):
    clerk = auth["clerk"]

    def make(eta, status="sent", arrived=0):
        made = order(
            client,
            clerk,
            vendor="V-P",
            lines=[{"sku": "FUSER", "qty": 2, "eta": eta}],
            status=status,
        )
        if arrived:
            answer = receive(client, clerk, made["number"], made["lines"][0]["id"], arrived)
            assert answer.status_code == 201
        return made["number"]

    # Today is Friday 20 November in Shanghai.
    late = make("2026-11-19")
    make("2026-11-20")  # due today: not late yet
    make("2026-11-01", status="draft")  # never sent: the vendor cannot be late
    make("2026-11-10", arrived=2)  # all received
    partly = make("2026-11-18", arrived=1)
    listed = client.get("/api/v1/vendor-orders", query_string={"late": "true"}, headers=clerk).json
    assert [o["number"] for o in listed["items"]] == [late, partly]
    assert all(o["late"] for o in listed["items"])
    others = client.get("/api/v1/vendor-orders", query_string={"late": "false"}, headers=clerk).json
    assert len(others["items"]) == 3
    assert not any(o["late"] for o in others["items"])


def test_an_engineer_requests_for_themselves_and_sees_their_own(client, auth, shop, session):
    from partsvc.auth.identity import issue_token
    from partsvc.auth.models import User

    user = session.scalar(select(User).where(User.username == "e-p"))
    mine = {"Authorization": f"Bearer {issue_token(session, user)}"}
    session.commit()
    made = request(client, mine, sku="FUSER", qty=1)
    assert (made["engineer"], made["warehouse"]) == ("E-P", "WH-P")
    other = client.post(
        "/api/v1/part-requests", json={"sku": "FUSER", "qty": 1, "engineer": "E-X"}, headers=mine
    )
    assert other.status_code == 403
    theirs = request(client, auth["dispatcher"], sku="FUSER", qty=1, warehouse="WH-P")
    listed = client.get("/api/v1/part-requests", headers=mine).json["items"]
    assert [r["id"] for r in listed] == [made["id"]]
    assert client.get(f"/api/v1/part-requests/{theirs['id']}", headers=mine).status_code == 404


def test_cancelling_a_reservation_passes_the_stock_to_the_next_waiting(client, auth, shop):
    clerk = auth["clerk"]
    vo = order(client, clerk, vendor="V-P", lines=[{"sku": "FUSER", "qty": 1, "eta": "2026-11-19"}])
    receive(client, clerk, vo["number"], vo["lines"][0]["id"], 1)
    first = request(client, auth["dispatcher"], sku="FUSER", qty=1, warehouse="WH-P")
    second = request(client, auth["dispatcher"], sku="FUSER", qty=1, warehouse="WH-P")
    assert (first["status"], second["status"]) == ("reserved", "backordered")
    gone = client.post(f"/api/v1/part-requests/{first['id']}/cancel", headers=clerk)
    assert gone.json["status"] == "cancelled"
    assert client.get(f"/api/v1/part-requests/{second['id']}", headers=clerk).json["status"] == (
        "reserved"
    )
    again = client.post(f"/api/v1/part-requests/{first['id']}/cancel", headers=clerk)
    assert again.status_code == 409


def test_an_admin_changes_the_processing_time_for_new_requests(client, auth, shop):
    path = "/api/v1/sla-policy/part-requests"
    assert client.get(path, headers=auth["engineer"]).json["working_minutes"] == 240
    assert client.put(path, json={"working_minutes": 0}, headers=auth["admin"]).status_code == 422
    changed = client.put(path, json={"working_minutes": 120}, headers=auth["admin"])
    assert changed.json == {"name": "part_request", "working_minutes": 120}
    made = _one_fuser_asked_on_friday_at_16_30(client, auth)
    assert made["due_at"] == "2026-11-23T01:30:00+00:00"  # Monday 09:30


def shown(client, headers, request_id):
    return client.get(f"/api/v1/part-requests/{request_id}", headers=headers).json


def test_a_request_left_behind_by_a_receipt_moves_to_the_line_that_brings_its_parts(
    client, auth, shop
):
    clerk = auth["clerk"]
    soon = order(
        client, clerk, vendor="V-P", lines=[{"sku": "FUSER", "qty": 2, "eta": "2026-11-23"}]
    )
    late = order(
        client, clerk, vendor="V-P", lines=[{"sku": "FUSER", "qty": 2, "eta": "2026-12-10"}]
    )
    p3 = request(client, auth["dispatcher"], sku="FUSER", qty=2, call=shop["P3"])
    p1 = request(client, auth["dispatcher"], sku="FUSER", qty=2, call=shop["P1"])
    # The P1 came later, yet it now waits on the sooner line and the P3 on the later one.
    assert (shown(client, clerk, p1["id"])["eta"], shown(client, clerk, p3["id"])["eta"]) == (
        "2026-11-23",
        "2026-12-10",
    )
    assert receive(client, clerk, soon["number"], soon["lines"][0]["id"], 2).status_code == 201
    assert shown(client, clerk, p1["id"])["status"] == "reserved"
    after = shown(client, clerk, p3["id"])
    assert (after["status"], after["vendor_order"], after["eta"]) == (
        "backordered",
        late["number"],
        "2026-12-10",
    )


def test_a_cancelled_or_short_closed_order_hands_its_requests_to_a_new_draft_line(
    client, auth, shop
):
    clerk = auth["clerk"]
    vo = order(client, clerk, vendor="V-P", lines=[{"sku": "FUSER", "qty": 3, "eta": "2026-11-23"}])
    first = request(client, auth["dispatcher"], sku="FUSER", qty=3, warehouse="WH-P")
    assert first["vendor_order"] == vo["number"]
    client.post(f"/api/v1/vendor-orders/{vo['number']}/cancel", headers=clerk)
    moved = shown(client, clerk, first["id"])
    assert moved["status"] == "backordered"
    assert moved["vendor_order"] != vo["number"]
    assert moved["eta"] == "2026-11-27"  # a draft line: today + 7 days' lead time

    other = order(
        client, clerk, vendor="V-P", lines=[{"sku": "FUSER", "qty": 5, "eta": "2026-11-21"}]
    )
    second = request(client, auth["dispatcher"], sku="FUSER", qty=2, warehouse="WH-P")
    assert receive(client, clerk, other["number"], other["lines"][0]["id"], 3).status_code == 201
    assert shown(client, clerk, first["id"])["status"] == "reserved"  # older: served first
    assert shown(client, clerk, second["id"])["vendor_order"] == other["number"]
    closed = client.post(f"/api/v1/vendor-orders/{other['number']}/close", headers=clerk)
    assert closed.status_code == 200, closed.json
    assert (closed.json["status"], closed.json["late"]) == ("received", False)
    assert shown(client, clerk, second["id"])["vendor_order"] == moved["vendor_order"]
    again = client.post(f"/api/v1/vendor-orders/{other['number']}/close", headers=clerk)
    assert again.status_code == 409


def test_stock_moved_into_the_warehouse_goes_to_the_waiting_p1_first(client, auth, shop):
    p1 = request(client, auth["dispatcher"], sku="FUSER", qty=1, call=shop["P1"])
    assert p1["status"] == "backordered"
    client.post(
        "/api/v1/moves",
        json={"sku": "FUSER", "qty": 1, "from": "V-P", "to": "WH-P", "reason": "found"},
        headers=auth["clerk"],
    )
    assert shown(client, auth["clerk"], p1["id"])["status"] == "reserved"
    newer = request(client, auth["dispatcher"], sku="FUSER", qty=1, warehouse="WH-P")
    assert newer["status"] == "backordered"


def test_a_receipt_goes_to_the_orders_warehouse(client, auth, shop):
    client.post(
        "/api/v1/locations",
        json={"code": "WH-2", "name": "Two", "kind": "warehouse"},
        headers=auth["admin"],
    )
    vo = order(
        client,
        auth["clerk"],
        vendor="V-P",
        deliver_to="WH-P",
        lines=[{"sku": "FUSER", "qty": 2, "eta": "2026-11-23"}],
    )
    wrong = receive(client, auth["clerk"], vo["number"], vo["lines"][0]["id"], 2, location="WH-2")
    assert wrong.status_code == 409
    assert wrong.json["deliver_to"] == "WH-P"
    nowhere = client.post(
        "/api/v1/vendor-orders",
        json={"vendor": "V-P", "lines": [{"sku": "FUSER", "qty": 1, "eta": "2026-11-23"}]},
        headers=auth["clerk"],
    )
    assert nowhere.status_code == 422  # two warehouses now: name one
    assert nowhere.json["errors"] == {"deliver_to": ["Required with several warehouses."]}


def test_sending_a_draft_late_moves_its_eta_by_the_lead_time(client, auth, shop, clock):
    made = request(client, auth["dispatcher"], sku="FUSER", qty=1, warehouse="WH-P")
    assert made["eta"] == "2026-11-27"
    clock.advance(days=10)  # the draft sat for ten days
    sent = client.post(f"/api/v1/vendor-orders/{made['vendor_order']}/send", headers=auth["clerk"])
    assert sent.json["lines"][0]["eta"] == "2026-12-07"
    assert sent.json["lines"][0]["eta_changes"][0]["reason"] == "Sent on 2026-11-30"
    assert shown(client, auth["clerk"], made["id"])["eta"] == "2026-12-07"


@pytest.mark.parametrize(
    "path, body",
    [
        (
            "/api/v1/part-requests",
            {
                "sku": "FUSER",
                "qty": 1,
                "warehouse": "WH-P",
                "requested_at": "0001-01-01T00:00:00+05:00",
            },
        ),
        (
            "/api/v1/part-requests",
            {
                "sku": "FUSER",
                "qty": 1,
                "warehouse": "WH-P",
                "requested_at": "1999-12-31T00:00:00+08:00",
            },
        ),
        (
            "/api/v1/vendor-orders",
            {"vendor": "V-P", "lines": [{"sku": "FUSER", "qty": 1, "eta": "9999-12-31"}]},
        ),
    ],
)
def test_times_no_one_means_are_422(client, auth, shop, path, body):
    assert client.post(path, json=body, headers=auth["admin"]).status_code == 422


def test_a_receipt_dated_in_the_future_is_refused_and_issue_goes_to_a_van_or_site(
    client, auth, shop
):
    vo = order(
        client, auth["clerk"], vendor="V-P", lines=[{"sku": "FUSER", "qty": 2, "eta": "2026-11-23"}]
    )
    future = receive(
        client, auth["clerk"], vo["number"], vo["lines"][0]["id"], 1, at="2030-01-01T00:00:00Z"
    )
    assert future.status_code == 422
    receive(client, auth["clerk"], vo["number"], vo["lines"][0]["id"], 2)
    made = request(client, auth["dispatcher"], sku="FUSER", qty=1, warehouse="WH-P")
    to_vendor = client.post(
        f"/api/v1/part-requests/{made['id']}/issue", json={"to": "V-P"}, headers=auth["clerk"]
    )
    assert to_vendor.status_code == 422
    to_site = client.post(
        f"/api/v1/part-requests/{made['id']}/issue", json={"to": "S-P"}, headers=auth["clerk"]
    )
    assert to_site.status_code == 200


def test_a_receipt_booked_by_mistake_is_undone_through_its_order(client, auth, shop):
    clerk = auth["clerk"]
    vo = order(client, clerk, vendor="V-P", lines=[{"sku": "FUSER", "qty": 5, "eta": "2026-11-23"}])
    line = vo["lines"][0]["id"]
    waiting = request(client, auth["dispatcher"], sku="FUSER", qty=2, call=shop["P1"])
    wrong = receive(client, clerk, vo["number"], line, 5)
    assert shown(client, clerk, waiting["id"])["status"] == "reserved"
    move_id = wrong.json["lines"][0]["move"]
    bare = client.post(f"/api/v1/moves/{move_id}/reversal", json={}, headers=clerk)
    assert bare.status_code == 409
    assert bare.json["document"] == vo["number"]

    undone = client.post(
        f"/api/v1/vendor-orders/{vo['number']}/receipts/{wrong.json['id']}/reversal",
        json={"reason": "Typed 5, it was 3"},
        headers=clerk,
    )
    assert undone.status_code == 201, undone.json
    assert undone.json["reversed_at"] is not None
    assert undone.json["order"]["status"] == "sent"
    assert undone.json["order"]["lines"][0]["received_qty"] == 0
    assert stock(client, clerk) is None  # nothing left on the shelf
    back = shown(client, clerk, waiting["id"])
    assert (back["status"], back["vendor_order"]) == ("backordered", vo["number"])
    again = client.post(
        f"/api/v1/vendor-orders/{vo['number']}/receipts/{wrong.json['id']}/reversal",
        json={},
        headers=clerk,
    )
    assert again.status_code == 409
    assert receive(client, clerk, vo["number"], line, 3).status_code == 201
    assert shown(client, clerk, waiting["id"])["status"] == "reserved"


def test_issued_parts_block_undoing_their_receipt(client, auth, shop):
    clerk = auth["clerk"]
    vo = order(client, clerk, vendor="V-P", lines=[{"sku": "FUSER", "qty": 2, "eta": "2026-11-23"}])
    made = request(client, auth["dispatcher"], sku="FUSER", qty=2, engineer="E-P")
    receipt = receive(client, clerk, vo["number"], vo["lines"][0]["id"], 2).json
    client.post(f"/api/v1/part-requests/{made['id']}/issue", json={}, headers=clerk)
    blocked = client.post(
        f"/api/v1/vendor-orders/{vo['number']}/receipts/{receipt['id']}/reversal",
        json={},
        headers=clerk,
    )
    assert blocked.status_code == 409
    assert blocked.json["missing"] == 2
    assert stock(client, clerk, location="VAN-E-P")["on_hand"] == 2


def test_a_count_below_what_was_reserved_stands_and_the_least_urgent_waits_again(
    client, auth, shop
):
    clerk = auth["clerk"]
    vo = order(client, clerk, vendor="V-P", lines=[{"sku": "FUSER", "qty": 3, "eta": "2026-11-23"}])
    receive(client, clerk, vo["number"], vo["lines"][0]["id"], 3)
    p3 = request(client, auth["dispatcher"], sku="FUSER", qty=1, call=shop["P3"])
    p1 = request(client, auth["dispatcher"], sku="FUSER", qty=2, call=shop["P1"])
    assert stock(client, clerk) == {"on_hand": 3, "reserved": 3, "available": 0}
    count = client.post(
        "/api/v1/counts",
        json={"location": "WH-P", "lines": [{"sku": "FUSER", "counted": 2}]},
        headers=clerk,
    )
    assert count.status_code == 201, count.json
    assert stock(client, clerk) == {"on_hand": 2, "reserved": 2, "available": 0}
    assert shown(client, clerk, p1["id"])["status"] == "reserved"
    assert shown(client, clerk, p3["id"])["status"] == "backordered"
