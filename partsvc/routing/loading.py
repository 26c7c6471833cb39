"""Loading a day for the planner (R26–R28): open calls, engineers on shift, warehouses.

Reads rows into the planner's plain data (`Loaded`, holding a `routing.problem.Problem`
and the keys to find the rows again). The caller ends the read before solving (rule 4).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from partsvc.calls.models import Call, Engineer
from partsvc.calls.rules import CallStatus
from partsvc.core.worktime import WorkingCalendar
from partsvc.inventory.models import Location, Part, StockLevel
from partsvc.routing import problem as p
from partsvc.routing.models import DayPlan, PlanRoute, PlanStatus, PlanStop
from partsvc.routing.travel import Point, TravelSource

OPEN = (CallStatus.NEW, CallStatus.ASSIGNED)
UNDER_WAY = (CallStatus.EN_ROUTE, CallStatus.ON_SITE)
NOWHERE = -1
"""The place of a call whose site is not on the map: never looked up (`p.Call.placed`)."""


@dataclass
class Loaded:
    """A day's planning problem with the keys to find its rows again."""

    day: date
    midnight: datetime
    problem: p.Problem
    calls: dict[str, int] = field(default_factory=dict)
    engineers: dict[str, int] = field(default_factory=dict)
    warehouses: dict[str, int] = field(default_factory=dict)
    places: dict[str, int] = field(default_factory=dict)
    """Places of known calls that are not planned (done, under way, or elsewhere)."""
    finished: set[str] = field(default_factory=set)
    """Known calls no longer open: done or under way, whatever the plan's times say."""
    under_way: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    """Per engineer, the call they are on now: (call id, since, done at), in seconds."""
    on_hold: list[int] = field(default_factory=list)
    """Open calls of the day left out because they are on hold (R22): the customer has
    stopped the clock, so no visit is routed until the call resumes."""

    def seconds(self, instant: datetime) -> int:
        return int((instant - self.midnight).total_seconds())

    def instant(self, seconds: int) -> datetime:
        return self.midnight + timedelta(seconds=seconds)


def load_day(
    session: Session,
    day: date,
    *,
    now: datetime,
    calendar: WorkingCalendar,
    source: TravelSource,
    extra_calls: Iterable[int] = (),
    known_calls: Iterable[int] = (),
) -> Loaded:
    """The open calls of `day`, the engineers on shift with their vans, the warehouses.

    When planning today, a call under way stays with its engineer, who starts from that
    site when it is done. Calls already in another day's published plan are left to it.
    `extra_calls` are planned whatever their state (an urgent call to rank); `known_calls`
    (a plan's stops) only get a place, and those no longer open count as done.
    """
    midnight = datetime.combine(day, time.min, calendar.zone).astimezone(UTC)
    end = midnight + timedelta(days=1)
    points: list[Point] = []

    def place(lat: float | None, lon: float | None) -> int:
        points.append((lat or 0.0, lon or 0.0))
        return len(points) - 1

    today = now.astimezone(calendar.zone).date()
    elsewhere = (
        select(PlanStop.call_id)
        .join(PlanRoute, PlanStop.route_id == PlanRoute.id)
        .join(DayPlan, PlanRoute.plan_id == DayPlan.id)
        .where(
            DayPlan.status == PlanStatus.PUBLISHED,
            DayPlan.day != day,
            DayPlan.day >= today,
            PlanStop.kind == "call",
        )
    )
    extra = list(extra_calls)
    calls = list(
        session.scalars(
            select(Call)
            .where(
                or_(
                    and_(Call.status.in_(OPEN), Call.id.not_in(elsewhere)),
                    Call.id.in_(extra),
                ),
                or_(Call.onsite_due < end, Call.window_start < end, Call.id.in_(extra)),
            )
            .order_by(Call.id)
        ).unique()
    )
    held = [call.id for call in calls if call.held_since is not None and call.id not in extra]
    calls = [call for call in calls if call.id not in held]
    under_way = (
        {
            call.engineer_id: call
            for call in session.scalars(
                select(Call).where(Call.status.in_(UNDER_WAY), Call.engineer_id.is_not(None))
            ).unique()
        }
        if day == today
        else {}
    )
    loaded = Loaded(day, midnight, p.Problem((), (), (), p.Travel((), ())), on_hold=held)
    at = max(loaded.seconds(now), 0)
    engineers = []
    working = calendar.is_working_day(day)
    off_shift = []
    for engineer in session.scalars(select(Engineer).order_by(Engineer.code)).unique():
        if not working:
            off_shift.append(frozenset(engineer.skills or ()))
            continue
        home = place(engineer.home_lat, engineer.home_lon)
        start, ready = home, at
        busy = under_way.get(engineer.id)
        if busy is not None:
            # Free once the visit is over: counted from arrival on site, or from now if
            # they are still on the way (the drive is short next to the visit).
            start = place(busy.site.lat, busy.site.lon) if busy.site.placed else home
            since = loaded.seconds(busy.onsite_at) if busy.onsite_at else at
            ready = max(at, since + busy.duration_minutes * 60)
            loaded.under_way[engineer.code] = (busy.id, min(since, at), ready)
        engineers.append(
            p.Engineer(
                key=engineer.code,
                start=start,
                end=home,
                shift_start=_seconds_of(engineer.shift_start),
                shift_end=_seconds_of(engineer.shift_end),
                skills=frozenset(engineer.skills or ()),
                van=_van(session, engineer),
                ready_at=ready,
            )
        )
        loaded.engineers[engineer.code] = engineer.id
    wanted = {str(line["sku"]) for call in calls for line in call.parts}
    warehouses = []
    for location in session.scalars(
        select(Location).where(Location.kind == "warehouse", Location.active.is_(True))
    ).unique():
        stock = _available(session, location.id, wanted)
        warehouses.append(p.Warehouse(location.code, place(location.lat, location.lon), stock))
        loaded.warehouses[location.code] = location.id
    planned = []
    for call in calls:
        key = str(call.id)
        loaded.calls[key] = call.id
        site = call.site
        # A site known only by its address adds no point: the call stands at NOWHERE and
        # is left out before anything is worked out (Reason.NOT_PLACED).
        at_site = place(site.lat, site.lon) if site.placed else NOWHERE
        planned.append(_call(loaded, call, at_site, at, calendar.zone))
    planned_keys = {c.key for c in planned}
    for call in session.scalars(select(Call).where(Call.id.in_(list(known_calls)))).unique():
        if str(call.id) not in planned_keys:
            loaded.calls[str(call.id)] = call.id
            if call.site.placed:
                loaded.places[str(call.id)] = place(call.site.lat, call.site.lon)
            if call.status not in OPEN:
                loaded.finished.add(str(call.id))
    loaded.problem = p.Problem(
        tuple(engineers),
        tuple(planned),
        tuple(warehouses),
        source.travel(points),
        off_shift=tuple(off_shift),
    )
    return loaded


