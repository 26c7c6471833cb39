"""Solomon VRPTW: our OR-Tools search against PyVRP, at the same time limit, in one run.

For each instance of the Solomon set (100 customers, fleet ≤ 25, cost = total distance),
runs `partsvc bench vrptw FILE --time-limit S` (the planner's own search, in a subprocess,
one instance at a time; with `--processes 2`, the default, a second differently cooled
search runs in a second process on the other core and the cheaper plan wins), then PyVRP
(hybrid genetic search) on the same instance for the same time, in this process. Both
solutions are re-measured the same way: routes checked by
`partsvc_bench.solomon.check_vrptw` and their length summed in double precision by
`partsvc_bench.solomon.route_distance`. The `cpu` columns are each search's CPU seconds
(below its wall seconds `s` on a busy machine). Gap = (distance − reference) / reference against
the `distance_only_distance` column of `reference.csv`.

    .venv/bin/python bench/vrptw.py                          # all 56, 10 s each, both solvers
    .venv/bin/python bench/vrptw.py --only R105,RC107 --no-pyvrp
    .venv/bin/python bench/vrptw.py --no-pyvrp --search '{"cooling": "EXPONENTIAL"}'
    .venv/bin/python bench/vrptw.py --no-pyvrp --processes 1     # our search on one core

PyVRP and vrplib are bench-only extras (`pip install -e .[bench]`); `partsvc` never imports
them. PyVRP gets the same integer model as ours: distances and times scaled by 1000, travel
times rounded up, so its integer-feasible plans are feasible in double precision as well.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from partsvc_bench.solomon import Instance, check_vrptw, read_instance, route_distance

DATA = Path(__file__).resolve().parent / "data" / "solomon"
SCALE = 1000
CLASSES = ("C1", "C2", "R1", "R2", "RC1", "RC2")


@dataclass
class Outcome:
    distance: float
    feasible: bool
    seconds: float
    vehicles: int
    problems: list[str]
    cpu_seconds: float = math.nan
    """CPU time of the search's own process: below `seconds` on a busy machine."""

    def gap(self, reference: float) -> float | None:
        return (self.distance - reference) / reference if self.feasible else None


