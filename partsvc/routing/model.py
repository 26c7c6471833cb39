"""The routing model in index form, and the OR-Tools search that solves it.

Both the day planner (`solver.solve`) and the Solomon benchmark (`solomon.solve_vrptw`)
reduce their problem to a `Model`: nodes with time windows, node-by-node cost and time
matrices (service folded into the time matrix), vehicles with their own start, end and
span, optional visits with drop penalties, and load dimensions. One search routine runs
both, so the benchmark measures the search the service uses.

Imports only the standard library and OR-Tools.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from typing import Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_ils_pb2
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
    pairs: Sequence[tuple[Sequence[int], int]] = ()
    """(pick-up alternatives, delivery): exactly one alternative on the delivery's route,
    before it, when the delivery is made; the delivery's drop penalty covers the pair."""
    mismatch: Sequence[Sequence[int]] = ()
    """Per vehicle, 1 at each node that prefers another vehicle (a designated engineer)."""
    mismatch_cost: int = 0
    soft_latest: dict[int, tuple[int, int]] = field(default_factory=dict)
    """Per node, (time, cost per unit of time) for arriving past that time within its
    window: a deadline that may be missed at a price (an urgent call served late)."""

    @property
    def size(self) -> int:
        return len(self.time)

    @property
    def visits(self) -> list[int]:
        depots = set(self.starts) | set(self.ends)
        return [node for node in range(self.size) if node not in depots]


HEAVY_OPERATORS = (
    "use_lin_kernighan",
    "use_relocate_expensive_chain",
    "use_global_cheapest_insertion_path_lns",
    "use_local_cheapest_insertion_path_lns",
    "use_relocate_path_global_cheapest_insertion_insert_unperformed",
    "use_global_cheapest_insertion_visit_types_lns",
    "use_local_cheapest_insertion_visit_types_lns",
    "use_exchange_subtrip",
    "use_relocate_subtrip",
)
"""Operators switched off by default: slow per move, or for visit types and subtrips the
models here do not have. The ruin-and-recreate step of the iterated local search makes the
large moves they would make (measured on Solomon: see docs/BENCHMARKS.md)."""

PAIR_OPERATORS = ("use_light_relocate_pair", "use_relocate_pair", "use_exchange_pair")
"""Operators that move pick-up and delivery pairs: off when the model has no pairs."""

ACTIVITY_OPERATORS = (
    "use_make_active",
    "use_make_inactive",
    "use_make_chain_inactive",
    "use_swap_active",
    "use_shortest_path_swap_active",
    "use_swap_active_chain",
    "use_shortest_path_two_opt",
    "use_extended_swap_active",
)
"""Operators that only add or drop optional visits: off when every visit is compulsory
(a third more descents per second on Solomon's 100 customers)."""


@dataclass(frozen=True)
class Search:
    """How long and how to search.

    `seed` re-seeds the CP solver. OR-Tools' iterated local search draws from a generator
    of its own (the seed changed nothing on Solomon) and cools with the clock, so two runs
    of the same model may end a little apart.

    The default is OR-Tools' iterated local search: ruin a few related visits (SISR: slack
    induction by string removals), reinsert them by local cheapest insertion, descend with
    the local search operators, accept the result by simulated annealing, cooled linearly.
    Guided local search (`iterated=False, metaheuristic="GUIDED_LOCAL_SEARCH"`) escapes
    local optima far more slowly on time windows (about 500 accepted moves in 10 s on 100 visits).
    """

    time_limit_s: float = 10.0
    seed: int = 0
    metaheuristic: str = "GREEDY_DESCENT"
    """The descent after each perturbation; with `iterated=False`, the whole search."""
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    lambda_coefficient: float = 0.1
    iterated: bool = True
    """Iterated local search: ruin (SISR) and recreate, simulated-annealing acceptance."""
    ruins: tuple[tuple[int, int], ...] = ((20, 15),)
    """SISR ruins as (mean number of visits ruined, longest string); with several, each
    iteration draws one at random. Adding (40, 30) helps Solomon at 5 s (long routes leave
    the first descent's basin) but costs 1.5 points at 200 customers (docs/BENCHMARKS.md)."""
    bypass: float = 0.01
    temperatures: tuple[float, float] | None = (0.05, 0.0005)
    """Start and final temperature as shares of the mean arc cost between visits; None lets
    OR-Tools pick them (0.1 and 0.001 of a sampled mean arc cost)."""
    cooling: str = "LINEAR"
    """How the temperature falls with the search's progress (time used): LINEAR or
    EXPONENTIAL. Exponential cooling spends most of the time near the final temperature,
    where the search is greedy and stalls within a few seconds on Solomon's RC1 set."""
    neighbors_ratio: float = 1.0
    """Share of the nodes each operator tries as neighbours: small means granular, fast moves.
    Leave it at 1: below 1, OR-Tools (9.12 to 9.15) stalls at its first solution, making
    millions of moves and keeping none, even on a plain routing of points with no time
    windows; `bench/granular.py` checks it again after an upgrade (docs/BENCHMARKS.md)."""
    min_neighbors: int = 1
    extra: tuple[tuple[str, object], ...] = ()
    """Further search parameters by name, dotted for nested ones, for tuning; set last."""
    operators: tuple[tuple[str, bool], ...] = tuple((name, False) for name in HEAVY_OPERATORS)
    """Local search operators to switch on or off, by their parameter name (`use_...`)."""
    check_period: int = 100
    """Every how many accepted moves the constraint solver checks the plan by propagation,
    on a model without pools (whose other constraints the routing filters all check): 1
    checks each, as OR-Tools does by default; 100 makes the descents faster (Solomon at 5 s:
    as good alone, better with the core shared; docs/DECISIONS.md)."""
    log: bool = False
    partners: tuple[Search, ...] = ()
    """Further searches run at the same time, each in a child process of its own (OR-Tools'
    routing search holds Python's GIL, so a thread would not use another core); the cheapest
    plan of all wins. Each partner gets what is left of this search's time limit; their own
    `time_limit_s` and `partners` are ignored. Differently tuned partners end in different
    local optima, which is what makes the best of them better than any one."""

    def __post_init__(self) -> None:
        if self.check_period < 1:
            raise ValueError(f"check_period is at least 1, not {self.check_period}")
        if not self.ruins or any(visits < 1 or longest < 1 for visits, longest in self.ruins):
            raise ValueError(
                f"ruins are (visits, longest string) pairs of at least 1: {self.ruins}"
            )
        if self.cooling not in COOLING:
            raise ValueError(f"cooling is one of {', '.join(COOLING)}, not {self.cooling!r}")


