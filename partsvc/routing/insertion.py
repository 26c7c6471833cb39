"""Urgent insertion (R29): who can reach a new call soonest, and putting it in their route.

For each engineer, every place the call could go in what is left of their route is tried,
with a pick-up on the way where the van lacks the parts; the insertion must keep the
windows of the calls already on the route, the parts they need, and the end of the shift.
Pure Python on the plan in hand: no search, so it answers in milliseconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from itertools import pairwise

from partsvc.routing.problem import (
    Call,
    Engineer,
    Problem,
    Reason,
    Route,
    Stop,
    StopKind,
    Warehouse,
)
from partsvc.routing.screening import carried


@dataclass(frozen=True)
class Candidate:
    engineer: str
    feasible: bool
    arrive: int | None
    """When they would be at the call: its start, if they would wait for its window."""
    extra_seconds: int = 0
    """How much longer their day's driving (and counter time) becomes."""
    reason: str | None = None
    stops: tuple[Stop, ...] = ()
    """Their route's stops with the call put in."""
    late_by: int = 0
    """Seconds past the call's deadline they would start it (a P1/P2 may be served late)."""


def rank_candidates(
    problem: Problem,
    routes: Mapping[str, Route],
    call: Call,
    *,
    now: int,
    finished: AbstractSet[str] = frozenset(),
) -> list[Candidate]:
    """Every engineer, those who can take the call first, soonest arrival first: on time
    before late (an urgent call may be served late, R28), then those who cannot."""
    day = _Day.of(problem)
    found = [
        _best_insertion(day, engineer, routes.get(engineer.key), call, now, finished)
        for engineer in problem.engineers
    ]
    return sorted(
        found,
        key=lambda c: (not c.feasible, c.arrive if c.arrive is not None else 0, c.extra_seconds),
    )


def insert_call(
    problem: Problem,
    route: Route | None,
    engineer: Engineer,
    call: Call,
    *,
    now: int,
    finished: AbstractSet[str] = frozenset(),
) -> Route | None:
    """The engineer's route with the call put in where it arrives soonest; None if it cannot."""
    candidate = _best_insertion(_Day.of(problem), engineer, route, call, now, finished)
    if not candidate.feasible:
        return None
    return _route(problem, engineer, route, candidate.stops)


@dataclass(frozen=True)
class _Day:
    """The problem with its calls and warehouses by key, looked up once per ranking."""

    problem: Problem
    calls: dict[str, Call]
    warehouses: dict[str, Warehouse]

    @classmethod
    def of(cls, problem: Problem) -> _Day:
        return cls(
            problem,
            {c.key: c for c in problem.calls},
            {w.key: w for w in problem.warehouses},
        )


def _best_insertion(
    day: _Day,
    engineer: Engineer,
    route: Route | None,
    call: Call,
    now: int,
    finished: AbstractSet[str],
) -> Candidate:
    if not call.placed:
        return Candidate(engineer.key, False, None, reason=Reason.NOT_PLACED.value)
    if not call.skills <= engineer.skills:
        return Candidate(engineer.key, False, None, reason="lacks the skills")
    stops = route.stops if route else ()
    # Done or under way: every stop up to the last one started, or whose call is no longer
    # open (finished early, or on site), whatever its planned time.
    fixed = max(
        (
            i + 1
            for i, stop in enumerate(stops)
            if stop.start <= now or (stop.kind is StopKind.CALL and stop.key in finished)
        ),
        default=0,
    )
    done, rest = stops[:fixed], stops[fixed:]
    problem = day.problem
    resume = _resume(day, engineer, route, done, now)
    before = _driving(problem, engineer, stops)
    # The route as it stands, re-timed from now: where the engineer is free after each stop.
    as_is = _timed(day, engineer, resume, rest)
    seconds = problem.travel.seconds
    best: Candidate | None = None
    for position in range(len(rest) + 1):
        if as_is is not None:
            place, free = (
                (as_is[position - 1].place, as_is[position - 1].depart)
                if position
                else (resume.place, resume.clock)
            )
            if free + seconds[place][call.place] > call.closes:
                continue  # too late even driving straight there
        for tried, sequence in enumerate(_with_call(problem, rest, position, call)):
            timed = _timed(day, engineer, resume, sequence)
            if timed is None:
                continue
            arrive = next(s.start for s in timed if s.kind is StopKind.CALL and s.key == call.key)
            extra = _driving(problem, engineer, (*done, *timed)) - before
            if best is None or (arrive, extra) < (best.arrive or 0, best.extra_seconds):
                late = call.late_by(arrive)
                best = Candidate(engineer.key, True, arrive, extra, None, (*done, *timed), late)
            if tried == 0:
                break  # it fits straight in: a pick-up first can only make it later
    return best or Candidate(engineer.key, False, None, reason="cannot fit it in time")


