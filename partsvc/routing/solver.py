"""The day planner: who goes where, in which order, with which parts (R26–R28).

`solve` screens the calls (who could serve each one alone, and why nobody can), turns the
rest into the index model of `routing.model` and reads the plan back:

- skills restrict each call to the engineers who have them (and could reach it in time);
- a call whose parts a van lacks may be preceded on the same route by a pick-up at a
  warehouse holding them: pick-ups are optional stops that load parts; one dimension per
  part counts the units on the van along the route and may never go below zero, so a
  route only promises what its van holds plus what it picked up before;
- a warehouse never gives out more than its free stock across all routes;
- drop penalties by priority, each far above everything below it: no P1 is dropped while
  it fits somewhere, then as many P2, then P3; then a designated engineer is preferred;
  then driving time is minimised.

Imports only the standard library and OR-Tools (through `routing.model`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from itertools import pairwise

from partsvc.routing.areas import areas_for, side_by_side, split, usable
from partsvc.routing.model import BIG, Load, Model, Search, cheapest, solve_model
from partsvc.routing.problem import (
    Call,
    Engineer,
    Plan,
    Problem,
    Reason,
    Route,
    Stop,
    StopKind,
    Unassigned,
    Warehouse,
)
from partsvc.routing.screening import Screening, carried, screen, share_out, van_covers
from partsvc.routing.settling import settle

DROP_PENALTY = {1: 10**13, 2: 10**10, 3: 10**7}
"""What leaving a call out costs, per priority, in seconds of driving. A P3 or preventive
call due days ahead is worth `DROP_PENALTY[3] / (1 + days)`: less for each day, and never
as much as one due today (R28)."""
LATE_COST = {1: 10**6, 2: 10**5}
"""What each second late costs a P1 or P2 call. A whole day late costs less than leaving
the call out (86,400 × 10⁶ < 10¹³; 86,400 × 10⁵ < 10¹⁰), so it is served late rather than
not at all; a P1 a few seconds late costs more than a P3 left out (10⁷), so routine work
yields first (R26–R28)."""


def drop_penalty(call: Call) -> int:
    """What leaving `call` out costs the plan (see `DROP_PENALTY`)."""
    if call.priority <= 2:
        return DROP_PENALTY[call.priority]
    return DROP_PENALTY[3] // (1 + max(call.due_in_days, 0))


PREFERENCE_SECONDS = 1800
"""Driving worth saving before a call goes to someone other than its designated engineer."""


def solve(
    problem: Problem, *, time_limit_s: float = 10.0, seed: int = 0, processes: int = 1
) -> Plan:
    """Plan the day. Calls that cannot be planned come back in `unassigned`, with why.

    Everything, the settling after the search included, ends within `time_limit_s` (but
    for placing the P1 and P2 calls a search left out, which settling always does). With
    `processes` 2 the search has a partner on a second core; a day too big for one search
    is split into areas planned side by side (`routing.areas`).
    """
    began = time.perf_counter()
    deadline = began + time_limit_s
    screening = screen(problem)
    search_until = deadline - max(SETTLE_SHARE * time_limit_s, WRAP_UP_S)
    count = areas_for(len(screening.able))
    if count < 2:
        plan = _plan_area(problem, screening, search_until, seed, processes)
    else:
        plan = _plan_in_areas(problem, screening, count, search_until, seed, processes)
    return settle(problem, plan, screening.able, deadline=deadline)


WRAP_UP_S = 0.5
"""Kept back from the search at least, for building its model and reading the plan out."""
SETTLE_SHARE = 0.05
"""Share of the time limit kept back for settling (a 1,000-call day's takes seconds)."""
PARTNER_HANDOVER_S = 0.5
"""Kept back from two searches side by side for the partner's plan to come back."""
AREA_WRAP_UP_S = 1.0
"""Kept back from each area's search for handing its plan back to the day."""
URGENT_SHARE = 0.2
"""Share of the search time spent first on the P1 and P2 calls alone."""

URGENT_FIRST_SOLUTION = "LOCAL_CHEAPEST_COST_INSERTION"
"""The second way the urgent calls' on-time plan is started, beside the default insertion:
each call goes where the whole objective (drop penalties too) rises least, not the driving
alone. On a city day the default left two urgent calls out of its on-time plan that a
0.17 s guided search could not put back, and they ended the day 48 and 119 minutes late
where all could be on time; this one finds the on-time plan in 0.05 s. Alone it serves a
few P3 calls fewer on the 300-call days, so both are tried and the cheaper kept
(docs/BENCHMARKS.md)."""

DAY_SEARCH = Search(
    iterated=False,
    metaheuristic="GUIDED_LOCAL_SEARCH",
    operators=(),
    temperatures=None,
    check_period=1,
)
"""Guided local search: the iterated search that wins on Solomon found no first plan at all
on a city day with pick-ups (bench/day.py, docs/BENCHMARKS.md). Each accepted move is
checked by propagation: checked only every hundredth, the guided search left two urgent
calls of a city day 90–100 minutes late where all could be on time
(tests/routing/test_priorities.py)."""
DAY_PARTNER = Search()
"""What a second process searches beside `DAY_SEARCH`: the benchmark's best search, the
iterated local search (ruin and recreate, simulated annealing; see `Search`), started from
the same P1/P2 routes, which give it the first plan it could not find alone. The two end
in different local optima and the cheaper plan wins (docs/BENCHMARKS.md)."""


def _plan_area(
    problem: Problem, screening: Screening, until: float, seed: int, processes: int
) -> Plan:
    """The search's plan of `problem` (not yet settled), ending by `until`."""
    layout = _Layout.build(problem, screening)
    routes: list[list[int]] = [[] for _ in problem.engineers]
    if layout.calls:
        left_s = until - time.perf_counter()
        search = replace(DAY_SEARCH, time_limit_s=max(left_s * URGENT_SHARE, 0.05), seed=seed)
        initial = _urgent_first(problem, screening, layout, search)
        model = layout.model()  # a second or so for a thousand nodes: within the limit
        whole = replace(search, time_limit_s=max(until - time.perf_counter(), 0.1))
        if processes >= 2:
            # The partner's plan comes back through a pipe after both searches end.
            shorter = max(whole.time_limit_s - PARTNER_HANDOVER_S, 0.1)
            partner = replace(DAY_PARTNER, seed=seed)
            whole = replace(whole, time_limit_s=shorter, partners=(partner,))
        solution = solve_model(model, whole, initial)
        if solution is None:
            screening = screening.nothing_found()
        else:
            routes = solution.routes
    return layout.plan(routes, screening)


def _plan_in_areas(
    problem: Problem, screening: Screening, count: int, until: float, seed: int, processes: int
) -> Plan:
    """The day's plan (not yet settled) from its areas' plans, made side by side."""
    areas = split(problem, screening, share_out(problem, screening), count)
    began = time.perf_counter()
    side = usable(processes)
    share_s = (until - began) / math.ceil(len(areas) / side)

    def plan_area(i: int) -> Plan:
        # Area i is searched in round i // side; a round that starts late ends on time.
        ends = began + (i // side + 1) * share_s - AREA_WRAP_UP_S
        area = areas[i]
        return _plan_area(area.problem, area.screening, ends, seed, 1)

    plans = side_by_side(plan_area, len(areas), processes)
    routes = {route.engineer: route for plan in plans for route in plan.routes}
    left = {entry.call: entry.reason for plan in plans for entry in plan.unassigned}
    left.update(screening.reasons)
    return Plan(
        tuple(routes[engineer.key] for engineer in problem.engineers),
        tuple(Unassigned(call.key, left[call.key]) for call in problem.calls if call.key in left),
    )


def _urgent_first(
    problem: Problem, screening: Screening, whole: _Layout, search: Search
) -> list[list[int]] | None:
    """Routes for the P1 and P2 calls alone, as nodes of the whole day's layout.

    Planning them first, then starting the whole day from their routes, keeps every urgent
    call a first search found a place for: dropping one later would cost more than all the
    P3 calls together, so no move the search accepts does it (R28). They are planned on
    time first (`_held_to_deadlines`, from two first plans: `URGENT_FIRST_SOLUTION`), then
    from those routes with lateness allowed, which adds the calls nobody could reach on
    time; and apart, with lateness allowed from nothing. The cheaper plan is kept: where
    some lateness cannot be avoided, spreading it over several calls may cost less than the
    on-time routes leave room for.
    """
    urgent = {c.key for c in problem.calls if c.priority <= 2 and c.key in screening.able}
    if not urgent:
        return None
    first = Screening(
        {k: v for k, v in screening.able.items() if k in urgent}, {}, screening.pickups
    )
    third = replace(search, time_limit_s=search.time_limit_s / 3)
    held = _Layout.build(_held_to_deadlines(problem), first)
    held_model = held.model()
    sixth = replace(third, time_limit_s=third.time_limit_s / 2)
    on_time = cheapest(
        [
            solve_model(held_model, sixth),
            solve_model(held_model, replace(sixth, first_solution=URGENT_FIRST_SOLUTION)),
        ]
    )
    layout = _Layout.build(problem, first)
    model = layout.model()
    start = None if on_time is None else _as_nodes_of(layout, held, on_time.routes)
    best = cheapest([solve_model(model, third, start), solve_model(model, third)])
    if best is None:
        return None if start is None else _as_nodes_of(whole, layout, start)
    return _as_nodes_of(whole, layout, best.routes)


def _as_nodes_of(
    target: _Layout, source: _Layout, routes: Sequence[Sequence[int]]
) -> list[list[int]]:
    """Routes of `source`'s nodes as the same visits' nodes in `target`."""
    node_of = {visit.identity: n for n, visit in enumerate(target.visits, start=target.first)}
    return [
        [node_of[source.visits[node - source.first].identity] for node in route] for route in routes
    ]


def _held_to_deadlines(problem: Problem) -> Problem:
    """The problem with every call that can still be on time allowed only on time.

    The urgent calls' first plan is made this way: with lateness merely priced, the first
    plan's insertion (which weighs driving, not lateness) put P1/P2 calls hours late where
    an on-time plan existed, and the search did not repair it (bench/day.py
    --late-until-closing: 6 P1 and 26 P2 late on the 300-call day, none held to deadlines;
    docs/BENCHMARKS.md). Calls nobody can reach on time are left out of that first plan and
    added late by the next search, as early as it finds. A call already past its deadline
    keeps its late window.
    """
    calls = tuple(
        replace(call, late_until=None) if call.latest >= call.earliest else call
        for call in problem.calls
    )
    return replace(problem, calls=calls)


class _Kind(StrEnum):
    CALL = "call"
    PICKUP = "pickup"
    VAN = "van"
    """Parts taken from the van: no stop of its own, it sits at the call's place."""


@dataclass(frozen=True)
class _Visit:
    """A node of the model that is not a start or an end."""

    call: Call
    kind: _Kind = _Kind.CALL
    warehouse: Warehouse | None = None

    @property
    def identity(self) -> tuple[str, str, str | None]:
        return (self.call.key, self.kind, self.warehouse.key if self.warehouse else None)

    @property
    def place(self) -> int:
        return self.warehouse.place if self.warehouse else self.call.place

    @property
    def service(self) -> int:
        if self.kind is _Kind.CALL:
            return self.call.service
        return self.warehouse.service if self.warehouse else 0


@dataclass(frozen=True)
class _Layout:
    """Nodes: 2v is engineer v's start, 2v+1 their end, then the visits.

    A call that needs parts is the delivery of a pick-up-and-delivery pair whose pick-up
    is one of: its engineer's own van (a node at the call's place, allowed only to the
    engineers whose van holds the parts) or a warehouse that holds them all. OR-Tools'
    insertion heuristics and operators move such a pair as one.
    """

    problem: Problem
    visits: tuple[_Visit, ...]
    allowed: dict[int, list[int]]
    pairs: tuple[tuple[tuple[int, ...], int], ...]

    @property
    def calls(self) -> list[_Visit]:
        return [visit for visit in self.visits if visit.kind is _Kind.CALL]

    @property
    def first(self) -> int:
        """The first visit's node."""
        return 2 * len(self.problem.engineers)

    @classmethod
    def build(cls, problem: Problem, screening: Screening) -> _Layout:
        visits: list[_Visit] = []
        allowed: dict[int, list[int]] = {}
        pairs = []
        first = 2 * len(problem.engineers)
        offered = share_out(problem, screening)

        def add(visit: _Visit, engineers: list[int]) -> int:
            node = first + len(visits)
            visits.append(visit)
            allowed[node] = engineers
            return node

        for call in problem.calls:
            if call.key not in screening.able:
                continue
            engineers = screening.able[call.key]
            if not call.parts:
                add(_Visit(call), engineers)
                continue
            vans = [e for e in engineers if van_covers(problem.engineers[e], call)]
            if not vans and not offered[call.key]:
                continue  # its warehouse stock went to more urgent calls
            sources = [add(_Visit(call, _Kind.VAN), vans)] if vans else []
            sources += [
                add(_Visit(call, _Kind.PICKUP, problem.warehouses[w]), engineers)
                for w in offered[call.key]
            ]
            pairs.append((tuple(sources), add(_Visit(call), engineers)))
        return cls(problem, tuple(visits), allowed, tuple(pairs))

    def places(self) -> list[int]:
        depots = [p for e in self.problem.engineers for p in (e.start, e.end)]
        return depots + [visit.place for visit in self.visits]

    def model(self) -> Model:
        problem, first = self.problem, 2 * len(self.problem.engineers)
        places = self.places()
        seconds = problem.travel.seconds
        service = [0] * first + [visit.service for visit in self.visits]
        # A pick-up costs its time at the counter on top of the driving, so none is idle.
        counter = [0] * first + [
            visit.service if visit.kind is _Kind.PICKUP else 0 for visit in self.visits
        ]
        cost = [[counter[i] + seconds[a][b] for b in places] for i, a in enumerate(places)]
        time = [
            [0 if i == j else service[i] + seconds[a][b] for j, b in enumerate(places)]
            for i, a in enumerate(places)
        ]
        windows = [(0, BIG)] * first + [
            (v.call.earliest, v.call.closes) if v.kind is _Kind.CALL else (0, BIG)
            for v in self.visits
        ]
        soft_latest = {
            # Already overdue: late from midnight on, the same price for every plan.
            first + n: (max(v.call.latest, 0), LATE_COST.get(v.call.priority, LATE_COST[2]))
            for n, v in enumerate(self.visits)
            if v.kind is _Kind.CALL and v.call.closes > v.call.latest
        }
        paired = {node for sources, _ in self.pairs for node in sources}
        penalties = {
            first + n: drop_penalty(v.call)
            for n, v in enumerate(self.visits)
            if first + n not in paired
        }
        return Model(
            cost=cost,
            time=time,
            windows=windows,
            starts=[2 * v for v in range(len(problem.engineers))],
            ends=[2 * v + 1 for v in range(len(problem.engineers))],
            # An engineer whose shift is over stays home (screening gave them nothing).
            vehicle_spans=[(min(e.leaves_at, e.shift_end), e.shift_end) for e in problem.engineers],
            penalties=penalties,
            allowed=self.allowed,
            loads=self._van_loads(first),
            pairs=self.pairs,
            mismatch=self._mismatch(first),
            mismatch_cost=PREFERENCE_SECONDS,
            soft_latest=soft_latest,
        )

    def _van_loads(self, first: int) -> list[Load]:
        """Per part: what the van still holds; parts taken from it may not exceed it."""
        engineers = self.problem.engineers
        vans = [v for v in self.visits if v.kind is _Kind.VAN]
        loads = []
        for sku in sorted({sku for v in vans for sku in v.call.parts}):
            start = [e.van.get(sku, 0) for e in engineers]
            wanted = sum(v.call.parts.get(sku, 0) for v in vans)
            if all(held >= wanted for held in start if held):
                continue  # no van that holds it could run out
            delta = [0] * first + [
                -v.call.parts.get(sku, 0) if v.kind is _Kind.VAN else 0 for v in self.visits
            ]
            loads.append(Load(f"van {sku}", delta, start, start))
        return loads

    def _mismatch(self, first: int) -> list[list[int]]:
        keys = [e.key for e in self.problem.engineers]
        if not any(v.call.preferred in keys for v in self.calls):
            return []
        return [
            [0] * first
            + [
                int(v.kind is _Kind.CALL and v.call.preferred in keys and v.call.preferred != key)
                for v in self.visits
            ]
            for key in keys
        ]

    def plan(self, routes: Sequence[Sequence[int]], screening: Screening) -> Plan:
        """The routes with their times; calls left out get the screening's reason, or
        PARTS_TAKEN if the stock they could use went to more urgent calls, or NO_ROOM
        (which `settle` then checks)."""
        first = 2 * len(self.problem.engineers)
        modelled = {v.call.key for v in self.calls}
        short = {key: Reason.PARTS_TAKEN for key in screening.able if key not in modelled}
        served: set[str] = set()
        planned = []
        for engineer, nodes in zip(self.problem.engineers, routes, strict=True):
            visits = [self.visits[node - first] for node in nodes]
            visits = [v for v in visits if v.kind is not _Kind.VAN]
            served.update(v.call.key for v in visits if v.kind is _Kind.CALL)
            planned.append(schedule(self.problem, engineer, visits))
        unassigned = [
            Unassigned(
                call.key, screening.reasons.get(call.key) or short.get(call.key, Reason.NO_ROOM)
            )
            for call in self.problem.calls
            if call.key not in served
        ]
        return Plan(tuple(planned), tuple(unassigned))


def schedule(problem: Problem, engineer: Engineer, visits: Sequence[_Visit]) -> Route:
    """Times along a route: drive, wait for the window to open, work, drive on.

    The engineer leaves as late as they can without starting the first stop later.
    """
    seconds, metres = problem.travel.seconds, problem.travel.metres
    stops: list[Stop] = []
    here, clock = engineer.start, engineer.leaves_at
    for visit in visits:
        arrive = clock + seconds[here][visit.place]
        start = max(arrive, visit.call.earliest if visit.kind is _Kind.CALL else arrive)
        clock = start + visit.service
        stops.append(_stop(visit, arrive, start, clock))
        here = visit.place
    back = clock + seconds[here][engineer.end]
    leave = engineer.leaves_at
    if stops:
        wait = stops[0].start - stops[0].arrive
        leave += wait
        first = stops[0]
        stops[0] = replace(first, arrive=first.arrive + wait)
    path = [engineer.start, *(stop.place for stop in stops), engineer.end]
    return Route(
        engineer=engineer.key,
        leave=leave,
        back=back,
        stops=tuple(stops),
        driving_seconds=sum(seconds[a][b] for a, b in pairwise(path)),
        driving_metres=sum(metres[a][b] for a, b in pairwise(path)),
    )


def _stop(visit: _Visit, arrive: int, start: int, depart: int) -> Stop:
    if visit.warehouse is None or visit.kind is _Kind.CALL:
        call = visit.call
        return Stop(
            StopKind.CALL,
            call.key,
            visit.place,
            arrive,
            start,
            depart,
            late_by=call.late_by(start),
        )
    return Stop(
        StopKind.PICKUP,
        visit.warehouse.key,
        visit.place,
        arrive,
        start,
        depart,
        parts=carried(visit.warehouse, visit.call),
        for_call=visit.call.key,
    )
