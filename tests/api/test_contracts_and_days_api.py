"""Contracts that change (R19), a unit's technical file (R18) and an engineer's day."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest


@pytest.fixture
def customer(client, auth):
    body = {"code": "C-CH", "name": "Changing", "tier": "bronze"}
    assert client.post("/api/v1/customers", json=body, headers=auth["admin"]).status_code == 201
    site = {"code": "S-CH", "customer": "C-CH", "address": "上海", "lat": 31.2, "lon": 121.5}
    assert client.post("/api/v1/sites", json=site, headers=auth["admin"]).status_code == 201
    return "C-CH"


def change(client, headers, customer, **body):
    return client.put(f"/api/v1/customers/{customer}/contract", json=body, headers=headers)


def test_an_upgrade_starts_a_new_contract_and_ends_the_old_the_day_before(
    client, auth, customer, clock
):
    answer = change(client, auth["dispatcher"], customer, tier="gold", starts_on="2026-12-01")
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert (body["tier"], body["contract"]["tier"]) == ("bronze", "bronze")  # still today
    assert [(c["tier"], c["starts_on"], c["ends_on"]) for c in body["contracts"]] == [
        ("gold", "2026-12-01", None),
        ("bronze", "2026-11-20", "2026-11-30"),
    ]
    assert body["contracts"][0]["visit_every_months"] == 2

    clock.now = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    shown = client.get(f"/api/v1/customers/{customer}", headers=auth["clerk"]).json
    assert (shown["tier"], shown["contract"]["starts_on"]) == ("gold", "2026-12-01")

    clock.now = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    call = {"site": "S-CH", "priority": "P1", "reported_at": "2026-11-29T23:00:00+08:00"}
    before = client.post("/api/v1/calls", json=call, headers=auth["dispatcher"]).json
    call["reported_at"] = "2026-12-06T23:00:00+08:00"  # a Sunday night under gold: 24×7
    after = client.post("/api/v1/calls", json=call, headers=auth["dispatcher"]).json
    assert (before["tier"], after["tier"]) == ("bronze", "gold")
    assert after["onsite_due"] == "2026-12-06T17:00:00+00:00"  # Monday 01:00


def test_tier_none_ends_the_contract_and_a_change_on_its_first_day_replaces_it(
    client, auth, customer
):
    body = change(client, auth["admin"], customer, tier="silver", visit_every_months=1).json
    assert [(c["tier"], c["visit_every_months"]) for c in body["contracts"]] == [("silver", 1)]
    body = change(client, auth["admin"], customer, tier="none", starts_on="2027-01-01").json
    assert body["contracts"][0]["ends_on"] == "2026-12-31"
    late = change(client, auth["admin"], customer, tier="gold", starts_on="2026-12-15")
    assert late.status_code == 200
    early = change(client, auth["admin"], customer, tier="gold", starts_on="2026-12-01")
    assert early.status_code == 409, early.json
    assert early.json["starts_on"] == "2026-12-15"


def test_a_bad_contract_change_is_refused_and_changes_nothing(client, auth, customer):
    refused = [
        change(client, auth["admin"], customer, tier="silver", designated_engineer="E-X"),
        change(client, auth["admin"], customer, tier="platinum"),
        change(client, auth["admin"], customer, tier="gold", visit_every_months=0),
        change(client, auth["admin"], "C-NOBODY", tier="gold"),
    ]
    assert [answer.status_code for answer in refused] == [422, 422, 422, 404]
    shown = client.get(f"/api/v1/customers/{customer}", headers=auth["admin"]).json
    assert [c["tier"] for c in shown["contracts"]] == ["bronze"]


def test_a_units_technical_file_lists_its_calls(client, auth, customer):
    client.post("/api/v1/parts", json={"sku": "PX-M", "name": "Printer"}, headers=auth["admin"])
    unit = {"serial": "PX-9", "sku": "PX-M", "site": "S-CH", "installed_on": "2026-01-10"}
    assert client.post("/api/v1/equipment", json=unit, headers=auth["admin"]).status_code == 201
    for priority in ("P2", "P3"):
        body = {"site": "S-CH", "priority": priority, "equipment": "PX-9", "description": "卡纸"}
        assert (
            client.post("/api/v1/calls", json=body, headers=auth["dispatcher"]).status_code == 201
        )
    client.post("/api/v1/calls", json={"site": "S-CH", "priority": "P1"}, headers=auth["admin"])
    history = client.get("/api/v1/equipment/PX-9", headers=auth["clerk"]).json["calls"]
    assert [(c["priority"], c["status"], c["description"]) for c in history] == [
        ("P2", "new", "卡纸"),
        ("P3", "new", "卡纸"),
    ]


@pytest.fixture
def engineers(client, auth, session, add_engineers):
    """Two engineers with their own tokens; E-D1's van holds two parts."""
    admin = auth["admin"]
    headers = add_engineers("E-D1", "E-D2")
    client.post(
        "/api/v1/locations", json={"code": "V-D", "name": "V", "kind": "vendor"}, headers=admin
    )
    client.post(
        "/api/v1/parts", json={"sku": "FUSER", "name": "Fuser", "name_zh": "定影器"}, headers=admin
    )
    move = {"sku": "FUSER", "qty": 3, "from": "V-D", "to": "VAN-E-D1", "reason": "receipt"}
    assert client.post("/api/v1/moves", json=move, headers=admin).status_code == 201
    return headers


