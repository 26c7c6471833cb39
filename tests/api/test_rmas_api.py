"""Repair RMAs through the API (R14–R17): verdicts, receipt, steps, turnaround, overdue."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from partsvc.inventory.models import Move, Unit
from partsvc.repairs.models import Rma, RmaStep
from partsvc.repairs.rmas import escalate_overdue_rmas, rma_events_for_serial
from partsvc.repairs.rules import Step
from tests.factories import count_moves

# The clock starts on Friday 2026-11-20 at 10:00 in Shanghai: the failure date is 2026-11-20.


@pytest.fixture
def desk(post_as_admin):
    """A warehouse, a vendor, a repair bench; a printer model (serialized, the default
    12-month warranty), a print head with its own 3 months, a belt with no warranty;
    customer C-Q at site S-Q with three printers: installed 3 days ago, this March, and
    in January 2024."""
    post = post_as_admin

    for code, kind in [("WH-Q", "warehouse"), ("V-Q", "vendor"), ("REPAIR-Q", "repair")]:
        post("/api/v1/locations", {"code": code, "name": code, "kind": kind})
    post("/api/v1/parts", {"sku": "PRN", "name": "Printer", "serialized": True, "vendor": "V-Q"})
    post("/api/v1/parts", {"sku": "PH", "name": "Print head", "warranty_months": 3})
    post("/api/v1/parts", {"sku": "BELT", "name": "Belt"})
    post("/api/v1/customers", {"code": "C-Q", "name": "Customer"})
    site = {"code": "S-Q", "customer": "C-Q", "address": "上海", "lat": 31.2, "lon": 121.4}
    post("/api/v1/sites", site)
    for serial, installed in [
        ("EQ-NEW", "2026-11-17"),
        ("EQ-IN", "2026-03-01"),
        ("EQ-OLD", "2024-01-10"),
    ]:
        body = {"serial": serial, "sku": "PRN", "site": "S-Q", "installed_on": installed}
        post("/api/v1/equipment", body)


def create(client, headers, items, **body):
    answer = client.post(
        "/api/v1/rmas",
        json={"customer": "C-Q", "fault": "Does not print", "items": items, **body},
        headers=headers,
    )
    assert answer.status_code == 201, answer.json
    return answer.json


def step(client, headers, number, name, **body):
    return client.post(f"/api/v1/rmas/{number}/{name}", json=body, headers=headers)


def receive_at_bench(client, headers, number, items, **body):
    """The RMA's receive step: its items arrive at the repair bench REPAIR-Q."""
    return step(client, headers, number, "receive", location="REPAIR-Q", items=items, **body)


def ok(answer, status=200):
    """The answer's JSON, once its status is the one expected."""
    assert answer.status_code == status, answer.json
    return answer.json


def stock_in(client, auth, sku, qty=1, serials=None, to="WH-Q"):
    body = {"sku": sku, "qty": qty, "from": "V-Q", "to": to, "reason": "receipt"}
    if serials:
        body["serials"] = serials
    ok(client.post("/api/v1/moves", json=body, headers=auth["admin"]), 201)


# ---------------------------------------------------------------- R15: verdicts and reasons


def test_a_unit_failing_three_days_after_install_is_dead_on_arrival_and_replaced(
    client, auth, desk
):
    rma = create(client, auth["dispatcher"], [{"serial": "EQ-NEW"}])
    assert rma["number"].startswith("RMA-")
    assert rma["status"] == "requested"
    assert rma["warranty"]["verdict"] == "replacement"
    reason = rma["warranty"]["reason"]
    assert "Dead on arrival" in reason
    assert "2026-11-20" in reason and "2026-11-17" in reason and "3 days" in reason
    item = rma["items"][0]
    assert (item["sku"], item["equipment"], item["verdict"]) == ("PRN", "EQ-NEW", "replacement")
    assert item["verdict_reason"] == reason


