"""Loaners on customer sites (R10–R13): lending, extensions, returns, lists, holds."""

from __future__ import annotations

import pytest

from tests.api.conftest import serial_receipt


@pytest.fixture
def pool(client, auth, session, post_as_admin, add_engineers):
    """Two loaners LN-1, LN-2 of model LOAN-X in WH-L, a printer part, a site, two
    engineers with their own tokens and a call assigned to E-L1."""
    admin = auth["admin"]
    post = post_as_admin

    for code, kind in [("WH-L", "warehouse"), ("V-L", "vendor"), ("REPAIR-L", "repair")]:
        post("/api/v1/locations", {"code": code, "name": code, "kind": kind})
    post("/api/v1/parts", {"sku": "LOAN-X", "name": "Loaner", "serialized": True, "loaner": True})
    post("/api/v1/parts", {"sku": "HEAD", "name": "Print head", "serialized": True})
    post("/api/v1/moves", serial_receipt("LOAN-X", ["LN-1", "LN-2"], "V-L", "WH-L"))
    post("/api/v1/moves", serial_receipt("HEAD", ["PH-1"], "V-L", "WH-L"))
    post("/api/v1/customers", {"code": "C-L", "name": "Customer"})
    post(
        "/api/v1/sites",
        {"code": "S-L", "customer": "C-L", "address": "上海", "lat": 31.2, "lon": 121.4},
    )
    tokens = add_engineers("E-L1", "E-L2")
    call = post("/api/v1/calls", {"site": "S-L", "priority": "P1"})
    client.post(
        f"/api/v1/calls/{call['id']}/status",
        json={"status": "assigned", "engineer": "E-L1"},
        headers=admin,
    )
    return {"call": call["id"], **tokens}


def lend(client, headers, **body):
    answer = client.post("/api/v1/loans", json={"site": "S-L", **body}, headers=headers)
    assert answer.status_code == 201, answer.json
    return answer.json


def listed_loans(client, headers, **query):
    """The loans the caller's list shows, narrowed by ``query``."""
    return client.get("/api/v1/loans", query_string=query, headers=headers).json["items"]


def day_of(client, engineer, headers):
    """The engineer's day on the test clock's Friday, 2026-11-20."""
    return client.get(
        f"/api/v1/engineers/{engineer}/day", query_string={"date": "2026-11-20"}, headers=headers
    ).json


def where(client, auth, serial):
    return client.get(f"/api/v1/serials/{serial}", headers=auth["clerk"]).json["location"]


def test_a_loan_is_due_15_days_out_and_moves_the_unit_to_the_site(client, auth, pool):
    loan = lend(client, pool["E-L1"], serial="LN-1", call=pool["call"])
    assert loan["out_at"] == "2026-11-20T02:00:00+00:00"
    assert loan["due_at"] == "2026-12-05T02:00:00+00:00"
    assert (loan["engineer"], loan["status"], loan["days_overdue"]) == ("E-L1", "open", 0)
    assert where(client, auth, "LN-1") == "S-L"
    again = client.post(
        "/api/v1/loans", json={"site": "S-L", "serial": "LN-1"}, headers=auth["dispatcher"]
    )
    assert again.status_code == 409
    assert again.content_type == "application/problem+json"
    not_a_loaner = client.post(
        "/api/v1/loans", json={"site": "S-L", "serial": "PH-1"}, headers=auth["dispatcher"]
    )
    assert not_a_loaner.status_code == 422


def test_a_dispatchers_extension_past_15_days_from_out_is_refused(client, auth, pool):
    loan = lend(client, auth["dispatcher"], serial="LN-1")
    path = f"/api/v1/loans/{loan['id']}/extensions"
    refused = client.post(
        path, json={"days": 3, "reason": "Repair delayed"}, headers=auth["dispatcher"]
    )
    assert refused.status_code == 409
    assert refused.content_type == "application/problem+json"
    assert refused.json["latest_due_at"] == "2026-12-05T02:00:00+00:00"  # out + 15 days
    assert refused.json["requested_due_at"] == "2026-12-08T02:00:00+00:00"
    not_admin = client.post(
        path, json={"days": 3, "reason": "Again", "override": True}, headers=auth["dispatcher"]
    )
    assert not_admin.status_code == 403
    assert not_admin.content_type == "application/problem+json"
    unchanged = client.get(f"/api/v1/loans/{loan['id']}", headers=auth["admin"]).json
    assert (unchanged["due_at"], unchanged["extensions"]) == ("2026-12-05T02:00:00+00:00", [])


