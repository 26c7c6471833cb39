"""Plans in the service (R26–R29): load the day, solve outside any transaction, store.

`loading.load_day` reads what a plan is made from into plain data; the caller ends the
read, runs `solver.solve` and stores the result with `save_plan` in a new transaction
(DESIGN rule 4). Publishing assigns the calls and reserves the parts to be picked up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.audit import trail as audit
from partsvc.auth.identity import Caller
from partsvc.calls.calls import change_call_status, reassign_call
from partsvc.calls.models import Call
from partsvc.calls.rules import CallStatus
from partsvc.core.errors import Conflict, InvalidInput, UnknownKey
from partsvc.inventory.models import Part
from partsvc.inventory.reservations import release, reserve
from partsvc.routing import problem as p
from partsvc.routing.insertion import AtVisit, Candidate, assignment, rank_candidates
from partsvc.routing.loading import OPEN, Loaded
from partsvc.routing.models import DayPlan, PlanRoute, PlanStatus, PlanStop, PlanUnassigned

ON_HOLD = "on hold"
"""Why a plan leaves out a call on hold (R22): no visit until the customer's side resumes."""
MADE_ROOM = "moved off the day for an urgent call"
"""Why a routine call an urgent one took the place of is no longer in the plan (R28)."""


def save_plan(
    session: Session,
    loaded: Loaded,
    plan: p.Plan,
    *,
    time_limit_s: float,
    solve_seconds: float,
    source: str,
    now: datetime,
    by: Caller | None,
) -> DayPlan:
    """Store a solved plan as a draft."""
    stored = DayPlan(
        day=loaded.day,
        status=PlanStatus.DRAFT,
        planned_at=now,
        time_limit_s=time_limit_s,
        solve_seconds=solve_seconds,
        travel_source=source,
        created_by_id=by.id if by else None,
    )
    session.add(stored)
    for route in plan.routes:
        stored.routes.append(_route_row(loaded, route))
    for call_id in loaded.on_hold:
        stored.unassigned.append(PlanUnassigned(call_id=call_id, reason=ON_HOLD))
    for entry in plan.unassigned:
        stored.unassigned.append(
            PlanUnassigned(call_id=loaded.calls[entry.call], reason=entry.reason.value)
        )
    session.flush()
    return stored


def _route_row(loaded: Loaded, route: p.Route) -> PlanRoute:
    row = PlanRoute(
        engineer_id=loaded.engineers[route.engineer],
        leave_at=loaded.instant(route.leave),
        back_at=loaded.instant(route.back),
        driving_seconds=route.driving_seconds,
        driving_metres=route.driving_metres,
    )
    busy = loaded.under_way.get(route.engineer)
    # A route from the ranking already holds the visit under way, as the stored plan had it.
    if busy is not None and not any(
        s.kind is p.StopKind.CALL and s.key == str(busy[0]) for s in route.stops
    ):
        call_id, since, done = busy
        row.stops.append(
            PlanStop(
                position=0,
                kind="call",
                call_id=call_id,
                arrive_at=loaded.instant(since),
                start_at=loaded.instant(since),
                depart_at=loaded.instant(done),
                frozen=True,
            )
        )
    for position, stop in enumerate(route.stops, start=len(row.stops)):
        pickup = stop.kind is p.StopKind.PICKUP
        row.stops.append(
            PlanStop(
                position=position,
                kind=stop.kind.value,
                call_id=loaded.calls[stop.for_call if pickup and stop.for_call else stop.key],
                warehouse_id=loaded.warehouses[stop.key] if pickup else None,
                arrive_at=loaded.instant(stop.arrive),
                start_at=loaded.instant(stop.start),
                depart_at=loaded.instant(stop.depart),
                parts=dict(stop.parts),
            )
        )
    return row


def get_plan(session: Session, plan_id: int, *, for_update: bool = False) -> DayPlan:
    query = select(DayPlan).where(DayPlan.id == plan_id)
    if for_update:
        query = query.with_for_update()
    plan = session.scalars(query).unique().one_or_none()
    if plan is None:
        raise UnknownKey(f"No plan {plan_id}.", plan=plan_id)
    return plan