def test_equipment_in_warranty_is_repaired_free_and_out_of_it_at_cost(client, auth, desk):
    free = create(client, auth["clerk"], [{"serial": "EQ-IN"}])
    assert free["warranty"]["verdict"] == "free"
    assert "until 2027-03-01" in free["warranty"]["reason"]
    assert "free of charge" in free["warranty"]["reason"]

    # A model with a 24-month warranty: the equipment's warranty, not a component's own.
    long = {"sku": "PRN-24", "name": "Printer", "serialized": True, "warranty_months": 24}
    ok(client.post("/api/v1/parts", json=long, headers=auth["admin"]), 201)
    unit = {"serial": "EQ-24", "sku": "PRN-24", "site": "S-Q", "installed_on": "2025-01-10"}
    ok(client.post("/api/v1/equipment", json=unit, headers=auth["admin"]), 201)
    covered = create(client, auth["clerk"], [{"serial": "EQ-24"}])
    assert covered["warranty"]["verdict"] == "free"
    assert "the equipment's warranty runs until 2027-01-10" in covered["warranty"]["reason"]

    paid = create(client, auth["clerk"], [{"serial": "EQ-OLD"}])
    assert paid["warranty"]["verdict"] == "at_cost"
    assert "ended on 2025-01-10" in paid["warranty"]["reason"]
    assert "at cost" in paid["warranty"]["reason"]


def test_a_print_head_is_judged_by_its_own_three_months_even_in_a_printer_under_warranty(
    client, auth, desk
):
    recent = create(
        client,
        auth["clerk"],
        [{"sku": "PH", "qty": 1, "equipment": "EQ-IN", "delivered_on": "2026-10-01"}],
    )
    assert recent["warranty"]["verdict"] == "free"
    assert "own 3-month warranty" in recent["warranty"]["reason"]
    assert "until 2027-01-01" in recent["warranty"]["reason"]

    # Delivered with the printer on 2026-03-01: its 3 months ended on 2026-06-01, though
    # the printer itself is covered until 2027-03-01.
    original = create(client, auth["clerk"], [{"sku": "PH", "qty": 1, "equipment": "EQ-IN"}])
    assert original["warranty"]["verdict"] == "at_cost"
    assert "ended on 2026-06-01" in original["warranty"]["reason"]
    assert original["items"][0]["equipment"] == "EQ-IN"


def test_an_item_without_a_delivery_date_is_at_cost_and_says_why(client, auth, desk):
    rma = create(client, auth["clerk"], [{"sku": "BELT", "qty": 2}])
    assert rma["site"] == "S-Q"  # the customer's only site
    assert rma["warranty"]["verdict"] == "at_cost"
    assert "no delivery date" in rma["warranty"]["reason"]


def test_several_items_show_each_verdict_and_a_mixed_overall_one(client, auth, desk):
    rma = create(client, auth["clerk"], [{"serial": "EQ-NEW"}, {"serial": "EQ-OLD"}])
    assert [item["verdict"] for item in rma["items"]] == ["replacement", "at_cost"]
    assert rma["warranty"]["verdict"] == "mixed"
    assert rma["warranty"]["reason"].startswith("EQ-NEW: Dead on arrival")
    assert "EQ-OLD: Out of warranty" in rma["warranty"]["reason"]


def test_the_failure_date_is_the_request_date_in_shanghai(client, auth, desk, clock):
    clock.now = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    # 2026-11-24 17:30 UTC is already the 25th in Shanghai: 8 days after install, not DOA.
    late = create(
        client,
        auth["clerk"],
        [{"serial": "EQ-NEW"}],
        requested_at="2026-11-24T17:30:00+00:00",
    )
    assert late["requested_at"] == "2026-11-24T17:30:00+00:00"
    assert late["warranty"]["verdict"] == "free"
    assert "failed on 2026-11-25" in late["warranty"]["reason"]