def test_an_admins_extension_past_15_days_is_recorded_with_its_reason(client, auth, pool):
    loan = lend(client, auth["dispatcher"], serial="LN-1")
    path = f"/api/v1/loans/{loan['id']}/extensions"
    without_override = client.post(
        path, json={"days": 3, "reason": "Vendor strike"}, headers=auth["admin"]
    )
    assert without_override.status_code == 409
    no_reason = client.post(path, json={"days": 3, "override": True}, headers=auth["admin"])
    assert no_reason.status_code == 422
    overridden = client.post(
        path, json={"days": 3, "reason": "Vendor strike", "override": True}, headers=auth["admin"]
    )
    assert overridden.status_code == 201, overridden.json
    assert overridden.json["due_at"] == "2026-12-08T02:00:00+00:00"
    assert [
        (e["days"], e["override"], e["reason"], e["old_due_at"], e["new_due_at"])
        for e in overridden.json["extensions"]
    ] == [(3, True, "Vendor strike", "2026-12-05T02:00:00+00:00", "2026-12-08T02:00:00+00:00")]
    events = client.get(
        "/api/v1/audit",
        query_string={"action": "loan.extension_overridden"},
        headers=auth["admin"],
    ).json["items"]
    assert [(e["username"], e["details"]["reason"], e["details"]["days"]) for e in events] == [
        ("test-admin", "Vendor strike", 3)
    ]


def test_an_extension_within_the_maximum_needs_only_a_reason(client, auth, pool):
    shorter = client.put(
        "/api/v1/loan-policy",
        json={"loan_days": 10, "max_days": 15, "due_soon_days": 2},
        headers=auth["admin"],
    )
    assert shorter.status_code == 200, shorter.json
    loan = lend(client, auth["dispatcher"], serial="LN-1")
    assert loan["due_at"] == "2026-11-30T02:00:00+00:00"
    path = f"/api/v1/loans/{loan['id']}/extensions"
    no_reason = client.post(path, json={"days": 5}, headers=auth["dispatcher"])
    assert no_reason.status_code == 422
    blank = client.post(path, json={"days": 5, "reason": "  "}, headers=auth["dispatcher"])
    assert blank.status_code == 422
    within = client.post(
        path, json={"days": 5, "reason": "Repair delayed"}, headers=auth["dispatcher"]
    )
    assert within.status_code == 201, within.json
    assert within.json["due_at"] == "2026-12-05T02:00:00+00:00"
    assert [(e["days"], e["override"]) for e in within.json["extensions"]] == [(5, False)]
    one_more_day = client.post(
        path, json={"days": 1, "reason": "Again"}, headers=auth["dispatcher"]
    )
    assert one_more_day.status_code == 409


def test_a_loan_three_days_past_due_is_overdue_in_the_placing_engineers_list(
    client, auth, pool, clock
):
    loan = lend(client, pool["E-L1"], serial="LN-1", call=pool["call"])
    clock.advance(days=18)
    listed = listed_loans(client, pool["E-L1"], status="overdue")
    assert [(item["id"], item["status"], item["days_overdue"]) for item in listed] == [
        (loan["id"], "overdue", 3)
    ]
    assert listed_loans(client, pool["E-L2"]) == []
    assert client.get(f"/api/v1/loans/{loan['id']}", headers=pool["E-L2"]).status_code == 404
    everyone = listed_loans(client, auth["dispatcher"], status="overdue")
    assert [item["id"] for item in everyone] == [loan["id"]]


def test_loans_due_within_two_days_are_flagged_due_soon(client, auth, pool, clock):
    soon = lend(client, auth["dispatcher"], serial="LN-1")
    clock.advance(days=5)
    later = lend(client, auth["dispatcher"], serial="LN-2")
    clock.advance(days=8, hours=1)  # the first is due in 1 day 23 hours
    states = {item["id"]: item["status"] for item in listed_loans(client, auth["dispatcher"])}
    assert states == {soon["id"]: "due_soon", later["id"]: "open"}
    listed = listed_loans(client, auth["dispatcher"], status="due_soon")
    assert [item["id"] for item in listed] == [soon["id"]]


