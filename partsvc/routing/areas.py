"""Big days in areas: engineers grouped by where they live, each group's calls planned apart.

A search over a region's 1,000 calls and 150 engineers builds a model of some 2,000 nodes
whose first plan alone takes most of a minute; four areas of about 250 calls each are
planned well in a quarter of that, side by side on the worker's processes. Every call goes
to the area of the nearest engineer who could serve it; each warehouse's stock is shared
out across the whole day first (most urgent calls first), so the areas can never take
more of it together than there is. What an area leaves out is tried again across every
area by `settling.settle`, P1 and P2 first. Standard library only.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from partsvc.routing.problem import Problem
from partsvc.routing.screening import Screening

AREA_CALLS = 300
"""Calls one search plans well within its time (the 300-call city day in 15 s): a day
with more calls that someone could serve is split into that many calls' worth of areas."""
MEDOID_ROUNDS = 4
T = TypeVar("T")


@dataclass(frozen=True)
class Area:
    """A part of the day: some engineers, the calls nearest them, as a problem of its own."""

    problem: Problem
    screening: Screening
    """Who could serve each of the area's calls, by position among the area's engineers;
    pick-ups are the warehouses the whole day's share-out offered the call."""


def areas_for(calls: int) -> int:
    """How many areas a day with this many plannable calls is split into (1: not split)."""
    return max(1, math.ceil(calls / AREA_CALLS))


def split(
    problem: Problem, screening: Screening, offered: dict[str, list[int]], count: int
) -> list[Area]:
    """The day as `count` areas of about as many engineers each (see the module)."""
    groups = _group_engineers(problem, count)
    area_of = {e: a for a, group in enumerate(groups) for e in group}
    seconds = problem.travel.seconds
    engineers = problem.engineers
    calls: list[list[str]] = [[] for _ in groups]
    for call in problem.calls:
        who = screening.able.get(call.key)
        if not who:
            continue
        nearest = min(who, key=lambda e: (seconds[engineers[e].start][call.place], e))
        calls[area_of[nearest]].append(call.key)
    by_key = {call.key: call for call in problem.calls}
    areas = []
    for group, keys in zip(groups, calls, strict=True):
        local = {e: n for n, e in enumerate(group)}
        sub = replace(
            problem,
            engineers=tuple(engineers[e] for e in group),
            calls=tuple(by_key[key] for key in keys),
        )
        inside = {key: [local[e] for e in screening.able[key] if e in local] for key in keys}
        areas.append(Area(sub, Screening(inside, {}, {key: offered[key] for key in keys})))
    return areas


def _group_engineers(problem: Problem, count: int) -> list[list[int]]:
    """Engineers by home in `count` groups of near-equal size (balanced k-medoids).

    Seeds are spread out (each the home farthest from those chosen); each round, engineers
    join the nearest medoid that still has room, nearest pairs first, and each group's
    medoid moves to the home with the least travel to the others.
    """
    seconds = problem.travel.seconds
    homes = [engineer.start for engineer in problem.engineers]
    n = len(homes)
    count = max(1, min(count, n))
    room = math.ceil(n / count)
    medoids = [0]
    while len(medoids) < count:
        medoids.append(
            max(range(n), key=lambda e: min(seconds[homes[m]][homes[e]] for m in medoids))
        )
    groups: list[list[int]] = []
    for _ in range(MEDOID_ROUNDS):
        pairs = sorted(
            (seconds[homes[m]][homes[e]], e, g) for g, m in enumerate(medoids) for e in range(n)
        )
        groups = [[] for _ in medoids]
        placed: set[int] = set()
        for _, e, g in pairs:
            if e not in placed and len(groups[g]) < room:
                groups[g].append(e)
                placed.add(e)
        moved = [_medoid(group, homes, seconds) for group in groups]
        if moved == medoids:
            break
        medoids = moved
    return [sorted(group) for group in groups if group]


def _medoid(group: Sequence[int], homes: Sequence[int], seconds: Sequence[Sequence[int]]) -> int:
    return min(group, key=lambda e: (sum(seconds[homes[e]][homes[o]] for o in group), e))


_TASK: Callable[[int], Any] | None = None
"""The task a forked area process runs (inherited by the fork, not pickled)."""


def usable(processes: int) -> int:
    """How many of `processes` can plan areas side by side here (forking needed)."""
    return max(processes, 1) if "fork" in multiprocessing.get_all_start_methods() else 1


def side_by_side(task: Callable[[int], T], count: int, processes: int) -> list[T]:
    """`task(i)` for i in range(count), on up to `processes` forked processes at a time.

    The task and what it reads are inherited by the forked children rather than sent to
    them (a region's travel matrix is tens of megabytes); only the answers come back.
    Where fork is unavailable, or one process is allowed, the tasks run here in turn.
    """
    global _TASK
    if usable(processes) < 2 or count < 2:
        return [task(i) for i in range(count)]
    _TASK = task
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(min(processes, count)) as pool:
            return pool.map(_run, range(count), chunksize=1)
    finally:
        _TASK = None


def _run(i: int) -> Any:
    if _TASK is None:
        raise RuntimeError("no task was set before the fork")
    return _TASK(i)