def test_bad_rma_requests_are_refused(client, auth, desk):
    admin = auth["admin"]

    def post(body):
        return client.post("/api/v1/rmas", json={"fault": "x", **body}, headers=admin)

    assert post({"customer": "C-NONE", "items": [{"serial": "EQ-IN"}]}).status_code == 404
    assert post({"customer": "C-Q", "items": [{"sku": "BELT"}]}).status_code == 422
    assert post({"customer": "C-Q", "items": []}).status_code == 422
    assert post({"customer": "C-Q", "items": [{"serial": "ZZZ"}]}).status_code == 422
    twice = post({"customer": "C-Q", "items": [{"serial": "EQ-IN"}, {"serial": "EQ-IN"}]})
    assert twice.status_code == 422
    serialized_by_qty = post({"customer": "C-Q", "items": [{"sku": "PRN", "qty": 1}]})
    assert serialized_by_qty.status_code == 422
    future = post(
        {
            "customer": "C-Q",
            "items": [{"sku": "BELT", "qty": 1, "delivered_on": "2026-12-01"}],
        }
    )
    assert future.status_code == 422
    create(client, admin, [{"serial": "EQ-IN"}])
    again = post({"customer": "C-Q", "items": [{"serial": "EQ-IN"}]})
    assert again.status_code == 409, again.json
    assert again.content_type == "application/problem+json"


def test_an_engineer_reads_rmas_but_does_not_open_them(client, auth, desk):
    rma = create(client, auth["clerk"], [{"serial": "EQ-IN"}])
    refused = client.post(
        "/api/v1/rmas",
        json={"customer": "C-Q", "fault": "x", "items": [{"serial": "EQ-OLD"}]},
        headers=auth["engineer"],
    )
    assert refused.status_code == 403
    assert step(client, auth["engineer"], rma["number"], "authorize").status_code == 403
    shown = ok(client.get(f"/api/v1/rmas/{rma['number']}", headers=auth["engineer"]))
    assert shown["number"] == rma["number"]
    assert client.get("/api/v1/rmas/RMA-999999", headers=auth["engineer"]).status_code == 404
    assert client.get("/api/v1/rmas/VO-000001", headers=auth["engineer"]).status_code == 404


# ---------------------------------------------------------------- R14: receipt


def test_a_receipt_against_an_unauthorized_rma_is_409_and_writes_nothing(
    client, auth, desk, session
):
    rma = create(client, auth["clerk"], [{"serial": "EQ-IN"}])
    before = count_moves(session)
    answer = receive_at_bench(client, auth["clerk"], rma["number"], [{"serial": "EQ-IN"}])
    assert answer.status_code == 409, answer.json
    assert answer.content_type == "application/problem+json"
    assert answer.json["current_status"] == "requested"
    assert count_moves(session) == before
    assert session.scalar(select(Unit).where(Unit.serial == "EQ-IN")) is None
    shown = ok(client.get(f"/api/v1/rmas/{rma['number']}", headers=auth["clerk"]))
    assert (shown["status"], shown["due_at"], len(shown["steps"])) == ("requested", None, 1)
    assert shown["items"][0]["received_qty"] == 0

    ok(step(client, auth["dispatcher"], rma["number"], "reject", note="Not our product"))
    refused = receive_at_bench(client, auth["clerk"], rma["number"], [{"serial": "EQ-IN"}])
    assert refused.status_code == 409
    assert count_moves(session) == before


def test_a_receipt_of_an_item_not_on_the_rma_is_409_and_writes_nothing(client, auth, desk, session):
    rma = create(client, auth["clerk"], [{"serial": "EQ-IN"}, {"sku": "BELT", "qty": 2}])
    number = rma["number"]
    ok(step(client, auth["dispatcher"], number, "authorize"))
    before = count_moves(session)
    details = []
    for items in (
        [{"serial": "EQ-IN"}, {"serial": "EQ-OLD"}],  # a unit not on it, after one that is
        [{"sku": "PH", "qty": 1}],  # a part not on it
        [{"sku": "BELT", "qty": 3}],  # more than it lists
        [{"sku": "BELT", "qty": 1}, {"sku": "BELT", "qty": 2}],
        [{"serial": "EQ-IN"}, {"serial": "EQ-IN"}],
    ):
        answer = receive_at_bench(client, auth["clerk"], number, items)
        assert answer.status_code == 409, (items, answer.json)
        assert answer.content_type == "application/problem+json"
        details.append(answer.json["detail"])
    assert details == [
        f"Serial EQ-OLD is not on {number}: it cannot be received against it.",
        f"PH is not on {number} (by quantity): it cannot be received against it.",
        f"{number} lists 2 x BELT, 2 of them still to come; 3 is more than that.",
        f"{number} lists 2 x BELT, 1 of them still to come; 2 is more than that.",
        f"EQ-IN was already received on {number}.",
    ]
    assert count_moves(session) == before
    shown = ok(client.get(f"/api/v1/rmas/{number}", headers=auth["clerk"]))
    assert shown["status"] == "authorized"
    assert [item["received_qty"] for item in shown["items"]] == [0, 0]

    into_a_warehouse = step(
        client, auth["clerk"], number, "receive", location="WH-Q", items=[{"serial": "EQ-IN"}]
    )
    assert into_a_warehouse.status_code == 422


