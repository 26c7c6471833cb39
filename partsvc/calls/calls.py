"""Service calls (R20–R22): reported with their deadlines, moved through their statuses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from partsvc.audit import trail as audit
from partsvc.auth.identity import Caller
from partsvc.auth.models import Role
from partsvc.auth.scope import get_scoped, only_engineer
from partsvc.calls.customers import get_customer, get_equipment, get_site
from partsvc.calls.engineers import get_engineer
from partsvc.calls.models import (
    Call,
    CallStatusChange,
    Engineer,
    Equipment,
    ServiceRecord,
    Site,
    SlaTarget,
)
from partsvc.calls.rules import (
    ENGINEER_STEPS,
    HELD_STEPS_REFUSED,
    STOPPED_BY,
    CallStatus,
    Deadline,
    Deadlines,
    DeadlineState,
    Priority,
    Target,
    Tier,
    can_move,
    deadline_state,
    deadlines,
)
from partsvc.core.businesstime import business_time
from partsvc.core.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, UnknownKey
from partsvc.core.worktime import WorkingCalendar
from partsvc.inventory.catalog import get_part
from partsvc.platform import outbox


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
    reported = business_time(reported_at, now, "reported_at")
    tier, due = deadlines_at(
        session, place, priority, reported, calendar, window_end=window[1] if window else None
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
    record_status(session, call, CallStatus.NEW, reported, by)
    return call


def deadlines_at(
    session: Session,
    place: Site,
    priority: str,
    reported: datetime,
    calendar: WorkingCalendar,
    *,
    window_end: datetime | None = None,
) -> tuple[str, Deadlines]:
    """The tier and the three deadlines a call at ``place`` reported at ``reported`` gets
    (R20): what the new-call form previews before saving is what saving gives."""
    contract = place.customer.contract_on(reported.astimezone(calendar.zone).date())
    tier = contract.tier if contract else Tier.NONE
    due = deadlines(
        target_for(session, tier, Priority(priority)), reported, calendar, window_end=window_end
    )
    return tier, due


def change_call_status(
    session: Session,
    call_id: int,
    status: str,
    *,
    now: datetime,
    at: datetime | None = None,
    engineer: str | None = None,
    by: Caller | None = None,
) -> Call:
    """Move a call to its next status (R22); a step out of order is a 409.

    Assigning names the engineer. An engineer moves only their own calls, and only
    through the visit (en route, on site, waiting for parts, resolved). A call becomes
    resolved only with its service record (R23), which its completion writes first
    (``workflows.completion.complete_call``): without one the step is a 409.
    """
    call = get_call(session, call_id, for_update=True, caller=by)
    if by is not None and by.role == Role.ENGINEER and status not in ENGINEER_STEPS:
        raise Forbidden(
            f"An engineer cannot set a call {status}; the dispatcher does.",
            allowed_roles=["admin", "dispatcher"],
        )
    if (status == CallStatus.ASSIGNED) != (engineer is not None):
        raise InvalidInput(
            "Name the engineer when, and only when, assigning a call.",
            errors={"engineer": ["Required to assign." if engineer is None else "Only to assign."]},
        )
    if not can_move(call.status, status):
        raise InvalidTransition(
            f"Call {call_id} is {call.status}; it cannot become {status}.",
            current_status=call.status,
            requested_status=status,
        )
    if call.held_since is not None and CallStatus(status) in HELD_STEPS_REFUSED:
        hold = call.holds[-1]
        raise InvalidTransition(
            f"Call {call_id} is on hold ({hold.reason.replace('_', ' ')}) since "
            f"{hold.paused_at.isoformat()}: resume it before it becomes {status}.",
            current_status=call.status,
            requested_status=status,
            on_hold_since=hold.paused_at.isoformat(),
        )
    if status == CallStatus.RESOLVED and not _has_service_record(session, call.id):
        raise InvalidTransition(
            f"Call {call_id} has no service record: a call is resolved by completing it, "
            "with the work done, the parts used and both signatures "
            f"(POST /api/v1/calls/{call_id}/completion, or the engineer's page).",
            current_status=call.status,
            requested_status=status,
            missing="service_record",
        )
    when = business_time(at, now, "at")
    if when < call.history[-1].at:
        raise InvalidInput(
            "A status cannot be dated before the call's previous one.",
            errors={"at": ["Too early."]},
        )
    if engineer is not None:
        call.engineer = get_engineer(session, engineer)
    elif status == CallStatus.NEW:
        call.engineer = None  # handed back to the dispatcher
    stopped = STOPPED_BY.get(CallStatus(status))
    if stopped is not None and getattr(call, _MET_AT[stopped]) is None:
        setattr(call, _MET_AT[stopped], when)
    audit.record(
        session,
        "call.status_changed",
        kind="call",
        key=call.id,
        details={"from": call.status, "to": status, "at": when, "engineer": engineer},
    )
    call.status = status
    record_status(session, call, status, when, by)
    return call


def _has_service_record(session: Session, call_id: int) -> bool:
    found = session.scalar(select(ServiceRecord.id).where(ServiceRecord.call_id == call_id))
    return found is not None


def reassign_call(
    session: Session, call_id: int, engineer: str, *, now: datetime, by: Caller | None = None
) -> Call:
    """Give a call in progress to another engineer; the step is kept in its history."""
    call = get_call(session, call_id, for_update=True)
    if call.status not in IN_PROGRESS:
        raise InvalidTransition(
            f"Call {call_id} is {call.status}; a new call is assigned, a finished one kept.",
            current_status=call.status,
        )
    call.engineer = get_engineer(session, engineer)
    record_status(session, call, call.status, max(now, call.history[-1].at), by)
    return call


IN_PROGRESS = frozenset(
    {
        CallStatus.ASSIGNED,
        CallStatus.EN_ROUTE,
        CallStatus.ON_SITE,
        CallStatus.WAITING_FOR_PARTS,
    }
)


_MET_AT: Mapping[Deadline, str] = {
    Deadline.RESPONSE: "responded_at",
    Deadline.ONSITE: "onsite_at",
    Deadline.RESOLVE: "resolved_at",
}
_DUE: Mapping[Deadline, str] = {
    Deadline.RESPONSE: "response_due",
    Deadline.ONSITE: "onsite_due",
    Deadline.RESOLVE: "resolve_due",
}


@dataclass(frozen=True)
class DeadlineView:
    deadline: Deadline
    due: datetime
    met_at: datetime | None
    state: DeadlineState


def deadline_views(call: Call, now: datetime, warn_before: timedelta) -> list[DeadlineView]:
    """The call's three deadlines and where each stands at ``now`` (R22). On hold, the
    clocks stand where they stopped: a deadline neither comes near nor passes while paused."""
    if call.held_since is not None and call.held_since < now:
        now, warn_before = call.held_since, timedelta(0)
    views = []
    for deadline in Deadline:
        due: datetime = getattr(call, _DUE[deadline])
        met_at: datetime | None = getattr(call, _MET_AT[deadline])
        views.append(
            DeadlineView(deadline, due, met_at, deadline_state(due, met_at, now, warn_before))
        )
    return views


def record_satisfaction(
    session: Session,
    call_id: int,
    *,
    score: int,
    note: str | None,
    now: datetime,
) -> Call:
    """The customer's satisfaction with a closed call (R25), recorded once."""
    call = get_call(session, call_id, for_update=True)
    if call.status != CallStatus.CLOSED:
        raise Conflict(
            f"Call {call_id} is {call.status}; satisfaction is asked once it is closed.",
            current_status=call.status,
        )
    if call.satisfaction is not None:
        raise Conflict(
            f"Call {call_id} already has a satisfaction score of {call.satisfaction}.",
            satisfaction=call.satisfaction,
        )
    call.satisfaction = score
    call.satisfaction_note = note
    call.satisfaction_at = now
    session.flush()
    return call


