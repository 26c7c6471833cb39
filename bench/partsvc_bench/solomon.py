"""Solomon VRPTW instances: read one, solve it with the planner's search, measure the result.

The benchmark's measure of the solver core: fleet and capacity from the file, every customer
served, cost = total distance. Times and distances are scaled to integers for OR-Tools; travel
times are rounded up, so a plan feasible in integers is feasible in double precision too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path

from partsvc.routing.model import Load, Model, Search, solve_model

SCALE = 1000
"""Integer units per unit of Solomon distance and time."""

SECOND_SEARCH = Search(temperatures=(0.2, 0.002), ruins=((30, 20),))
"""What a second core searches beside the default: the same iterated local search cooled
from four times warmer and ruining larger strings (about 30 visits, strings of up to 20),
so it settles in other local optima than the default (over the 56 instances, mean gap
0.60–0.62 → 0.51 %, worst 2.49 → 1.70 % against a partner cooled warmer only; a copy of
the default finds nearly the same plans; docs/BENCHMARKS.md)."""


def on_cores(search: Search, processes: int) -> Search:
    """The search with `SECOND_SEARCH` beside it when two processes may search.

    Searches given partners of their own keep them.
    """
    if processes < 2 or search.partners:
        return search
    return replace(search, partners=(replace(SECOND_SEARCH, seed=search.seed),))


@dataclass(frozen=True)
class Customer:
    number: int
    x: float
    y: float
    demand: int
    ready: float
    due: float
    service: float


@dataclass(frozen=True)
class Instance:
    name: str
    vehicles: int
    capacity: int
    depot: Customer
    customers: tuple[Customer, ...]

    def distance(self, a: Customer, b: Customer) -> float:
        return math.hypot(a.x - b.x, a.y - b.y)


def read_instance(path: Path) -> Instance:
    lines = [line.split() for line in path.read_text().splitlines()]
    rows = [row for row in lines if row]
    name = rows[0][0]
    fleet = next(i for i, row in enumerate(rows) if row[0] == "NUMBER")
    vehicles, capacity = int(rows[fleet + 1][0]), int(rows[fleet + 1][1])
    numbers = [row for row in rows if len(row) == 7 and row[0].isdigit()]
    places = [
        Customer(
            int(r[0]), float(r[1]), float(r[2]), int(r[3]), float(r[4]), float(r[5]), float(r[6])
        )
        for r in numbers
    ]
    return Instance(name, vehicles, capacity, places[0], tuple(places[1:]))


def build_model(instance: Instance) -> Model:
    """Node 0 is the depot, node i customer i; every customer compulsory."""
    places = (instance.depot, *instance.customers)
    cost = [[round(instance.distance(a, b) * SCALE) for b in places] for a in places]
    time = [
        [
            math.ceil(instance.distance(a, b) * SCALE) + round(a.service * SCALE)
            if a is not b
            else 0
            for b in places
        ]
        for a in places
    ]
    windows = [(round(p.ready * SCALE), round(p.due * SCALE)) for p in places]
    vehicles = instance.vehicles
    return Model(
        cost=cost,
        time=time,
        windows=windows,
        starts=[0] * vehicles,
        ends=[0] * vehicles,
        vehicle_spans=[windows[0]] * vehicles,
        penalties={},
        loads=[
            Load(
                "capacity",
                delta=[p.demand for p in places],
                start=[0] * vehicles,
                capacity=[instance.capacity] * vehicles,
            )
        ],
    )


@dataclass(frozen=True)
class VrptwResult:
    instance: str
    vehicles: int
    distance: float
    feasible: bool
    seconds: float
    routes: list[list[int]]
    problems: list[str]


def solve_vrptw(instance: Instance, search: Search) -> VrptwResult:
    solution = solve_model(build_model(instance), search)
    routes = [route for route in solution.routes if route] if solution else []
    problems = check_vrptw(instance, routes) if solution else ["no solution found"]
    return VrptwResult(
        instance=instance.name,
        vehicles=len(routes),
        distance=route_distance(instance, routes),
        feasible=not problems,
        seconds=solution.seconds if solution else search.time_limit_s,
        routes=routes,
        problems=problems,
    )


def route_distance(instance: Instance, routes: list[list[int]]) -> float:
    places = (instance.depot, *instance.customers)
    total = 0.0
    for route in routes:
        path = [0, *route, 0]
        total += sum(instance.distance(places[a], places[b]) for a, b in pairwise(path))
    return total


def check_vrptw(instance: Instance, routes: list[list[int]]) -> list[str]:
    """Every customer once, capacity, and time windows in double precision."""
    places = (instance.depot, *instance.customers)
    problems = []
    seen = sorted(n for route in routes for n in route)
    if seen != list(range(1, len(places))):
        problems.append("customers not each served exactly once")
    if len(routes) > instance.vehicles:
        problems.append(f"{len(routes)} routes for {instance.vehicles} vehicles")
    for number, route in enumerate(routes, start=1):
        if sum(places[n].demand for n in route) > instance.capacity:
            problems.append(f"route {number} over capacity")
        clock, here = places[0].ready, places[0]
        for n in [*route, 0]:
            there = places[n]
            clock = max(clock + here.service + instance.distance(here, there), there.ready)
            if clock > there.due + 1e-9:
                problems.append(f"route {number} reaches {n} at {clock:.4f} after {there.due}")
            here = there
    return problems