def test_a_partial_receipt_lists_what_is_missing_and_the_rest_may_follow(
    client, auth, desk, session
):
    rma = create(client, auth["clerk"], [{"serial": "EQ-IN"}, {"sku": "BELT", "qty": 3}])
    number = rma["number"]
    ok(step(client, auth["dispatcher"], number, "authorize"))
    first = ok(
        receive_at_bench(
            client,
            auth["clerk"],
            number,
            [{"sku": "BELT", "qty": 2, "accessories_complete": False}],
        )
    )
    assert first["status"] == "received"
    assert first["missing"] == ["EQ-IN", "1 x BELT"]
    belt = first["items"][1]
    assert (belt["received_qty"], belt["missing_qty"], belt["accessories_complete"]) == (
        2,
        1,
        False,
    )
    assert first["items"][0]["accessories_complete"] is None  # nothing said: count counts
    assert "Missing: EQ-IN, 1 x BELT" in first["steps"][-1]["note"]
    due = first["due_at"]

    rest = ok(
        receive_at_bench(
            client,
            auth["clerk"],
            number,
            [{"serial": "EQ-IN", "accessories_complete": True}, {"sku": "BELT", "qty": 1}],
        )
    )
    assert rest["missing"] == []
    assert [item["received_qty"] for item in rest["items"]] == [1, 3]
    assert rest["items"][0]["accessories_complete"] is True
    assert rest["due_at"] == due  # the clock started with the first receipt

    # The customer's unit never went through our stock: it first appears from the site.
    unit = session.scalar(select(Unit).where(Unit.serial == "EQ-IN"))
    assert unit.location.code == "REPAIR-Q"
    moves = session.scalars(select(Move).where(Move.reference == number)).all()
    assert {(m.reason, m.from_code, m.to_code) for m in moves} == {
        ("rma receipt", "S-Q", "REPAIR-Q")
    }
    assert sorted(m.qty for m in moves) == [1, 1, 2]
    assert {m.document for m in moves} == {number}
    # Booked by the RMA, which counts what it received: no bare reversal.
    undo = client.post(f"/api/v1/moves/{moves[0].id}/reversal", json={}, headers=auth["admin"])
    assert undo.status_code == 409, undo.json

    nothing_left = receive_at_bench(client, auth["clerk"], number, [{"serial": "EQ-IN"}])
    assert nothing_left.status_code == 409


# ---------------------------------------------------------------- R17: the steps


def test_a_step_out_of_order_is_409_and_writes_nothing(client, auth, desk, session):
    rma = create(client, auth["clerk"], [{"serial": "EQ-IN"}])
    number = rma["number"]
    steps_before = session.scalar(select(func.count()).select_from(RmaStep))
    for name, body in [
        ("ship", {}),
        ("diagnose", {"note": "Fuser broken"}),
        ("close", {}),
        ("complete", {"outcome": "repaired"}),
        ("repair", {"place": "in_house"}),
    ]:
        answer = step(client, auth["admin"], number, name, **body)
        assert answer.status_code == 409, (name, answer.json)
        assert answer.json["type"] == "/problems/invalid-transition"
        assert answer.json["current_status"] == "requested"
        assert answer.json["next_statuses"] == ["authorized", "rejected"]
    ok(step(client, auth["dispatcher"], number, "authorize"))
    again = step(client, auth["dispatcher"], number, "authorize")
    assert again.status_code == 409
    assert session.scalar(select(func.count()).select_from(RmaStep)) == steps_before + 1
    shown = ok(client.get(f"/api/v1/rmas/{number}", headers=auth["clerk"]))
    assert [s["status"] for s in shown["steps"]] == ["requested", "authorized"]


