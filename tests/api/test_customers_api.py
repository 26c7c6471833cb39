"""Customers, contracts and sites through the HTTP API (R18, R19)."""

from __future__ import annotations

import pytest

PROBLEM = "application/problem+json"


def test_a_gold_customer_gets_a_contract_from_today_with_its_designated_engineer(
    client, auth, session
):
    from partsvc.calls.models import Engineer

    session.add(Engineer(code="E-GOLD", name="Wang Lei"))
    session.commit()
    answer = client.post(
        "/api/v1/customers",
        json={"code": "C-HW", "name": "华威测绘", "tier": "gold", "designated_engineer": "E-GOLD"},
        headers=auth["dispatcher"],
    )
    assert answer.status_code == 201, answer.json
    body = client.get("/api/v1/customers/C-HW", headers=auth["engineer"]).json
    assert body["name"] == "华威测绘"
    assert body["tier"] == "gold"
    assert body["contract"]["designated_engineer"] == "E-GOLD"
    assert body["contract"]["visit_every_months"] == 2  # R19, as the commitment says
    assert body["contract"]["starts_on"] == "2026-11-20"  # the test clock's day in Shanghai


def test_a_customer_without_a_tier_has_no_contract(client, auth):
    client.post("/api/v1/customers", json={"code": "C-0", "name": "Walk-in"}, headers=auth["admin"])
    body = client.get("/api/v1/customers/C-0", headers=auth["clerk"]).json
    assert (body["tier"], body["contract"]) == ("none", None)


@pytest.mark.parametrize(
    ("tier", "engineer", "status"),
    [
        ("silver", "E-X", 422),  # only gold names a designated engineer (R19)
        ("gold", "E-NOBODY", 404),  # an unknown engineer
    ],
)
def test_a_designated_engineer_is_refused_and_no_customer_made(
    client, auth, tier, engineer, status
):
    answer = client.post(
        "/api/v1/customers",
        json={"code": "C-D", "name": "x", "tier": tier, "designated_engineer": engineer},
        headers=auth["admin"],
    )
    assert answer.status_code == status
    if status == 422:
        assert "designated_engineer" in answer.json["errors"]
    assert client.get("/api/v1/customers/C-D", headers=auth["admin"]).status_code == 404


def test_a_site_is_also_a_stock_location_parts_can_be_booked_to(client, auth):
    client.post("/api/v1/customers", json={"code": "C-1", "name": "x"}, headers=auth["admin"])
    answer = client.post(
        "/api/v1/sites",
        json={
            "code": "S-1",
            "customer": "C-1",
            "address": "上海市浦东新区 1 号",
            "lat": 31.22,
            "lon": 121.54,
            "region": "SH",
        },
        headers=auth["dispatcher"],
    )
    assert answer.status_code == 201, answer.json
    assert answer.json["customer"] == "C-1"
    location = client.get("/api/v1/locations/S-1", headers=auth["clerk"]).json
    assert (location["kind"], location["lat"]) == ("site", 31.22)


def test_a_site_known_by_its_address_alone_is_placed_later_through_the_api(client, auth):
    client.post("/api/v1/customers", json={"code": "C-A", "name": "x"}, headers=auth["admin"])
    made = client.post(
        "/api/v1/sites",
        json={"code": "S-A", "customer": "C-A", "address": "苏州工业园区星湖街328号"},
        headers=auth["dispatcher"],
    )
    assert made.status_code == 201, made.json
    assert (made.json["lat"], made.json["lon"], made.json["placed"]) == (None, None, False)
    for half in ({"lat": 31.3}, {"lon": 120.7}, {"lat": 31.3, "lon": None}):
        refused = client.patch("/api/v1/sites/S-A", json=half, headers=auth["dispatcher"])
        assert refused.status_code == 422, half
        assert refused.mimetype == PROBLEM
    for wrong in ({"lat": 91, "lon": 120.7}, {"lat": 31.3, "lon": -181}):
        refused = client.patch("/api/v1/sites/S-A", json=wrong, headers=auth["dispatcher"])
        assert refused.status_code == 422, wrong
        assert set(refused.json["errors"]) <= {"lat", "lon"}
    assert client.get("/api/v1/sites/S-A", headers=auth["engineer"]).json["lat"] is None
    placed = client.patch(
        "/api/v1/sites/S-A", json={"lat": 31.3236, "lon": 120.7266}, headers=auth["dispatcher"]
    )
    assert placed.status_code == 200, placed.json
    assert (placed.json["lat"], placed.json["lon"], placed.json["placed"]) == (
        31.3236,
        120.7266,
        True,
    )
    location = client.get("/api/v1/locations/S-A", headers=auth["clerk"]).json
    assert (location["lat"], location["lon"]) == (31.3236, 120.7266)
    events = client.get("/api/v1/audit?action=site.placed", headers=auth["admin"]).json
    assert any(e["subject_key"] == "S-A" for e in events["items"])


