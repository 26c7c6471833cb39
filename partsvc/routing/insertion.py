"""Urgent insertion (R29): who can reach a new call soonest, and putting it in their route.

For each engineer, every place the call could go in what is left of their route is tried,
with a pick-up on the way where the van lacks the parts; the insertion must keep the
windows of the calls already on the route, the parts they need, and the end of the shift.

A P1 or P2 call (R26–R28) may also make room: when a route is full, its routine (P3 and
preventive) visits that no longer fit come off it and go back to the open calls, so the
urgent call is on time if it can be, else as early as possible and marked late. A P1 or P2
visit already on the route is never made later than on time, or than it was.
Pure Python on the plan in hand: no search, so it answers in milliseconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
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
    displaced: tuple[str, ...] = ()
    """Routine calls taken off their route to make room, in route order: they go back to
    the open calls."""

    @property
    def late_minutes(self) -> int:
        return -(-self.late_by // 60)

    @property
    def order(self) -> tuple[int, int, int, int]:
        """On time first, then by minutes late; then the fewest routine calls moved off,
        the soonest arrival and the least extra driving."""
        return (self.late_minutes, len(self.displaced), self.arrive or 0, self.extra_seconds)


CANNOT_FIT = "cannot fit it in time"
"""Why an engineer with the skills cannot take a routine call."""
BEYOND_SHIFT = "cannot reach within the shift"
"""Why an engineer with the skills cannot take a P1/P2 call, even late, even by moving
their routine work off the day."""


def rank_candidates(
    problem: Problem,
    routes: Mapping[str, Route],
    call: Call,
    *,
    now: int,
    finished: AbstractSet[str] = frozenset(),
    busy: Mapping[str, AtVisit] | None = None,
) -> list[Candidate]:
    """Every engineer, those who can take the call first: on time before late (an urgent
    call may be served late, R28), the least late first, then the fewest routine calls
    moved off the day, the soonest arrival; then those who cannot.

    `busy`: engineers at a visit under way now (by its status); everyone else is taken to
    be where their plan has them."""
    day = _Day.of(problem)
    found = [
        _best_insertion(day, engineer, routes.get(engineer.key), call, now, finished, busy)
        for engineer in problem.engineers
    ]
    return sorted(found, key=lambda c: (not c.feasible, c.order))


def insert_call(
    problem: Problem,
    route: Route | None,
    engineer: Engineer,
    call: Call,
    *,
    now: int,
    finished: AbstractSet[str] = frozenset(),
) -> Route | None:
    """The engineer's route with the call put in where it arrives soonest, moving no other
    call off it; None if it cannot."""
    day = _Day.of(problem)
    candidate = _best_insertion(day, engineer, route, call, now, finished, None, displacing=False)
    if not candidate.feasible:
        return None
    return _route(problem, engineer, route, candidate.stops)


def assignment(
    problem: Problem,
    route: Route | None,
    engineer: Engineer,
    call: Call,
    *,
    now: int,
    finished: AbstractSet[str] = frozenset(),
    busy: Mapping[str, AtVisit] | None = None,
) -> tuple[Candidate, Route] | None:
    """What giving the call to the engineer does, as `rank_candidates` ranked it: the
    candidate (late by, routine calls moved off) and their new route; None if they cannot."""
    day = _Day.of(problem)
    candidate = _best_insertion(day, engineer, route, call, now, finished, busy)
    if not candidate.feasible:
        return None
    return candidate, _route(problem, engineer, route, candidate.stops)


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
    busy: Mapping[str, AtVisit] | None,
    *,
    displacing: bool = True,
) -> Candidate:
    if not call.placed:
        return Candidate(engineer.key, False, None, reason=Reason.NOT_PLACED.value)
    if not call.skills <= engineer.skills:
        return Candidate(engineer.key, False, None, reason="lacks the skills")
    stops = route.stops if route else ()
    at_visit = (busy or {}).get(engineer.key)
    done, planned = _begun(stops, now, finished, at_visit)
    problem = day.problem
    resume = _resume(day, engineer, route, done, now, at_visit)
    rest = _as_running(day, resume, planned)
    resume = replace(resume, heading=rest[0] if rest else None)
    before = _driving(problem, engineer, stops)
    # The route as it stands, timed from where the engineer is now: free after each stop.
    as_is = _timed(day, engineer, resume, rest)
    seconds = problem.travel.seconds
    best: Candidate | None = None
    for position in range(len(rest) + 1):
        if as_is is not None:
            place, free = _free_after(as_is, position, resume)
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
    urgent = call.priority <= 2
    if displacing and urgent and (best is None or best.late_by > 0):
        room = _making_room(day, engineer, call, resume, done, rest, before, as_is)
        if room is not None and (best is None or room.order < best.order):
            best = room
    reason = BEYOND_SHIFT if urgent else CANNOT_FIT
    return best or Candidate(engineer.key, False, None, reason=reason)


@dataclass(frozen=True)
class AtVisit:
    """An engineer at a visit under way now, by its status (on the way or on site): the call,
    and when they will be free (as the day's loading reckons it from the visit's duration)."""

    call: str
    free_at: int


def _begun(
    stops: Sequence[Stop], now: int, finished: AbstractSet[str], at_visit: AtVisit | None
) -> tuple[Sequence[Stop], Sequence[Stop]]:
    """The route's stops done or under way, and those still ahead.

    Done: up to the last one whose planned start has passed or whose call is no longer open
    (finished early, or on site). An engineer at a visit under way has begun nothing else:
    with the visit on their route, what is before it is done and what is after it ahead
    (less any call already closed, by someone else or out of turn, and its pick-ups); with
    the visit elsewhere, only closed calls are done."""
    if at_visit is None:
        fixed = max(
            (
                i + 1
                for i, stop in enumerate(stops)
                if stop.start <= now or (stop.kind is StopKind.CALL and stop.key in finished)
            ),
            default=0,
        )
        return stops[:fixed], stops[fixed:]
    here = next(
        (
            i + 1
            for i, stop in enumerate(stops)
            if stop.kind is StopKind.CALL and stop.key == at_visit.call
        ),
        0,
    )
    closed = set(finished) - {at_visit.call}
    done = stops[:here] if here else tuple(s for s in stops if _for_call(s) in closed)
    ahead = tuple(s for s in stops[here:] if _for_call(s) not in closed)
    return done, ahead


def _for_call(stop: Stop) -> str | None:
    """The call a stop serves: its own, or the one a pick-up is for."""
    return stop.key if stop.kind is StopKind.CALL else stop.for_call


def _making_room(
    day: _Day,
    engineer: Engineer,
    call: Call,
    resume: _Resume,
    done: Sequence[Stop],
    rest: Sequence[Stop],
    before: int,
    as_is: Sequence[Stop] | None,
) -> Candidate | None:
    """The urgent call put in by moving routine visits off the route: at each place, the
    visits that no longer fit come off, and the best of the places is kept. A place where,
    driving straight there as the route stands, the call could only start later than the
    best found so far (moving at least one visit) is not tried; a pick-up is tried only
    right before the call."""
    calls = day.calls
    routine = frozenset(
        s.key
        for s in rest
        if s.kind is StopKind.CALL and s.key in calls and calls[s.key].priority >= 3
    )
    if not routine:
        return None
    problem = day.problem
    seconds = problem.travel.seconds
    best: Candidate | None = None
    for position in range(len(rest) + 1):
        if as_is is not None and best is not None:
            place, free = _free_after(as_is, position, resume)
            soonest = max(free + seconds[place][call.place], call.earliest)
            bound = Candidate(engineer.key, True, soonest, late_by=call.late_by(soonest))
            if (bound.late_minutes, 1, soonest) >= best.order[:3]:
                continue
        for tried, sequence in enumerate(
            _with_call(problem, rest, position, call, pickup_right_before=True)
        ):
            fitted = _fit(day, engineer, resume, sequence, call.key, routine)
            if fitted is None:
                continue
            timed, moved = fitted
            arrive = next(s.start for s in timed if s.kind is StopKind.CALL and s.key == call.key)
            extra = _driving(problem, engineer, (*done, *timed)) - before
            found = Candidate(
                engineer.key,
                True,
                arrive,
                extra,
                None,
                (*done, *timed),
                call.late_by(arrive),
                tuple(s.key for s in rest if s.kind is StopKind.CALL and s.key in moved),
            )
            if best is None or found.order < best.order:
                best = found
            if tried == 0:
                break
    return best


def _fit(
    day: _Day,
    engineer: Engineer,
    resume: _Resume,
    sequence: Sequence[Stop | Call | tuple[Warehouse, Call]],
    urgent: str,
    routine: AbstractSet[str],
) -> tuple[list[Stop], frozenset[str]] | None:
    """The sequence timed with the fewest routine visits taken off that this way finds:
    a routine visit that breaks comes off; when an urgent one (or the shift's end) breaks,
    a routine visit before it comes off: of those enough alone, the one that has the
    urgent call start soonest and the day end soonest; else the nearest. None if no
    routine visit is left to take off."""
    moved: frozenset[str] = frozenset()
    while True:
        kept = _without(sequence, moved)
        timing = _timing(day, engineer, resume, kept)
        if not isinstance(timing, int):
            return timing, moved
        breaking = kept[timing] if timing < len(kept) else None
        if (
            isinstance(breaking, Stop)
            and breaking.kind is StopKind.CALL
            and breaking.key in routine
        ):
            moved |= {breaking.key}
            continue
        earlier = [
            item.key
            for item in kept[:timing]
            if isinstance(item, Stop) and item.kind is StopKind.CALL and item.key in routine
        ]
        if not earlier:
            return None
        enough = []
        for key in earlier[-ENOUGH_ALONE_TRIED:]:
            trial = _timing(day, engineer, resume, _without(sequence, moved | {key}))
            if not isinstance(trial, int):
                start = next(s.start for s in trial if s.kind is StopKind.CALL and s.key == urgent)
                enough.append((start, _clock_after(trial), key))
        moved |= {min(enough)[-1] if enough else earlier[-1]}


ENOUGH_ALONE_TRIED = 3
"""How many routine visits before a break are each tried alone as the one to move off
(the nearest first), before the nearest is moved off anyway: more finds fewer moves now
and then, at a cost that grows with the square of the route."""


def _without(
    sequence: Sequence[Stop | Call | tuple[Warehouse, Call]], moved: AbstractSet[str]
) -> list[Stop | Call | tuple[Warehouse, Call]]:
    """The sequence without the moved calls and the pick-ups made for them."""
    return [
        item
        for item in sequence
        if not (
            isinstance(item, Stop)
            and (item.key if item.kind is StopKind.CALL else item.for_call) in moved
        )
    ]


def _clock_after(timed: Sequence[Stop]) -> int:
    return timed[-1].depart if timed else 0


def _free_after(as_is: Sequence[Stop], position: int, resume: _Resume) -> tuple[int, int]:
    """Where and when the engineer is free before the stop at `position` of the route as
    it stands, timed from where the engineer is: before the first, only by a detour."""
    if position:
        return as_is[position - 1].place, as_is[position - 1].depart
    return resume.place, resume.detour


def _as_running(day: _Day, resume: _Resume, planned: Sequence[Stop]) -> tuple[Stop, ...]:
    """The stops ahead, each call starting when planned or, if the day runs behind the plan
    (an engineer still at a visit past its planned end), when it now can: the time an
    insertion may not make it later than. Without this a route running even a second late
    could take no call at all."""
    seconds, calls = day.problem.travel.seconds, day.calls
    here, clock = resume.place, resume.clock
    running: list[Stop] = []
    for stop in planned:
        arrive = clock + seconds[here][stop.place]
        if stop.kind is StopKind.CALL and stop.key in calls:
            start = max(arrive, calls[stop.key].earliest, stop.start)
            depart = start + calls[stop.key].service
            stop = replace(stop, start=start)
        else:
            depart = arrive + (stop.depart - stop.start)
        running.append(stop)
        here, clock = stop.place, depart
    return tuple(running)


@dataclass(frozen=True)
class _Resume:
    """Where the engineer goes on from, and what the van then holds."""

    place: int
    clock: int
    """When they leave `place` for the next planned stop, as the plan says (later only if
    they are still busy there)."""
    detour: int
    """The soonest they can leave `place` for any other first stop: not before now."""
    van: Counter[str]
    heading: Stop | None = None
    """The planned stop they are on the road to."""


def _resume(
    day: _Day,
    engineer: Engineer,
    route: Route | None,
    done: Sequence[Stop],
    now: int,
    at_visit: AtVisit | None = None,
) -> _Resume:
    """Where and when the engineer goes on to new work, and what the van then holds.

    Past the time the plan has them leave their last visit (or home), an engineer is taken
    to be on the road to their next stop as planned, not to be leaving late; only a visit
    under way (`at_visit`, from its status) holds them there until it ends. A new first
    stop is a detour from there, started no earlier than now."""
    van: Counter[str] = Counter(engineer.van)
    calls = day.calls
    for stop in done:
        if stop.kind is StopKind.PICKUP:
            van.update(stop.parts)
        elif stop.key in calls:
            van.subtract(calls[stop.key].parts)
    if at_visit is not None:
        on_route = any(s.kind is StopKind.CALL and s.key == at_visit.call for s in done)
        # At a visit off their route, the day's loading starts them at its site.
        place, leave = (
            (done[-1].place, done[-1].depart) if on_route else (engineer.start, engineer.leaves_at)
        )
        free = max(leave, at_visit.free_at, now)
        return _Resume(place, free, free, van)
    if done:
        return _Resume(done[-1].place, done[-1].depart, max(done[-1].depart, now), van)
    leave = route.leave if route and route.stops else engineer.leaves_at
    return _Resume(engineer.start, leave, max(engineer.leaves_at, now), van)


def _with_call(
    problem: Problem,
    rest: Sequence[Stop],
    position: int,
    call: Call,
    *,
    pickup_right_before: bool = False,
) -> list[list[Stop | Call | tuple[Warehouse, Call]]]:
    """The remaining stops with the call at `position`, bare and after each useful pick-up
    (anywhere before it, or only right before it)."""
    plain: list[Stop | Call | tuple[Warehouse, Call]] = [*rest[:position], call, *rest[position:]]
    options = [plain]
    if call.parts:
        for warehouse in problem.warehouses:
            if carried(warehouse, call):
                for at in range(position if pickup_right_before else 0, position + 1):
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
    timing = _timing(day, engineer, resume, sequence)
    return None if isinstance(timing, int) else timing


def _timing(
    day: _Day,
    engineer: Engineer,
    resume: _Resume,
    sequence: Sequence[Stop | Call | tuple[Warehouse, Call]],
) -> list[Stop] | int:
    """The stops with their times, or the index of the first whose window or parts break
    (the sequence's length when the shift's end does)."""
    seconds = day.problem.travel.seconds
    calls, warehouses = day.calls, day.warehouses
    van = Counter(resume.van)
    here = resume.place
    on_plan = bool(sequence) and sequence[0] is resume.heading
    clock = resume.clock if on_plan else resume.detour
    timed: list[Stop] = []
    for index, item in enumerate(sequence):
        if isinstance(item, Call) or (isinstance(item, Stop) and item.kind is StopKind.CALL):
            call = item if isinstance(item, Call) else calls[item.key]
            arrive = clock + seconds[here][call.place]
            start = max(arrive, call.earliest)
            # The new call may be late within its window; one already planned may not be
            # made later than on time, or than it was.
            limit = call.closes if isinstance(item, Call) else max(call.latest, item.start)
            if start > limit or any(van[s] < q for s, q in call.parts.items()):
                return index
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
        return len(sequence)
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