def test_steps_take_only_what_they_need(client, auth, desk):
    number = create(client, auth["clerk"], [{"serial": "EQ-IN"}])["number"]
    assert step(client, auth["admin"], number, "reject").status_code == 422  # why?
    assert step(client, auth["admin"], number, "authorize", place="vendor").status_code == 422
    assert step(client, auth["admin"], number, "repaint").status_code == 404
    nowhere = receive_at_bench(client, auth["admin"], "RMA-999999", [{"sku": "PH"}])
    assert nowhere.status_code == 422  # an item is a serial, or a SKU and a quantity
    no_rma = [{"sku": "PH", "qty": 1}]
    nowhere = receive_at_bench(client, auth["admin"], "RMA-999999", no_rma)
    assert nowhere.status_code == 404  # a receipt against no RMA
    ok(step(client, auth["admin"], number, "authorize", note="OK by phone"))
    assert step(client, auth["admin"], number, "receive", items=[]).status_code == 422
    no_place = step(client, auth["admin"], number, "receive", items=[{"serial": "EQ-IN"}])
    assert no_place.status_code == 422
    future = receive_at_bench(
        client, auth["admin"], number, [{"serial": "EQ-IN"}], at="2026-12-01T00:00:00+00:00"
    )
    assert future.status_code == 422


def test_the_whole_life_of_a_repair_with_who_and_when(client, auth, desk, session, clock):
    rma = create(client, auth["clerk"], [{"serial": "EQ-IN"}], site="S-Q")
    number = rma["number"]
    ok(step(client, auth["dispatcher"], number, "authorize"))
    clock.advance(hours=1)
    received = ok(
        receive_at_bench(
            client, auth["clerk"], number, [{"serial": "EQ-IN", "accessories_complete": False}]
        )
    )
    assert "Accessories incomplete: EQ-IN." in received["steps"][-1]["note"]
    ok(step(client, auth["clerk"], number, "diagnose", note="Fuser broken"))
    repairing = ok(step(client, auth["clerk"], number, "repair", place="vendor"))
    assert (repairing["status"], repairing["repair_place"]) == ("repairing", "vendor")
    with_swap = step(
        client,
        auth["clerk"],
        number,
        "complete",
        outcome="repaired",
        items=[{"serial": "EQ-IN", "replacement_serial": "X"}],
    )
    assert with_swap.status_code == 422
    ok(step(client, auth["clerk"], number, "complete", outcome="repaired"))
    shipped = ok(step(client, auth["clerk"], number, "ship"))
    assert shipped["status"] == "shipped"
    closed = ok(step(client, auth["admin"], number, "close"))
    assert [(s["status"], s["by"]) for s in closed["steps"]] == [
        ("requested", "test-clerk"),
        ("authorized", "test-dispatcher"),
        ("received", "test-clerk"),
        ("diagnosed", "test-clerk"),
        ("repairing", "test-clerk"),
        ("repaired", "test-clerk"),
        ("shipped", "test-clerk"),
        ("closed", "test-admin"),
    ]
    assert closed["steps"][0]["at"] == "2026-11-20T02:00:00+00:00"
    assert closed["steps"][-1]["at"] == "2026-11-20T03:00:00+00:00"
    assert closed["steps"][3]["note"] == "Fuser broken"

    unit = session.scalar(select(Unit).where(Unit.serial == "EQ-IN"))
    assert unit.location.code == "S-Q"
    shipment = session.scalar(
        select(Move).where(Move.reference == number, Move.reason == "rma shipment")
    )
    assert (shipment.from_code, shipment.to_code, shipment.serials) == (
        "REPAIR-Q",
        "S-Q",
        ("EQ-IN",),
    )
    events = rma_events_for_serial(session, "EQ-IN")
    assert [(e.rma, e.role, e.status) for e in events] == [(number, "faulty", "closed")]
    # Back with the customer, it may come back again on a new RMA.
    create(client, auth["clerk"], [{"serial": "EQ-IN"}])


