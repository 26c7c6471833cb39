"""Does OR-Tools' local search still stall with granular neighbourhoods?

Granular neighbourhoods (`ls_operator_neighbors_ratio` below 1: each operator tries only a
node's nearest neighbours) are what make the fast VRP searches fast; OR-Tools' iterated
search here descends over all neighbours, a few dozen descents a second on Solomon. In the
PyPI wheels of OR-Tools 9.12, 9.14 and 9.15 (tried 2026-12-07) they stall: below a share
of 1 the operators make millions of candidate moves, the objective filter turns every one
away, and the descent never reaches a local optimum (9.10 ends it at once, no move kept).
This reproduces it on the plainest model there is (100 random points, 5 vehicles,
distance only, no dimension, greedy descent from the parallel cheapest insertion), so the
check takes seconds after each OR-Tools upgrade:

    .venv/bin/python bench/granular.py              # relocate alone, and all operators

Each line: the neighbour share, the operators, how many improved plans the descent kept,
the final length, and whether the descent ended by itself (a local optimum) or was
stopped at the limit. Exits 1 when a share below 1 keeps no plan while the full share
improves it: the defect is there and `Search.neighbors_ratio` must stay at 1.
"""

from __future__ import annotations

import math
import random
import sys
import time

from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util import optional_boolean_pb2

POINTS = 100
VEHICLES = 5
LIMIT_S = 2.0


class PlansKept(pywrapcp.SearchMonitor):
    """Counts the plans the search accepts."""

    def __init__(self, solver: pywrapcp.Solver) -> None:
        super().__init__(solver)
        self.kept = 0

    def AcceptSolution(self) -> bool:
        self.kept += 1
        return True


def descend(share: float, only: str | None) -> tuple[int, float, bool]:
    """(plans kept after the first, final length, ended by itself) for one descent."""
    places = random.Random(1)
    points = [(places.random() * 100, places.random() * 100) for _ in range(POINTS + 1)]
    distance = [[round(math.dist(a, b) * 1000) for b in points] for a in points]
    manager = pywrapcp.RoutingIndexManager(len(points), VEHICLES, 0)
    routing = pywrapcp.RoutingModel(manager)
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(distance))
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    parameters.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    )
    if only is not None:
        operators = parameters.local_search_operators
        for operator in operators.DESCRIPTOR.fields:
            on = operator.name == only
            setattr(
                operators,
                operator.name,
                optional_boolean_pb2.BOOL_TRUE if on else optional_boolean_pb2.BOOL_FALSE,
            )
    parameters.ls_operator_neighbors_ratio = share
    parameters.ls_operator_min_neighbors = 10
    parameters.time_limit.FromMilliseconds(int(LIMIT_S * 1000))
    kept = PlansKept(routing.solver())
    routing.AddSearchMonitor(kept)
    began = time.perf_counter()
    plan = routing.SolveWithParameters(parameters)
    seconds = time.perf_counter() - began
    return kept.kept - 1, plan.ObjectiveValue() / 1000, seconds < LIMIT_S * 0.9


def main() -> int:
    from ortools import __version__

    print(
        f"OR-Tools {__version__}: {POINTS} points, {VEHICLES} vehicles, greedy descent, "
        f"{LIMIT_S:.0f} s limit"
    )
    stalled = False
    for only in ("use_relocate", None):
        kept_full = None
        for share in (1.0, 0.5):
            kept, length, ended = descend(share, only)
            print(
                f"  share {share:.1f}, {only or 'all operators':<14} plans kept {kept:>4}, "
                f"length {length:8.1f}, {'local optimum' if ended else 'stopped at the limit'}"
            )
            if share == 1.0:
                kept_full = kept
            elif kept == 0 and kept_full:
                stalled = True
    if stalled:
        print("granular neighbourhoods stall: keep Search.neighbors_ratio at 1")
        return 1
    print("granular neighbourhoods descend: worth trying Search.neighbors_ratio below 1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