def publish_plan(
    session: Session, plan_id: int, *, now: datetime, today: date, by: Caller | None
) -> DayPlan:
    """Assign each planned call to its engineer and reserve the parts to pick up.

    The day's previous published plan is replaced: its pick-up reservations not yet
    collected are released. Every call this plan leaves out that is assigned, by an older
    plan or by hand, goes back to the dispatcher (new), so the board, the plan and the
    engineers' days agree. Nothing is written if the day is over, a call has moved on since
    the plan was made, or a part is no longer there (409).
    """
    plan = get_plan(session, plan_id, for_update=True)
    if plan.status != PlanStatus.DRAFT:
        raise Conflict(f"Plan {plan_id} is {plan.status}; only a draft is published.")
    if plan.day < today:
        raise Conflict(f"Plan {plan_id} is for {plan.day}, a day that is over.")
    kept = {stop.call_id for route in plan.routes for stop in route.stops if stop.kind == "call"}
    for older in session.scalars(
        select(DayPlan)
        .where(DayPlan.day == plan.day, DayPlan.status == PlanStatus.PUBLISHED)
        .with_for_update()
    ):
        _release_pickups(session, older.routes, now)
        older.status = PlanStatus.REPLACED
        for route in older.routes:
            for stop in route.stops:
                if stop.kind == "call" and stop.call_id not in kept:
                    _hand_back(session, stop.call_id, route.engineer_id, now=now, by=by)
    for left_out in plan.unassigned:
        # One truth after publishing: a call the plan leaves out is nobody's, whoever had
        # it before, so no engineer's day lists it and the board shows it to place.
        call = session.get(Call, left_out.call_id)
        if call is not None and call.status == CallStatus.ASSIGNED:
            change_call_status(session, call.id, CallStatus.NEW, now=now, by=by)
    session.flush()
    for route in plan.routes:
        for stop in route.stops:
            if stop.kind == "pickup":
                _reserve_pickup(session, stop)
            elif not stop.frozen:
                _assign(session, stop.call_id, route.engineer.code, now=now, by=by)
    plan.status = PlanStatus.PUBLISHED
    plan.published_at = now
    session.flush()
    return plan


def _assign(
    session: Session, call_id: int, engineer: str, *, now: datetime, by: Caller | None
) -> None:
    call = session.get(Call, call_id)
    assert call is not None
    if call.status not in OPEN:
        raise Conflict(
            f"Call {call_id} is {call.status} since this plan was made; plan again.",
            call=call_id,
            current_status=call.status,
        )
    if call.status == CallStatus.NEW:
        change_call_status(session, call_id, CallStatus.ASSIGNED, now=now, engineer=engineer, by=by)
    elif call.engineer is None or call.engineer.code != engineer:
        reassign_call(session, call_id, engineer, now=now, by=by)


def _hand_back(
    session: Session, call_id: int, engineer_id: int, *, now: datetime, by: Caller | None
) -> None:
    """A call the replaced plan gave out, and the new one leaves out, goes back to new."""
    call = session.get(Call, call_id)
    if call is not None and call.status == CallStatus.ASSIGNED and call.engineer_id == engineer_id:
        change_call_status(session, call_id, CallStatus.NEW, now=now, by=by)


def _reserve_pickup(session: Session, stop: PlanStop) -> None:
    assert stop.warehouse_id is not None
    for sku, qty in stop.parts.items():
        part = session.scalars(select(Part).where(Part.sku == sku)).one()
        if not reserve(session, part.id, stop.warehouse_id, qty):
            raise Conflict(
                f"{qty} × {sku} are no longer free at {stop.warehouse.code}; plan again.",
                sku=sku,
                warehouse=stop.warehouse.code,
            )


