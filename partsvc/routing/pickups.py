"""Pick-ups of a published plan: collecting the parts, and freeing what was never collected.

Publishing reserves a pick-up's parts at its warehouse. Collecting ends the reservation and
books the parts onto the engineer's van in one step (through the ledger, DESIGN rule 3); a
reservation still open when its day is over is released by the sweep.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.auth.identity import Caller
from partsvc.auth.scope import only_engineer
from partsvc.core.errors import Conflict, UnknownKey
from partsvc.inventory.ledger import post_move
from partsvc.inventory.models import Part
from partsvc.inventory.reservations import release
from partsvc.routing.models import DayPlan, PlanRoute, PlanStatus, PlanStop


def collect_pickup(
    session: Session, plan_id: int, stop_id: int, *, now: datetime, by: Caller | None
) -> PlanStop:
    """Book a pick-up's parts from its warehouse onto the engineer's van.

    An engineer collects their own pick-ups only. Twice is a 409; nothing is half-booked.
    """
    stop = session.scalars(
        select(PlanStop)
        .join(PlanRoute, PlanStop.route_id == PlanRoute.id)
        .where(PlanStop.id == stop_id, PlanRoute.plan_id == plan_id)
        .with_for_update(of=PlanStop)
    ).one_or_none()
    unknown = UnknownKey(f"Plan {plan_id} has no pick-up {stop_id}.", plan=plan_id, stop=stop_id)
    if stop is None or stop.kind != "pickup":
        raise unknown
    route = session.get(PlanRoute, stop.route_id)
    plan = session.get(DayPlan, route.plan_id) if route else None
    assert route is not None and plan is not None
    mine = only_engineer(session, by)
    if mine is not None and mine != route.engineer_id:
        raise unknown  # an engineer collects their own pick-ups; another's looks unknown
    if plan.status != PlanStatus.PUBLISHED:
        raise Conflict(f"Plan {plan_id} is {plan.status}; only a published plan's pick-ups.")
    if stop.collected_at is not None:
        raise Conflict(f"Pick-up {stop_id} was collected at {stop.collected_at.isoformat()}.")
    if stop.released_at is not None:
        raise Conflict(f"Pick-up {stop_id} was given up; its parts are no longer held.")
    van = route.engineer.van
    if van is None:
        raise Conflict(f"Engineer {route.engineer.code} has no van to load.")
    assert stop.warehouse is not None
    for sku, qty in sorted(stop.parts.items()):
        part = session.scalars(select(Part).where(Part.sku == sku)).one()
        release(session, part.id, stop.warehouse.id, qty)
        post_move(
            session,
            sku=sku,
            qty=qty,
            from_code=stop.warehouse.code,
            to_code=van.code,
            reason="issue",
            reference=f"PLAN-{plan.id}/{stop.id}",
            now=now,
            by=by,
        )
    stop.collected_at = now
    session.flush()
    return stop


def release_stale_pickups(session: Session, *, today: date, now: datetime) -> int:
    """Free the reservations of pick-ups never collected on a day that is over."""
    stale = session.scalars(
        select(PlanStop)
        .join(PlanRoute, PlanStop.route_id == PlanRoute.id)
        .join(DayPlan, PlanRoute.plan_id == DayPlan.id)
        .where(
            DayPlan.status == PlanStatus.PUBLISHED,
            DayPlan.day < today,
            PlanStop.kind == "pickup",
            PlanStop.collected_at.is_(None),
            PlanStop.released_at.is_(None),
        )
        .with_for_update(of=PlanStop)
    ).all()
    for stop in stale:
        assert stop.warehouse_id is not None
        for sku, qty in stop.parts.items():
            part = session.scalars(select(Part).where(Part.sku == sku)).one()
            release(session, part.id, stop.warehouse_id, qty)
        stop.released_at = now
    session.flush()
    return len(stale)
