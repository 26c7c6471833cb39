"""Day plans through the API (R26–R29): plan, publish, rank engineers for an urgent call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from partsvc.routing.travel import HaversineSource
from tests.workflows.test_sweep import run_sweep

DAY = "2026-11-20"  # the test clock's Friday, 10:00 in Shanghai


@pytest.fixture
def town(auth, post_as_admin):
    """Two engineers across town, a warehouse with fusers, a customer with three sites."""
    post = post_as_admin

    for code, kind, lat, lon in [("WH-N", "warehouse", 31.30, 121.45), ("VEN", "vendor", 0, 0)]:
        post(
            "/api/v1/locations", {"code": code, "name": code, "kind": kind, "lat": lat, "lon": lon}
        )
    post("/api/v1/parts", {"sku": "FUSER", "name": "Fuser unit"})
    post(
        "/api/v1/moves",
        {"sku": "FUSER", "qty": 3, "from": "VEN", "to": "WH-N", "reason": "receipt"},
    )
    post("/api/v1/customers", {"code": "ACME", "name": "Acme"})
    for code, lat in [("EAST", 31.22), ("WEST", 31.20), ("FAR", 31.25)]:
        lon = {"EAST": 121.50, "WEST": 121.38, "FAR": 121.60}[code]
        post(
            "/api/v1/sites",
            {"code": code, "customer": "ACME", "address": code, "lat": lat, "lon": lon},
        )
    post(
        "/api/v1/engineers",
        {
            "code": "E-EAST",
            "name": "East",
            "home_lat": 31.22,
            "home_lon": 121.49,
            "skills": ["print"],
        },
    )
    post(
        "/api/v1/engineers",
        {
            "code": "E-WEST",
            "name": "West",
            "home_lat": 31.20,
            "home_lon": 121.39,
            "skills": ["print", "laser"],
        },
    )
    return auth["dispatcher"]


def report(client, headers, site, priority, **extra):
    answer = client.post(
        "/api/v1/calls", json={"site": site, "priority": priority, **extra}, headers=headers
    )
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def plan(client, headers, **extra):
    answer = client.post(
        "/api/v1/plans", json={"date": DAY, "time_limit_s": 0.5, **extra}, headers=headers
    )
    assert answer.status_code == 201, answer.json
    return answer.json


def reserved(client, headers):
    answer = client.get(
        "/api/v1/stock", query_string={"sku": "FUSER", "location": "WH-N"}, headers=headers
    )
    assert answer.status_code == 200, answer.json
    return answer.json["items"][0]["reserved"]


def assign(client, headers, plan_id, call, engineer):
    """Put the call into the engineer's route of the plan; the answer."""
    body = {"call": call, "engineer": engineer}
    return client.post(f"/api/v1/plans/{plan_id}/assign", json=body, headers=headers)


def stops_of(plan_body, engineer):
    route = next(r for r in plan_body["routes"] if r["engineer"] == engineer)
    return [(s["kind"], s["call"], s["pickup"]) for s in route["stops"]]


def test_a_day_plan_sends_each_call_to_an_engineer_who_can_do_it_and_says_why_not(client, town):
    east = report(client, town, "EAST", "P2")
    laser = report(client, town, "WEST", "P3", skills=["laser"])
    nobody = report(client, town, "FAR", "P3", skills=["plumbing"])
    body = plan(client, town)
    assert body["status"] == "draft"
    assert stops_of(body, "E-EAST") == [("call", east, None)]
    assert stops_of(body, "E-WEST") == [("call", laser, None)]
    assert body["unassigned"] == [{"call": nobody, "reason": "no engineer has the skills"}]
    route = next(r for r in body["routes"] if r["engineer"] == "E-EAST")
    assert route["stops"][0]["arrive"] >= "2026-11-20T02:00:00+00:00"  # not before now


def test_a_call_needing_a_part_gets_a_pickup_and_publishing_reserves_it(client, town):
    call = report(client, town, "EAST", "P3", parts=[{"sku": "FUSER", "qty": 2}])
    body = plan(client, town)
    route = next(r for r in body["routes"] if r["stops"])
    assert [s["kind"] for s in route["stops"]] == ["pickup", "call"]
    assert route["stops"][0]["parts"] == [{"sku": "FUSER", "qty": 2}]
    published = client.post(f"/api/v1/plans/{body['id']}/publish", headers=town)
    assert published.status_code == 200, published.json
    assert published.json["status"] == "published"
    answer = client.get(f"/api/v1/calls/{call}", headers=town).json
    assert (answer["status"], answer["engineer"]) == ("assigned", route["engineer"])
    assert reserved(client, town) == 2
    again = client.post(f"/api/v1/plans/{body['id']}/publish", headers=town)
    assert again.status_code == 409
    day = client.get(
        f"/api/v1/engineers/{route['engineer']}/day", query_string={"date": DAY}, headers=town
    )
    assert day.status_code == 200, day.json
    assert [s["kind"] for s in day.json["route"]["stops"]] == ["pickup", "call"]