def test_a_site_with_half_its_coordinates_is_refused(client, auth):
    client.post("/api/v1/customers", json={"code": "C-H", "name": "x"}, headers=auth["admin"])
    answer = client.post(
        "/api/v1/sites",
        json={"code": "S-H", "customer": "C-H", "address": "x", "lat": 31.3},
        headers=auth["admin"],
    )
    assert answer.status_code == 422
    assert "lon" in answer.json["errors"]
    assert client.get("/api/v1/sites/S-H", headers=auth["admin"]).status_code == 404


def test_a_site_of_an_unknown_customer_is_404_and_writes_nothing(client, auth):
    answer = client.post(
        "/api/v1/sites",
        json={"code": "S-2", "customer": "C-NONE", "address": "x", "lat": 0, "lon": 0},
        headers=auth["admin"],
    )
    assert answer.status_code == 404
    assert client.get("/api/v1/locations/S-2", headers=auth["admin"]).status_code == 404


def test_a_duplicate_customer_is_409(client, auth):
    body = {"code": "C-D", "name": "x"}
    assert client.post("/api/v1/customers", json=body, headers=auth["admin"]).status_code == 201
    answer = client.post("/api/v1/customers", json=body, headers=auth["admin"])
    assert answer.status_code == 409
    assert answer.content_type == PROBLEM


def test_an_engineer_gets_a_user_account_and_a_van(client, auth):
    answer = client.post(
        "/api/v1/engineers",
        json={
            "code": "E-LI",
            "name": "Li Na (李娜)",
            "home_lat": 31.3,
            "home_lon": 120.6,
            "skills": ["printer", "plotter", "printer"],
            "shift_start": "08:00:00",
            "shift_end": "17:00:00",
        },
        headers=auth["admin"],
    )
    assert answer.status_code == 201, answer.json
    body = answer.json
    assert (body["username"], body["van"], body["skills"]) == (
        "e-li",
        "VAN-E-LI",
        ["plotter", "printer"],
    )
    assert body["shift_start"] == "08:00:00"
    van = client.get("/api/v1/locations/VAN-E-LI", headers=auth["clerk"]).json
    assert (van["kind"], van["engineer"]) == ("van", "E-LI")


def test_an_engineer_can_take_an_existing_free_van(client, auth):
    client.post(
        "/api/v1/locations",
        json={"code": "VAN-7", "name": "Van 7", "kind": "van"},
        headers=auth["admin"],
    )
    body = {"code": "E-7", "name": "x", "home_lat": 31.0, "home_lon": 121.0, "van": "VAN-7"}
    assert client.post("/api/v1/engineers", json=body, headers=auth["admin"]).json["van"] == "VAN-7"
    again = {**body, "code": "E-8"}
    answer = client.post("/api/v1/engineers", json=again, headers=auth["admin"])
    assert answer.status_code == 409
    assert client.get("/api/v1/engineers/E-8", headers=auth["admin"]).status_code == 404


def test_a_shift_that_ends_before_it_starts_is_refused(client, auth):
    body = {
        "code": "E-9",
        "name": "x",
        "home_lat": 0,
        "home_lon": 0,
        "shift_start": "18:00:00",
        "shift_end": "09:00:00",
    }
    assert client.post("/api/v1/engineers", json=body, headers=auth["admin"]).status_code == 422


def test_equipment_gets_its_warranty_and_maintenance_cover_from_the_install_date(client, auth):
    client.post(
        "/api/v1/parts", json={"sku": "PX-500", "name": "Printer PX-500"}, headers=auth["admin"]
    )
    client.post(
        "/api/v1/parts",
        json={"sku": "PH-3", "name": "Print head", "warranty_months": 3},
        headers=auth["admin"],
    )
    client.post("/api/v1/customers", json={"code": "C-E", "name": "x"}, headers=auth["admin"])
    client.post(
        "/api/v1/sites",
        json={"code": "S-E", "customer": "C-E", "address": "x", "lat": 0, "lon": 0},
        headers=auth["admin"],
    )
    answer = client.post(
        "/api/v1/equipment",
        json={"serial": "PX-0001", "sku": "PX-500", "site": "S-E", "installed_on": "2024-02-29"},
        headers=auth["dispatcher"],
    )
    assert answer.status_code == 201, answer.json
    assert (answer.json["warranty_until"], answer.json["maintenance_until"]) == (
        "2025-02-28",
        "2027-02-28",
    )
    head = client.post(
        "/api/v1/equipment",
        json={"serial": "PH-0001", "sku": "PH-3", "site": "S-E", "installed_on": "2026-01-31"},
        headers=auth["dispatcher"],
    ).json
    assert head["warranty_until"] == "2026-04-30"
    assert client.get("/api/v1/equipment/PX-0001", headers=auth["engineer"]).json["site"] == "S-E"


def test_a_customer_outside_the_home_region_pays_the_regional_fee(client, auth):
    body = {"code": "C-FAR", "name": "乌鲁木齐客户", "tier": "silver", "regional_fee": True}
    assert client.post("/api/v1/customers", json=body, headers=auth["admin"]).status_code == 201
    contract = client.get("/api/v1/customers/C-FAR", headers=auth["admin"]).json["contract"]
    assert (contract["tier"], contract["regional_fee"], contract["visit_every_months"]) == (
        "silver",
        True,
        2,
    )
