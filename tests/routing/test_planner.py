"""The day planner on small problems built by hand: every rule, checked on the plan it returns."""

from __future__ import annotations

import math
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partsvc.routing.check import check_plan
from partsvc.routing.problem import (
    Call,
    Engineer,
    Plan,
    Problem,
    Reason,
    Stop,
    StopKind,
    Travel,
    Warehouse,
)
from partsvc.routing.solver import solve

HOUR = 3600
DAY = (8 * HOUR, 18 * HOUR)


def grid(*points: tuple[float, float]) -> Travel:
    """Places on a plane in km; one km takes two minutes to drive."""
    metres = tuple(tuple(round(1000 * math.dist(a, b)) for b in points) for a in points)
    seconds = tuple(tuple(math.ceil(m * 0.12) for m in row) for row in metres)
    return Travel(seconds, metres)


def engineer(key: str, place: int = 0, **given: object) -> Engineer:
    fields: dict[str, object] = {"start": place, "end": place, "shift_start": DAY[0]}
    fields["shift_end"] = DAY[1]
    fields.update(given)
    return Engineer(key, **fields)  # type: ignore[arg-type]


def call(key: str, place: int, **given: object) -> Call:
    fields: dict[str, object] = {"service": 1800, "earliest": DAY[0], "latest": DAY[1]}
    fields.update(given)
    return Call(key, place, **fields)  # type: ignore[arg-type]


def planned(problem: Problem, time_limit_s: float = 0.5) -> Plan:
    plan = solve(problem, time_limit_s=time_limit_s)
    assert check_plan(problem, plan) == []
    return plan


def calls_of(plan: Plan, key: str) -> list[str]:
    return [s.key for s in plan.route_of(key).stops if s.kind is StopKind.CALL]


def left_out(plan: Plan) -> dict[str, Reason]:
    return {entry.call: entry.reason for entry in plan.unassigned}


TOWN = grid((0, 0), (10, 0), (0, 10), (10, 10), (5, 5), (30, 0), (60, 0))


def test_a_call_goes_only_to_an_engineer_with_its_skills() -> None:
    problem = Problem(
        engineers=(engineer("ann", skills=frozenset({"print"})), engineer("bob", 3)),
        calls=(call("c1", 1, skills=frozenset({"print"})), call("c2", 3)),
        warehouses=(),
        travel=TOWN,
    )
    plan = planned(problem)
    assert calls_of(plan, "ann") == ["c1"]
    assert calls_of(plan, "bob") == ["c2"]


def test_a_call_needing_a_part_no_van_holds_is_preceded_by_a_pickup_that_has_it() -> None:
    problem = Problem(
        engineers=(engineer("ann"),),
        calls=(call("c1", 3, parts={"FUSER": 1}),),
        warehouses=(Warehouse("north", 2, {"FUSER": 3}), Warehouse("empty", 1, {})),
        travel=TOWN,
    )
    stops = planned(problem).route_of("ann").stops
    assert [(s.kind, s.key) for s in stops] == [(StopKind.PICKUP, "north"), (StopKind.CALL, "c1")]
    assert stops[0].parts == {"FUSER": 1}
    assert stops[0].for_call == "c1"


def test_a_van_that_holds_the_part_drives_straight_to_the_call() -> None:
    problem = Problem(
        engineers=(engineer("ann", van={"FUSER": 2}),),
        calls=(call("c1", 3, parts={"FUSER": 2}),),
        warehouses=(Warehouse("north", 2, {"FUSER": 3}),),
        travel=TOWN,
    )
    assert [s.kind for s in planned(problem).route_of("ann").stops] == [StopKind.CALL]


def test_parts_are_counted_along_the_route_one_unit_on_the_van_serves_one_call() -> None:
    problem = Problem(
        engineers=(engineer("ann", van={"FUSER": 1}),),
        calls=(call("c1", 1, parts={"FUSER": 1}), call("c2", 3, parts={"FUSER": 1})),
        warehouses=(Warehouse("far", 6, {"FUSER": 5}),),
        travel=TOWN,
    )
    stops = planned(problem).route_of("ann").stops
    assert [s.kind for s in stops].count(StopKind.PICKUP) == 1
    assert {s.key for s in stops if s.kind is StopKind.CALL} == {"c1", "c2"}


def test_a_warehouse_gives_out_no_more_than_it_has() -> None:
    problem = Problem(
        engineers=(engineer("ann"), engineer("bob", 3)),
        calls=(call("c1", 1, parts={"FUSER": 1}), call("c2", 2, parts={"FUSER": 1})),
        warehouses=(Warehouse("north", 4, {"FUSER": 1}),),
        travel=TOWN,
    )
    plan = planned(problem)
    assert len(plan.unassigned) == 1
    assert plan.unassigned[0].reason is Reason.PARTS_TAKEN