def test_a_newer_published_plan_replaces_the_older_and_frees_its_pickups(client, town):
    report(client, town, "EAST", "P3", parts=[{"sku": "FUSER", "qty": 2}])
    first = plan(client, town)
    assert client.post(f"/api/v1/plans/{first['id']}/publish", headers=town).status_code == 200
    second = plan(client, town)
    # The first plan's reservation is what the second sees as taken: 1 fuser left is too few.
    assert second["unassigned"][0]["reason"] == "parts nowhere in stock"
    assert client.post(f"/api/v1/plans/{second['id']}/publish", headers=town).status_code == 200
    assert client.get(f"/api/v1/plans/{first['id']}", headers=town).json["status"] == "replaced"
    assert reserved(client, town) == 0


def test_candidates_rank_engineers_by_arrival_and_assign_puts_the_call_in(client, town):
    report(client, town, "WEST", "P3")
    body = plan(client, town)
    assert client.post(f"/api/v1/plans/{body['id']}/publish", headers=town).status_code == 200
    urgent = report(client, town, "EAST", "P1")
    answer = client.post(
        f"/api/v1/plans/{body['id']}/candidates", json={"call": urgent}, headers=town
    )
    assert answer.status_code == 200, answer.json
    ranked = answer.json["candidates"]
    assert [c["engineer"] for c in ranked] == ["E-EAST", "E-WEST"]
    assert ranked[0]["feasible"] and ranked[0]["arrive"] < ranked[1]["arrive"]
    assigned = assign(client, town, body["id"], urgent, "E-EAST")
    assert assigned.status_code == 200, assigned.json
    assert ("call", urgent, None) in stops_of(assigned.json, "E-EAST")
    call = client.get(f"/api/v1/calls/{urgent}", headers=town).json
    assert (call["status"], call["engineer"]) == ("assigned", "E-EAST")
    twice = assign(client, town, body["id"], urgent, "E-WEST")
    assert twice.status_code == 409


def test_an_engineer_without_the_skill_is_listed_as_not_feasible(client, town):
    body = plan(client, town)
    laser = report(client, town, "EAST", "P1", skills=["laser"])
    ranked = client.post(
        f"/api/v1/plans/{body['id']}/candidates", json={"call": laser}, headers=town
    ).json["candidates"]
    assert [(c["engineer"], c["feasible"]) for c in ranked] == [("E-WEST", True), ("E-EAST", False)]
    refused = assign(client, town, body["id"], laser, "E-EAST")
    assert refused.status_code == 409
    assert refused.content_type == "application/problem+json"


def test_bad_plan_requests_are_clear_errors(client, town):
    assert client.post("/api/v1/plans", json={"date": "someday"}, headers=town).status_code == 422
    assert client.get("/api/v1/plans/999", headers=town).status_code == 404
    past = client.post("/api/v1/plans", json={"date": "2026-11-19"}, headers=town)
    assert past.status_code == 422
    assert past.json["errors"] == {"date": ["In the past."]}
    body = plan(client, town)
    unknown = client.post(
        f"/api/v1/plans/{body['id']}/candidates", json={"call": 999}, headers=town
    )
    assert unknown.status_code == 422


def test_planning_again_during_the_day_keeps_the_call_under_way_and_plans_the_rest(
    client, town, clock
):
    busy = report(client, town, "EAST", "P3")
    for status, engineer in [("assigned", "E-EAST"), ("en_route", None), ("on_site", None)]:
        body = {"status": status, **({"engineer": engineer} if engineer else {})}
        answer = client.post(f"/api/v1/calls/{busy}/status", json=body, headers=town)
        assert answer.status_code == 200, answer.json
    later = report(client, town, "EAST", "P2")
    clock.advance(minutes=30)
    body = plan(client, town)
    route = next(r for r in body["routes"] if r["engineer"] == "E-EAST")
    first, *rest = route["stops"]
    assert (first["call"], first["frozen"]) == (busy, True)
    assert [s["call"] for s in rest] == [later]
    assert rest[0]["arrive"] >= first["depart"]
    assert busy not in [u["call"] for u in body["unassigned"]]