def _seconds_of(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60


def _call(loaded: Loaded, call: Call, place: int, now: int, zone: tzinfo) -> p.Call:
    """R27: P1/P2 by their on-site deadline, served late rather than not at all (R28);
    P3 in the day or the customer's window, worth less the further its deadline."""
    day_end = 24 * 3600
    earliest = loaded.seconds(call.window_start) if call.window_start else 0
    closes = min(loaded.seconds(call.window_end) if call.window_end else day_end, day_end)
    due = loaded.seconds(call.onsite_due)
    priority = int(call.priority[1])
    contract = call.site.customer.contract_on(loaded.day)
    designated = contract.designated_engineer if contract else None
    preferred = call.engineer or designated
    if priority <= 2:
        # Late from its deadline, even one already past: the plan says by how much.
        latest, late_until = min(closes, due), max(closes, 0)
    else:
        # A routine call already overdue is still served, soonest, in its window.
        latest, late_until = max(min(closes, due) if due >= now else closes, 0), None
    return p.Call(
        key=str(call.id),
        place=place,
        service=call.duration_minutes * 60,
        earliest=max(earliest, 0),
        latest=latest,
        priority=priority,
        skills=frozenset(call.skills or ()),
        parts={str(line["sku"]): int(str(line["qty"])) for line in call.parts},
        preferred=preferred.code if preferred else None,
        late_until=late_until,
        due_in_days=max((call.onsite_due.astimezone(zone).date() - loaded.day).days, 0),
        placed=call.site.placed,
    )


def _van(session: Session, engineer: Engineer) -> dict[str, int]:
    if engineer.van is None:
        return {}
    return _available(session, engineer.van.id, None)


def _available(session: Session, location_id: int, skus: set[str] | None) -> dict[str, int]:
    query = (
        select(Part.sku, StockLevel.on_hand - StockLevel.reserved)
        .join(StockLevel.part)
        .where(StockLevel.location_id == location_id, StockLevel.on_hand > StockLevel.reserved)
    )
    if skus is not None:
        query = query.where(Part.sku.in_(sorted(skus)))
    return {sku: int(qty) for sku, qty in session.execute(query)}