def test_a_damaged_return_lands_in_the_repair_location(client, auth, pool, clock):
    damaged = lend(client, auth["dispatcher"], serial="LN-1")
    fine = lend(client, auth["dispatcher"], serial="LN-2")
    clock.advance(days=3)
    answer = client.post(
        f"/api/v1/loans/{damaged['id']}/return",
        json={"condition": "damaged", "note": "Cracked panel"},
        headers=auth["clerk"],
    )
    assert answer.status_code == 200, answer.json
    assert (answer.json["status"], answer.json["returned_to"]) == ("returned", "REPAIR-L")
    assert where(client, auth, "LN-1") == "REPAIR-L"
    refused = client.post(
        f"/api/v1/loans/{fine['id']}/return",
        json={"condition": "damaged", "location": "WH-L"},
        headers=auth["clerk"],
    )
    assert refused.status_code == 422
    assert where(client, auth, "LN-2") == "S-L"
    ok = client.post(
        f"/api/v1/loans/{fine['id']}/return", json={"condition": "ok"}, headers=auth["clerk"]
    )
    assert ok.json["returned_to"] == "WH-L"
    assert where(client, auth, "LN-2") == "WH-L"
    twice = client.post(
        f"/api/v1/loans/{fine['id']}/return", json={"condition": "ok"}, headers=auth["clerk"]
    )
    assert twice.status_code == 409


def test_a_loaner_held_for_a_visit_is_lent_only_for_it(client, auth, pool):
    other = client.post(
        "/api/v1/calls", json={"site": "S-L", "priority": "P3"}, headers=auth["dispatcher"]
    ).json
    held = client.post(
        "/api/v1/loaner-reservations",
        json={"call": pool["call"], "sku": "LOAN-X"},
        headers=auth["dispatcher"],
    )
    assert held.status_code == 201, held.json
    serial = held.json["serial"]
    wrong = client.post(
        "/api/v1/loans",
        json={"site": "S-L", "serial": serial, "call": other["id"]},
        headers=auth["dispatcher"],
    )
    assert wrong.status_code == 409
    assert wrong.json["reserved_for_call"] == pool["call"]
    loan = lend(client, auth["dispatcher"], serial=serial, call=pool["call"])
    reservations = client.get(
        "/api/v1/loaner-reservations", query_string={"call": pool["call"]}, headers=auth["clerk"]
    ).json["items"]
    assert [(r["status"], r["loan"]) for r in reservations] == [("lent", loan["id"])]
    lent_one = client.post(
        "/api/v1/loaner-reservations",
        json={"call": other["id"], "serial": serial},
        headers=auth["dispatcher"],
    )
    assert lent_one.status_code == 409
    second = client.post(
        "/api/v1/loaner-reservations",
        json={"call": other["id"], "sku": "LOAN-X"},
        headers=auth["dispatcher"],
    )
    assert second.status_code == 201
    none_left = client.post(
        "/api/v1/loaner-reservations",
        json={"call": other["id"], "sku": "LOAN-X"},
        headers=auth["dispatcher"],
    )
    assert none_left.status_code == 409
    released = client.post(
        f"/api/v1/loaner-reservations/{second.json['id']}/release", headers=auth["dispatcher"]
    )
    assert released.json["status"] == "released"


def test_an_engineer_lends_for_themselves_only(client, auth, pool):
    refused = client.post(
        "/api/v1/loans",
        json={"site": "S-L", "serial": "LN-1", "engineer": "E-L2"},
        headers=pool["E-L1"],
    )
    assert refused.status_code == 403
    assert where(client, auth, "LN-1") == "WH-L"


def test_an_admin_changes_the_loan_policy_for_new_loans(client, auth, pool):
    policy = client.get("/api/v1/loan-policy", headers=auth["engineer"]).json
    assert policy == {"loan_days": 15, "max_days": 15, "due_soon_days": 2}
    changed = client.put(
        "/api/v1/loan-policy",
        json={"loan_days": 10, "max_days": 20, "due_soon_days": 1},
        headers=auth["admin"],
    )
    assert changed.status_code == 200
    assert lend(client, auth["dispatcher"], serial="LN-1")["due_at"] == "2026-11-30T02:00:00+00:00"
    bad = client.put(
        "/api/v1/loan-policy",
        json={"loan_days": 10, "max_days": 5, "due_soon_days": 1},
        headers=auth["admin"],
    )
    assert bad.status_code == 422


def test_the_engineers_day_lists_the_loans_they_placed(client, auth, pool):
    loan = lend(client, pool["E-L1"], serial="LN-1", call=pool["call"])
    day = day_of(client, "E-L1", pool["E-L1"])
    assert day["loans"] == [
        {
            "id": loan["id"],
            "serial": "LN-1",
            "site": "S-L",
            "due_at": "2026-12-05T02:00:00+00:00",
            "to_collect": False,
        }
    ]