def test_a_dead_on_arrival_unit_is_replaced_not_repaired(client, auth, desk, session):
    number = create(client, auth["clerk"], [{"serial": "EQ-NEW"}])["number"]
    ok(step(client, auth["dispatcher"], number, "authorize"))
    items = [{"serial": "EQ-NEW"}]
    ok(receive_at_bench(client, auth["clerk"], number, items))
    ok(step(client, auth["clerk"], number, "diagnose", note="Dead on arrival"))
    refused = step(client, auth["clerk"], number, "repair", place="in_house")
    assert refused.status_code == 409, refused.json
    assert step(client, auth["clerk"], number, "complete", outcome="replaced").status_code == 422
    not_on_it = [{"serial": "EQ-OLD", "replacement_serial": "PRN-NEW-1"}]
    answer = step(client, auth["clerk"], number, "complete", outcome="replaced", items=not_on_it)
    assert answer.status_code == 409

    stock_in(client, auth, "PRN", serials=["PRN-NEW-1"], to="REPAIR-Q")
    swap = [{"serial": "EQ-NEW", "replacement_serial": "PRN-NEW-1"}]
    replaced = ok(step(client, auth["clerk"], number, "complete", outcome="replaced", items=swap))
    assert replaced["status"] == "replaced"
    assert replaced["items"][0]["replacement_serial"] == "PRN-NEW-1"
    ok(step(client, auth["clerk"], number, "ship"))

    units = {u.serial: u.location.code for u in session.scalars(select(Unit))}
    assert (units["PRN-NEW-1"], units["EQ-NEW"]) == ("S-Q", "REPAIR-Q")
    new_history = rma_events_for_serial(session, "PRN-NEW-1")
    assert [(e.rma, e.role, e.serial, e.replacement_serial) for e in new_history] == [
        (number, "replacement", "EQ-NEW", "PRN-NEW-1")
    ]
    assert rma_events_for_serial(session, "EQ-NEW")[0].role == "faulty"
    assert rma_events_for_serial(session, "NOPE") == []


# ---------------------------------------------------------------- R16: turnaround


def receive_one(client, auth, serial="EQ-IN"):
    number = create(client, auth["clerk"], [{"serial": serial}])["number"]
    ok(step(client, auth["dispatcher"], number, "authorize"))
    items = [{"serial": serial}]
    return ok(receive_at_bench(client, auth["clerk"], number, items))


def test_with_the_spare_in_stock_the_target_is_two_working_days(client, auth, desk):
    stock_in(client, auth, "PRN", serials=["SPARE-1"])
    rma = receive_one(client, auth)
    # Received Friday 10:00 in Shanghai: due Tuesday 10:00 (the weekend does not count).
    assert (rma["spare_in_stock"], rma["due_at"]) == (True, "2026-11-24T02:00:00+00:00")
    assert rma["overdue"] is False


def test_with_the_spare_only_at_the_vendor_the_target_is_thirty_working_days(client, auth, desk):
    rma = receive_one(client, auth)
    # 29 working days to 31 December, New Year's Day off, the 30th is Monday 4 January.
    assert (rma["spare_in_stock"], rma["due_at"]) == (False, "2027-01-04T02:00:00+00:00")


def test_the_spare_is_in_stock_only_if_there_are_enough(client, auth, desk):
    stock_in(client, auth, "BELT", qty=1)
    number = create(client, auth["clerk"], [{"sku": "BELT", "qty": 2}])["number"]
    ok(step(client, auth["dispatcher"], number, "authorize"))
    items = [{"sku": "BELT", "qty": 2}]
    rma = ok(receive_at_bench(client, auth["clerk"], number, items))
    assert rma["spare_in_stock"] is False  # one in stock, two needed


