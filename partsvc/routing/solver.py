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

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from partsvc.routing.model import BIG, Load, Model, Pool, Search, solve_model
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

DROP_PENALTY = {1: 10**13, 2: 10**10, 3: 10**7}
"""What leaving a call out costs, per priority, in seconds of driving."""
PREFERENCE_SECONDS = 1800
"""Driving worth saving before a call goes to someone other than its designated engineer."""
PICKUPS_PER_CALL = 2
"""Warehouses offered as pick-ups for one call: the nearest that hold what it needs."""


def solve(problem: Problem, *, time_limit_s: float = 10.0, seed: int = 0) -> Plan:
    """Plan the day. Calls that cannot be planned come back in `unassigned`, with why."""
    screening = screen(problem)
    layout = _Layout.build(problem, screening)
    routes: list[list[int]] = [[] for _ in problem.engineers]
    if layout.calls:
        # Guided local search: the iterated search that wins on Solomon found no first plan
        # at all on a city day with pick-ups (bench/day.py, docs/BENCHMARKS.md).
        search = Search(
            time_limit_s=time_limit_s,
            seed=seed,
            iterated=False,
            metaheuristic="GUIDED_LOCAL_SEARCH",
            operators=(),
            temperatures=None,
        )
        solution = solve_model(layout.model(), search)
        if solution is None:
            screening = screening.nothing_found()
        else:
            routes = solution.routes
    return layout.plan(routes, screening)


@dataclass(frozen=True)
class Screening:
    """Per call: the engineers who could serve it on an otherwise empty route, or why none."""

    able: dict[str, list[int]]
    reasons: dict[str, Reason]
    pickups: dict[str, list[int]]
    """Per call, the warehouses (by position) offered as pick-ups."""

    def nothing_found(self) -> Screening:
        """The search ended without any plan: say so for every call it was given."""
        reasons = dict(self.reasons)
        reasons.update({key: Reason.NO_PLAN for key in self.able})
        return Screening(self.able, reasons, self.pickups)


def screen(problem: Problem) -> Screening:
    able: dict[str, list[int]] = {}
    reasons: dict[str, Reason] = {}
    pickups: dict[str, list[int]] = {}
    for call in problem.calls:
        skilled = [
            i for i, engineer in enumerate(problem.engineers) if call.skills <= engineer.skills
        ]
        offered = _pickup_warehouses(problem, call)
        stocked = [
            i
            for i in skilled
            if _van_covers(problem.engineers[i], call, None)
            or any(_van_covers(problem.engineers[i], call, problem.warehouses[w]) for w in offered)
        ]
        timely = [i for i in stocked if _reaches(problem, problem.engineers[i], call, offered)]
        done = [i for i in timely if _returns(problem, problem.engineers[i], call, offered)]
        if done:
            able[call.key] = done
            pickups[call.key] = offered
        else:
            reasons[call.key] = (
                Reason.NO_SKILL
                if not skilled
                else Reason.NO_PARTS
                if not stocked
                else Reason.TOO_LATE
                if not timely
                else Reason.OUT_OF_SHIFT
            )
    return Screening(able, reasons, pickups)


def carried(warehouse: Warehouse, call: Call) -> dict[str, int]:
    """What a pick-up for `call` takes from `warehouse`: what it needs, as far as in stock."""
    taken = {sku: min(qty, warehouse.stock.get(sku, 0)) for sku, qty in call.parts.items()}
    return {sku: qty for sku, qty in taken.items() if qty > 0}


def _pickup_warehouses(problem: Problem, call: Call) -> list[int]:
    if not call.parts:
        return []
    useful = [w for w, warehouse in enumerate(problem.warehouses) if carried(warehouse, call)]
    seconds = problem.travel.seconds
    useful.sort(key=lambda w: seconds[problem.warehouses[w].place][call.place])
    return useful[:PICKUPS_PER_CALL]


def _van_covers(engineer: Engineer, call: Call, warehouse: Warehouse | None) -> bool:
    extra = carried(warehouse, call) if warehouse else {}
    return all(
        engineer.van.get(sku, 0) + extra.get(sku, 0) >= qty for sku, qty in call.parts.items()
    )


def _ways(problem: Problem, engineer: Engineer, call: Call, offered: list[int]) -> list[int]:
    """When the engineer could start the call: straight there, or by way of a pick-up."""
    seconds = problem.travel.seconds
    starts = []
    if _van_covers(engineer, call, None):
        starts.append(engineer.leaves_at + seconds[engineer.start][call.place])
    for w in offered:
        warehouse = problem.warehouses[w]
        if _van_covers(engineer, call, warehouse):
            starts.append(
                engineer.leaves_at
                + seconds[engineer.start][warehouse.place]
                + warehouse.service
                + seconds[warehouse.place][call.place]
            )
    return [max(arrive, call.earliest) for arrive in starts]


def _reaches(problem: Problem, engineer: Engineer, call: Call, offered: list[int]) -> bool:
    return any(start <= call.latest for start in _ways(problem, engineer, call, offered))


def _returns(problem: Problem, engineer: Engineer, call: Call, offered: list[int]) -> bool:
    home = problem.travel.seconds[call.place][engineer.end]
    return any(
        start <= call.latest and start + call.service + home <= engineer.shift_end
        for start in _ways(problem, engineer, call, offered)
    )


@dataclass(frozen=True)
class _Visit:
    """A node of the model that is not a start or an end: a call, or a pick-up for one."""

    call: Call
    warehouse: Warehouse | None = None

    @property
    def place(self) -> int:
        return self.warehouse.place if self.warehouse else self.call.place

    @property
    def service(self) -> int:
        return self.warehouse.service if self.warehouse else self.call.service


