"""`partsvc bench vrptw`: one Solomon-format file in, one JSON object out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from ortools.constraint_solver.routing_ils_pb2 import RuinCompositionStrategy

from partsvc.cli import main
from partsvc.routing.model import Search, _parameters

# Depot and three customers; the third opens late, so one vehicle serves 1, 2, then 3.
TINY = """TINY

VEHICLE
NUMBER     CAPACITY
  2         50

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      0          0          0          0        1000          0
    1      10         0         10          0         100         10
    2      10        10         10          0         200         10
    3      0         10         10        150         300         10
"""


def run(tmp_path: Path, *extra: str) -> tuple[int, str]:
    path = tmp_path / "tiny.txt"
    path.write_text(TINY)
    args = ["bench", "vrptw", str(path), "--time-limit", "0.5", *extra]
    done = CliRunner().invoke(main, args)
    return done.exit_code, done.output


def test_it_prints_one_checked_json_object_with_every_customer_served(tmp_path: Path) -> None:
    code, output = run(tmp_path)
    assert code == 0, output
    answer = json.loads(output)
    assert answer["instance"] == "TINY"
    assert answer["feasible"] is True
    assert answer["problems"] == []
    assert sorted(c for route in answer["routes"] for c in route) == [1, 2, 3]
    assert answer["routes"] == [[1, 2, 3]]
    assert answer["distance"] == 40.0


def test_search_settings_are_taken_from_json(tmp_path: Path) -> None:
    code, output = run(
        tmp_path, "--search", '{"cooling": "EXPONENTIAL", "temperatures": [0.1, 0.001]}'
    )
    assert code == 0, output
    assert json.loads(output)["feasible"] is True


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        pytest.param('{"colling": "LINEAR"}', ["colling"], id="unknown setting"),
        pytest.param("cooling=LINEAR", ["not JSON"], id="not JSON"),
        pytest.param('{"cooling": "FAST"}', ["'FAST'", "LINEAR"], id="unknown cooling"),
        pytest.param(
            '{"partners": [{"colling": "LINEAR"}]}',
            ["a partner takes", "colling"],
            id="unknown setting of a partner",
        ),
        pytest.param('{"partners": {"seed": 1}}', ["partners is a list"], id="partners no list"),
        pytest.param('{"ruins": [[20, 0]]}', ["ruins are", "at least 1"], id="empty ruin"),
        pytest.param('{"ruins": []}', ["ruins are"], id="no ruin"),
        pytest.param(
            '{"partners": [{"partners": []}]}', ["a partner takes"], id="partner of a partner"
        ),
    ],
)
def test_bad_search_settings_are_refused_naming_what_is_wrong(
    tmp_path: Path, settings: str, named: list[str]
) -> None:
    code, output = run(tmp_path, "--search", settings)
    assert code == 2
    for words in named:
        assert words in output


def test_the_cooling_schedule_reaches_or_tools() -> None:
    def cooling(search: Search) -> int:
        parameters = _parameters(search, 1000.0, optional=False, paired=False, spent=0.0)
        annealing = (
            parameters.iterated_local_search_parameters.reference_solution_acceptance_strategy
        ).simulated_annealing
        assert annealing.initial_temperature == 50.0
        return int(annealing.cooling_schedule_strategy)

    assert cooling(Search()) == 2  # LINEAR, the default
    assert cooling(Search(cooling="EXPONENTIAL")) == 1


def test_each_ruin_reaches_or_tools_and_one_is_drawn_per_iteration() -> None:
    from partsvc_bench.cli import search_from

    search = search_from({"ruins": [[10, 5], [40, 30], [60, 40]]})
    parameters = _parameters(search, 1000.0, optional=False, paired=False, spent=0.0)
    ruin = parameters.iterated_local_search_parameters.ruin_recreate_parameters
    assert [
        (r.sisr.avg_num_removed_visits, r.sisr.max_removed_sequence_size)
        for r in ruin.ruin_strategies
    ] == [(10, 5), (40, 30), (60, 40)]
    assert ruin.ruin_composition_strategy == RuinCompositionStrategy.RUN_ONE_RANDOMLY


def test_partner_searches_are_taken_from_json(tmp_path: Path) -> None:
    partners = '{"partners": [{"temperatures": [0.2, 0.002], "operators": {"use_two_opt": false}}]}'
    code, output = run(tmp_path, "--search", partners)
    assert code == 0, output
    answer = json.loads(output)
    assert answer["feasible"] is True
    assert answer["routes"] == [[1, 2, 3]]


def test_operator_switches_from_json_keep_the_heavy_operators_off() -> None:
    from partsvc_bench.cli import search_from

    search = search_from({"operators": {"use_two_opt": False}})
    switches = dict(search.operators)
    assert switches["use_two_opt"] is False
    assert switches["use_lin_kernighan"] is False


def test_any_or_tools_search_parameter_can_be_tried_from_json(tmp_path: Path) -> None:
    recreate = (
        "iterated_local_search_parameters.ruin_recreate_parameters.recreate_strategy"
        ".parameters.local_cheapest_insertion.insertion_sorting_properties"
    )
    code, output = run(tmp_path, "--search", json.dumps({"extra": {recreate: [8]}}))
    assert code == 0, output
    assert json.loads(output)["feasible"] is True
    code, output = run(tmp_path, "--search", json.dumps({"extra": {"no_such_parameter": 1}}))
    assert code != 0 and "refuse 'no_such_parameter'" in output
    code, output = run(tmp_path, "--search", json.dumps({"extra": {"log_search": "yes"}}))
    assert code != 0 and "refuse 'log_search'" in output
    code, output = run(tmp_path, "--search", json.dumps({"extra": [1]}))
    assert code != 0 and "extra is an object" in output