COOLING = ("LINEAR", "EXPONENTIAL")
"""The simulated-annealing schedules of OR-Tools' iterated local search."""


@dataclass(frozen=True)
class Solution:
    routes: list[list[int]]
    """Per vehicle, the visited nodes in order (starts and ends left out)."""
    objective: int
    seconds: float


def _solve_model(
    model: Model, search: Search, initial: Sequence[Sequence[int]] | None = None
) -> Solution | None:
    """Build the OR-Tools model and search it; None when no feasible plan was found.

    `initial` routes (nodes per vehicle), when given, are kept in the first solution, which
    adds the other visits to them; the search may then change anything.
    """
    began = time.perf_counter()
    vehicles = len(model.starts)
    manager = pywrapcp.RoutingIndexManager(
        model.size, vehicles, list(model.starts), list(model.ends)
    )
    settings = pywrapcp.DefaultRoutingModelParameters()
    if not model.pools:
        # Only a pool's sum is beyond the routing filters; without one, a move they pass
        # is feasible, and checking each by propagation only slows the descent.
        settings.solver_parameters.check_solution_period = search.check_period
    routing = pywrapcp.RoutingModel(manager, settings)
    routing.solver().ReSeed(search.seed)

    cost = routing.RegisterTransitMatrix([list(row) for row in model.cost])
    routing.SetArcCostEvaluatorOfAllVehicles(cost)
    transit = routing.RegisterTransitMatrix([list(row) for row in model.time])
    routing.AddDimension(transit, BIG, BIG, False, "time")
    clock = routing.GetDimensionOrDie("time")
    for node in model.visits:
        earliest, latest = model.windows[node]
        clock.CumulVar(manager.NodeToIndex(node)).SetRange(earliest, latest)
    for node, (soft, per_unit) in model.soft_latest.items():
        clock.SetCumulVarSoftUpperBound(manager.NodeToIndex(node), soft, per_unit)
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

    deliveries = {delivery for _, delivery in model.pairs}
    for node, penalty in model.penalties.items():
        if node not in deliveries:
            routing.AddDisjunction([manager.NodeToIndex(node)], penalty)
    for sources, delivery in model.pairs:
        pickup = routing.AddDisjunction([manager.NodeToIndex(n) for n in sources], 0, 1)
        served = routing.AddDisjunction(
            [manager.NodeToIndex(delivery)], model.penalties[delivery], 1
        )
        routing.AddPickupAndDeliverySets(pickup, served)
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

    parameters = _parameters(
        search,
        _mean_arc_cost(model),
        optional=bool(model.penalties),
        paired=bool(model.pairs),
        spent=time.perf_counter() - began,
    )
    if initial is not None:
        # The first solution extends these routes (locks bind the first solution only).
        routing.CloseModelWithParameters(parameters)
        routing.ApplyLocksToAllVehicles(
            [[manager.NodeToIndex(node) for node in route] for route in initial], False
        )
    if search.iterated:
        assignment = routing.SolveWithIteratedLocalSearch(parameters)
    else:
        assignment = routing.SolveWithParameters(parameters)
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