def test_collecting_a_pickup_books_the_reserved_parts_onto_the_van_once(client, town):
    report(client, town, "EAST", "P3", parts=[{"sku": "FUSER", "qty": 2}])
    body = plan(client, town)
    published = client.post(f"/api/v1/plans/{body['id']}/publish", headers=town).json
    route = next(r for r in published["routes"] if r["stops"])
    pickup = route["stops"][0]
    url = f"/api/v1/plans/{body['id']}/stops/{pickup['id']}/collect"
    collected = client.post(url, headers=town)
    assert collected.status_code == 200, collected.json
    assert collected.json["collected_at"] is not None
    assert reserved(client, town) == 0
    stock = client.get("/api/v1/stock", query_string={"sku": "FUSER"}, headers=town).json["items"]
    on_hand = {item["location"]: item["on_hand"] for item in stock}
    assert on_hand["WH-N"] == 1
    assert sum(q for loc, q in on_hand.items() if loc != "WH-N") == 2
    again = client.post(url, headers=town)
    assert again.status_code == 409


def test_a_draft_whose_call_moved_on_is_not_published(client, town):
    call = report(client, town, "EAST", "P2")
    body = plan(client, town)
    for status, extra in [("assigned", {"engineer": "E-WEST"}), ("en_route", {})]:
        answer = client.post(
            f"/api/v1/calls/{call}/status", json={"status": status, **extra}, headers=town
        )
        assert answer.status_code == 200, answer.json
    refused = client.post(f"/api/v1/plans/{body['id']}/publish", headers=town)
    assert refused.status_code == 409
    after = client.get(f"/api/v1/calls/{call}", headers=town).json
    assert (after["status"], after["engineer"]) == ("en_route", "E-WEST")
    assert client.get(f"/api/v1/plans/{body['id']}", headers=town).json["status"] == "draft"


def test_a_replaced_plan_takes_no_more_assignments_and_its_left_out_calls_go_back(
    client, town, clock
):
    window = {"start": "2026-11-20T10:30:00+08:00", "end": "2026-11-20T11:00:00+08:00"}
    narrow = report(client, town, "EAST", "P3", window=window)
    first = plan(client, town)
    assert client.post(f"/api/v1/plans/{first['id']}/publish", headers=town).status_code == 200
    assert client.get(f"/api/v1/calls/{narrow}", headers=town).json["status"] == "assigned"
    clock.advance(hours=2)  # 12:00: the customer's window has closed
    second = plan(client, town)
    assert second["unassigned"] == [{"call": narrow, "reason": "cannot be reached in time"}]
    assert client.post(f"/api/v1/plans/{second['id']}/publish", headers=town).status_code == 200
    back = client.get(f"/api/v1/calls/{narrow}", headers=town).json
    assert (back["status"], back["engineer"]) == ("new", None)
    urgent = report(client, town, "WEST", "P1")
    stale = assign(client, town, first["id"], urgent, "E-WEST")
    assert stale.status_code == 409


def test_tomorrow_is_planned_without_the_calls_today_s_plan_holds(client, town):
    today_call = report(client, town, "EAST", "P3")
    body = plan(client, town)
    assert client.post(f"/api/v1/plans/{body['id']}/publish", headers=town).status_code == 200
    tomorrow = plan(client, town, date="2026-11-23")  # Monday: Saturday and Sunday are off
    planned = [s["call"] for r in tomorrow["routes"] for s in r["stops"]]
    assert today_call not in planned
    assert today_call not in [u["call"] for u in tomorrow["unassigned"]]


def test_the_sweep_frees_pickups_nobody_collected_once_their_day_is_over(
    client, town, clock, database
):
    report(client, town, "EAST", "P3", parts=[{"sku": "FUSER", "qty": 2}])
    body = plan(client, town)
    assert client.post(f"/api/v1/plans/{body['id']}/publish", headers=town).status_code == 200
    assert run_sweep(database, clock).endswith("0 pick-up(s) freed")  # the day is not over
    assert reserved(client, town) == 2
    clock.advance(days=1)
    assert run_sweep(database, clock).endswith("1 pick-up(s) freed")
    assert reserved(client, town) == 0
    assert run_sweep(database, clock).endswith("0 pick-up(s) freed")


