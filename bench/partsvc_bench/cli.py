"""`partsvc bench vrptw FILE`: one Solomon-format file in, one JSON object out.

The `partsvc` command finds this group through the `partsvc.commands` entry point.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

import click
from ortools.constraint_solver import pywrapcp

from partsvc.routing.model import Search, set_extra
from partsvc_bench.solomon import on_cores, read_instance, solve_vrptw


@click.group()
def bench() -> None:
    """Benchmarks of the planner's solver core."""


@bench.command("vrptw")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--time-limit", default=10.0, show_default=True, help="Seconds of search.")
@click.option("--seed", default=0, show_default=True)
@click.option(
    "--search",
    "settings",
    default="{}",
    help='Search settings to tune, as JSON, e.g. {"cooling": "EXPONENTIAL"}.',
)
@click.option(
    "--processes",
    default=min(2, os.cpu_count() or 1),
    show_default="2 where there are two cores",
    type=click.IntRange(1, 2),
    help="Searches side by side, one process each: 2 adds the warmer second search.",
)
def vrptw(path: str, time_limit: float, seed: int, settings: str, processes: int) -> None:
    """Solve one Solomon-format file and print the result as one JSON object."""
    try:
        tuned = json.loads(settings)
    except json.JSONDecodeError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint="--search") from None
    try:
        search = search_from(tuned, time_limit_s=time_limit, seed=seed)
    except (TypeError, ValueError) as error:
        raise click.BadParameter(str(error), param_hint="--search") from None
    cpu = time.process_time()
    result = solve_vrptw(read_instance(Path(path)), on_cores(search, processes))
    cpu = time.process_time() - cpu
    click.echo(
        json.dumps(
            {
                "instance": result.instance,
                "vehicles": result.vehicles,
                "distance": result.distance,
                "feasible": result.feasible,
                "seconds": round(result.seconds, 3),
                "cpu_seconds": round(cpu, 3),
                "routes": result.routes,
                "problems": result.problems,
            }
        )
    )


def search_from(tuned: object, *, partner: bool = False, **fixed: Any) -> Search:
    """A `Search` from bench settings (a JSON object); `partners` is a list of such objects,
    without partners of their own. `fixed` settings (time limit, seed) are not tunable."""
    known = {f.name for f in fields(Search)} - {"time_limit_s", "seed", *fixed}
    if partner:
        known.discard("partners")
    lead = "a partner takes" if partner else "an object of"
    if not isinstance(tuned, dict) or set(tuned) - known:
        unknown = sorted(set(tuned) - known) if isinstance(tuned, dict) else tuned
        raise ValueError(f"{lead} {', '.join(sorted(known))}; not {unknown}")
    settings = dict(tuned)
    if isinstance(settings.get("temperatures"), list):
        settings["temperatures"] = tuple(settings["temperatures"])
    if isinstance(settings.get("ruins"), list):
        settings["ruins"] = tuple(tuple(ruin) for ruin in settings["ruins"])
    if isinstance(settings.get("operators"), dict):
        # Switches on top of the default ones (the heavy operators off).
        settings["operators"] = Search().operators + tuple(settings["operators"].items())
    if isinstance(settings.get("extra"), dict):
        # OR-Tools search parameters by dotted name, e.g. a recreate order to try.
        settings["extra"] = tuple(settings["extra"].items())
        _check_extra(settings["extra"])
    elif "extra" in settings:
        raise ValueError("extra is an object of OR-Tools search parameters by dotted name")
    partners = settings.pop("partners", [])
    if not isinstance(partners, list):
        raise ValueError("partners is a list of search settings objects")
    return Search(
        **fixed,
        **settings,
        partners=tuple(search_from(p, partner=True, **fixed) for p in partners),
    )


def _check_extra(extra: tuple[tuple[str, object], ...]) -> None:
    """OR-Tools takes these parameters as given, or a clear error says which it refused."""
    for name, value in extra:
        try:
            set_extra(pywrapcp.DefaultRoutingSearchParameters(), [(name, value)])
        except (AttributeError, TypeError, ValueError) as refused:
            raise ValueError(f"OR-Tools' search parameters refuse {name!r}: {refused}") from None