def test_a_loaner_covering_an_rma_is_to_collect_when_the_repaired_unit_ships(client, auth, pool):
    """R10, R13: the printer goes for repair, a loaner takes its place; when the repaired
    unit ships back, the engineer sees the loaner to bring back; the serials tell it all."""
    admin, clerk = auth["admin"], auth["clerk"]
    client.post(
        "/api/v1/parts", json={"sku": "PRN", "name": "Printer", "serialized": True}, headers=admin
    )
    unit = {"serial": "PRN-1", "sku": "PRN", "site": "S-L", "installed_on": "2025-01-10"}
    assert client.post("/api/v1/equipment", json=unit, headers=admin).status_code == 201
    rma = client.post(
        "/api/v1/rmas",
        json={"customer": "C-L", "fault": "Paper jam", "items": [{"serial": "PRN-1"}]},
        headers=clerk,
    ).json
    number = rma["number"]

    def step(name, **body):
        answer = client.post(f"/api/v1/rmas/{number}/{name}", json=body, headers=clerk)
        assert answer.status_code == 200, answer.json
        return answer.json

    step("authorize")
    step("receive", location="REPAIR-L", items=[{"serial": "PRN-1"}])
    loan = lend(client, pool["E-L1"], serial="LN-1", call=pool["call"], rma=number)
    assert (loan["rma"], loan["to_collect"]) == (number, False)
    step("diagnose", note="Worn rollers")
    step("repair", place="in_house")
    step("complete", outcome="repaired")
    step("ship", engineer="E-L2")  # E-L2 delivers the repaired printer

    shown = client.get(f"/api/v1/loans/{loan['id']}", headers=pool["E-L1"]).json
    assert (shown["to_collect"], shown["collector"]) == (True, "E-L2")
    collector_day = day_of(client, "E-L2", pool["E-L2"])
    assert [(item["serial"], item["to_collect"]) for item in collector_day["loans"]] == [
        ("LN-1", True)
    ]
    assert [item["id"] for item in listed_loans(client, pool["E-L2"])] == [loan["id"]]
    day = day_of(client, "E-L1", pool["E-L1"])
    assert [(item["serial"], item["to_collect"]) for item in day["loans"]] == [("LN-1", True)]
    listed = listed_loans(client, auth["dispatcher"], to_collect="true")
    assert [item["id"] for item in listed] == [loan["id"]]

    printer = client.get("/api/v1/serials/PRN-1", headers=clerk).json
    assert (printer["location"], printer["installed_at"]) == ("S-L", "S-L")
    assert [(r["rma"], r["role"], r["status"]) for r in printer["rmas"]] == [
        (number, "faulty", "shipped")
    ]
    assert [move["reason"] for move in printer["history"]][:1] == ["rma shipment"]
    loaner = client.get("/api/v1/serials/LN-1", headers=clerk).json
    assert [(item["id"], item["status"]) for item in loaner["loans"]] == [(loan["id"], "open")]
    returned = client.post(
        f"/api/v1/loans/{loan['id']}/return", json={"condition": "ok"}, headers=pool["E-L2"]
    )
    assert (returned.json["status"], returned.json["to_collect"]) == ("returned", False)
    bare = client.post(
        f"/api/v1/moves/{loaner['history'][0]['id']}/reversal", json={}, headers=clerk
    )
    assert bare.status_code == 409  # a loan's move is undone through the loan


def test_an_engineer_lends_from_their_own_van_not_anothers(client, auth, pool):
    client.post(
        "/api/v1/moves",
        json={
            "sku": "LOAN-X",
            "qty": 1,
            "from": "WH-L",
            "to": "VAN-E-L2",
            "reason": "stock van",
            "serials": ["LN-2"],
        },
        headers=auth["clerk"],
    )
    refused = client.post(
        "/api/v1/loans", json={"site": "S-L", "serial": "LN-2"}, headers=pool["E-L1"]
    )
    assert refused.status_code == 403
    assert where(client, auth, "LN-2") == "VAN-E-L2"
    mine = lend(client, pool["E-L2"], serial="LN-2")
    back = client.post(
        f"/api/v1/loans/{mine['id']}/return",
        json={"condition": "ok", "location": "VAN-E-L1"},
        headers=pool["E-L2"],
    )
    assert back.status_code == 403