def test_without_a_planning_queue_the_day_is_planned_in_process_even_when_asked_async(client, town):
    call = report(client, town, "EAST", "P2")
    answer = client.post(
        "/api/v1/plans",
        json={"date": DAY, "time_limit_s": 0.5},
        headers={**town, "Prefer": "respond-async"},
    )
    assert answer.status_code == 201, answer.json
    assert "Preference-Applied" not in answer.headers
    assert stops_of(answer.json, "E-EAST") == [("call", call, None)]
    job = client.get("/api/v1/plan-jobs/plan-0123456789abcdef", headers=town)
    assert job.status_code == 404
    assert job.content_type == "application/problem+json"


def test_publishing_hands_back_a_call_the_plan_leaves_out_even_one_assigned_by_hand(client, town):
    # Assigned by hand to an engineer who lacks the skill; the plan cannot route it.
    nobody = report(client, town, "FAR", "P3", skills=["plumbing"])
    answer = client.post(
        f"/api/v1/calls/{nobody}/status",
        json={"status": "assigned", "engineer": "E-EAST"},
        headers=town,
    )
    assert answer.status_code == 200, answer.json
    body = plan(client, town)
    assert body["unassigned"] == [{"call": nobody, "reason": "no engineer has the skills"}]
    assert client.post(f"/api/v1/plans/{body['id']}/publish", headers=town).status_code == 200
    call = client.get(f"/api/v1/calls/{nobody}", headers=town).json
    assert (call["status"], call["engineer"]) == ("new", None)
    day = client.get("/api/v1/engineers/E-EAST/day", query_string={"date": DAY}, headers=town)
    assert day.status_code == 200, day.json
    assert nobody not in [c["id"] for c in day.json["calls"]]


def test_a_p1_past_its_deadline_is_planned_late_and_a_late_assignment_says_by_how_much(
    client, town, clock, auth
):
    """R28: an urgent call nobody can reach in time is served late, not dropped; the stop
    and the candidates say by how many minutes, and the hand assignment's audit event too."""
    late = report(client, town, "FAR", "P1")
    clock.advance(hours=3)  # 13:00: its 2-hour deadline has passed
    body = plan(client, town)
    stops = [s for r in body["routes"] for s in r["stops"] if s["call"] == late]
    assert len(stops) == 1 and stops[0]["kind"] == "call"
    assert stops[0]["late_minutes"] >= 60, stops[0]
    on_time = [s["late_minutes"] for r in body["routes"] for s in r["stops"] if s["call"] != late]
    assert on_time == [0] * len(on_time)

    assert client.post(f"/api/v1/plans/{body['id']}/publish", headers=town).status_code == 200
    urgent = report(client, town, "WEST", "P1")
    clock.advance(hours=2, minutes=30)  # past this one's deadline too
    ranked = client.post(
        f"/api/v1/plans/{body['id']}/candidates", json={"call": urgent}, headers=town
    ).json["candidates"]
    assert all(c["feasible"] and c["late_minutes"] >= 30 for c in ranked), ranked
    chosen = ranked[0]
    assigned = assign(client, town, body["id"], urgent, chosen["engineer"])
    assert assigned.status_code == 200, assigned.json
    (event,) = client.get(
        "/api/v1/audit",
        query_string={"action": "plan.call_assigned", "subject": f"call:{urgent}"},
        headers=auth["admin"],
    ).json["items"]
    assert event["details"]["engineer"] == chosen["engineer"]
    assert event["details"]["late_minutes"] >= 30
    assert (event["details"]["late"], event["details"]["displaced"]) == (True, [])
    stop = next(s for r in assigned.json["routes"] for s in r["stops"] if s["call"] == urgent)
    assert stop["late_minutes"] == event["details"]["late_minutes"]


def full_day(client, headers):
    """Both engineers' days filled with routine work from now to the end of their shift,
    planned and published."""
    routine = [report(client, headers, site, "P3", duration_min=220) for site in ("EAST", "WEST")]
    routine += [report(client, headers, site, "P3", duration_min=220) for site in ("EAST", "WEST")]
    body = plan(client, headers)
    assert body["unassigned"] == [], body["unassigned"]
    assert client.post(f"/api/v1/plans/{body['id']}/publish", headers=headers).status_code == 200
    return body, routine