def test_an_rma_past_its_target_is_listed_overdue_and_escalated_once(
    client, auth, desk, session, clock, caplog
):
    stock_in(client, auth, "PRN", serials=["SPARE-1"])
    late = receive_one(client, auth, "EQ-IN")
    on_time = receive_one(client, auth, "EQ-OLD")
    waiting = create(client, auth["clerk"], [{"serial": "EQ-NEW"}])  # no target yet
    for name, body in [
        ("diagnose", {"note": "x"}),
        ("repair", {"place": "in_house"}),
        ("complete", {"outcome": "repaired"}),
        ("ship", {}),
    ]:
        ok(step(client, auth["clerk"], on_time["number"], name, **body))

    def listed(**query):
        answer = ok(client.get("/api/v1/rmas", query_string=query, headers=auth["engineer"]))
        return [rma["number"] for rma in answer["items"]]

    assert listed(overdue="true") == []
    clock.now = datetime(2026, 11, 24, 2, 1, tzinfo=UTC)  # a minute past Tuesday 10:00
    assert listed(overdue="true") == [late["number"]]
    assert listed(overdue="false") == [on_time["number"], waiting["number"]]
    assert listed(status="shipped") == [on_time["number"]]
    shown = ok(client.get(f"/api/v1/rmas/{late['number']}", headers=auth["clerk"]))
    assert (shown["overdue"], shown["due_at"]) == (True, "2026-11-24T02:00:00+00:00")
    page = ok(client.get("/api/v1/rmas", query_string={"limit": 2}, headers=auth["clerk"]))
    assert len(page["items"]) == 2 and page["next"]
    rest = client.get("/api/v1/rmas", query_string={"cursor": page["next"]}, headers=auth["clerk"])
    assert [rma["number"] for rma in ok(rest)["items"]] == [waiting["number"]]

    rma_id = session.scalar(select(Rma.id).where(Rma.status == "received"))
    with caplog.at_level(logging.WARNING, logger="partsvc.repairs.rmas"):
        assert escalate_overdue_rmas(session, clock.now) == [rma_id]
        assert escalate_overdue_rmas(session, clock.now) == []
    session.commit()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and late["number"] in warnings[0].getMessage()
    shown = ok(client.get(f"/api/v1/rmas/{late['number']}", headers=auth["clerk"]))
    assert shown["escalated_at"] == "2026-11-24T02:01:00+00:00"
    clock.advance(days=1)
    assert escalate_overdue_rmas(session, clock.now) == []


def test_a_retried_request_or_step_writes_nothing_twice(client, auth, desk, session):
    headers = {**auth["clerk"], "Idempotency-Key": "rma-create-1"}
    first = create(client, headers, [{"serial": "EQ-IN"}])
    again = create(client, headers, [{"serial": "EQ-IN"}])
    assert again["number"] == first["number"]
    assert session.scalar(select(func.count()).select_from(Rma)) == 1
    ok(step(client, auth["dispatcher"], first["number"], "authorize"))
    keyed = {**auth["clerk"], "Idempotency-Key": "rma-receive-1"}
    items = [{"serial": "EQ-IN"}]
    for _ in range(2):
        ok(receive_at_bench(client, keyed, first["number"], items))
    assert count_moves(session) == 1


# ---------------------------------------------------------------- from review


def test_a_replacement_from_the_warehouse_ships_from_there_and_must_be_in_stock(
    client, auth, desk, session
):
    number = create(client, auth["clerk"], [{"serial": "EQ-NEW"}, {"serial": "EQ-IN"}])["number"]
    ok(step(client, auth["dispatcher"], number, "authorize"))
    items = [{"serial": "EQ-NEW"}, {"serial": "EQ-IN"}]
    ok(receive_at_bench(client, auth["clerk"], number, items))
    ok(step(client, auth["clerk"], number, "diagnose", note="One dead, one worn"))
    unknown = [{"serial": "EQ-NEW", "replacement_serial": "NEVER-SEEN"}]
    refused = step(client, auth["clerk"], number, "complete", outcome="replaced", items=unknown)
    assert refused.status_code == 409
    assert refused.json["replacement_serial"] == "NEVER-SEEN"
    stock_in(client, auth, "PRN", serials=["PRN-WH-1"])  # in the warehouse, not the bench
    swap = [{"serial": "EQ-NEW", "replacement_serial": "PRN-WH-1"}]
    ok(step(client, auth["clerk"], number, "complete", outcome="replaced", items=swap))
    ok(step(client, auth["clerk"], number, "ship"))
    units = {u.serial: u.location.code for u in session.scalars(select(Unit))}
    assert (units["PRN-WH-1"], units["EQ-IN"], units["EQ-NEW"]) == ("S-Q", "S-Q", "REPAIR-Q")