def _release_pickups(session: Session, routes: Iterable[PlanRoute], now: datetime) -> None:
    for route in routes:
        for stop in route.stops:
            if stop.kind == "pickup" and stop.collected_at is None and stop.released_at is None:
                stop.released_at = now
                assert stop.warehouse_id is not None
                for sku, qty in stop.parts.items():
                    part = session.scalars(select(Part).where(Part.sku == sku)).one()
                    release(session, part.id, stop.warehouse_id, qty)


def as_routes(loaded: Loaded, plan: DayPlan) -> dict[str, p.Route]:
    """The stored routes in the planner's terms, for insertion."""
    codes = {engineer_id: code for code, engineer_id in loaded.engineers.items()}
    warehouses = {location_id: code for code, location_id in loaded.warehouses.items()}
    places = {**loaded.places, **{c.key: c.place for c in loaded.problem.calls if c.placed}}
    depots = {w.key: w.place for w in loaded.problem.warehouses}
    routes = {}
    for route in plan.routes:
        code = codes.get(route.engineer_id)
        if code is None:
            continue
        stops = []
        for stop in route.stops:
            key = str(stop.call_id)
            if stop.kind == "pickup":
                warehouse = warehouses.get(stop.warehouse_id or 0)
                if warehouse is None:
                    continue
                stops.append(
                    p.Stop(
                        p.StopKind.PICKUP,
                        warehouse,
                        depots[warehouse],
                        loaded.seconds(stop.arrive_at),
                        loaded.seconds(stop.start_at),
                        loaded.seconds(stop.depart_at),
                        {} if stop.collected_at else dict(stop.parts),  # on the van already
                        key,
                    )
                )
            elif key in places:
                stops.append(
                    p.Stop(
                        p.StopKind.CALL,
                        key,
                        places[key],
                        loaded.seconds(stop.arrive_at),
                        loaded.seconds(stop.start_at),
                        loaded.seconds(stop.depart_at),
                    )
                )
        routes[code] = p.Route(
            code,
            loaded.seconds(route.leave_at),
            loaded.seconds(route.back_at),
            tuple(stops),
            route.driving_seconds,
            route.driving_metres,
        )
    return routes


def candidates_for(
    loaded: Loaded, plan: DayPlan, call_id: int, *, now: datetime
) -> list[Candidate]:
    """R29: every engineer, ranked by when they could be at the call."""
    _still_current(plan)
    call = _the_call(loaded, call_id)
    return rank_candidates(
        loaded.problem,
        as_routes(loaded, plan),
        call,
        now=loaded.seconds(now),
        finished=loaded.finished,
        busy=busy_until(loaded),
    )


def busy_until(loaded: Loaded) -> dict[str, AtVisit]:
    """Engineers at a visit under way now (by its status): which, and when they will be free."""
    return {
        code: AtVisit(str(call_id), ready) for code, (call_id, _, ready) in loaded.under_way.items()
    }


def _still_current(plan: DayPlan) -> None:
    if plan.status not in (PlanStatus.DRAFT, PlanStatus.PUBLISHED):
        raise Conflict(
            f"Plan {plan.id} is {plan.status}; work on the day's current plan.", plan=plan.id
        )


def _the_call(loaded: Loaded, call_id: int) -> p.Call:
    found = next((c for c in loaded.problem.calls if c.key == str(call_id)), None)
    if found is None:
        raise InvalidInput(
            f"Call {call_id} is not open on {loaded.day}.", errors={"call": ["Not open."]}
        )
    return found


