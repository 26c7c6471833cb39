"""A realistic city day for the dispatch planner (issue 6): plan it, then rank urgent calls.

A seeded day in a 40 km × 40 km city around Shanghai: 300 calls (10 % P1, 25 % P2, 65 % P3),
40 engineers, 3 warehouses, 6 skills, 50 part types; travel is straight-line × 1.3 at 30 km/h
(`routing.travel.HaversineSource`). Two measurements:

1. The day's plan (`solver.solve`): wall time, calls served per priority, P1/P2 on time,
   the checker's verdict (`check.check_plan`), why calls were left out, driving, pick-ups.
   Every P1/P2 left out for want of room is tried once more against the final plan with the
   insertion module: if it fits there (and the checker agrees), the search missed it.
2. Urgent insertion (`insertion.rank_candidates`, R29): a mid-day situation where every
   engineer has at least 8 stops in their day (the plan, topped up with `insert_call`);
   new P1 calls (latest = now + 2 h) are ranked at 12:00, and again at 08:00 when all of
   every route is still ahead (the worst case). p50 / p95 / max in ms; target p95 < 200 ms.
   Every top candidate is put into its route and the whole situation re-checked.

    PYTHONPATH=. .venv/bin/python bench/day.py [--seed 1] [--time-limit 15] [--calls 300]
        [--engineers 40] [--candidates 200] [--profile] [--late-until-closing]

With `--late-until-closing` the P1/P2 calls may also be served late, until 18:00, as the
product loads them (`routing.loading`): one nobody can reach on time is then in the plan,
late by its minutes, rather than left out. A plan or a ranked candidate that fails the
checker voids the run: it says so and exits 1.

Human-readable summary first, then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import pstats
import statistics
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace

from partsvc.routing.check import check_plan
from partsvc.routing.insertion import assignment, insert_call, rank_candidates
from partsvc.routing.problem import (
    Plan,
    Problem,
    Reason,
    Route,
    StopKind,
    Unassigned,
)
from partsvc.routing.solver import screen, solve
from partsvc_bench.city import (
    HOUR,
    URGENT_SECONDS,
    Day,
    generate,
    late_until_closing,
)

DAY_STOPS = 8
"""Stops (calls and pick-ups) each engineer has in their day for the ranking situation."""
TARGET_P95_MS = 200


def clock(seconds: int) -> str:
    return f"{seconds // HOUR:02d}:{seconds % HOUR // 60:02d}"


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def taken_by(routes: Sequence[Route]) -> Counter[tuple[str, str]]:
    taken: Counter[tuple[str, str]] = Counter()
    for route in routes:
        for stop in route.stops:
            if stop.kind is StopKind.PICKUP:
                for sku, qty in stop.parts.items():
                    taken[(stop.key, sku)] += qty
    return taken


def with_free_stock(problem: Problem, routes: Sequence[Route]) -> Problem:
    """The problem with each warehouse's stock less what the routes' pick-ups take."""
    taken = taken_by(routes)
    warehouses = tuple(
        replace(w, stock={sku: qty - taken[(w.key, sku)] for sku, qty in w.stock.items()})
        for w in problem.warehouses
    )
    return replace(problem, warehouses=warehouses)


def plan_with(problem: Problem, routes: Mapping[str, Route]) -> Plan:
    """The routes as a plan; every call of the problem not on them left out."""
    on_routes = {
        stop.key for route in routes.values() for stop in route.stops if stop.kind is StopKind.CALL
    }
    return Plan(
        tuple(routes.values()),
        tuple(Unassigned(c.key, Reason.NO_ROOM) for c in problem.calls if c.key not in on_routes),
    )


def missed_insertions(problem: Problem, plan: Plan, keys: Sequence[str]) -> dict[str, str]:
    """Left-out calls that still fit into the final plan as it stands, by whom.

    Each is put into the best engineer's route by `insert_call` (the rest of the plan
    unchanged, warehouse stock less what the plan already takes) and the result re-checked.
    """
    free = with_free_stock(problem, plan.routes)
    routes = {route.engineer: route for route in plan.routes}
    calls = {call.key: call for call in problem.calls}
    found = {}
    for key in keys:
        for candidate in rank_candidates(free, routes, calls[key], now=0):
            if not candidate.feasible:
                break
            engineer = next(e for e in problem.engineers if e.key == candidate.engineer)
            route = insert_call(free, routes[engineer.key], engineer, calls[key], now=0)
            if route is None:
                continue
            trial = {**routes, engineer.key: route}
            if not check_plan(problem, plan_with(problem, trial)):
                found[key] = f"{engineer.key} at {clock(candidate.arrive or 0)}"
                break
    return found


def plan_day(
    day: Day, time_limit: float, seed: int, processes: int = 1
) -> tuple[dict[str, object], Plan]:
    problem = day.problem
    began = time.perf_counter()
    screen(problem)
    screen_s = time.perf_counter() - began
    load = os.getloadavg()[0]
    began, cpu = time.perf_counter(), time.process_time()
    plan = solve(problem, time_limit_s=time_limit, seed=seed, processes=processes)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    problems = check_plan(problem, plan)
    calls = {call.key: call for call in problem.calls}
    served = {
        stop.key: stop
        for route in plan.routes
        for stop in route.stops
        if stop.kind is StopKind.CALL
    }
    totals = Counter(call.priority for call in problem.calls)
    served_by = Counter(calls[key].priority for key in served)
    on_time = Counter(
        calls[key].priority for key, stop in served.items() if stop.start <= calls[key].latest
    )
    minutes_late = {
        p: sorted(
            round(stop.late_by / 60)
            for key, stop in served.items()
            if calls[key].priority == p and stop.late_by
        )
        for p in (1, 2)
    }
    response = {
        p: sorted(
            (stop.start - day.reported[key]) / 60
            for key, stop in served.items()
            if calls[key].priority == p
        )
        for p in (1, 2)
    }
    reasons = Counter(entry.reason.name for entry in plan.unassigned)
    left = {p: Counter() for p in (1, 2, 3)}
    for entry in plan.unassigned:
        left[calls[entry.call].priority][entry.reason.name] += 1
    roomless = [
        entry.call
        for entry in plan.unassigned
        if entry.reason is Reason.NO_ROOM and calls[entry.call].priority < 3
    ]
    missed = missed_insertions(problem, plan, roomless)
    stops = [len(route.stops) for route in plan.routes]
    call_stops = [sum(s.kind is StopKind.CALL for s in route.stops) for route in plan.routes]
    busy = sum(route.back - route.leave for route in plan.routes if route.stops) / sum(
        e.shift_end - e.leaves_at for e in problem.engineers
    )
    figures: dict[str, object] = {
        "solve_wall_s": round(wall, 2),
        "solve_cpu_s": round(cpu, 2),
        "load_average_1min": round(load, 2),
        "screen_s": round(screen_s, 3),
        "served": {f"P{p}": served_by[p] for p in (1, 2, 3)},
        "total": {f"P{p}": totals[p] for p in (1, 2, 3)},
        "on_time": {f"P{p}": on_time[p] for p in (1, 2)},
        "minutes_late": {f"P{p}": minutes_late[p] for p in (1, 2)},
        "response_min_median": {
            f"P{p}": round(statistics.median(r), 1) if r else None for p, r in response.items()
        },
        "response_min_max": {f"P{p}": round(max(r), 1) if r else None for p, r in response.items()},
        "check_problems": len(problems),
        "check_examples": problems[:5],
        "left_out_by_priority": {f"P{p}": dict(c) for p, c in left.items()},
        "p1p2_left_out_reachable": len(roomless),
        "p1p2_fit_final_plan": len(missed),
        "p1p2_fit_final_plan_by": missed,
        "unassigned_reasons": dict(reasons),
        "driving_hours": round(plan.driving_seconds / HOUR, 1),
        "pickups": sum(s.kind is StopKind.PICKUP for r in plan.routes for s in r.stops),
        "stops_per_route": [min(stops), statistics.median(stops), max(stops)],
        "calls_per_route": [min(call_stops), statistics.median(call_stops), max(call_stops)],
        "busy_share": round(busy, 2),
    }
    return figures, plan


def situation(day: Day, plan: Plan) -> tuple[Problem, Problem, dict[str, Route]]:
    """Every engineer with at least `DAY_STOPS` stops: the plan, topped up by insertion.

    Returns the problem with the warehouses' full stock (for the checker), the same with
    free stock (what the routes' pick-ups leave; for ranking), and the routes.
    """
    extra = tuple(call for calls in day.top_up.values() for call in calls)
    problem = replace(day.problem, calls=day.problem.calls + extra, travel=day.full_travel)
    routes = {route.engineer: route for route in plan.routes}
    free = with_free_stock(problem, plan.routes)
    for engineer in problem.engineers:
        for call in day.top_up[engineer.key]:
            route = routes[engineer.key]
            if len(route.stops) >= DAY_STOPS:
                break
            topped = insert_call(free, route, engineer, call, now=0)
            if topped is not None:
                routes[engineer.key] = topped
                free = with_free_stock(problem, list(routes.values()))
    return problem, free, routes


def rank_urgent(
    day: Day,
    checked: Problem,
    free: Problem,
    routes: dict[str, Route],
    now: int,
    profile: cProfile.Profile | None,
) -> dict[str, object]:
    latencies, feasible, soonest, bad, moved, late = [], [], [], [], [], []
    for template in day.urgent:
        call = replace(template, earliest=now, latest=now + URGENT_SECONDS)
        problem = replace(free, calls=(*free.calls, call))
        if profile:
            profile.enable()
        began = time.perf_counter()
        ranked = rank_candidates(problem, routes, call, now=now)
        latencies.append((time.perf_counter() - began) * 1000)
        if profile:
            profile.disable()
        able = [c for c in ranked if c.feasible]
        feasible.append(len(able))
        if not able:
            continue
        soonest.append(((able[0].arrive or now) - now) / 60)
        moved.append(len(able[0].displaced))
        late.append(able[0].late_by > 0)
        # The top candidate, put into its route (routine calls it moves off left out):
        # the whole situation must still check.
        engineer = next(e for e in problem.engineers if e.key == able[0].engineer)
        given = assignment(problem, routes[engineer.key], engineer, call, now=now)
        whole = replace(checked, calls=(*checked.calls, call))
        found = (
            ["assignment found no way"]
            if given is None
            else check_plan(whole, plan_with(whole, {**routes, engineer.key: given[1]}))
        )
        if found:
            bad.append(f"{call.key} → {engineer.key}: {found[:2]}")
    ahead = [sum(s.start > now for s in route.stops) for route in routes.values()]
    return {
        "now": clock(now),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "max_ms": round(max(latencies), 1),
        "mean_ms": round(statistics.fmean(latencies), 1),
        "stops_ahead_per_route": [min(ahead), statistics.median(ahead), max(ahead)],
        "feasible_engineers_median": statistics.median(feasible),
        "no_engineer": sum(n == 0 for n in feasible),
        "top_moves_routine_calls": sum(n > 0 for n in moved),
        "top_late": sum(late),
        "soonest_min_median": round(statistics.median(soonest), 1) if soonest else None,
        "top_candidate_check_problems": len(bad),
        "top_candidate_check_examples": bad[:3],
    }


def profile_text(profile: cProfile.Profile, lines: int = 14) -> str:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(lines)
    text = out.getvalue()
    return text[text.find("   ncalls") :].rstrip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=15.0)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--engineers", type=int, default=40)
    parser.add_argument("--candidates", type=int, default=200, help="urgent calls to rank")
    parser.add_argument("--profile", action="store_true", help="profile the ranking always")
    parser.add_argument(
        "--processes",
        type=int,
        choices=(1, 2),
        default=min(2, os.cpu_count() or 1),
        help="the planner's processes, as a queue worker has them (a web process plans with 1)",
    )
    parser.add_argument(
        "--region",
        action="store_true",
        help="the region day: 1,000 calls, 150 engineers, 60 s (other options still apply)",
    )
    parser.add_argument(
        "--late-until-closing",
        action="store_true",
        help="P1/P2 calls may be served late, until 18:00, as the product loads them",
    )
    args = parser.parse_args()
    if args.region:
        args.calls, args.engineers, args.time_limit = 1000, 150, 60.0

    began = time.perf_counter()
    day = generate(args.seed, args.calls, args.engineers, args.candidates)
    if args.late_until_closing:
        day = late_until_closing(day)
    generate_s = time.perf_counter() - began
    problem = day.problem
    print(
        f"City day, seed {args.seed}: {len(problem.calls)} calls, {len(problem.engineers)} "
        f"engineers, {len(problem.warehouses)} warehouses, {problem.travel.places} places "
        f"(generated in {generate_s:.1f} s)"
    )
    figures, plan = plan_day(day, args.time_limit, args.seed, args.processes)
    served, total = figures["served"], figures["total"]
    assert isinstance(served, dict) and isinstance(total, dict)
    print(
        f"\nPlan ({args.time_limit:g} s limit): solved in {figures['solve_wall_s']} s wall "
        f"(CPU {figures['solve_cpu_s']} s, load average {figures['load_average_1min']}; "
        f"screening alone {figures['screen_s']} s), {args.processes} process(es), "
        f"target ≤ {args.time_limit:g} s"
    )
    for p in (1, 2, 3):
        print(f"  P{p} served {served[f'P{p}']}/{total[f'P{p}']}", end="")
        if p < 3:
            on_time = figures["on_time"]
            assert isinstance(on_time, dict)
            print(
                f", on time {on_time[f'P{p}']}/{served[f'P{p}']}, minutes from report to "
                f"start median {figures['response_min_median'][f'P{p}']} "  # type: ignore[index]
                f"max {figures['response_min_max'][f'P{p}']}",  # type: ignore[index]
                end="",
            )
            late = figures["minutes_late"][f"P{p}"]  # type: ignore[index]
            if late:
                print(f", late {len(late)} (minutes {late})", end="")
        print()
    print(f"  checker problems: {figures['check_problems']} {figures['check_examples']}")
    print(f"  left out by priority: {figures['left_out_by_priority']}")
    print(
        f"  P1/P2 left out though reachable (NO_ROOM): {figures['p1p2_left_out_reachable']}; "
        f"of those still fitting the final plan as it stands: {figures['p1p2_fit_final_plan']}"
    )
    print(f"  unassigned reasons: {figures['unassigned_reasons']}")
    print(
        f"  driving {figures['driving_hours']} h, pick-ups {figures['pickups']}, "
        f"stops per route min/median/max {figures['stops_per_route']}, "
        f"calls {figures['calls_per_route']}, engineers out {figures['busy_share']:.0%} "
        f"of their shift"
    )

    checked, free, routes = situation(day, plan)
    calls_now = [sum(s.kind is StopKind.CALL for s in r.stops) for r in routes.values()]
    stops_now = [len(r.stops) for r in routes.values()]
    shift_end = {e.key: e.shift_end for e in checked.engineers}
    slack = [round((shift_end[key] - r.back) / 60) for key, r in routes.items()]
    situation_problems = check_plan(checked, plan_with(checked, routes))
    print(
        f"\nRanking situation: stops per route min/median/max "
        f"{[min(stops_now), statistics.median(stops_now), max(stops_now)]}, calls "
        f"{[min(calls_now), statistics.median(calls_now), max(calls_now)]}, minutes left "
        f"before shift end {[min(slack), statistics.median(slack), max(slack)]} "
        f"(plan topped up by insert_call), checker problems {len(situation_problems)} "
        f"{situation_problems[:3]}"
    )
    ranking = []
    # The third run gives every engineer three hours of overtime: most of them can then
    # take the call, so every position and pick-up is tried (the slow case).
    overtime = [replace(e, shift_end=e.shift_end + 3 * HOUR) for e in free.engineers]
    roomy = (
        replace(checked, engineers=tuple(overtime)),
        replace(free, engineers=tuple(overtime)),
    )
    for now, (checking, ranking_on) in (
        (12 * HOUR, (checked, free)),
        (8 * HOUR, (checked, free)),
        (8 * HOUR, roomy),
    ):
        profile = cProfile.Profile() if args.profile else None
        result = rank_urgent(day, checking, ranking_on, routes, now, profile)
        result["overtime"] = ranking_on is roomy[1]
        if profile is None and result["p95_ms"] >= TARGET_P95_MS:  # type: ignore[operator]
            profile = cProfile.Profile()
            rank_urgent(
                replace(day, urgent=day.urgent[:40]), checking, ranking_on, routes, now, profile
            )
        print(
            f"  rank_candidates at {result['now']}{' with 3 h overtime' * result['overtime']} "
            f"({len(day.urgent)} new P1 calls, stops still "
            f"ahead per route {result['stops_ahead_per_route']}): p50 {result['p50_ms']} ms, "
            f"p95 {result['p95_ms']} ms, max {result['max_ms']} ms (target p95 < "
            f"{TARGET_P95_MS} ms); engineers able median {result['feasible_engineers_median']}, "
            f"none able {result['no_engineer']}, soonest on site median "
            f"{result['soonest_min_median']} min; top candidates failing the checker "
            f"{result['top_candidate_check_problems']} {result['top_candidate_check_examples']}"
        )
        if profile is not None:
            text = profile_text(profile)
            print(
                "    profile (tottime):\n" + "\n".join("    " + line for line in text.split("\n"))
            )
            result["profile_top"] = [
                line.split()[-1] for line in text.split("\n")[1:6] if line.strip()
            ]
        ranking.append(result)

    print(
        json.dumps(
            {
                "bench": "day",
                "seed": args.seed,
                "time_limit_s": args.time_limit,
                "calls": len(problem.calls),
                "engineers": len(problem.engineers),
                **figures,
                "situation_stops_per_route": [
                    min(stops_now),
                    statistics.median(stops_now),
                    max(stops_now),
                ],
                "situation_slack_min_median": round(statistics.median(slack)),
                "situation_check_problems": len(situation_problems),
                "ranking": ranking,
            },
            ensure_ascii=False,
        )
    )

    errors = {
        "plan": figures["check_problems"],
        "ranking situation": len(situation_problems),
        "top candidates": sum(r["top_candidate_check_problems"] for r in ranking),  # type: ignore[misc]
    }
    if any(errors.values()):
        print(f"VOID: answers the checker refuses {errors}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