def test_arrivals_keep_the_windows_and_an_early_engineer_waits_for_the_window() -> None:
    problem = Problem(
        engineers=(engineer("ann"),),
        calls=(
            call("late", 1, earliest=14 * HOUR, latest=15 * HOUR),
            call("early", 2, earliest=9 * HOUR, latest=10 * HOUR),
        ),
        warehouses=(),
        travel=TOWN,
    )
    stops = planned(problem).route_of("ann").stops
    assert [s.key for s in stops] == ["early", "late"]
    assert stops[0].start == 9 * HOUR
    assert stops[1].arrive < 14 * HOUR == stops[1].start


def test_the_engineer_leaves_as_late_as_the_first_window_allows() -> None:
    problem = Problem(
        engineers=(engineer("ann"),),
        calls=(call("c1", 1, earliest=11 * HOUR, latest=12 * HOUR),),
        warehouses=(),
        travel=TOWN,
    )
    route = planned(problem).route_of("ann")
    assert route.leave == 11 * HOUR - TOWN.seconds[0][1]
    assert route.stops[0].arrive == route.stops[0].start == 11 * HOUR


def test_a_shift_ending_early_sends_the_long_job_to_the_engineer_still_on_shift() -> None:
    problem = Problem(
        engineers=(engineer("ann", shift_end=10 * HOUR), engineer("bob", 4)),
        calls=(call("long", 3, service=4 * HOUR),),
        warehouses=(),
        travel=TOWN,
    )
    plan = planned(problem)
    assert calls_of(plan, "bob") == ["long"]
    assert plan.route_of("ann").stops == ()


def test_when_two_calls_clash_the_p1_is_served_and_the_p3_left_out() -> None:
    problem = Problem(
        engineers=(engineer("ann"),),
        calls=(
            call("p3", 1, priority=3, earliest=9 * HOUR, latest=9 * HOUR, service=2 * HOUR),
            call("p1", 6, priority=1, earliest=9 * HOUR, latest=10 * HOUR),
        ),
        warehouses=(),
        travel=TOWN,
    )
    plan = planned(problem)
    assert calls_of(plan, "ann") == ["p1"]
    assert left_out(plan) == {"p3": Reason.NO_ROOM}


def test_a_p1_only_one_engineer_can_reach_in_time_goes_to_that_engineer() -> None:
    problem = Problem(
        engineers=(engineer("near", 5), engineer("far", 0), engineer("other", 2)),
        calls=(
            call("urgent", 6, priority=1, latest=DAY[0] + 75 * 60),
            call("routine", 5, priority=3),
        ),
        warehouses=(),
        travel=TOWN,
    )
    plan = planned(problem)
    assert "urgent" in calls_of(plan, "near")


def test_a_designated_engineer_gets_the_call_when_it_costs_a_little_more_driving() -> None:
    problem = Problem(
        engineers=(engineer("ann", 0), engineer("bob", 4)),
        calls=(call("c1", 3, preferred="ann"),),
        warehouses=(),
        travel=TOWN,
    )
    assert calls_of(planned(problem), "ann") == ["c1"]


def test_calls_nobody_can_serve_come_back_with_the_reason() -> None:
    problem = Problem(
        engineers=(engineer("ann", shift_end=12 * HOUR),),
        calls=(
            call("skill", 1, skills=frozenset({"laser"})),
            call("parts", 1, parts={"UNOBTAINIUM": 1}),
            call("too-late", 6, latest=DAY[0] + 10 * 60),
            call("after-hours", 1, earliest=13 * HOUR, latest=15 * HOUR),
            call("fine", 1),
        ),
        warehouses=(Warehouse("north", 2, {"FUSER": 1}),),
        travel=TOWN,
    )
    assert left_out(planned(problem)) == {
        "skill": Reason.NO_SKILL,
        "parts": Reason.NO_PARTS,
        "too-late": Reason.TOO_LATE,
        "after-hours": Reason.OUT_OF_SHIFT,
    }


def test_mid_day_an_engineer_starts_from_where_they_are_when_they_are_free() -> None:
    problem = Problem(
        engineers=(engineer("ann", 0, ready_at=13 * HOUR, start=6),),
        calls=(call("c1", 5),),
        warehouses=(),
        travel=TOWN,
    )
    route = planned(problem).route_of("ann")
    assert route.leave >= 13 * HOUR
    assert route.stops[0].arrive == route.leave + TOWN.seconds[6][5]


def test_an_empty_day_plans_empty_routes() -> None:
    problem = Problem(engineers=(engineer("ann"),), calls=(), warehouses=(), travel=TOWN)
    plan = planned(problem)
    assert plan.route_of("ann").stops == ()
    assert plan.unassigned == ()


# The checker is the judge of every plan above: it must catch each kind of broken plan.

BASE = Problem(
    engineers=(engineer("ann", van={"FUSER": 1}),),
    calls=(call("c1", 1, parts={"FUSER": 1}, latest=12 * HOUR),),
    warehouses=(),
    travel=TOWN,
)


def _only_route(plan: Plan, **changes: object) -> Plan:
    route = replace(plan.routes[0], **changes)
    return replace(plan, routes=(route,))