def test_a_loan_names_a_call_and_an_rma_of_that_site_and_customer(client, auth, pool):
    admin = auth["admin"]
    client.post("/api/v1/customers", json={"code": "C-O", "name": "Other"}, headers=admin)
    site = {"code": "S-O", "customer": "C-O", "address": "苏州", "lat": 31.3, "lon": 120.6}
    client.post("/api/v1/sites", json=site, headers=admin)
    elsewhere = client.post(
        "/api/v1/loans",
        json={"site": "S-O", "serial": "LN-1", "call": pool["call"]},
        headers=auth["dispatcher"],
    )
    assert elsewhere.status_code == 422
    client.post("/api/v1/parts", json={"sku": "BELT-O", "name": "Belt"}, headers=admin)
    rma = client.post(
        "/api/v1/rmas",
        json={"customer": "C-L", "fault": "Slips", "items": [{"sku": "BELT-O", "qty": 1}]},
        headers=auth["clerk"],
    ).json
    theirs = client.post(
        "/api/v1/loans",
        json={"site": "S-O", "serial": "LN-1", "rma": rma["number"]},
        headers=auth["dispatcher"],
    )
    assert theirs.status_code == 422
    assert where(client, auth, "LN-1") == "WH-L"


def test_reversing_an_older_move_of_a_loaner_out_on_loan_is_refused(client, auth, pool):
    # LN-1 went to the site by hand and came back; lent since, it is there again.
    def move(source, target):
        body = {"sku": "LOAN-X", "qty": 1, "from": source, "to": target, "reason": "t"}
        answer = client.post(
            "/api/v1/moves", json=body | {"serials": ["LN-1"]}, headers=auth["clerk"]
        )
        assert answer.status_code == 201, answer.json
        return answer.json["id"]

    out_by_hand = move("WH-L", "S-L")
    move("S-L", "WH-L")
    loan = lend(client, auth["admin"], serial="LN-1")
    answer = client.post(f"/api/v1/moves/{out_by_hand}/reversal", json={}, headers=auth["clerk"])
    assert answer.status_code == 409
    assert answer.content_type == "application/problem+json"
    assert answer.json["loan"] == loan["id"]
    assert where(client, auth, "LN-1") == "S-L"


def test_a_loan_names_only_an_rma_of_the_site_s_customer(client, auth, pool):
    """R13, through the workflow that looks the RMA up: an unknown number is a 404, another
    customer's RMA a 422, and nothing is lent either way."""
    admin, clerk = auth["admin"], auth["clerk"]
    client.post("/api/v1/customers", json={"code": "C-O", "name": "Other"}, headers=admin)
    client.post(
        "/api/v1/parts", json={"sku": "PRN", "name": "Printer", "serialized": True}, headers=admin
    )
    site = {"code": "S-O", "customer": "C-O", "address": "苏州", "lat": 31.3, "lon": 120.6}
    client.post("/api/v1/sites", json=site, headers=admin)
    unit = {"serial": "PRN-O", "sku": "PRN", "site": "S-O", "installed_on": "2025-01-10"}
    client.post("/api/v1/equipment", json=unit, headers=admin)
    other = client.post(
        "/api/v1/rmas",
        json={"customer": "C-O", "fault": "Jam", "items": [{"serial": "PRN-O"}]},
        headers=clerk,
    ).json["number"]
    body = {"site": "S-L", "serial": "LN-1", "call": pool["call"]}

    unknown = client.post("/api/v1/loans", json={**body, "rma": "RMA-999999"}, headers=admin)
    theirs = client.post("/api/v1/loans", json={**body, "rma": other}, headers=admin)

    assert unknown.status_code == 404, unknown.json
    assert (theirs.status_code, theirs.json["errors"]) == (422, {"rma": ["Another customer's."]})
    assert where(client, auth, "LN-1") == "WH-L"


def test_a_unit_out_on_loan_is_not_received_under_an_rma(client, auth, pool):
    """A unit on loan moves only through its loan: its receipt under an RMA is a 409."""
    lend(client, pool["E-L1"], serial="LN-1", call=pool["call"])
    clerk = auth["clerk"]
    rma = client.post(
        "/api/v1/rmas",
        json={"customer": "C-L", "fault": "Broken", "items": [{"serial": "LN-1"}]},
        headers=clerk,
    )
    assert rma.status_code == 201, rma.json
    number = rma.json["number"]
    assert (
        client.post(f"/api/v1/rmas/{number}/authorize", json={}, headers=clerk).status_code == 200
    )

    received = client.post(
        f"/api/v1/rmas/{number}/receive",
        json={"location": "REPAIR-L", "items": [{"serial": "LN-1"}]},
        headers=clerk,
    )

    assert received.status_code == 409, received.json
    assert "out on loan" in received.json["detail"]
    assert where(client, auth, "LN-1") == "S-L"
