"""Service calls (R20–R22): reported with their deadlines, moved through their statuses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.auth.services import Caller
from partsvc.calls.models import Call, CallStatusChange, Equipment, SlaTarget
from partsvc.calls.rules import CallStatus, Priority, Target, Tier, can_move, deadlines
from partsvc.calls.services import get_equipment, get_site
from partsvc.errors import Conflict, InvalidInput, InvalidTransition, UnknownKey
from partsvc.inventory.catalog import get_part
from partsvc.worktime import WorkingCalendar


@dataclass(frozen=True)
class PartNeeded:
    sku: str
    qty: int


def target_for(session: Session, tier: str, priority: str) -> Target:
    """The SLA policy's target for a tier and priority, as it stands now (R20)."""
    row = session.get(SlaTarget, (tier, priority))
    if row is None:
        raise Conflict(f"The SLA policy has no target for {tier} {priority}.")
    return Target(
        response=timedelta(minutes=row.response_minutes),
        onsite=timedelta(minutes=row.onsite_minutes) if row.onsite_minutes is not None else None,
        resolve=(
            timedelta(minutes=row.resolve_minutes) if row.resolve_minutes is not None else None
        ),
        resolve_working_days=row.resolve_working_days,
        round_the_clock=row.round_the_clock,
    )


def report_call(
    session: Session,
    *,
    site: str,
    priority: str,
    calendar: WorkingCalendar,
    now: datetime,
    reported_at: datetime | None = None,
    equipment: str | None = None,
    skills: Sequence[str] = (),
    parts: Sequence[PartNeeded] = (),
    duration_min: int = 60,
    window: tuple[datetime, datetime] | None = None,
    description: str | None = None,
    by: Caller | None = None,
) -> Call:
    """Record a call with the deadlines its contract's tier and priority give (R20, R22)."""
    place = get_site(session, site)
    unit: Equipment | None = get_equipment(session, equipment) if equipment else None
    if unit is not None and unit.site_id != place.id:
        raise InvalidInput(
            f"Equipment {equipment!r} is installed at {unit.site.code}, not at {site}.",
            errors={"equipment": ["Not at this site."]},
        )
    for needed in parts:
        get_part(session, needed.sku)
    if window is not None and window[0] >= window[1]:
        raise InvalidInput("The window must end after it starts.", errors={"window": ["Empty."]})
    reported = (reported_at or now).astimezone(UTC)
    contract = place.customer.contract_on(reported.astimezone(calendar.zone).date())
    tier = contract.tier if contract else Tier.NONE
    due = deadlines(
        target_for(session, tier, priority),
        reported,
        calendar,
        window_end=window[1] if window else None,
    )
    call = Call(
        site_id=place.id,
        equipment_id=unit.id if unit else None,
        priority=Priority(priority),
        tier=tier,
        reported_at=reported,
        response_due=due.response_due.astimezone(UTC),
        onsite_due=due.onsite_due.astimezone(UTC),
        resolve_due=due.resolve_due.astimezone(UTC),
        skills=sorted(set(skills)),
        parts=[{"sku": p.sku, "qty": p.qty} for p in parts],
        duration_minutes=duration_min,
        window_start=window[0].astimezone(UTC) if window else None,
        window_end=window[1].astimezone(UTC) if window else None,
        description=description,
        status=CallStatus.NEW,
    )
    session.add(call)
    session.flush()
    _record_status(session, call, CallStatus.NEW, reported, by)
    return call


def change_call_status(
    session: Session,
    call_id: int,
    status: str,
    *,
    now: datetime,
    at: datetime | None = None,
    by: Caller | None = None,
) -> Call:
    """Move a call to its next status (R22); a step out of order is a 409."""
    call = get_call(session, call_id, for_update=True)
    if not can_move(call.status, status):
        raise InvalidTransition(
            f"Call {call_id} is {call.status}; it cannot become {status}.",
            current_status=call.status,
            requested_status=status,
        )
    when = (at or now).astimezone(UTC)
    if when < call.history[-1].at:
        raise InvalidInput(
            "A status cannot be dated before the call's previous one.",
            errors={"at": ["Too early."]},
        )
    call.status = status
    _record_status(session, call, status, when, by)
    return call


def _record_status(
    session: Session, call: Call, status: str, at: datetime, by: Caller | None
) -> None:
    """Add a step to the call's status history (R22), who and when."""
    session.add(
        CallStatusChange(call_id=call.id, status=status, at=at, user_id=by.id if by else None)
    )
    session.flush()
    session.refresh(call, ["history"])


def get_call(session: Session, call_id: int, *, for_update: bool = False) -> Call:
    query = select(Call).where(Call.id == call_id)
    if for_update and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Call)
    call = session.scalar(query)
    if call is None:
        raise UnknownKey(f"No call {call_id}.", call=call_id)
    return call


def list_sla_policy(session: Session) -> list[SlaTarget]:
    return list(session.scalars(select(SlaTarget).order_by(SlaTarget.tier, SlaTarget.priority)))


def set_sla_target(
    session: Session,
    *,
    tier: str,
    priority: str,
    response_minutes: int,
    onsite_minutes: int | None,
    resolve_minutes: int | None,
    resolve_working_days: int | None,
    round_the_clock: bool,
) -> SlaTarget:
    """Change one row of the SLA policy; calls already reported keep their deadlines."""
    if (resolve_minutes is None) == (resolve_working_days is None):
        raise InvalidInput(
            "Give the time to fix either in minutes or in working days.",
            errors={"resolve_minutes": ["Exactly one of resolve_minutes, resolve_working_days."]},
        )
    row = session.get(SlaTarget, (tier, priority))
    if row is None:
        row = SlaTarget(tier=tier, priority=priority)
        session.add(row)
    row.response_minutes = response_minutes
    row.onsite_minutes = onsite_minutes
    row.resolve_minutes = resolve_minutes
    row.resolve_working_days = resolve_working_days
    row.round_the_clock = round_the_clock
    session.flush()
    return row