@dataclass(frozen=True)
class _Layout:
    """Nodes: 2v is engineer v's start, 2v+1 their end, then the visits."""

    problem: Problem
    visits: tuple[_Visit, ...]
    allowed: dict[int, list[int]]

    @property
    def calls(self) -> list[_Visit]:
        return [visit for visit in self.visits if visit.warehouse is None]

    @classmethod
    def build(cls, problem: Problem, screening: Screening) -> _Layout:
        visits: list[_Visit] = []
        allowed: dict[int, list[int]] = {}
        first = 2 * len(problem.engineers)
        for call in problem.calls:
            if call.key not in screening.able:
                continue
            engineers = screening.able[call.key]
            allowed[first + len(visits)] = engineers
            visits.append(_Visit(call))
            for w in screening.pickups[call.key]:
                allowed[first + len(visits)] = engineers
                visits.append(_Visit(call, problem.warehouses[w]))
        return cls(problem, tuple(visits), allowed)

    def places(self) -> list[int]:
        depots = [p for e in self.problem.engineers for p in (e.start, e.end)]
        return depots + [visit.place for visit in self.visits]

    def model(self) -> Model:
        problem, first = self.problem, 2 * len(self.problem.engineers)
        places = self.places()
        seconds = problem.travel.seconds
        service = [0] * first + [visit.service for visit in self.visits]
        # A pick-up costs its time at the counter on top of the driving, so none is made idly.
        cost = [
            [
                service[i] * (i >= first and self.visits[i - first].warehouse is not None)
                + seconds[a][b]
                for b in places
            ]
            for i, a in enumerate(places)
        ]
        time = [
            [0 if i == j else service[i] + seconds[a][b] for j, b in enumerate(places)]
            for i, a in enumerate(places)
        ]
        windows = [(0, BIG)] * first + [
            (v.call.earliest, v.call.latest) if v.warehouse is None else (0, BIG)
            for v in self.visits
        ]
        penalties = {
            first + n: (
                DROP_PENALTY.get(v.call.priority, DROP_PENALTY[3]) if not v.warehouse else 0
            )
            for n, v in enumerate(self.visits)
        }
        return Model(
            cost=cost,
            time=time,
            windows=windows,
            starts=[2 * v for v in range(len(problem.engineers))],
            ends=[2 * v + 1 for v in range(len(problem.engineers))],
            vehicle_spans=[(e.leaves_at, e.shift_end) for e in problem.engineers],
            penalties=penalties,
            allowed=self.allowed,
            loads=self._part_loads(first),
            pools=self._warehouse_pools(first),
            mismatch=self._mismatch(first),
            mismatch_cost=PREFERENCE_SECONDS,
        )

    def _part_loads(self, first: int) -> list[Load]:
        engineers = self.problem.engineers
        skus = sorted({sku for visit in self.calls for sku in visit.call.parts})
        loads = []
        for sku in skus:
            delta = [0] * first + [
                carried(v.warehouse, v.call).get(sku, 0)
                if v.warehouse
                else -v.call.parts.get(sku, 0)
                for v in self.visits
            ]
            supply = sum(d for d in delta if d > 0)
            start = [e.van.get(sku, 0) for e in engineers]
            loads.append(Load(f"part {sku}", delta, start, [s + supply for s in start]))
        return loads

    def _warehouse_pools(self, first: int) -> list[Pool]:
        pools = []
        for warehouse in self.problem.warehouses:
            for sku, free in warehouse.stock.items():
                amount = {
                    first + n: carried(warehouse, v.call).get(sku, 0)
                    for n, v in enumerate(self.visits)
                    if v.warehouse is warehouse
                }
                amount = {node: qty for node, qty in amount.items() if qty}
                if sum(amount.values()) > free:
                    pools.append(Pool(amount, free))
        return pools

    def _mismatch(self, first: int) -> list[list[int]]:
        keys = [e.key for e in self.problem.engineers]
        if not any(v.call.preferred in keys for v in self.calls):
            return []
        return [
            [0] * first
            + [
                int(v.warehouse is None and v.call.preferred in keys and v.call.preferred != key)
                for v in self.visits
            ]
            for key in keys
        ]

    def plan(self, routes: Sequence[Sequence[int]], screening: Screening) -> Plan:
        first = 2 * len(self.problem.engineers)
        served: set[str] = set()
        planned = []
        for engineer, nodes in zip(self.problem.engineers, routes, strict=True):
            visits = [self.visits[node - first] for node in nodes]
            served.update(v.call.key for v in visits if v.warehouse is None)
            planned.append(schedule(self.problem, engineer, visits))
        unassigned = [
            Unassigned(call.key, screening.reasons.get(call.key, Reason.NO_ROOM))
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
        start = max(arrive, visit.call.earliest if visit.warehouse is None else arrive)
        clock = start + visit.service
        stops.append(_stop(visit, arrive, start, clock))
        here = visit.place
    back = clock + seconds[here][engineer.end]
    leave = engineer.leaves_at
    if stops:
        wait = stops[0].start - stops[0].arrive
        leave += wait
        first = stops[0]
        stops[0] = Stop(
            first.kind,
            first.key,
            first.place,
            first.arrive + wait,
            first.start,
            first.depart,
            first.parts,
            first.for_call,
        )
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
    if visit.warehouse is None:
        return Stop(StopKind.CALL, visit.call.key, visit.place, arrive, start, depart)
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