def test_a_p1_on_a_day_full_of_routine_work_moves_a_p3_off_and_the_audit_says_which(
    client, town, auth
):
    """R28: when every route is full, an urgent call still goes to someone; the routine
    call it takes the place of goes back to the open calls, and the board, the plan and the
    engineer's day agree."""
    body, routine = full_day(client, town)
    urgent = report(client, town, "EAST", "P1")
    ranked = client.post(
        f"/api/v1/plans/{body['id']}/candidates", json={"call": urgent}, headers=town
    ).json["candidates"]
    chosen = ranked[0]
    assert chosen["feasible"] and chosen["late_minutes"] == 0, ranked
    assert len(chosen["displaced"]) == 1 and set(chosen["displaced"]) <= set(routine), ranked
    (moved,) = chosen["displaced"]

    # Agreed to move another call off: the day changed since, nothing is written.
    other = next(c for c in routine if c != moved)
    refused = client.post(
        f"/api/v1/plans/{body['id']}/assign",
        json={"call": urgent, "engineer": chosen["engineer"], "displaced": [other]},
        headers=town,
    )
    assert refused.status_code == 409, refused.json
    assert refused.json["displaced"] == [moved]
    again = client.get(f"/api/v1/plans/{body['id']}", headers=town).json
    for engineer in ("E-EAST", "E-WEST"):
        assert stops_of(again, engineer) == stops_of(body, engineer)
    assert again["unassigned"] == []
    assert client.get(f"/api/v1/calls/{moved}", headers=town).json["status"] == "assigned"

    assigned = client.post(
        f"/api/v1/plans/{body['id']}/assign",
        json={"call": urgent, "engineer": chosen["engineer"], "displaced": [moved]},
        headers=town,
    )
    assert assigned.status_code == 200, assigned.json
    planned = {s["call"] for r in assigned.json["routes"] for s in r["stops"]}
    assert urgent in planned and moved not in planned
    assert {"call": moved, "reason": "moved off the day for an urgent call"} in assigned.json[
        "unassigned"
    ]
    call = client.get(f"/api/v1/calls/{moved}", headers=town).json
    assert (call["status"], call["engineer"]) == ("new", None)
    day = client.get(
        f"/api/v1/engineers/{chosen['engineer']}/day", query_string={"date": DAY}, headers=town
    ).json
    assert moved not in [c["id"] for c in day["calls"]]
    assert urgent in [c["id"] for c in day["calls"]]
    (event,) = client.get(
        "/api/v1/audit",
        query_string={"action": "plan.call_assigned", "subject": f"call:{urgent}"},
        headers=auth["admin"],
    ).json["items"]
    assert event["details"] == {
        "plan": body["id"],
        "engineer": chosen["engineer"],
        "late": False,
        "late_minutes": 0,
        "displaced": [moved],
    }


def test_an_engineer_still_on_site_is_ranked_from_when_the_visit_ends_not_from_the_plan(
    client, town, clock
):
    # East was on the way at 10:00 when the day was planned (a visit of an hour, so free at
    # 11:00 by the plan) but reached the site only at 10:45: free at 11:45, whatever the plan said.
    busy = report(client, town, "EAST", "P3")
    for status, engineer in [("assigned", "E-EAST"), ("en_route", None)]:
        body = {"status": status, **({"engineer": engineer} if engineer else {})}
        answer = client.post(f"/api/v1/calls/{busy}/status", json=body, headers=town)
        assert answer.status_code == 200, answer.json
    body = plan(client, town)
    frozen = next(r for r in body["routes"] if r["engineer"] == "E-EAST")["stops"][0]
    assert (frozen["call"], frozen["depart"]) == (busy, "2026-11-20T03:00:00+00:00")
    clock.advance(minutes=45)
    on_site = client.post(f"/api/v1/calls/{busy}/status", json={"status": "on_site"}, headers=town)
    assert on_site.status_code == 200, on_site.json
    urgent = report(client, town, "FAR", "P1")
    ranked = client.post(
        f"/api/v1/plans/{body['id']}/candidates", json={"call": urgent}, headers=town
    ).json["candidates"]
    east = next(c for c in ranked if c["engineer"] == "E-EAST")
    drive = HaversineSource().travel([(31.22, 121.50), (31.25, 121.60)]).seconds[0][1]
    free = datetime(2026, 11, 20, 3, 45, tzinfo=UTC)
    assert east["feasible"], east
    assert datetime.fromisoformat(east["arrive"]) == free + timedelta(seconds=drive)
    # Given the call, East's day holds the visit under way once, and the new call after it.
    assigned = assign(client, town, body["id"], urgent, "E-EAST")
    assert assigned.status_code == 200, assigned.json
    assert [call for _, call, _ in stops_of(assigned.json, "E-EAST")] == [busy, urgent]