@dataclass(frozen=True)
class _Resume:
    place: int
    clock: int
    van: Counter[str]


def _resume(
    day: _Day, engineer: Engineer, route: Route | None, done: Sequence[Stop], now: int
) -> _Resume:
    """Where and when the engineer can take on new work, and what the van then holds."""
    van: Counter[str] = Counter(engineer.van)
    calls = day.calls
    for stop in done:
        if stop.kind is StopKind.PICKUP:
            van.update(stop.parts)
        elif stop.key in calls:
            van.subtract(calls[stop.key].parts)
    if done:
        return _Resume(done[-1].place, max(done[-1].depart, now), van)
    return _Resume(engineer.start, max(engineer.leaves_at, now), van)


def _with_call(
    problem: Problem, rest: Sequence[Stop], position: int, call: Call
) -> list[list[Stop | Call | tuple[Warehouse, Call]]]:
    """The remaining stops with the call at `position`, bare and after each useful pick-up."""
    plain: list[Stop | Call | tuple[Warehouse, Call]] = [*rest[:position], call, *rest[position:]]
    options = [plain]
    if call.parts:
        for warehouse in problem.warehouses:
            if carried(warehouse, call):
                for at in range(position + 1):
                    options.append(
                        [*rest[:at], (warehouse, call), *rest[at:position], call, *rest[position:]]
                    )
    return options


def _timed(
    day: _Day,
    engineer: Engineer,
    resume: _Resume,
    sequence: Sequence[Stop | Call | tuple[Warehouse, Call]],
) -> list[Stop] | None:
    """The stops with their times, or None if a window, a part or the shift end breaks."""
    seconds = day.problem.travel.seconds
    calls, warehouses = day.calls, day.warehouses
    van = Counter(resume.van)
    here, clock = resume.place, resume.clock
    timed: list[Stop] = []
    for item in sequence:
        if isinstance(item, Call) or (isinstance(item, Stop) and item.kind is StopKind.CALL):
            call = item if isinstance(item, Call) else calls[item.key]
            arrive = clock + seconds[here][call.place]
            start = max(arrive, call.earliest)
            # The new call may be late within its window; one already planned may not be
            # made later than on time, or than it was.
            limit = call.closes if isinstance(item, Call) else max(call.latest, item.start)
            if start > limit or any(van[s] < q for s, q in call.parts.items()):
                return None
            van.subtract(call.parts)
            stop = Stop(
                StopKind.CALL,
                call.key,
                call.place,
                arrive,
                start,
                start + call.service,
                late_by=call.late_by(start),
            )
        else:
            parts: Mapping[str, int]
            for_call: str | None
            if isinstance(item, tuple):
                warehouse, parts, for_call = item[0], carried(*item), item[1].key
            else:
                warehouse, parts, for_call = warehouses[item.key], item.parts, item.for_call
            arrive = clock + seconds[here][warehouse.place]
            van.update(parts)
            stop = Stop(
                StopKind.PICKUP,
                warehouse.key,
                warehouse.place,
                arrive,
                arrive,
                arrive + warehouse.service,
                parts,
                for_call,
            )
        timed.append(stop)
        here, clock = stop.place, stop.depart
    if clock + seconds[here][engineer.end] > engineer.shift_end:
        return None
    return timed


def retimed(problem: Problem, engineer: Engineer, stops: Sequence[Stop]) -> Route | None:
    """A route of these stops, timed from the start of the engineer's day; None if a
    window, a part or the shift end breaks."""
    day = _Day.of(problem)
    timed = _timed(day, engineer, _resume(day, engineer, None, (), -1), stops)
    return None if timed is None else _route(problem, engineer, None, timed)


def _driving(problem: Problem, engineer: Engineer, stops: Sequence[Stop]) -> int:
    seconds = problem.travel.seconds
    path = [engineer.start, *(stop.place for stop in stops), engineer.end]
    counter = sum(stop.depart - stop.start for stop in stops if stop.kind is StopKind.PICKUP)
    return counter + sum(seconds[a][b] for a, b in pairwise(path))


def _route(
    problem: Problem, engineer: Engineer, route: Route | None, stops: Sequence[Stop]
) -> Route:
    seconds, metres = problem.travel.seconds, problem.travel.metres
    path = [engineer.start, *(stop.place for stop in stops), engineer.end]
    leave = route.leave if route and route.stops and route.stops[0] in stops else None
    if leave is None:
        leave = stops[0].arrive - seconds[engineer.start][stops[0].place] if stops else 0
    return Route(
        engineer=engineer.key,
        leave=leave,
        back=stops[-1].depart + seconds[stops[-1].place][engineer.end] if stops else leave,
        stops=tuple(stops),
        driving_seconds=sum(seconds[a][b] for a, b in pairwise(path)),
        driving_metres=sum(metres[a][b] for a, b in pairwise(path)),
    )
