"""Urgent insertion (R29) on routes built by hand: who is ranked first, and what must hold."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partsvc.routing.check import check_plan
from partsvc.routing.insertion import (
    BEYOND_SHIFT,
    CANNOT_FIT,
    AtVisit,
    assignment,
    insert_call,
    rank_candidates,
    retimed,
)
from partsvc.routing.problem import (
    Plan,
    Problem,
    Reason,
    Route,
    Stop,
    StopKind,
    Unassigned,
    Warehouse,
)
from partsvc.routing.solver import solve
from tests.routing.test_planner import DAY, HOUR, TOWN, call, engineer

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


def test_an_engineer_whose_later_urgent_calls_would_be_late_is_not_feasible():
    # Ann is due at a P2 at the far end of town at 12:30 sharp; a detour first would make
    # her late there, and after it the new call's window has closed.
    booked = call("booked", 6, priority=2, earliest=NOON + 1800, latest=NOON + 1800)
    problem = day_with(booked, engineers=(engineer("ann", 0),))
    routes = planned_routes(problem)
    assert [s.key for s in routes["ann"].stops] == ["booked"]
    urgent = call("urgent", 2, priority=1, earliest=NOON, latest=NOON + 20 * 60)
    ranked = rank_candidates(replace(problem, calls=(booked, urgent)), routes, urgent, now=NOON)
    assert ranked[0].feasible is False
    assert ranked[0].reason == BEYOND_SHIFT


def test_a_routine_call_whose_later_calls_would_be_late_is_not_feasible():
    booked = call("booked", 6, earliest=NOON + 1800, latest=NOON + 1800)
    problem = day_with(booked, engineers=(engineer("ann", 0),))
    routes = planned_routes(problem)
    routine = call("routine", 2, earliest=NOON, latest=NOON + 20 * 60)
    ranked = rank_candidates(replace(problem, calls=(booked, routine)), routes, routine, now=NOON)
    assert (ranked[0].feasible, ranked[0].reason) == (False, CANNOT_FIT)


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


# ------------------------------------------------------------ making room (R26–R28, R29)

FULL_DAY = (
    call("p3a", 1, service=3 * HOUR),
    call("p3b", 3, service=3 * HOUR),
    call("p3c", 2, service=int(2.5 * HOUR)),
)
"""Routine work from 08:00 to nearly 18:00: no gap left in Ann's day."""


def full_day(*more):
    ann = engineer("ann", 0)
    problem = day_with(*FULL_DAY, *more, engineers=(ann,))
    route = retimed(problem, ann, [Stop(StopKind.CALL, c.key, c.place, 0, 0, 0) for c in FULL_DAY])
    assert route is not None
    assert route.back > DAY[1] - HOUR  # nothing more fits
    return problem, route


def p1(key, place, latest, **given):
    return call(key, place, priority=1, latest=latest, late_until=DAY[1], **given)


def test_a_full_day_of_routine_work_makes_room_for_a_p1_on_time():
    urgent = p1("urgent", 4, DAY[0] + HOUR)
    problem, route = full_day(urgent)
    assert insert_call(problem, route, problem.engineers[0], urgent, now=-1) is None
    (ann,) = rank_candidates(problem, {"ann": route}, urgent, now=-1)
    assert (ann.feasible, ann.late_by) == (True, 0)
    assert next(s.key for s in ann.stops if s.kind is StopKind.CALL) == "urgent"
    assert len(ann.displaced) == 1 and ann.displaced[0] in {"p3a", "p3b", "p3c"}
    assert ann.displaced[0] not in [s.key for s in ann.stops]
    candidate, new = assignment(problem, route, problem.engineers[0], urgent, now=-1) or ((), None)
    assert candidate == ann and new is not None
    left = tuple(Unassigned(key, Reason.NO_ROOM) for key in ann.displaced)
    assert check_plan(problem, Plan(routes=(new,), unassigned=left)) == []


