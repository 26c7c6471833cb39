"""Priorities as a dispatcher means them (R26–R28): urgent calls are served, late if they
must; routine work yields; every call left out says the first reason that holds."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partsvc.routing.check import check_plan
from partsvc.routing.insertion import insert_call, retimed
from partsvc.routing.problem import Call, Plan, Problem, Reason, StopKind, Unassigned, Warehouse
from partsvc.routing.screening import screen
from partsvc.routing.settling import settle, urgency
from partsvc.routing.solver import solve
from partsvc_bench.city import generate, late_until_closing
from tests.routing.test_planner import DAY, HOUR, TOWN, call, calls_of, engineer, left_out, planned


def urgent(key: str, place: int, priority: int = 1, **given: object) -> Call:
    """A P1/P2 call due at `latest`, which may still be served late until the day ends."""
    return call(key, place, priority=priority, **{"late_until": DAY[1], **given})


def stop_of(plan: Plan, key: str):  # type: ignore[no-untyped-def]
    return next(s for r in plan.routes for s in r.stops if s.kind is StopKind.CALL and s.key == key)


def test_a_p1_nobody_can_reach_in_time_is_served_late_by_the_one_who_has_the_skill() -> None:
    # The demo's Monday: only the far engineer knows surveys; the near one has routine work.
    problem = Problem(
        engineers=(
            engineer("near", 4),
            engineer("far", 6, skills=frozenset({"survey"})),
        ),
        calls=(
            urgent("p1", 0, skills=frozenset({"survey"}), latest=DAY[0] + 30 * 60),
            call("p3-due-in-59-days", 0, due_in_days=59),
        ),
        warehouses=(),
        travel=TOWN,
    )
    plan = planned(problem)
    assert calls_of(plan, "far")[0] == "p1"
    p1 = stop_of(plan, "p1")
    assert p1.start == DAY[0] + TOWN.seconds[6][0]
    assert p1.late_by == p1.start - (DAY[0] + 30 * 60) > 0
    assert plan.unassigned == ()


def test_routine_work_yields_so_the_p1_is_on_time() -> None:
    # One engineer: a long routine job first would make the P1 late; the P3 waits.
    problem = Problem(
        engineers=(engineer("ann", 0),),
        calls=(
            call("p3", 1, service=8 * HOUR, latest=DAY[0] + HOUR),
            urgent("p1", 2, latest=DAY[0] + HOUR),
        ),
        warehouses=(),
        travel=TOWN,
    )
    plan = planned(problem)
    assert calls_of(plan, "ann") == ["p1"]
    assert stop_of(plan, "p1").late_by == 0
    assert left_out(plan) == {"p3": Reason.NO_ROOM}


def test_a_call_due_today_is_not_displaced_by_one_due_weeks_ahead() -> None:
    problem = Problem(
        engineers=(engineer("ann", 0, shift_end=DAY[0] + 3 * HOUR),),
        calls=(
            call("later", 1, service=2 * HOUR, due_in_days=30),
            call("today", 2, service=2 * HOUR),
        ),
        warehouses=(),
        travel=TOWN,
    )
    plan = planned(problem)
    assert calls_of(plan, "ann") == ["today"]
    assert left_out(plan) == {"later": Reason.NO_ROOM}


def _one_call(problem: Problem, the_call: Call) -> dict[str, Reason]:
    return left_out(planned(replace(problem, calls=(the_call,))))


ANN = engineer("ann", 0, skills=frozenset({"print"}), shift_end=12 * HOUR)
ALONE = Problem(engineers=(ANN,), calls=(), warehouses=(), travel=TOWN)


def test_nobody_has_the_skills_only_when_no_engineer_at_all_has_them() -> None:
    assert _one_call(ALONE, call("c", 1, skills=frozenset({"laser"}))) == {"c": Reason.NO_SKILL}
    off = replace(ALONE, off_shift=(frozenset({"laser"}),))
    assert _one_call(off, call("c", 1, skills=frozenset({"laser"}))) == {
        "c": Reason.NOBODY_ON_SHIFT
    }


def test_a_site_not_on_the_map_is_the_first_reason_and_no_travel_is_looked_up() -> None:
    # Its place stands for nowhere: an index past the travel matrix would raise if used.
    nowhere = call("c", 10_000, skills=frozenset({"laser"}), parts={"UNOBTAINIUM": 1})
    assert _one_call(ALONE, replace(nowhere, placed=False)) == {"c": Reason.NOT_PLACED}
    assert _one_call(replace(ALONE, engineers=()), replace(nowhere, placed=False)) == {
        "c": Reason.NOT_PLACED
    }
    assert screen(replace(ALONE, calls=(replace(call("c", 1), placed=False),))).able == {}


def test_parts_nowhere_come_before_nobody_working() -> None:
    off = replace(ALONE, engineers=(), off_shift=(frozenset({"print"}),))
    assert _one_call(off, call("c", 1, parts={"UNOBTAINIUM": 1})) == {"c": Reason.NO_PARTS}
    assert _one_call(off, call("c", 1)) == {"c": Reason.NOBODY_ON_SHIFT}


def test_too_late_and_out_of_shift_are_told_apart() -> None:
    assert _one_call(ALONE, call("c", 6, latest=DAY[0] + 10 * 60)) == {"c": Reason.TOO_LATE}
    # an urgent call may be late, but not after its window closes
    closed = urgent("c", 6, latest=DAY[0] + 5 * 60, late_until=DAY[0] + 10 * 60)
    assert _one_call(ALONE, closed) == {"c": Reason.TOO_LATE}
    evening = call("c", 1, earliest=13 * HOUR, latest=15 * HOUR)
    assert _one_call(ALONE, evening) == {"c": Reason.OUT_OF_SHIFT}
    assert _one_call(ALONE, urgent("c", 1, earliest=13 * HOUR, latest=15 * HOUR)) == {
        "c": Reason.OUT_OF_SHIFT
    }


def test_parts_taken_by_a_more_urgent_call_are_the_reason() -> None:
    problem = replace(
        ALONE,
        engineers=(ANN, engineer("bob", 3)),
        calls=(urgent("p1", 1, parts={"FUSER": 1}), call("p3", 2, parts={"FUSER": 1})),
        warehouses=(Warehouse("north", 4, {"FUSER": 1}),),
    )
    plan = planned(problem)
    assert left_out(plan) == {"p3": Reason.PARTS_TAKEN}
    assert "p1" in calls_of(plan, "ann") + calls_of(plan, "bob")


DAYS = st.lists(
    st.tuples(
        st.integers(0, 6),  # place
        st.integers(1, 3),  # priority
        st.integers(1, 3),  # hours of work
        st.integers(0, 3),  # days until due
        st.booleans(),  # needs the skill
    ),
    min_size=2,
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DAYS)
def test_no_call_is_left_out_for_room_that_less_urgent_work_takes(
    drawn: list[tuple[int, int, int, int, bool]],
) -> None:
    calls = tuple(
        (urgent if priority <= 2 else call)(
            f"c{n}",
            place,
            **({"priority": priority} if priority <= 2 else {"due_in_days": days}),
            service=hours * HOUR,
            latest=DAY[0] + 2 * HOUR,
            skills=frozenset({"print"}) if skilled else frozenset(),
        )
        for n, (place, priority, hours, days, skilled) in enumerate(drawn)
    )
    short_day = {"shift_end": DAY[0] + 5 * HOUR}
    problem = Problem(
        engineers=(
            engineer("ann", 0, skills=frozenset({"print"}), **short_day),
            engineer("bob", 6, **short_day),
        ),
        calls=calls,
        warehouses=(),
        travel=TOWN,
    )
    plan = planned(problem, time_limit_s=0.3)
    able = screen(problem).able
    by_key = {c.key: c for c in calls}
    for entry in plan.unassigned:
        if entry.reason is not Reason.NO_ROOM:
            assert entry.call not in able
            continue
        left = by_key[entry.call]
        for index in able[entry.call]:
            engineer_ = problem.engineers[index]
            route = plan.route_of(engineer_.key)
            kept = [
                s
                for s in route.stops
                if s.kind is not StopKind.CALL or urgency(by_key[s.key]) <= urgency(left)
            ]
            without_lesser = retimed(problem, engineer_, kept)
            assert without_lesser is not None
            assert insert_call(problem, without_lesser, engineer_, left, now=-1) is None, (
                f"{entry.call} fits on {engineer_.key}'s route in place of less urgent work"
            )


def test_settling_moves_an_urgent_call_to_another_route_to_make_room_for_one_only_ann_can_do() -> (
    None
):
    # Ann alone has the skill for x; her day is full of a, which Bob could do as well.
    ann = engineer("ann", 0, skills=frozenset({"print"}), shift_end=DAY[0] + 3 * HOUR)
    bob = engineer("bob", 1, shift_end=DAY[0] + 3 * HOUR)
    a = urgent("a", 0, priority=2, service=2 * HOUR)
    x = urgent("x", 0, priority=2, service=2 * HOUR, skills=frozenset({"print"}))
    problem = Problem(engineers=(ann, bob), calls=(a, x), warehouses=(), travel=TOWN)
    ann_route = insert_call(problem, None, ann, a, now=-1)
    bob_route = retimed(problem, bob, [])
    assert ann_route is not None and bob_route is not None
    as_searched = Plan((ann_route, bob_route), (Unassigned("x", Reason.NO_ROOM),))
    settled = settle(problem, as_searched, screen(problem).able)
    assert settled.unassigned == ()
    assert calls_of(settled, "ann") == ["x"]
    assert calls_of(settled, "bob") == ["a"]
    assert check_plan(problem, settled) == []


def test_the_exchange_also_takes_routine_work_off_both_routes_when_that_is_what_it_takes() -> None:
    # x fits Ann's day only without both a and r; a fits Bob's only without q.
    ann = engineer("ann", 0, skills=frozenset({"print"}), shift_end=DAY[0] + 5 * HOUR // 2)
    bob = engineer("bob", 1, shift_end=DAY[0] + 5 * HOUR // 2)
    a = urgent("a", 0, priority=2, service=HOUR)
    x = urgent("x", 0, priority=2, service=2 * HOUR, skills=frozenset({"print"}))
    r, q = call("r", 0, service=HOUR), call("q", 1, service=2 * HOUR)
    problem = Problem(engineers=(ann, bob), calls=(a, x, r, q), warehouses=(), travel=TOWN)
    ann_route = insert_call(problem, insert_call(problem, None, ann, a, now=-1), ann, r, now=-1)
    bob_route = insert_call(problem, None, bob, q, now=-1)
    assert ann_route is not None and bob_route is not None
    as_searched = Plan((ann_route, bob_route), (Unassigned("x", Reason.NO_ROOM),))
    settled = settle(problem, as_searched, screen(problem).able)
    assert calls_of(settled, "ann") == ["x"]
    assert calls_of(settled, "bob") == ["a"]
    assert left_out(settled) == {"r": Reason.NO_ROOM, "q": Reason.NO_ROOM}
    assert stop_of(settled, "x").start <= x.latest and stop_of(settled, "a").start <= a.latest
    assert check_plan(problem, settled) == []


def test_when_the_search_finds_no_plan_in_its_time_the_calls_are_still_placed_one_by_one() -> None:
    ann = engineer("ann", 0)
    problem = Problem(
        engineers=(ann,),
        calls=(urgent("p1", 1), call("p3", 2)),
        warehouses=(),
        travel=TOWN,
    )
    screening = screen(problem)
    nothing = Plan(
        (retimed(problem, ann, []),),  # type: ignore[arg-type]
        tuple(Unassigned(key, Reason.NO_PLAN) for key in ("p1", "p3")),
    )
    settled = settle(problem, nothing, screening.able)
    assert settled.unassigned == ()
    assert sorted(calls_of(settled, "ann")) == ["p1", "p3"]
    assert check_plan(problem, settled) == []


def test_on_a_city_day_urgent_calls_that_can_all_be_on_time_are_planned_on_time() -> None:
    # A seeded day of 100 calls and 14 engineers with pick-ups and skills. Planning the
    # urgent calls first with lateness only priced put six P1/P2 calls of this day 51-179
    # minutes late in 3 s (the first plan's insertion weighs driving, not lateness).
    day = generate(seed=5, n_calls=100, n_engineers=14, n_urgent=0)
    urgent = {c.key for c in day.problem.calls if c.priority <= 2}
    held_to_deadlines = solve(day.problem, time_limit_s=3)
    assert not urgent & {entry.call for entry in held_to_deadlines.unassigned}

    # And a P1 already an hour overdue when the day starts: it cannot be on time, must not
    # keep the others from being so, and is served late.
    overdue = call("overdue", day.problem.calls[0].place, priority=1, latest=DAY[0] - HOUR)
    problem = late_until_closing(day).problem
    problem = replace(problem, calls=(*problem.calls, replace(overdue, late_until=DAY[1])))
    plan = solve(problem, time_limit_s=3)
    assert check_plan(problem, plan) == []
    assert not (urgent | {"overdue"}) & {entry.call for entry in plan.unassigned}
    late = {
        stop.key: round(stop.late_by / 60)
        for route in plan.routes
        for stop in route.stops
        if stop.kind is StopKind.CALL and stop.late_by and stop.key in urgent
    }
    assert late == {}, f"urgent calls late (minutes) where all could be on time: {late}"
    assert stop_of(plan, "overdue").late_by >= HOUR