def record_status(
    session: Session, call: Call, status: str, at: datetime, by: Caller | None
) -> None:
    """Add a step to the call's status history (R22), who and when, and tell whoever
    follows the call (a call handed back to the dispatcher is not received again)."""
    first = not call.history
    session.add(
        CallStatusChange(call_id=call.id, status=status, at=at, user_id=by.id if by else None)
    )
    session.flush()
    session.refresh(call, ["history"])
    if status != CallStatus.NEW or first:
        emit_call_event(session, call, CALL_EVENTS[CallStatus(status)], at)


CALL_EVENTS = {
    CallStatus.NEW: "call.received",
    CallStatus.ASSIGNED: "call.assigned",
    CallStatus.EN_ROUTE: "call.en_route",
    CallStatus.ON_SITE: "call.arrived",
    CallStatus.WAITING_FOR_PARTS: "call.waiting_for_parts",
    CallStatus.RESOLVED: "call.resolved",
    CallStatus.CLOSED: "call.closed",
}


def emit_call_event(
    session: Session, call: Call, event: str, at: datetime, **extra: object
) -> None:
    """An outbox event about ``call`` (what integrators receive: business keys)."""
    outbox.emit(
        session,
        event,
        subject=f"call:{call.id}",
        now=at,
        call=call.id,
        status=call.status,
        kind=call.kind,
        priority=call.priority,
        site=call.site.code,
        customer=call.site.customer.code,
        equipment=call.equipment.serial if call.equipment else None,
        engineer=call.engineer.code if call.engineer else None,
        at=at,
        **extra,
    )