def run_ours(path: Path, time_limit: float, seed: int, search: str, processes: int) -> Outcome:
    """The planner's search through the CLI, in its own process; routes re-checked here."""
    exe = Path(sys.executable).with_name("partsvc")
    command = [str(exe), "bench", "vrptw", str(path), "--time-limit", str(time_limit)]
    command += ["--search", search, "--processes", str(processes)]
    began = time.perf_counter()
    done = subprocess.run(
        [*command, "--seed", str(seed)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        seconds = time.perf_counter() - began
        return Outcome(math.inf, False, seconds, 0, [done.stderr.strip()[-300:]])
    answer = json.loads(done.stdout)
    # The solver's own clock (model build + search), not the process start-up around it.
    outcome = judge(read_instance(path), answer["routes"], float(answer["seconds"]))
    outcome.cpu_seconds = float(answer.get("cpu_seconds", math.nan))
    return outcome


def run_pyvrp(path: Path, time_limit: float, seed: int) -> Outcome:
    """PyVRP on the instance as read by vrplib, scaled like ours, for the same time."""
    import pyvrp
    import vrplib
    from pyvrp.stop import MaxRuntime

    began, cpu = time.perf_counter(), time.process_time()
    data = vrplib.read_instance(str(path), instance_format="solomon")
    coords = [(float(x), float(y)) for x, y in data["node_coord"]]
    windows = [(round(a * SCALE), round(b * SCALE)) for a, b in data["time_window"]]
    service = [round(s * SCALE) for s in data["service_time"]]
    model = pyvrp.Model()
    locations = [model.add_location(x, y) for x, y in coords]
    model.add_depot(locations[0], tw_early=windows[0][0], tw_late=windows[0][1])
    model.add_vehicle_type(
        int(data["vehicles"]),
        capacity=[int(data["capacity"])],
        tw_early=windows[0][0],
        tw_late=windows[0][1],
    )
    for node in range(1, len(coords)):
        model.add_client(
            locations[node],
            delivery=[int(data["demand"][node])],
            service_duration=service[node],
            tw_early=windows[node][0],
            tw_late=windows[node][1],
        )
    for a, frm in enumerate(locations):
        for b, to in enumerate(locations):
            length = math.dist(coords[a], coords[b]) * SCALE if a != b else 0.0
            model.add_edge(frm, to, distance=round(length), duration=math.ceil(length))
    result = model.solve(MaxRuntime(time_limit), seed=seed, display=False)
    seconds = time.perf_counter() - began
    # Client activity idx counts clients from 0 in the order added: customer idx + 1.
    routes = [
        [activity.idx + 1 for activity in route if activity.is_client()]
        for route in result.best.routes()
    ]
    outcome = judge(read_instance(path), routes, seconds)
    outcome.cpu_seconds = time.process_time() - cpu
    if not result.is_feasible():
        outcome.feasible = False
        outcome.problems.append("PyVRP reports its best solution infeasible")
    return outcome


def judge(instance: Instance, routes: list[list[int]], seconds: float) -> Outcome:
    routes = [route for route in routes if route]
    problems = check_vrptw(instance, routes)
    return Outcome(route_distance(instance, routes), not problems, seconds, len(routes), problems)


def percent(value: float | None) -> str:
    return "     —" if value is None else f"{value * 100:6.2f}"


def summary(label: str, gaps: list[float | None]) -> str:
    found = [g for g in gaps if g is not None]
    if not found:
        return f"{label:14} feasible 0/{len(gaps)}"
    return (
        f"{label:14} feasible {len(found)}/{len(gaps)}  mean {statistics.mean(found) * 100:.3f} %"
        f"  median {statistics.median(found) * 100:.3f} %  worst {max(found) * 100:.3f} %"
    )


def instance_class(name: str) -> str:
    """C1, R2, RC1…: the letters and the digit after them (R101, RC2_2_1)."""
    found = re.match(r"[A-Z]+\d", name)
    return found.group(0) if found else name


def versus(ours: dict[str, float], theirs: dict[str, float], label: str) -> str:
    """How much longer our plans are than PyVRP's, over the instances both solved."""
    both = [n for n in ours if n in theirs]
    if not both:
        return f"{label:14} no instance both solved"
    ratios = [(ours[n] - theirs[n]) / theirs[n] for n in both]
    return (
        f"{label:14} ours vs PyVRP over {len(both)}: mean {statistics.mean(ratios) * 100:+.3f} %"
        f"  worst {max(ratios) * 100:+.3f} %"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=DATA,
        help="folder with the instances (*.txt) and reference.csv",
    )
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per instance")
    parser.add_argument("--only", default="", help="comma-separated instance names")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-pyvrp", action="store_true", help="run only our search")
    parser.add_argument(
        "--search", default="{}", help="our search settings as JSON (see partsvc bench vrptw)"
    )
    parser.add_argument(
        "--processes",
        type=int,
        choices=(1, 2),
        default=min(2, os.cpu_count() or 1),
        help="our searches side by side, one process each, 2 where there are two cores "
        "(PyVRP always searches in one)",
    )
    args = parser.parse_args()

    reference: dict[str, float] = {}
    if (args.data / "reference.csv").exists():
        with (args.data / "reference.csv").open() as handle:
            reference = {
                r["instance"]: float(r["distance_only_distance"]) for r in csv.DictReader(handle)
            }
    files = sorted(args.data.glob("*.txt"))
    if args.only:
        wanted = {name.strip().upper() for name in args.only.split(",") if name.strip()}
        files = [f for f in files if f.stem.upper() in wanted]
    solvers = ["ours"] if args.no_pyvrp else ["ours", "pyvrp"]
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, {len(files)} instances, "
        f"{args.time_limit:g} s each, seed {args.seed}, {os.cpu_count()} cores, "
        f"search {args.search}, our processes {args.processes}"
    )
    columns = f"{'gap %':>6} {'veh':>3} {'s':>5} {'cpu':>5}"
    header = f"{'instance':8} {'reference':>10} │ {'ours':>10} {columns}"
    if "pyvrp" in solvers:
        header += f" │ {'pyvrp':>10} {columns}"
    print(header, flush=True)

    gaps: dict[str, dict[str, float | None]] = {solver: {} for solver in solvers}
    lengths: dict[str, dict[str, float]] = {solver: {} for solver in solvers}
    for path in files:
        name = path.stem.upper()
        ref = reference.get(name)
        line = f"{name:8} {ref:10.2f}" if ref is not None else f"{name:8} {'—':>10}"
        for solver in solvers:
            if solver == "ours":
                outcome = run_ours(path, args.time_limit, args.seed, args.search, args.processes)
            else:
                outcome = run_pyvrp(path, args.time_limit, args.seed)
            gap = outcome.gap(ref) if ref is not None else None
            if ref is not None:
                gaps[solver][name] = gap
            if outcome.feasible:
                lengths[solver][name] = outcome.distance
            shown = f"{outcome.distance:10.2f}" if outcome.feasible else "infeasible"
            line += f" │ {shown} {percent(gap)} {outcome.vehicles:3} {outcome.seconds:5.1f}"
            line += f" {outcome.cpu_seconds:5.1f}"
            if outcome.problems:
                line += f" ({solver}: {'; '.join(outcome.problems[:2])})"
        print(line, flush=True)

    print()
    for solver in solvers:
        if gaps[solver]:
            print(summary(solver, list(gaps[solver].values())))
        print(f"{solver:14} feasible {len(lengths[solver])}/{len(files)} (all instances)")
        for kind in CLASSES:
            chosen = [g for n, g in gaps[solver].items() if instance_class(n) == kind]
            if chosen:
                print("  " + summary(kind, chosen))

    if "pyvrp" in solvers:
        print()
        print(versus(lengths["ours"], lengths["pyvrp"], "all"))
        for kind in CLASSES:
            mine = {n: d for n, d in lengths["ours"].items() if instance_class(n) == kind}
            if any(instance_class(n) == kind for n in gaps["ours"]) or mine:
                print("  " + versus(mine, lengths["pyvrp"], kind))
    if any(len(lengths[solver]) < len(files) for solver in solvers):
        print("VOID: a plan was infeasible or missing")
        sys.exit(1)


if __name__ == "__main__":
    main()
