"""Service calls: deadlines from contract and calendar (R20, R21), statuses in order (R22)."""

from __future__ import annotations

from datetime import timedelta

import pytest

SUNDAY_23 = "2026-11-22T23:00:00+08:00"


@pytest.fixture
def sites(client, auth, clock):
    """Three customers, gold, bronze and without contract, each with a site.

    Their contracts start on the clock's day; then the clock moves on a few weeks, so
    the calls below are reported in the past.
    """
    admin = auth["admin"]
    for code, tier in [("C-GOLD", "gold"), ("C-BRONZE", "bronze"), ("C-NONE", "none")]:
        assert (
            client.post(
                "/api/v1/customers", json={"code": code, "name": code, "tier": tier}, headers=admin
            ).status_code
            == 201
        )
        site = {"code": f"S-{code}", "customer": code, "address": "上海", "lat": 31.2, "lon": 121.5}
        assert client.post("/api/v1/sites", json=site, headers=admin).status_code == 201
    engineer = {"code": "E-ONE", "name": "One", "home_lat": 31.2, "home_lon": 121.4}
    assert client.post("/api/v1/engineers", json=engineer, headers=admin).status_code == 201
    clock.advance(days=40)
    return auth["dispatcher"]


def report(client, headers, site, priority, **extra):
    answer = client.post(
        "/api/v1/calls", json={"site": site, "priority": priority, **extra}, headers=headers
    )
    assert answer.status_code == 201, answer.json
    return answer.json


def test_a_call_answers_with_its_three_deadlines(client, sites):
    call = report(client, sites, "S-C-BRONZE", "P2", reported_at="2026-11-23T10:00:00+08:00")
    assert (call["tier"], call["status"]) == ("bronze", "new")
    assert call["response_due"] == "2026-11-23T02:10:00+00:00"  # 10:10 in Shanghai
    assert call["onsite_due"] == "2026-11-23T04:00:00+00:00"  # 12:00
    assert call["resolve_due"] == "2026-11-24T05:00:00+00:00"  # 12 working hours: Tue 13:00


def test_a_gold_p1_runs_round_the_clock_and_the_others_wait_for_monday(client, sites):
    gold = report(client, sites, "S-C-GOLD", "P1", reported_at=SUNDAY_23)
    bronze = report(client, sites, "S-C-BRONZE", "P1", reported_at=SUNDAY_23)
    none = report(client, sites, "S-C-NONE", "P1", reported_at=SUNDAY_23)
    assert gold["onsite_due"] == "2026-11-22T17:00:00+00:00"  # Monday 01:00 in Shanghai
    assert bronze["onsite_due"] == none["onsite_due"] == "2026-11-23T03:00:00+00:00"  # 11:00
    assert (gold["tier"], none["tier"]) == ("gold", "none")


def test_a_p3_with_a_customer_window_is_due_by_its_end(client, sites):
    window = {"start": "2026-11-25T14:00:00+08:00", "end": "2026-11-25T16:00:00+08:00"}
    call = report(
        client, sites, "S-C-NONE", "P3", window=window, reported_at="2026-11-23T10:00:00+08:00"
    )
    assert call["onsite_due"] == "2026-11-25T08:00:00+00:00"


def test_statuses_follow_r22_and_a_step_out_of_order_is_409(client, sites, clock):
    call = report(client, sites, "S-C-NONE", "P2")
    path = f"/api/v1/calls/{call['id']}/status"
    answer = client.post(path, json={"status": "assigned", "engineer": "E-ONE"}, headers=sites)
    assert answer.json["engineer"] == "E-ONE"
    for status in ["en_route", "on_site", "waiting_for_parts", "on_site"]:
        answer = client.post(path, json={"status": status}, headers=sites)
        assert answer.status_code == 200, (status, answer.json)
    bare = client.post(path, json={"status": "resolved"}, headers=sites)
    assert bare.status_code == 409  # resolved only with its service record (R23)
    signed = {"work_done": "Fixed", "signed_by": "王建国", "engineer_signed_by": "E-ONE"}
    completed = client.post(f"/api/v1/calls/{call['id']}/completion", json=signed, headers=sites)
    assert completed.status_code == 201, completed.json
    answer = client.post(path, json={"status": "en_route"}, headers=sites)
    assert answer.status_code == 409
    assert answer.json["type"] == "/problems/invalid-transition"
    final = client.post(path, json={"status": "closed"}, headers=sites).json
    assert [step["status"] for step in final["history"]] == [
        "new",
        "assigned",
        "en_route",
        "on_site",
        "waiting_for_parts",
        "on_site",
        "resolved",
        "closed",
    ]


