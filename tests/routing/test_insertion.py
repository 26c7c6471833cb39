"""Urgent insertion (R29) on routes built by hand: who is ranked first, and what must hold."""

from __future__ import annotations

from dataclasses import replace

from partsvc.routing.check import check_plan
from partsvc.routing.insertion import insert_call, rank_candidates
from partsvc.routing.problem import Plan, Problem, StopKind, Warehouse
from partsvc.routing.solver import solve
from tests.routing.test_planner import HOUR, TOWN, call, engineer

NOON = 12 * HOUR


def day_with(*calls, engineers=None, warehouses=()):
    return Problem(
        engineers=engineers or (engineer("ann", 0), engineer("bob", 5)),
        calls=tuple(calls),
        warehouses=tuple(warehouses),
        travel=TOWN,
    )


def planned_routes(problem):
    plan = solve(problem, time_limit_s=0.3)
    return {route.engineer: route for route in plan.routes}


def test_the_engineer_who_can_be_there_soonest_comes_first():
    problem = day_with()
    urgent = call("urgent", 6, priority=1, earliest=NOON, latest=NOON + 2 * HOUR)
    ranked = rank_candidates(
        replace(problem, calls=(urgent,)), planned_routes(problem), urgent, now=NOON
    )
    assert [(c.engineer, c.feasible) for c in ranked] == [("bob", True), ("ann", True)]
    assert ranked[0].arrive == NOON + TOWN.seconds[5][6]
    assert ranked[0].arrive < ranked[1].arrive


def test_an_engineer_whose_later_calls_would_be_late_is_not_feasible():
    # Ann is booked at the far end of town at 12:30 sharp; a detour first would make her late.
    booked = call("booked", 6, earliest=NOON + 1800, latest=NOON + 1800)
    problem = day_with(booked, engineers=(engineer("ann", 0),))
    routes = planned_routes(problem)
    assert [s.key for s in routes["ann"].stops] == ["booked"]
    urgent = call("urgent", 2, priority=1, earliest=NOON, latest=NOON + 20 * 60)
    ranked = rank_candidates(replace(problem, calls=(booked, urgent)), routes, urgent, now=NOON)
    assert ranked[0].feasible is False
    assert ranked[0].reason == "cannot fit it in time"


def test_a_missing_skill_is_named_and_ranked_last():
    problem = day_with()
    urgent = call("urgent", 3, priority=1, latest=NOON + HOUR, skills=frozenset({"laser"}))
    ann = replace(problem.engineers[0], skills=frozenset({"laser"}))
    problem = replace(problem, engineers=(ann, problem.engineers[1]), calls=(urgent,))
    ranked = rank_candidates(problem, {}, urgent, now=NOON)
    assert [(c.engineer, c.feasible, c.reason) for c in ranked] == [
        ("ann", True, None),
        ("bob", False, "lacks the skills"),
    ]


def test_a_call_at_a_site_not_on_the_map_ranks_nobody_and_says_why():
    problem = day_with()
    urgent = replace(call("urgent", -1, priority=1, latest=NOON + HOUR), placed=False)
    ranked = rank_candidates(replace(problem, calls=(urgent,)), {}, urgent, now=NOON)
    assert [(c.engineer, c.feasible, c.reason) for c in ranked] == [
        ("ann", False, "the site has no place on the map yet"),
        ("bob", False, "the site has no place on the map yet"),
    ]
    assert insert_call(problem, None, problem.engineers[0], urgent, now=NOON) is None


def test_a_van_without_the_part_picks_it_up_on_the_way_and_the_plan_still_checks():
    problem = day_with(warehouses=(Warehouse("north", 4, {"FUSER": 2}),))
    urgent = call("urgent", 3, priority=1, latest=NOON + 2 * HOUR, parts={"FUSER": 1})
    problem = replace(problem, calls=(urgent,))
    route = insert_call(problem, None, problem.engineers[0], urgent, now=NOON)
    assert route is not None
    assert [(s.kind, s.key) for s in route.stops] == [
        (StopKind.PICKUP, "north"),
        (StopKind.CALL, "urgent"),
    ]
    plan = Plan(routes=(route,), unassigned=())
    assert check_plan(replace(problem, engineers=problem.engineers[:1]), plan) == []


def test_inserting_shifts_the_later_stops_and_keeps_what_was_done():
    early = call("early", 1, earliest=9 * HOUR, latest=9 * HOUR)
    late = call("late", 3, earliest=14 * HOUR, latest=17 * HOUR)
    problem = day_with(early, late, engineers=(engineer("ann", 0),))
    route = planned_routes(problem)["ann"]
    urgent = call("urgent", 2, priority=1, earliest=NOON, latest=NOON + 2 * HOUR)
    whole = replace(problem, calls=(early, late, urgent))
    inserted = insert_call(whole, route, whole.engineers[0], urgent, now=NOON)
    assert inserted is not None
    assert [s.key for s in inserted.stops] == ["early", "urgent", "late"]
    assert inserted.stops[0] == route.stops[0]  # done in the morning: untouched
    assert inserted.stops[1].start >= NOON
    assert check_plan(whole, Plan(routes=(inserted,), unassigned=())) == []


def test_an_urgent_call_nobody_reaches_in_time_ranks_everyone_late_soonest_first():
    problem = day_with(engineers=(engineer("ann", 0), engineer("bob", 1)))
    late = call("urgent", 5, priority=1, earliest=NOON, latest=NOON + 10 * 60, late_until=18 * HOUR)
    ranked = rank_candidates(replace(problem, calls=(late,)), {}, late, now=NOON)
    assert [(c.engineer, c.feasible) for c in ranked] == [("bob", True), ("ann", True)]
    for candidate in ranked:
        assert candidate.arrive is not None
        assert candidate.late_by == candidate.arrive - (NOON + 10 * 60) > 0