def assign_into_plan(
    session: Session,
    loaded: Loaded,
    plan: DayPlan,
    call_id: int,
    engineer: str,
    *,
    now: datetime,
    by: Caller | None,
    displacing: Sequence[int] | None = None,
) -> DayPlan:
    """Put the call into the engineer's route as the candidates ranked it: where it is
    soonest on time, else least late; later stops shift. For a P1/P2 call, routine calls
    that no longer fit come off the route and go back to the dispatcher (new), so the
    board and the engineer's day agree. ``displacing``: the calls the dispatcher agreed to
    move off; if the day now needs others moved, nothing is written (409)."""
    _still_current(plan)
    call = _the_call(loaded, call_id)
    chosen = next((e for e in loaded.problem.engineers if e.key == engineer), None)
    if chosen is None:
        raise InvalidInput(f"No engineer {engineer} on shift.", errors={"engineer": ["Unknown."]})
    for row in plan.routes:
        for stop in row.stops:
            if stop.kind == "call" and stop.call_id == call_id:
                raise Conflict(f"Call {call_id} is already in plan {plan.id}.", call=call_id)
    routes = as_routes(loaded, plan)
    found = assignment(
        loaded.problem,
        routes.get(engineer),
        chosen,
        call,
        now=loaded.seconds(now),
        finished=loaded.finished,
        busy=busy_until(loaded),
    )
    if found is None:
        raise Conflict(
            f"Engineer {engineer} cannot take call {call_id} within the shift "
            "with the parts it needs.",
            engineer=engineer,
            call=call_id,
            why="beyond the shift",
        )
    candidate, route = found
    moved = [loaded.calls[key] for key in candidate.displaced]
    if displacing is not None and sorted(displacing) != sorted(moved):
        raise Conflict(
            f"Giving call {call_id} to {engineer} now moves "
            f"{', '.join(map(str, moved)) or 'no call'} off the day, not "
            f"{', '.join(map(str, displacing)) or 'none'}; look at the candidates again.",
            call=call_id,
            engineer=engineer,
            displaced=moved,
            why="moves other calls",
        )
    old = next((row for row in plan.routes if row.engineer_id == loaded.engineers[engineer]), None)
    if old is not None:
        if plan.status == PlanStatus.PUBLISHED:
            _release_pickups(session, [old], now)
        plan.routes.remove(old)
        session.flush()
    new = _route_row(loaded, route)
    if old is not None:  # what was done stays done
        before = {(s.kind, s.call_id, s.warehouse_id): s for s in old.stops}
        for stop in new.stops:
            was = before.get((stop.kind, stop.call_id, stop.warehouse_id))
            if was is not None:
                stop.frozen, stop.collected_at = was.frozen, was.collected_at
    plan.routes.append(new)
    plan.unassigned = [u for u in plan.unassigned if u.call_id not in (call_id, *moved)]
    plan.unassigned.extend(PlanUnassigned(call_id=moved_id, reason=MADE_ROOM) for moved_id in moved)
    session.flush()
    if plan.status == PlanStatus.PUBLISHED:
        for moved_id in moved:
            _hand_back(session, moved_id, loaded.engineers[engineer], now=now, by=by)
        for stop in new.stops:
            if stop.kind == "pickup" and stop.collected_at is None:
                _reserve_pickup(session, stop)
        _assign(session, call_id, engineer, now=now, by=by)
    details = {
        "plan": plan.id,
        "engineer": engineer,
        "late": candidate.late_by > 0,
        "late_minutes": candidate.late_minutes,
        "displaced": moved,
    }
    audit.record(session, "plan.call_assigned", kind="call", key=call_id, details=details)
    session.flush()
    return plan


def calls_in(plan: DayPlan) -> list[int]:
    """Every call a plan's stops are for."""
    return sorted({stop.call_id for route in plan.routes for stop in route.stops})


def current_plan_id(session: Session, day: date) -> int | None:
    """The id of ``current_plan`` without loading its routes (for a link to it)."""
    return session.scalar(
        select(DayPlan.id)
        .where(DayPlan.day == day, DayPlan.status.in_((PlanStatus.DRAFT, PlanStatus.PUBLISHED)))
        .order_by(DayPlan.id.desc())
        .limit(1)
    )


def current_plan(session: Session, day: date) -> DayPlan | None:
    """The day's newest plan still in play: a draft being looked at, or the published one."""
    return session.scalar(
        select(DayPlan)
        .where(DayPlan.day == day, DayPlan.status.in_((PlanStatus.DRAFT, PlanStatus.PUBLISHED)))
        .order_by(DayPlan.id.desc())
        .limit(1)
    )