def engineer_of(session: Session, caller: Caller) -> Engineer | None:
    """The engineer whose user account is calling, if any."""
    return session.scalar(select(Engineer).where(Engineer.user_id == caller.id))


def get_visible_engineer(session: Session, code: str, *, caller: Caller | None) -> Engineer:
    """An engineer by code; to an engineer, every other engineer looks unknown (404): their
    home, van and day are not a colleague's to read."""
    engineer = get_engineer(session, code)
    mine = only_engineer(session, caller)
    if mine is not None and mine != engineer.id:
        raise UnknownKey(f"No engineer {code!r}.", engineer=code)
    return engineer


def get_call(
    session: Session, call_id: int, *, for_update: bool = False, caller: Caller | None = None
) -> Call:
    """One call. An engineer sees only calls assigned to them."""
    unknown = UnknownKey(f"No call {call_id}.", call=call_id)
    return get_scoped(session, Call, call_id, unknown=unknown, for_update=for_update, caller=caller)


@dataclass(frozen=True)
class CallFilter:
    """What a call list is narrowed to; every field is optional."""

    statuses: Sequence[str] = ()
    priority: str | None = None
    kind: str | None = None
    customer: str | None = None
    site: str | None = None
    engineer: str | None = None
    open: bool | None = None
    flag: DeadlineState | None = None


def list_calls(
    session: Session,
    wanted: CallFilter,
    *,
    now: datetime,
    warn_before: timedelta,
    caller: Caller | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[Call]:
    """Calls oldest first, narrowed by ``wanted``; an engineer gets only their own."""
    query = select(Call).join(Call.site).order_by(Call.id).limit(limit)
    mine = only_engineer(session, caller)
    if mine is not None:
        query = query.where(Call.engineer_id == mine)
    if after_id is not None:
        query = query.where(Call.id > after_id)
    if wanted.statuses:
        query = query.where(Call.status.in_(wanted.statuses))
    if wanted.open is not None:
        finished = Call.status.in_([CallStatus.RESOLVED, CallStatus.CLOSED])
        query = query.where(~finished if wanted.open else finished)
    if wanted.priority:
        query = query.where(Call.priority == wanted.priority)
    if wanted.kind:
        query = query.where(Call.kind == wanted.kind)
    if wanted.site:
        query = query.where(Call.site_id == get_site(session, wanted.site).id)
    if wanted.customer:
        query = query.where(Site.customer_id == get_customer(session, wanted.customer).id)
    if wanted.engineer:
        query = query.where(Call.engineer_id == get_engineer(session, wanted.engineer).id)
    if wanted.flag is not None:
        missed = or_(*(_missed(deadline, now) for deadline in Deadline))
        if wanted.flag == DeadlineState.MISSED:
            query = query.where(missed)
        else:
            near = or_(*(_near(deadline, now, warn_before) for deadline in Deadline))
            query = query.where(near, ~missed)
    return list(session.scalars(query).unique())


def _missed(deadline: Deadline, now: datetime) -> ColumnElement[bool]:
    due, met_at = getattr(Call, _DUE[deadline]), getattr(Call, _MET_AT[deadline])
    # Spelled out for NULLs: "met_at > due" alone is unknown, and NOT unknown is not true.
    # On hold, the clock stands at the pause.
    passed = or_(
        and_(Call.held_since.is_(None), due < now),
        and_(Call.held_since.is_not(None), due < Call.held_since),
    )
    return or_(and_(met_at.is_(None), passed), and_(met_at.is_not(None), met_at > due))


def _near(deadline: Deadline, now: datetime, warn_before: timedelta) -> ColumnElement[bool]:
    due, met_at = getattr(Call, _DUE[deadline]), getattr(Call, _MET_AT[deadline])
    # On hold nothing comes near: the clock is stopped.
    return and_(met_at.is_(None), Call.held_since.is_(None), due <= now + warn_before)


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
    audit.record(
        session,
        "sla_policy.changed",
        kind="sla_target",
        key=f"{tier}/{priority}",
        details={
            "response_minutes": response_minutes,
            "onsite_minutes": onsite_minutes,
            "resolve_minutes": resolve_minutes,
            "resolve_working_days": resolve_working_days,
            "round_the_clock": round_the_clock,
        },
    )
    return row
