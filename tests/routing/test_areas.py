"""Big days split into areas, searched side by side, and the planner's processes and time."""

from __future__ import annotations

import time

import pytest

from partsvc.platform.config import Settings
from partsvc.routing import areas, settling, solver
from partsvc.routing.check import check_plan
from partsvc.routing.model import Model, Search, Solution
from partsvc.routing.problem import Plan, Problem, Reason, StopKind, Unassigned, Warehouse
from partsvc.routing.screening import screen
from tests.routing.test_planner import call, calls_of, engineer, grid, left_out

# Two towns 100 km apart (200 minutes' drive): places 0–3 in the west, 4–7 in the east.
TWO_TOWNS = grid(
    (0, 0), (2, 0), (0, 2), (2, 2), (100, 0), (102, 0), (100, 2), (102, 2), (50, 0)
)  # fmt: skip
WEST, EAST = ("w1", "w2"), ("e1", "e2")


def two_towns(*calls: object, warehouses: tuple[Warehouse, ...] = ()) -> Problem:
    engineers = (engineer("w1", 0), engineer("e1", 4), engineer("w2", 1), engineer("e2", 5))
    return Problem(engineers, tuple(calls), warehouses, TWO_TOWNS)  # type: ignore[arg-type]


def served_by(plan: Plan) -> dict[str, str]:
    return {
        stop.key: route.engineer
        for route in plan.routes
        for stop in route.stops
        if stop.kind is StopKind.CALL
    }


@pytest.fixture
def small_areas(monkeypatch: pytest.MonkeyPatch) -> None:
    """Areas of two calls, so that a day of a few calls is split."""
    monkeypatch.setattr(areas, "AREA_CALLS", 2)


def test_engineers_are_grouped_by_where_they_live() -> None:
    groups = areas._group_engineers(two_towns(), 2)
    assert sorted(groups) == [[0, 2], [1, 3]]


@pytest.mark.usefixtures("small_areas")
def test_each_area_plans_its_own_calls_and_the_checker_agrees() -> None:
    problem = two_towns(call("a", 2), call("b", 3), call("c", 6), call("d", 7))
    split = areas.split(problem, screen(problem), {k: [] for k in "abcd"}, 2)
    assert sorted(sorted(c.key for c in a.problem.calls) for a in split) == [["a", "b"], ["c", "d"]]
    plan = solver.solve(problem, time_limit_s=2, processes=2)
    assert check_plan(problem, plan) == []
    who = served_by(plan)
    assert {who["a"], who["b"]} <= set(WEST)
    assert {who["c"], who["d"]} <= set(EAST)


@pytest.mark.usefixtures("small_areas")
def test_a_p1_only_a_far_engineer_can_serve_goes_to_their_area_and_is_served() -> None:
    skilled = engineer("e1", 4, skills=frozenset({"survey"}))
    problem = Problem(
        (engineer("w1", 0), skilled, engineer("w2", 1), engineer("e2", 5)),
        (
            call("p1", 2, priority=1, skills=frozenset({"survey"})),
            call("b", 3),
            call("c", 6),
            call("d", 7),
        ),
        (),
        TWO_TOWNS,
    )
    plan = solver.solve(problem, time_limit_s=2, processes=1)
    assert check_plan(problem, plan) == []
    assert "p1" in calls_of(plan, "e1")


@pytest.mark.usefixtures("small_areas")
def test_areas_never_take_more_of_a_warehouses_stock_together_than_it_holds() -> None:
    # One unit of P at the warehouse half-way; a west and an east call both need it.
    depot = Warehouse("mid", 8, {"P": 1})
    problem = two_towns(
        call("west", 2, parts={"P": 1}, priority=2),
        call("east", 6, parts={"P": 1}),
        call("b", 3),
        call("d", 7),
        warehouses=(depot,),
    )
    plan = solver.solve(problem, time_limit_s=2, processes=2)
    assert check_plan(problem, plan) == []
    assert "west" in served_by(plan)
    assert left_out(plan)["east"] is Reason.PARTS_TAKEN


@pytest.mark.usefixtures("small_areas")
def test_a_day_in_areas_ends_within_its_time_limit() -> None:
    problem = two_towns(*(call(f"c{n}", n % 8) for n in range(8)))
    began = time.perf_counter()
    plan = solver.solve(problem, time_limit_s=1.5, processes=2)
    assert time.perf_counter() - began < 1.5 + 0.3
    assert check_plan(problem, plan) == []


def test_two_processes_give_the_search_a_partner(monkeypatch: pytest.MonkeyPatch) -> None:
    given: list[Search] = []

    def recording(model: Model, search: Search, initial: object = None) -> Solution | None:
        given.append(search)
        return None

    monkeypatch.setattr(solver, "solve_model", recording)
    problem = two_towns(call("a", 2), call("b", 3))
    solver.solve(problem, time_limit_s=0.5, processes=2)
    solver.solve(problem, time_limit_s=0.5, processes=1)
    assert [len(search.partners) for search in given] == [1, 0]
    assert given[0].partners[0] == solver.DAY_PARTNER


def test_past_the_deadline_settling_still_places_p1_and_p2_but_no_more_p3() -> None:
    problem = two_towns(call("p1", 2, priority=1), call("p3", 3))
    empty = solver.solve(replace_calls(problem), time_limit_s=0.3)
    unsettled = Plan(
        empty.routes, (Unassigned("p1", Reason.NO_ROOM), Unassigned("p3", Reason.NO_ROOM))
    )
    able = screen(problem).able
    settled = settling.settle(problem, unsettled, able, deadline=time.perf_counter() - 1)
    assert check_plan(problem, settled) == []
    assert "p1" in served_by(settled)
    assert left_out(settled) == {"p3": Reason.NO_ROOM}
    assert "p3" in served_by(settling.settle(problem, unsettled, able))


def replace_calls(problem: Problem) -> Problem:
    return Problem(problem.engineers, (), problem.warehouses, problem.travel)


@pytest.mark.parametrize(
    ("given", "processes"),
    [({"PARTSVC_PLAN_PROCESSES": "8"}, 2), ({"PARTSVC_PLAN_PROCESSES": "1"}, 1)],
)
def test_a_worker_plans_with_at_most_two_processes(given: dict[str, str], processes: int) -> None:
    assert Settings.from_env(given).plan_processes == processes