def test_a_repaired_rma_waiting_to_ship_is_not_overdue(client, auth, desk, session, clock):
    stock_in(client, auth, "PRN", serials=["SPARE-1"])
    number = receive_one(client, auth)["number"]
    ok(step(client, auth["clerk"], number, "diagnose", note="Worn"))
    ok(step(client, auth["clerk"], number, "repair", place="in_house"))
    ok(step(client, auth["clerk"], number, "complete", outcome="repaired"))
    clock.advance(days=10)
    listed = client.get("/api/v1/rmas", query_string={"overdue": "true"}, headers=auth["clerk"])
    assert listed.json["items"] == []
    assert escalate_overdue_rmas(session, clock.now) == []


def test_a_unit_out_on_loan_moves_only_through_its_loan(client, auth, desk):
    client.post(
        "/api/v1/parts",
        json={"sku": "LOAN-Q", "name": "Loaner", "serialized": True, "loaner": True},
        headers=auth["admin"],
    )
    stock_in(client, auth, "LOAN-Q", serials=["LQ-1"])
    loan = client.post(
        "/api/v1/loans", json={"serial": "LQ-1", "site": "S-Q"}, headers=auth["dispatcher"]
    ).json
    number = create(client, auth["clerk"], [{"serial": "LQ-1"}])["number"]
    ok(step(client, auth["dispatcher"], number, "authorize"))
    refused = receive_at_bench(client, auth["clerk"], number, [{"serial": "LQ-1"}])
    assert refused.status_code == 409
    assert refused.json["loan"] == loan["id"]
    moved = client.post(
        "/api/v1/moves",
        json={
            "sku": "LOAN-Q",
            "qty": 1,
            "from": "S-Q",
            "to": "WH-Q",
            "reason": "back",
            "serials": ["LQ-1"],
        },
        headers=auth["clerk"],
    )
    assert moved.status_code == 409


def test_the_installed_base_follows_a_swap(client, auth, desk, clock):
    number = create(client, auth["clerk"], [{"serial": "EQ-NEW"}])["number"]
    ok(step(client, auth["dispatcher"], number, "authorize"))
    ok(receive_at_bench(client, auth["clerk"], number, [{"serial": "EQ-NEW"}]))
    ok(step(client, auth["clerk"], number, "diagnose", note="Dead on arrival"))
    stock_in(client, auth, "PRN", serials=["PRN-SWAP"])
    swap = [{"serial": "EQ-NEW", "replacement_serial": "PRN-SWAP"}]
    ok(step(client, auth["clerk"], number, "complete", outcome="replaced", items=swap))
    clock.advance(days=1)
    ok(step(client, auth["clerk"], number, "ship"))
    old = client.get("/api/v1/equipment/EQ-NEW", headers=auth["clerk"]).json
    new = client.get("/api/v1/equipment/PRN-SWAP", headers=auth["clerk"]).json
    assert old["replaced_by"] == "PRN-SWAP"
    assert (new["site"], new["installed_on"], new["warranty_until"]) == (
        "S-Q",
        "2026-11-21",  # shipped Saturday 10:00 in Shanghai: its warranty starts then
        "2027-11-21",
    )
    assert new["replaced_by"] is None


def test_each_step_schema_builds_the_input_its_step_takes() -> None:
    from partsvc.api.repairs_schemas import STEP_SCHEMAS
    from partsvc.repairs.steps import STEP_INPUTS

    assert set(STEP_SCHEMAS) == set(STEP_INPUTS) == set(Step)
    for step, schema in STEP_SCHEMAS.items():
        assert schema.makes is STEP_INPUTS[step], step


def test_a_step_refuses_fields_it_does_not_take(client, auth) -> None:
    answer = client.post(
        "/api/v1/rmas/RMA-999999/authorize", json={"place": "in_house"}, headers=auth["clerk"]
    )
    assert answer.status_code == 422
    assert answer.json["errors"] == {"place": ["Unknown field."]}