def test_the_checker_passes_a_sound_plan_and_catches_a_wrong_arrival_time() -> None:
    plan = planned(BASE)
    stop = plan.routes[0].stops[0]
    moved = replace(stop, arrive=stop.arrive - 60)
    assert any("at best" in p for p in check_plan(BASE, _only_route(plan, stops=(moved,))))
    late = replace(stop, start=stop.start + 60, depart=stop.depart + 60)
    assert any("the matrix says" in p for p in check_plan(BASE, _only_route(plan, stops=(late,))))


def test_the_checker_catches_a_van_promising_a_part_it_does_not_hold() -> None:
    plan = planned(BASE)
    empty_van = replace(BASE, engineers=(replace(BASE.engineers[0], van={}),))
    assert any("on the van" in p for p in check_plan(empty_van, plan))


def test_the_checker_catches_a_missing_skill_a_late_arrival_and_a_call_planned_twice() -> None:
    plan = planned(BASE)
    skilled = replace(BASE, calls=(replace(BASE.calls[0], skills=frozenset({"laser"})),))
    assert any("lacks skills" in p for p in check_plan(skilled, plan))
    tight = replace(BASE, calls=(replace(BASE.calls[0], latest=DAY[0]),))
    assert any("after" in p for p in check_plan(tight, plan))
    stops = plan.routes[0].stops
    twice = _only_route(plan, stops=stops + stops)
    assert any("2 times" in p for p in check_plan(BASE, twice))


def test_the_checker_catches_a_pickup_beyond_the_warehouse_stock() -> None:
    problem = replace(BASE, warehouses=(Warehouse("north", 2, {"FUSER": 1}),))
    plan = planned(problem)
    route = plan.routes[0]
    greedy = Stop(
        StopKind.PICKUP,
        "north",
        2,
        route.leave + TOWN.seconds[0][2],
        route.leave + TOWN.seconds[0][2],
        route.leave + TOWN.seconds[0][2] + 600,
        parts={"FUSER": 2},
    )
    assert any(
        "which has fewer" in p for p in check_plan(problem, _only_route(plan, stops=(greedy,)))
    )


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    places = draw(
        st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), min_size=4, max_size=9)
    )
    skills = ["a", "b"]
    parts = ["P", "Q"]
    n = len(places)
    engineers = tuple(
        engineer(
            f"e{i}",
            draw(st.integers(0, n - 1)),
            skills=frozenset(draw(st.sets(st.sampled_from(skills)))),
            van={p: draw(st.integers(0, 1)) for p in parts},
            shift_end=draw(st.sampled_from([12 * HOUR, DAY[1]])),
        )
        for i in range(draw(st.integers(1, 3)))
    )
    calls = []
    for i in range(draw(st.integers(1, 7))):
        earliest = draw(st.integers(8, 15)) * HOUR
        calls.append(
            call(
                f"c{i}",
                draw(st.integers(0, n - 1)),
                priority=draw(st.integers(1, 3)),
                earliest=earliest,
                latest=earliest + draw(st.integers(0, 3)) * HOUR,
                service=draw(st.sampled_from([600, 1800, 3600])),
                skills=frozenset(draw(st.sets(st.sampled_from(skills), max_size=1))),
                parts={p: 1 for p in draw(st.sets(st.sampled_from(parts), max_size=1))},
            )
        )
    warehouses = (Warehouse("w", draw(st.integers(0, n - 1)), {"P": draw(st.integers(0, 2))}),)
    return Problem(engineers, tuple(calls), warehouses, grid(*places))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_every_plan_the_solver_returns_passes_the_independent_checker(problem: Problem) -> None:
    plan = solve(problem, time_limit_s=0.2)
    assert check_plan(problem, plan) == []


def test_an_engineer_whose_shift_is_over_gets_nothing_and_the_others_are_planned() -> None:
    problem = Problem(
        engineers=(engineer("done", shift_end=13 * HOUR, ready_at=14 * HOUR), engineer("bob")),
        calls=(call("c1", 1),),
        warehouses=(),
        travel=TOWN,
    )
    plan = planned(problem)
    assert plan.route_of("done").stops == ()
    assert calls_of(plan, "bob") == ["c1"]


def test_warehouse_stock_goes_first_to_calls_no_van_can_cover() -> None:
    problem = Problem(
        engineers=(engineer("ann", van={"X": 1}), engineer("bob", 3, skills=frozenset({"b"}))),
        calls=(
            call("p1", 1, priority=1, parts={"X": 1}),
            call("p3", 2, parts={"X": 1}, skills=frozenset({"b"})),
        ),
        warehouses=(Warehouse("north", 4, {"X": 1}),),
        travel=TOWN,
    )
    plan = planned(problem)
    assert plan.unassigned == ()


def test_on_a_day_nobody_works_the_calls_say_so() -> None:
    problem = Problem(engineers=(), calls=(call("c1", 1),), warehouses=(), travel=TOWN)
    assert left_out(planned(problem)) == {"c1": Reason.NOBODY_ON_SHIFT}
