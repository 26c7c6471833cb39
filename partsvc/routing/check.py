"""An independent check of a plan: recompute every time from the matrix, count every part.

It does not trust the solver's model: it reads only the problem and the plan, walks each
route, and lists every broken rule in words. An empty list means the plan is sound. The
tests run it on every plan the solver returns; the benchmarks run it on every result.
"""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

from partsvc.routing.problem import Plan, Problem, Route, StopKind


def check_plan(problem: Problem, plan: Plan) -> list[str]:
    """Every broken rule of the plan, in words."""
    problems: list[str] = []
    calls = {call.key: call for call in problem.calls}
    engineers = {engineer.key: engineer for engineer in problem.engineers}
    planned = [stop.key for route in plan.routes for stop in route.stops if stop.kind == "call"]
    left_out = [entry.call for entry in plan.unassigned]
    counted = Counter(planned + left_out)
    for key in calls:
        if counted[key] != 1:
            problems.append(f"call {key} is planned or left out {counted[key]} times, not once")
    problems += [f"unknown call {key}" for key in counted if key not in calls]
    routed = Counter(route.engineer for route in plan.routes)
    problems += [f"engineer {key} has {n} routes" for key, n in routed.items() if n > 1]
    taken: Counter[tuple[str, str]] = Counter()
    for route in plan.routes:
        if route.engineer not in engineers:
            problems.append(f"route for unknown engineer {route.engineer}")
            continue
        problems += _check_route(problem, route, taken)
    stock = {w.key: w.stock for w in problem.warehouses}
    for (warehouse, sku), qty in taken.items():
        if qty > stock.get(warehouse, {}).get(sku, 0):
            problems.append(f"{qty} × {sku} taken from {warehouse}, which has fewer")
    return problems


def _check_route(problem: Problem, route: Route, taken: Counter[tuple[str, str]]) -> list[str]:
    engineer = next(e for e in problem.engineers if e.key == route.engineer)
    calls = {call.key: call for call in problem.calls}
    warehouses = {w.key: w for w in problem.warehouses}
    seconds, metres = problem.travel.seconds, problem.travel.metres
    problems: list[str] = []
    who = f"{engineer.key}:"
    if not route.stops:
        return []  # staying home: nothing to check
    if route.leave < engineer.leaves_at:
        problems.append(f"{who} leaves at {route.leave}, before {engineer.leaves_at}")
    van = Counter(engineer.van)
    here, clock = engineer.start, route.leave
    for stop in route.stops:
        soonest = clock + seconds[here][stop.place]
        # An engineer may set off later than they could (waiting at home or at a stop),
        # never arrive sooner than the matrix allows.
        if stop.arrive < soonest:
            problems.append(
                f"{who} stop {stop.key} reached at {stop.arrive}, the matrix says {soonest} at best"
            )
        arrive = max(soonest, stop.arrive)
        if stop.kind == StopKind.CALL:
            call = calls.get(stop.key)
            if call is None:
                return [*problems, f"{who} unknown call {stop.key}"]
            start, service = max(arrive, call.earliest), call.service
            if stop.place != call.place:
                problems.append(f"{who} call {call.key} is not at its place")
            if start > call.closes:
                problems.append(f"{who} reaches {call.key} at {start}, after {call.closes}")
            if stop.late_by != call.late_by(start):
                problems.append(
                    f"{who} call {call.key} says {stop.late_by} s late, "
                    f"the matrix says {call.late_by(start)}"
                )
            if not call.skills <= engineer.skills:
                problems.append(f"{who} lacks skills {sorted(call.skills - engineer.skills)}")
            for sku, qty in call.parts.items():
                if van[sku] < qty:
                    problems.append(
                        f"{who} has {van[sku]} × {sku} on the van at {call.key}, not {qty}"
                    )
                van[sku] -= qty
        else:
            warehouse = warehouses.get(stop.key)
            if warehouse is None or warehouse.place != stop.place:
                return [*problems, f"{who} pick-up at unknown warehouse {stop.key}"]
            start, service = arrive, warehouse.service
            for sku, qty in stop.parts.items():
                van[sku] += qty
                taken[(warehouse.key, sku)] += qty
        if (stop.start, stop.depart) != (start, start + service):
            problems.append(
                f"{who} stop {stop.key} says {stop.start}-{stop.depart}, "
                f"the matrix says {start}-{start + service}"
            )
        here, clock = stop.place, start + service
    back = clock + seconds[here][engineer.end]
    if back != route.back:
        problems.append(f"{who} back at {back}, the route says {route.back}")
    if back > engineer.shift_end:
        problems.append(f"{who} back at {back}, after the shift ends at {engineer.shift_end}")
    path = [engineer.start, *(stop.place for stop in route.stops), engineer.end]
    driving = sum(seconds[a][b] for a, b in pairwise(path))
    distance = sum(metres[a][b] for a, b in pairwise(path))
    if (driving, distance) != (route.driving_seconds, route.driving_metres):
        problems.append(f"{who} driving totals do not add up")
    return problems