def test_a_call_reported_in_the_future_is_refused(client, sites, clock):
    soon = (clock.now + timedelta(minutes=4)).isoformat()
    assert report(client, sites, "S-C-NONE", "P2", reported_at=soon)["reported_at"]
    later = (clock.now + timedelta(minutes=6)).isoformat()
    answer = client.post(
        "/api/v1/calls",
        json={"site": "S-C-NONE", "priority": "P2", "reported_at": later},
        headers=sites,
    )
    assert answer.status_code == 422
    assert answer.json["errors"] == {"reported_at": ["In the future."]}


def test_a_call_names_parts_and_equipment_that_exist(client, sites, auth):
    answer = client.post(
        "/api/v1/calls",
        json={"site": "S-C-NONE", "priority": "P3", "parts": [{"sku": "NOPE", "qty": 1}]},
        headers=sites,
    )
    assert answer.status_code == 404
    answer = client.post(
        "/api/v1/calls", json={"site": "S-NOWHERE", "priority": "P3"}, headers=sites
    )
    assert answer.status_code == 404
    answer = client.post(
        "/api/v1/calls", json={"site": "S-C-NONE", "priority": "P4"}, headers=sites
    )
    assert answer.status_code == 422


def test_equipment_of_another_site_is_refused(client, sites, auth):
    client.post("/api/v1/parts", json={"sku": "PX", "name": "Printer"}, headers=auth["admin"])
    client.post(
        "/api/v1/equipment",
        json={"serial": "PX-1", "sku": "PX", "site": "S-C-GOLD", "installed_on": "2026-01-01"},
        headers=auth["admin"],
    )
    answer = client.post(
        "/api/v1/calls",
        json={"site": "S-C-NONE", "priority": "P3", "equipment": "PX-1"},
        headers=sites,
    )
    assert answer.status_code == 422


def test_an_admin_edits_the_policy_and_only_new_calls_follow_it(client, sites, auth):
    before = report(client, sites, "S-C-BRONZE", "P2", reported_at="2026-11-23T10:00:00+08:00")
    answer = client.put(
        "/api/v1/sla-policy/bronze/P2",
        json={"response_minutes": 30, "onsite_minutes": 240, "resolve_minutes": 720},
        headers=auth["admin"],
    )
    assert answer.status_code == 200, answer.json
    after = report(client, sites, "S-C-BRONZE", "P2", reported_at="2026-11-23T10:00:00+08:00")
    assert after["onsite_due"] == "2026-11-23T06:00:00+00:00"  # 14:00, four working hours
    again = client.get(f"/api/v1/calls/{before['id']}", headers=auth["clerk"]).json
    assert again["onsite_due"] == "2026-11-23T04:00:00+00:00"  # unchanged: 12:00
    policy = client.get("/api/v1/sla-policy", headers=auth["engineer"]).json["items"]
    assert len(policy) == 12
    assert [t for t in policy if t["round_the_clock"]] == [
        {
            "tier": "gold",
            "priority": "P1",
            "response_minutes": 60,
            "onsite_minutes": 120,
            "resolve_minutes": 1440,
            "resolve_working_days": None,
            "round_the_clock": True,
        }
    ]


def test_a_target_fixes_in_minutes_or_in_working_days_not_both(client, auth):
    answer = client.put(
        "/api/v1/sla-policy/gold/P3",
        json={"response_minutes": 10, "resolve_minutes": 60, "resolve_working_days": 2},
        headers=auth["admin"],
    )
    assert answer.status_code == 422
    assert (
        client.put(
            "/api/v1/sla-policy/gold/P9", json={"response_minutes": 10}, headers=auth["admin"]
        ).status_code
        == 404
    )
