"""Partner searches: more searches of one model side by side, each in its own process.

The searches themselves are replaced by a stand-in whose plan cost is the search's seed, so
the tests know which plan must win; the partner processes are forked, so they run the
stand-in too.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

import pytest

from partsvc.routing import model as routing_model
from partsvc.routing.model import Model, Search, Solution, solve_model
from partsvc_bench.solomon import Customer, Instance, build_model

CRASH = 99
"""A seed on which the stand-in's process dies without answering."""
NOTHING = 98
"""A seed on which the stand-in finds no plan."""


def stand_in(
    model: Model, search: Search, initial: Sequence[Sequence[int]] | None
) -> Solution | None:
    if search.seed == CRASH:
        os._exit(1)
    if search.seed == NOTHING:
        return None
    # The route tells the test which time limit this search was given, in milliseconds.
    return Solution([[round(search.time_limit_s * 1000)]], objective=search.seed, seconds=0.0)


@pytest.fixture
def searches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routing_model, "_solve_model", stand_in)


MODEL = Model(
    cost=[[0]], time=[[0]], windows=[(0, 10)], starts=[0], ends=[0],
    vehicle_spans=[(0, 10)], penalties={},
)  # fmt: skip


@pytest.mark.usefixtures("searches")
def test_the_cheapest_plan_wins_whichever_process_found_it() -> None:
    search = Search(time_limit_s=2, seed=5, partners=(Search(seed=7), Search(seed=3)))
    solution = solve_model(MODEL, search)
    assert solution is not None
    assert solution.objective == 3


@pytest.mark.usefixtures("searches")
def test_the_own_plan_wins_when_it_is_the_cheapest() -> None:
    solution = solve_model(MODEL, Search(time_limit_s=2, seed=2, partners=(Search(seed=4),)))
    assert solution is not None
    assert solution.objective == 2


@pytest.mark.usefixtures("searches")
def test_partners_share_the_time_limit_of_the_search() -> None:
    partner = Search(time_limit_s=60, seed=1)
    solution = solve_model(MODEL, Search(time_limit_s=2, seed=5, partners=(partner,)))
    assert solution is not None
    given_ms = solution.routes[0][0]
    assert 1500 < given_ms <= 2000


@pytest.mark.usefixtures("searches")
def test_a_partner_that_dies_leaves_the_other_plans() -> None:
    began = time.perf_counter()
    search = Search(time_limit_s=2, seed=6, partners=(Search(seed=CRASH), Search(seed=4)))
    solution = solve_model(MODEL, search)
    assert solution is not None
    assert solution.objective == 4
    assert time.perf_counter() - began < 5


@pytest.mark.usefixtures("searches")
def test_no_plan_from_anyone_is_no_plan() -> None:
    search = Search(time_limit_s=1, seed=NOTHING, partners=(Search(seed=NOTHING),))
    assert solve_model(MODEL, search) is None


def test_a_real_search_with_a_partner_serves_everyone() -> None:
    # Two customers on either side of the depot, each filling a van: two routes of 20.
    depot = Customer(0, 0, 0, demand=0, ready=0, due=1000, service=0)
    east = Customer(1, 10, 0, demand=10, ready=0, due=100, service=10)
    west = Customer(2, -10, 0, demand=10, ready=0, due=100, service=10)
    instance = Instance("PAIR", vehicles=2, capacity=10, depot=depot, customers=(east, west))
    search = Search(time_limit_s=0.5, partners=(Search(temperatures=(0.2, 0.002)),))
    solution = solve_model(build_model(instance), search)
    assert solution is not None
    assert sorted(route for route in solution.routes if route) == [[1], [2]]
    assert solution.objective == 40_000