def test_a_full_day_under_way_takes_the_p1_late_after_the_visit_in_hand():
    # At noon Ann is at her second routine visit; the P1 was due at 13:00 at the latest.
    urgent = p1("urgent", 4, 13 * HOUR)
    problem, route = full_day(urgent)
    (ann,) = rank_candidates(problem, {"ann": route}, urgent, now=NOON)
    assert ann.feasible
    assert ann.displaced == ("p3c",)
    assert [s.key for s in ann.stops] == ["p3a", "p3b", "urgent"]
    assert ann.stops[:2] == route.stops[:2]  # what is under way stays
    assert ann.arrive == route.stops[1].depart + TOWN.seconds[3][4]
    assert ann.late_by == ann.arrive - 13 * HOUR > 0
    assert ann.late_minutes == -(-ann.late_by // 60)


def test_a_day_full_of_urgent_work_cannot_take_another_and_says_so():
    urgent = p1("urgent", 4, DAY[0] + HOUR)
    ann = engineer("ann", 0)
    booked = [replace(c, priority=2, late_until=DAY[1]) for c in FULL_DAY]
    problem = day_with(*booked, urgent, engineers=(ann,))
    route = retimed(problem, ann, [Stop(StopKind.CALL, c.key, c.place, 0, 0, 0) for c in booked])
    (ranked,) = rank_candidates(problem, {"ann": route}, urgent, now=-1)
    assert (ranked.feasible, ranked.reason, ranked.displaced) == (False, BEYOND_SHIFT, ())


def test_a_routine_call_never_moves_other_work_off():
    routine = call("routine", 4, latest=DAY[0] + HOUR)
    problem, route = full_day(routine)
    (ann,) = rank_candidates(problem, {"ann": route}, routine, now=-1)
    assert (ann.feasible, ann.reason, ann.displaced) == (False, CANNOT_FIT, ())


def test_on_time_ranks_before_late_and_fewer_moved_before_more():
    urgent = p1("urgent", 4, DAY[0] + HOUR)
    problem, route = full_day(urgent)
    problem = replace(problem, engineers=(engineer("ann", 0), engineer("far", 6)))
    ranked = rank_candidates(problem, {"ann": route}, urgent, now=-1)
    # Far is free but two hours away: late. Ann is near and on time by moving one off.
    assert [(c.engineer, c.late_by > 0, len(c.displaced)) for c in ranked] == [
        ("ann", False, 1),
        ("far", True, 0),
    ]


DRAWN_DAYS = st.tuples(
    st.lists(
        st.tuples(
            st.integers(0, 6),  # place
            st.integers(1, 3),  # priority
            st.integers(1, 4),  # half-hours of work
            st.integers(0, 8),  # hours after 08:00 it is due
        ),
        min_size=1,
        max_size=9,
    ),
    st.integers(0, 6),  # where the new P1 is
    st.integers(0, 6),  # hours after 08:00 it is due
    st.sampled_from([-1, DAY[0] + HOUR, NOON]),  # now
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DRAWN_DAYS)
def test_making_room_never_makes_urgent_work_late_and_always_finds_room_if_there_is(drawn):
    work, place, due, now = drawn
    calls = [
        call(
            f"c{n}",
            where,
            priority=priority,
            service=halves * 1800,
            latest=DAY[0] + hours * HOUR if priority <= 2 else DAY[1],
            late_until=DAY[1] if priority <= 2 else None,
        )
        for n, (where, priority, halves, hours) in enumerate(work)
    ]
    urgent = p1("new", place, DAY[0] + due * HOUR)
    ann = engineer("ann", 0, shift_end=DAY[0] + 6 * HOUR)
    problem = day_with(*calls, urgent, engineers=(ann,))
    # Ann's day: the drawn calls in turn, as long as they fit.
    stops: list[Stop] = []
    for c in calls:
        tried = [*stops, Stop(StopKind.CALL, c.key, c.place, 0, 0, 0)]
        if retimed(problem, ann, tried) is not None:
            stops = tried
    route = retimed(problem, ann, stops) or Route("ann", 0, 0, (), 0, 0)
    by_key = {c.key: c for c in calls}
    (ranked,) = rank_candidates(problem, {"ann": route}, urgent, now=now)
    fixed = [s for s in route.stops if s.start <= now]
    rest = [s for s in route.stops if s.start > now]
    routine = {s.key for s in rest if by_key[s.key].priority == 3}
    # Room there is: with every routine visit not yet begun moved off, it goes in.
    bare = replace(route, stops=tuple(s for s in route.stops if s.key not in routine))
    if insert_call(problem, bare, ann, urgent, now=now) is not None:
        assert ranked.feasible, "room there is, by moving routine work off, and none was found"
    if not ranked.feasible:
        assert ranked.reason == BEYOND_SHIFT
        return
    assert set(ranked.displaced) <= routine
    kept = {s.key: s for s in ranked.stops}
    assert list(ranked.stops[: len(fixed)]) == fixed
    assert set(kept) | set(ranked.displaced) == {s.key for s in route.stops} | {"new"}
    for before in rest:
        after = kept.get(before.key)
        if by_key[before.key].priority <= 2:
            assert after is not None, f"urgent {before.key} moved off"
            assert after.start <= max(by_key[before.key].latest, before.start), (
                f"urgent {before.key} made late"
            )
    found = assignment(problem, route, ann, urgent, now=now)
    assert found is not None and found[0] == ranked
    others = {c.key for c in calls} - set(kept)
    left = tuple(Unassigned(key, Reason.NO_ROOM) for key in sorted(others))
    assert check_plan(problem, Plan(routes=(found[1],), unassigned=left)) == []


def test_a_route_running_a_minute_behind_its_plan_still_takes_an_urgent_call():
    # Ann's P1 far away is already planned late; a visit she is on, next door and not on
    # her route, ends a minute after the plan said (its status says so). The new P1 goes
    # after the late one: the minute is not held against it.
    far = p1("far", 6, DAY[0] + HOUR)
    urgent = p1("urgent", 5, DAY[0] + HOUR)
    ann = engineer("ann", 0)
    problem = day_with(far, urgent, engineers=(ann,))
    there = DAY[0] + TOWN.seconds[0][6]  # as planned: she leaves at the start of her shift
    route = retimed(problem, ann, [Stop(StopKind.CALL, "far", 6, there, there, there)])
    assert route is not None and route.stops[0].late_by > 0
    now, held = DAY[0] + 30, {"ann": AtVisit("next door", DAY[0] + 60)}
    (candidate,) = rank_candidates(problem, {"ann": route}, urgent, now=now, busy=held)
    assert candidate.feasible, candidate.reason
    assert [s.key for s in candidate.stops] == ["far", "urgent"]
    assert candidate.stops[0].start == route.stops[0].start + 60
    found = assignment(problem, route, ann, urgent, now=now, busy=held)
    assert found is not None and found[0] == candidate
    assert check_plan(problem, Plan((found[1],), ())) == []


def test_an_engineer_past_the_plans_departure_is_on_the_road_not_leaving_late():
    # Ann left her first visit at 08:50 as planned and is driving to a visit booked for
    # 09:30 sharp. At 09:10 a P1 comes in: she takes it after the booked visit, which
    # stays at 09:30, rather than being taken to leave the first visit at 09:10 and reach
    # the booked one 20 minutes past its window.
    first = call("first", 1)
    booked_at = DAY[0] + TOWN.seconds[0][1] + 1800 + TOWN.seconds[1][5]
    booked = call("booked", 5, earliest=booked_at, latest=booked_at)
    urgent = p1("urgent", 6, DAY[0] + 4 * HOUR)
    ann = engineer("ann", 0)
    problem = day_with(first, booked, urgent, engineers=(ann,))
    route = retimed(
        problem, ann, [Stop(StopKind.CALL, key, 0, 0, 0, 0) for key in ("first", "booked")]
    )
    assert route is not None and route.stops[1].start == booked_at
    now = route.stops[0].depart + 20 * 60
    (candidate,) = rank_candidates(problem, {"ann": route}, urgent, now=now)
    assert candidate.feasible and candidate.late_by == 0, candidate
    assert [(s.key, s.start) for s in candidate.stops[:2]] == [
        ("first", route.stops[0].start),
        ("booked", booked_at),
    ]
    found = assignment(problem, route, ann, urgent, now=now)
    assert found is not None and check_plan(problem, Plan((found[1],), ())) == []


def test_an_engineer_still_at_a_visit_has_begun_nothing_after_it_whatever_the_plan_says():
    # Ann is still at her first visit at 09:40 (by its status, free at 10:00); the plan had
    # her start the second at 09:30. The second has not begun: it moves on after the
    # first, and she is not taken to be at its site.
    first, second = call("first", 1), call("second", 5)
    urgent = p1("urgent", 6, DAY[0] + 6 * HOUR)
    ann = engineer("ann", 0)
    problem = day_with(first, second, urgent, engineers=(ann,))
    route = retimed(
        problem, ann, [Stop(StopKind.CALL, key, 0, 0, 0, 0) for key in ("first", "second")]
    )
    assert route is not None
    now, free = route.stops[1].start + 10 * 60, route.stops[1].start + 30 * 60
    held = {"ann": AtVisit("first", free)}
    (candidate,) = rank_candidates(problem, {"ann": route}, urgent, now=now, busy=held)
    assert candidate.feasible, candidate
    moved_on = next(s for s in candidate.stops if s.key == "second")
    assert moved_on.start >= free + TOWN.seconds[1][5]
    (planned,) = rank_candidates(problem, {"ann": route}, urgent, now=now)
    assert next(s for s in planned.stops if s.key == "second") == route.stops[1]


def test_a_call_closed_by_someone_else_is_neither_ahead_nor_where_the_engineer_is():
    # Ann is still at her first visit; the third call on her route was closed meanwhile
    # by someone else. It is not on her way any more, and she is not taken to be there.
    first, second, third = call("first", 1), call("second", 5), call("third", 6)
    urgent = p1("urgent", 2, DAY[0] + 6 * HOUR)
    ann = engineer("ann", 0)
    problem = day_with(first, second, third, urgent, engineers=(ann,))
    keys = ("first", "second", "third")
    route = retimed(problem, ann, [Stop(StopKind.CALL, key, 0, 0, 0, 0) for key in keys])
    assert route is not None
    now = route.stops[0].depart + 10 * 60
    held = {"ann": AtVisit("first", now + 20 * 60)}
    (candidate,) = rank_candidates(
        problem, {"ann": route}, urgent, now=now, finished={"first", "third"}, busy=held
    )
    assert candidate.feasible, candidate
    assert [s.key for s in candidate.stops][:1] == ["first"]
    assert "third" not in [s.key for s in candidate.stops]
    assert candidate.arrive is not None and candidate.arrive >= now + 20 * 60