def test_an_engineers_day_holds_their_calls_due_by_its_end_and_their_van_stock(
    client, auth, customer, engineers, clock
):
    dispatcher = auth["dispatcher"]

    def assigned(engineer, **call):
        body = {"site": "S-CH", **call}
        made = client.post("/api/v1/calls", json=body, headers=dispatcher).json
        move = {"status": "assigned", "engineer": engineer}
        client.post(f"/api/v1/calls/{made['id']}/status", json=move, headers=dispatcher)
        return made["id"]

    # The test clock is Friday 20 November, 10:00 in Shanghai.
    today = assigned("E-D1", priority="P2")  # on site by 12:00 today
    later = assigned(
        "E-D1",
        priority="P3",
        window={"start": "2026-11-25T14:00:00+08:00", "end": "2026-11-25T16:00:00+08:00"},
    )
    urgent = assigned("E-D1", priority="P1")  # on site by 12:00 too, reported after
    assigned("E-D2", priority="P1")

    day = client.get(
        "/api/v1/engineers/E-D1/day", query_string={"date": "2026-11-20"}, headers=engineers["E-D1"]
    )
    assert day.status_code == 200, day.json
    assert [c["id"] for c in day.json["calls"]] == [today, urgent]
    assert (day.json["engineer"], day.json["van"]) == ("E-D1", "VAN-E-D1")
    assert day.json["van_stock"] == [
        {
            "sku": "FUSER",
            "name": "Fuser",
            "name_zh": "定影器",
            "on_hand": 3,
            "reserved": 0,
            "available": 3,
        }
    ]
    wednesday = client.get(
        "/api/v1/engineers/E-D1/day", query_string={"date": "2026-11-25"}, headers=dispatcher
    ).json
    assert [c["id"] for c in wednesday["calls"]] == [today, urgent, later]  # overdue ones stay


def test_an_engineer_sees_their_own_day_only(client, auth, engineers):
    query = {"date": "2026-11-20"}
    other = client.get("/api/v1/engineers/E-D2/day", query_string=query, headers=engineers["E-D1"])
    assert other.status_code == 404  # as if E-D2 did not exist
    assert other.content_type == "application/problem+json"
    assert (
        client.get(
            "/api/v1/engineers/E-D2/day", query_string=query, headers=auth["clerk"]
        ).status_code
        == 200
    )
    assert (
        client.get(
            "/api/v1/engineers/E-D2/day", query_string={"date": "2026-13-01"}, headers=auth["clerk"]
        ).status_code
        == 422
    )


def test_a_change_cannot_start_in_the_past_once_a_contract_exists(client, auth, customer):
    past = change(client, auth["admin"], customer, tier="gold", starts_on="2026-11-19")
    assert past.status_code == 422
    assert past.json["errors"] == {"starts_on": ["Before today."]}
    same_day = change(client, auth["admin"], customer, tier="gold", starts_on="2026-11-20")
    assert same_day.status_code == 200  # the bronze contract started today: replaced
    assert [c["tier"] for c in same_day.json["contracts"]] == ["gold"]


@pytest.mark.parametrize(
    "path, query",
    [
        ("/api/v1/calendar", {"from": "9999-12-31", "to": "9999-12-31"}),
        ("/api/v1/calendar", {"from": "0001-01-01", "to": "0001-01-02"}),
    ],
)
def test_dates_at_the_ends_of_the_calendar_are_422(client, auth, path, query):
    assert client.get(path, query_string=query, headers=auth["admin"]).status_code == 422


def test_an_engineer_sees_only_their_own_calls_in_a_units_file(client, auth, customer, engineers):
    client.post("/api/v1/parts", json={"sku": "PX-M", "name": "Printer"}, headers=auth["admin"])
    unit = {"serial": "PX-7", "sku": "PX-M", "site": "S-CH", "installed_on": "2026-01-10"}
    client.post("/api/v1/equipment", json=unit, headers=auth["admin"])
    ids = {}
    for engineer in ("E-D1", "E-D2"):
        body = {"site": "S-CH", "priority": "P3", "equipment": "PX-7"}
        call = client.post("/api/v1/calls", json=body, headers=auth["dispatcher"]).json
        client.post(
            f"/api/v1/calls/{call['id']}/status",
            json={"status": "assigned", "engineer": engineer},
            headers=auth["dispatcher"],
        )
        ids[engineer] = call["id"]
    seen = client.get("/api/v1/equipment/PX-7", headers=engineers["E-D1"]).json["calls"]
    assert [c["id"] for c in seen] == [ids["E-D1"]]
    everything = client.get("/api/v1/equipment/PX-7", headers=auth["dispatcher"]).json["calls"]
    assert [c["id"] for c in everything] == [ids["E-D1"], ids["E-D2"]]
    day = client.get(
        "/api/v1/engineers/E-D1/day", query_string={"date": "0001-01-01"}, headers=auth["admin"]
    )
    assert day.status_code == 422


def test_a_dispatcher_hands_a_call_in_progress_to_another_engineer(
    client, auth, customer, engineers
):
    call = client.post(
        "/api/v1/calls", json={"site": "S-CH", "priority": "P2"}, headers=auth["dispatcher"]
    ).json
    path = f"/api/v1/calls/{call['id']}"
    assert (
        client.patch(path, json={"engineer": "E-D2"}, headers=auth["dispatcher"]).status_code == 409
    )
    client.post(
        f"{path}/status",
        json={"status": "assigned", "engineer": "E-D1"},
        headers=auth["dispatcher"],
    )
    client.post(f"{path}/status", json={"status": "en_route"}, headers=engineers["E-D1"])
    moved = client.patch(path, json={"engineer": "E-D2"}, headers=auth["dispatcher"])
    assert moved.status_code == 200, moved.json
    assert (moved.json["engineer"], moved.json["status"]) == ("E-D2", "en_route")
    assert [s["status"] for s in moved.json["history"]] == [
        "new",
        "assigned",
        "en_route",
        "en_route",
    ]
    assert client.get(path, headers=engineers["E-D1"]).status_code == 404
    assert client.get(path, headers=engineers["E-D2"]).status_code == 200
