"""The routing model in index form, and the OR-Tools search that solves it.

Both the day planner (`solver.solve`) and the Solomon benchmark (`solomon.solve_vrptw`)
reduce their problem to a `Model`: nodes with time windows, node-by-node cost and time
matrices (service folded into the time matrix), vehicles with their own start, end and
span, optional visits with drop penalties, and load dimensions. One search routine runs
both, so the benchmark measures the search the service uses.

Imports only the standard library and OR-Tools.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util import optional_boolean_pb2

BIG = 1 << 40
"""An upper bound on any cumul; far below int64 overflow when summed."""


@dataclass(frozen=True)
class Load:
    """A quantity carried along each route: `delta[node]` is added on leaving the node.

    The running amount must stay within [0, capacity[v]]; it starts at `start[v]`.
    """

    name: str
    delta: Sequence[int]
    start: Sequence[int]
    capacity: Sequence[int]


@dataclass(frozen=True)
class Pool:
    """At most `limit` in all, where an active node takes `amount[node]` (warehouse stock)."""

    amount: dict[int, int]
    limit: int


@dataclass(frozen=True)
class Model:
    cost: Sequence[Sequence[int]]
    time: Sequence[Sequence[int]]
    windows: Sequence[tuple[int, int]]
    starts: Sequence[int]
    ends: Sequence[int]
    vehicle_spans: Sequence[tuple[int, int]]
    """(earliest departure, latest return) per vehicle."""
    penalties: dict[int, int]
    """Drop penalty of each visit that may be left out; visits not named are compulsory."""
    allowed: dict[int, list[int]] = field(default_factory=dict)
    loads: Sequence[Load] = ()
    pools: Sequence[Pool] = ()
    mismatch: Sequence[Sequence[int]] = ()
    """Per vehicle, 1 at each node that prefers another vehicle (a designated engineer)."""
    mismatch_cost: int = 0

    @property
    def size(self) -> int:
        return len(self.time)

    @property
    def visits(self) -> list[int]:
        depots = set(self.starts) | set(self.ends)
        return [node for node in range(self.size) if node not in depots]


@dataclass(frozen=True)
class Search:
    """How long and how to search. `seed` makes runs repeatable for one time limit."""

    time_limit_s: float = 10.0
    seed: int = 0
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    lambda_coefficient: float = 0.1
    iterated: bool = False
    """Iterated local search: ruin (SISR) and recreate, simulated-annealing acceptance."""
    removed_visits: int = 10
    sequence_size: int = 10
    bypass: float = 0.01
    temperatures: tuple[float, float] | None = None
    """Start and final temperature, in cost units; None lets OR-Tools pick them."""
    neighbors_ratio: float = 1.0
    """Share of the nodes each operator tries as neighbours: small means granular, fast moves."""
    min_neighbors: int = 1
    extra: tuple[tuple[str, object], ...] = ()
    """Further search parameters by name, for tuning."""
    operators: tuple[tuple[str, bool], ...] = ()
    """Local search operators to switch on or off, by their parameter name (`use_...`)."""
    log: bool = False


@dataclass(frozen=True)
class Solution:
    routes: list[list[int]]
    """Per vehicle, the visited nodes in order (starts and ends left out)."""
    objective: int
    seconds: float


def solve_model(model: Model, search: Search) -> Solution | None:
    """Build the OR-Tools model and search it; None when no feasible plan was found."""
    began = time.perf_counter()
    vehicles = len(model.starts)
    manager = pywrapcp.RoutingIndexManager(
        model.size, vehicles, list(model.starts), list(model.ends)
    )
    routing = pywrapcp.RoutingModel(manager)
    routing.solver().ReSeed(search.seed)

    cost = routing.RegisterTransitMatrix([list(row) for row in model.cost])
    routing.SetArcCostEvaluatorOfAllVehicles(cost)
    transit = routing.RegisterTransitMatrix([list(row) for row in model.time])
    routing.AddDimension(transit, BIG, BIG, False, "time")
    clock = routing.GetDimensionOrDie("time")
    for node in model.visits:
        earliest, latest = model.windows[node]
        clock.CumulVar(manager.NodeToIndex(node)).SetRange(earliest, latest)
    for vehicle, (leave, back) in enumerate(model.vehicle_spans):
        clock.CumulVar(routing.Start(vehicle)).SetRange(leave, back)
        clock.CumulVar(routing.End(vehicle)).SetRange(leave, back)
        routing.AddVariableMinimizedByFinalizer(clock.CumulVar(routing.End(vehicle)))
        routing.AddVariableMaximizedByFinalizer(clock.CumulVar(routing.Start(vehicle)))

    for load in model.loads:
        delta = routing.RegisterUnaryTransitVector(list(load.delta))
        routing.AddDimensionWithVehicleCapacity(delta, 0, list(load.capacity), False, load.name)
        dimension = routing.GetDimensionOrDie(load.name)
        for vehicle, amount in enumerate(load.start):
            dimension.CumulVar(routing.Start(vehicle)).SetValue(amount)

    if model.mismatch:
        vectors = [routing.RegisterUnaryTransitVector(list(row)) for row in model.mismatch]
        routing.AddDimensionWithVehicleTransits(vectors, 0, model.size, True, "preference")
        routing.GetDimensionOrDie("preference").SetSpanCostCoefficientForAllVehicles(
            model.mismatch_cost
        )

    for node, penalty in model.penalties.items():
        routing.AddDisjunction([manager.NodeToIndex(node)], penalty)
    for node, vehicles_allowed in model.allowed.items():
        # -1 keeps the visit droppable; SetAllowedVehiclesForIndex's Span binding is broken.
        routing.VehicleVar(manager.NodeToIndex(node)).SetValues([-1, *vehicles_allowed])
    solver = routing.solver()
    for pool in model.pools:
        solver.Add(
            solver.Sum(
                [routing.ActiveVar(manager.NodeToIndex(n)) * a for n, a in pool.amount.items()]
            )
            <= pool.limit
        )

    parameters = _parameters(search, time.perf_counter() - began)
    assignment = (
        routing.SolveWithIteratedLocalSearch(parameters)
        if search.iterated
        else routing.SolveWithParameters(parameters)
    )
    if assignment is None:
        return None
    routes = []
    for vehicle in range(vehicles):
        index = routing.NextVar(routing.Start(vehicle))
        route = []
        position = assignment.Value(index)
        while not routing.IsEnd(position):
            route.append(manager.IndexToNode(position))
            position = assignment.Value(routing.NextVar(position))
        routes.append(route)
    return Solution(routes, assignment.ObjectiveValue(), time.perf_counter() - began)


def _parameters(search: Search, spent: float) -> pywrapcp.RoutingSearchParameters:
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, search.first_solution
    )
    parameters.local_search_metaheuristic = getattr(
        routing_enums_pb2.LocalSearchMetaheuristic, search.metaheuristic
    )
    parameters.guided_local_search_lambda_coefficient = search.lambda_coefficient
    parameters.ls_operator_neighbors_ratio = search.neighbors_ratio
    parameters.ls_operator_min_neighbors = search.min_neighbors
    for name, value in search.extra:
        setattr(parameters, name, value)
    for operator, on in search.operators:
        setattr(
            parameters.local_search_operators,
            operator,
            optional_boolean_pb2.BOOL_TRUE if on else optional_boolean_pb2.BOOL_FALSE,
        )
    if search.iterated:
        parameters.use_iterated_local_search = True
        ils = parameters.iterated_local_search_parameters
        ruin = ils.ruin_recreate_parameters
        del ruin.ruin_strategies[:]
        sisr = ruin.ruin_strategies.add().sisr
        sisr.avg_num_removed_visits = search.removed_visits
        sisr.max_removed_sequence_size = search.sequence_size
        sisr.bypass_factor = search.bypass
        ruin.recreate_strategy.heuristic = (
            routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION
        )
        annealing = ils.reference_solution_acceptance_strategy.simulated_annealing
        if search.temperatures is None:
            annealing.automatic_temperatures = True
        else:
            annealing.initial_temperature, annealing.final_temperature = search.temperatures
    parameters.time_limit.FromMilliseconds(max(1, int((search.time_limit_s - spent) * 1000)))
    parameters.log_search = search.log
    return parameters