def _mean_arc_cost(model: Model) -> float:
    """Mean cost of an arc between two visits, over at most about 10,000 arcs."""
    visits = model.visits
    step = max(1, len(visits) // 100)
    chosen = visits[::step]
    costs = [model.cost[a][b] for a in chosen for b in chosen if a != b]
    return sum(costs) / len(costs) if costs else 1.0


def solve_model(
    model: Model, search: Search, initial: Sequence[Sequence[int]] | None = None
) -> Solution | None:
    """Build the OR-Tools model and search it; None when no feasible plan was found.

    `initial` routes (nodes per vehicle), when given, are kept in the first solution, which
    adds the other visits to them; the search may then change anything. A model that
    OR-Tools finds contradictory (it raises "CP Solver fail") has no plan either.
    With `search.partners`, those searches run beside this one and the cheapest plan wins.
    """
    if not search.partners:
        return _solve_or_none(model, search, initial)
    began = time.perf_counter()
    # Forking starts a partner in milliseconds; a spawned one re-imports the service first
    # (half a second here), and the parent waits that long to hand it the model.
    context = (
        multiprocessing.get_context("fork")
        if "fork" in multiprocessing.get_all_start_methods()
        else multiprocessing.get_context("spawn")
    )
    children = []
    for partner in search.partners:
        receiving, sending = context.Pipe(duplex=False)
        alone = replace(partner, time_limit_s=search.time_limit_s, partners=())
        child = context.Process(
            target=_partner_search, args=(sending, model, alone, initial, began), daemon=True
        )
        child.start()
        sending.close()
        children.append((child, receiving))
    try:
        left = search.time_limit_s - (time.perf_counter() - began)
        found = [_solve_or_none(model, replace(search, partners=(), time_limit_s=left), initial)]
        wait_s = PARTNER_GRACE_S + 0.05 * search.time_limit_s
        found += [_answer(receiving, wait_s) for _, receiving in children]
    finally:
        # Answers are in (or never will be): no need to wait for the interpreters to close.
        for child, _ in children:
            child.kill()
            child.join()
    best = cheapest(found)
    return None if best is None else replace(best, seconds=time.perf_counter() - began)


def cheapest(found: Iterable[Solution | None]) -> Solution | None:
    """The plan of lowest objective among those found; None when no search found one."""
    return min(
        (solution for solution in found if solution is not None),
        key=lambda solution: solution.objective,
        default=None,
    )


PARTNER_GRACE_S = 2.0
"""How long past this search's end a partner's plan is waited for (it should be there)."""


def _answer(receiving: Connection, wait_s: float) -> Solution | None:
    """A partner's plan; a partner that died (killed, out of memory) has nothing to offer."""
    try:
        answer: Solution | None = receiving.recv() if receiving.poll(wait_s) else None
    except EOFError:
        return None
    return answer


def _partner_search(
    sending: Connection,
    model: Model,
    search: Search,
    initial: Sequence[Sequence[int]] | None,
    began: float,
) -> None:
    """A partner search in its child process: the time its start-up took comes off its limit."""
    # perf_counter is system-wide on Linux, so the parent's start time is comparable here.
    left = search.time_limit_s - (time.perf_counter() - began)
    sending.send(_solve_or_none(model, replace(search, time_limit_s=max(left, 0.1)), initial))
    sending.close()


def _solve_or_none(
    model: Model, search: Search, initial: Sequence[Sequence[int]] | None
) -> Solution | None:
    try:
        return _solve_model(model, search, initial)
    except Exception as failure:
        if "CP Solver fail" not in str(failure):
            raise
        return None


def _parameters(
    search: Search, mean_arc_cost: float, optional: bool, paired: bool, spent: float
) -> pywrapcp.RoutingSearchParameters:
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
    switches = dict(search.operators)
    if not paired:
        switches = {**dict.fromkeys(PAIR_OPERATORS, False), **switches}
    if not optional:
        switches = {**dict.fromkeys(ACTIVITY_OPERATORS, False), **switches}
    for operator, on in switches.items():
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
        for visits, longest in search.ruins:
            sisr = ruin.ruin_strategies.add().sisr
            sisr.avg_num_removed_visits = visits
            sisr.max_removed_sequence_size = longest
            sisr.bypass_factor = search.bypass
        if len(search.ruins) > 1:
            ruin.ruin_composition_strategy = (
                routing_ils_pb2.RuinCompositionStrategy.RUN_ONE_RANDOMLY
            )
        ruin.recreate_strategy.heuristic = (
            routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION
        )
        annealing = ils.reference_solution_acceptance_strategy.simulated_annealing
        if search.temperatures is None:
            annealing.automatic_temperatures = True
        else:
            start, final = search.temperatures
            annealing.initial_temperature = start * mean_arc_cost
            annealing.final_temperature = final * mean_arc_cost
        annealing.cooling_schedule_strategy = getattr(
            routing_ils_pb2.CoolingScheduleStrategy, search.cooling
        )
    set_extra(parameters, search.extra)
    parameters.time_limit.FromMilliseconds(max(1, int((search.time_limit_s - spent) * 1000)))
    parameters.log_search = search.log
    return parameters


def set_extra(
    parameters: pywrapcp.RoutingSearchParameters, extra: Sequence[tuple[str, object]]
) -> None:
    """Set search parameters by dotted name (`Search.extra`); a list fills a repeated field."""
    for name, value in extra:
        *path, last = name.split(".")
        target: Any = parameters
        for part in path:
            target = getattr(target, part)
        if isinstance(value, list):
            del getattr(target, last)[:]
            getattr(target, last).extend(value)
        else:
            setattr(target, last, value)
