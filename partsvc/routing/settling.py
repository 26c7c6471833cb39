"""After the search: every call it left out that someone could serve is tried once more.

Most urgent first, each such call goes where it fits as the routes stand; failing that, in
place of less urgent work on the route of an engineer who could serve it (the work it
displaces goes elsewhere if it fits, or is left out in its turn); and a P1/P2 call failing
that, in place of one call as urgent that moves to another engineer's route (in place of
less urgent work there if need be). A call still left out after this fits only by dropping
work as or more urgent, so its reason is checked, not guessed (R26–R28). Standard library
only; the clock is read only to end the P3 calls' turn when the planner's time is up (P1
and P2 calls are always tried).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace

from partsvc.routing import problem as p
from partsvc.routing.insertion import insert_call, retimed

RETRIED = (p.Reason.NO_ROOM, p.Reason.PARTS_TAKEN, p.Reason.NO_PLAN)
"""Left-out reasons that depend on the other routes, so another try may find room; and
the search's having found no plan in its time (a starved machine): its calls are then
placed one by one, the urgent ones always."""


def urgency(call: p.Call) -> tuple[int, int]:
    """Smaller is more urgent: the priority, then how many days until it is due."""
    return (call.priority, max(call.due_in_days, 0))


def settle(
    problem: p.Problem,
    plan: p.Plan,
    able: Mapping[str, Sequence[int]],
    *,
    deadline: float | None = None,
) -> p.Plan:
    """The plan with the calls it left out for want of room placed where they can be.

    Past the `deadline` (a `time.perf_counter()` reading) only P1 and P2 calls are still
    tried: the planner's time limit holds, and urgent work is never left to chance.
    """
    calls = {call.key: call for call in problem.calls}
    routes = {route.engineer: route for route in plan.routes}
    left = {entry.call: entry.reason for entry in plan.unassigned}
    waiting = sorted(
        (calls[key] for key, reason in left.items() if reason in RETRIED and key in able),
        key=lambda call: (urgency(call), call.key),
    )
    for call in waiting:
        until = deadline if call.priority > 2 else None
        if _past(until):
            break  # the rest are P3 too (most urgent first)
        engineers = [problem.engineers[i] for i in able[call.key]]
        if _place(problem, routes, engineers, call, until):
            del left[call.key]
            continue
        displaced = _displace(problem, routes, engineers, call, until)
        if displaced is None and call.priority <= 2:
            displaced = _swap(problem, routes, able, call)
        if displaced is None:
            continue  # its parts went to calls as urgent, or it fits only in their place
        del left[call.key]
        for key in sorted(displaced, key=lambda key: (urgency(calls[key]), key)):
            others = [problem.engineers[i] for i in able.get(key, ())]
            if not _place(problem, routes, others, calls[key], until):
                left[key] = p.Reason.NO_ROOM
    return p.Plan(
        tuple(routes[engineer.key] for engineer in problem.engineers),
        tuple(p.Unassigned(call.key, left[call.key]) for call in problem.calls if call.key in left),
    )


def _past(until: float | None) -> bool:
    return until is not None and time.perf_counter() > until


def _place(
    problem: p.Problem,
    routes: dict[str, p.Route],
    engineers: Sequence[p.Engineer],
    call: p.Call,
    until: float | None = None,
) -> bool:
    """Put the call where it starts soonest on one of these engineers' routes as they
    stand (of those tried by `until`); False if it fits on none."""
    stocked = _with_stock_left(problem, routes)
    best: p.Route | None = None
    for engineer in engineers:
        if _past(until):
            break
        found = insert_call(stocked, routes[engineer.key], engineer, call, now=-1)
        if found is not None and (best is None or _start(found, call) < _start(best, call)):
            best = found
    if best is None:
        return False
    routes[best.engineer] = best
    return True


def _displace(
    problem: p.Problem,
    routes: dict[str, p.Route],
    engineers: Sequence[p.Engineer],
    call: p.Call,
    until: float | None = None,
) -> list[str] | None:
    """Put the call on the route of one of these engineers in place of less urgent work,
    taking off as few calls as will do; the keys of the calls taken off, or None."""
    calls = {c.key: c for c in problem.calls}
    best: tuple[int, p.Route, list[str]] | None = None
    for engineer in engineers:
        if _past(until):
            break
        route = routes[engineer.key]
        lesser = [
            stop.key
            for stop in route.stops
            if stop.kind is p.StopKind.CALL and urgency(calls[stop.key]) > urgency(call)
        ]
        if not lesser:
            continue
        kept = [
            stop
            for stop in route.stops
            if stop.key not in lesser and (stop.for_call is None or stop.for_call not in lesser)
        ]
        reduced = retimed(problem, engineer, kept)
        if reduced is None:
            continue
        stocked = _with_stock_left(problem, {**routes, engineer.key: reduced})
        found = insert_call(stocked, reduced, engineer, call, now=-1)
        if found is not None and (best is None or len(lesser) < best[0]):
            best = (len(lesser), found, lesser)
    if best is None:
        return None
    _, found, lesser = best
    routes[found.engineer] = found
    return lesser


def _swap(
    problem: p.Problem,
    routes: dict[str, p.Route],
    able: Mapping[str, Sequence[int]],
    call: p.Call,
) -> list[str] | None:
    """Put an urgent call on a route in place of one call that moves to another route
    (and of the route's less urgent work, if that is what it takes): the moved call goes
    where it fits as that route stands, or else in place of less urgent work there. No
    call as urgent is dropped or made later than on time. The first such exchange found;
    the keys of the less urgent calls it took off, or None if there is none."""
    calls = {c.key: c for c in problem.calls}
    for index in able[call.key]:
        engineer = problem.engineers[index]
        route = routes[engineer.key]
        on_route = [stop.key for stop in route.stops if stop.kind is p.StopKind.CALL]
        lesser = {key for key in on_route if urgency(calls[key]) > urgency(call)}
        for moved in (calls[key] for key in on_route if key not in lesser):
            for taken_off in ({moved.key}, {moved.key} | lesser) if lesser else ({moved.key},):
                kept = [
                    s for s in route.stops if s.key not in taken_off and s.for_call not in taken_off
                ]
                reduced = retimed(problem, engineer, kept)
                if reduced is None:
                    continue
                trial = {**routes, engineer.key: reduced}
                stocked = _with_stock_left(problem, trial)
                found = insert_call(stocked, reduced, engineer, call, now=-1)
                if found is None:
                    continue
                trial[engineer.key] = found
                others = [
                    problem.engineers[i]
                    for i in able.get(moved.key, ())
                    if problem.engineers[i].key != engineer.key
                ]
                displaced = (
                    []
                    if _place(problem, trial, others, moved)
                    else _displace(problem, trial, others, moved)
                )
                if displaced is not None:
                    routes.update(trial)
                    return sorted(taken_off - {moved.key}) + displaced
    return None


def _with_stock_left(problem: p.Problem, routes: Mapping[str, p.Route]) -> p.Problem:
    """The problem with each warehouse holding what the routes' pick-ups leave in it."""
    taken: Counter[tuple[str, str]] = Counter()
    for route in routes.values():
        for stop in route.stops:
            if stop.kind is p.StopKind.PICKUP:
                for sku, qty in stop.parts.items():
                    taken[(stop.key, sku)] += qty
    warehouses = tuple(
        replace(w, stock={sku: qty - taken[(w.key, sku)] for sku, qty in w.stock.items()})
        for w in problem.warehouses
    )
    return replace(problem, warehouses=warehouses)


def _start(route: p.Route, call: p.Call) -> int:
    return next(stop.start for stop in route.stops if stop.key == call.key)
