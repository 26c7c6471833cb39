"""Pausing a call's SLA clocks (R22): on hold for a reason on the customer's side, resumed
later; the deadlines still running move by the working time paused.

Every pause and every resume is kept on the call with who, when and why, and audited.
Waiting for parts is not a reason: that delay is ours and the clock runs on.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from partsvc.audit import trail as audit
from partsvc.auth.identity import Caller
from partsvc.calls.calls import _DUE, _MET_AT, get_call, target_for
from partsvc.calls.models import Call, CallHold
from partsvc.calls.rules import CallStatus, Deadline, HoldReason, after_pause
from partsvc.core.businesstime import business_time
from partsvc.core.errors import InvalidInput, InvalidTransition
from partsvc.core.worktime import WorkingCalendar

FINISHED = frozenset({CallStatus.RESOLVED, CallStatus.CLOSED})


def pause_call(
    session: Session,
    call_id: int,
    *,
    reason: str,
    now: datetime,
    note: str | None = None,
    at: datetime | None = None,
    by: Caller | None = None,
) -> Call:
    """Put a call on hold from ``at`` (now if not given): its clocks stop until resumed.
    A finished call, or one already on hold, is a 409."""
    call = get_call(session, call_id, for_update=True, caller=by)
    hold_reason = HoldReason(reason)
    if call.status in FINISHED:
        raise InvalidTransition(
            f"Call {call_id} is {call.status}: only a call still running can be put on hold.",
            current_status=call.status,
        )
    if call.held_since is not None:
        raise InvalidTransition(
            f"Call {call_id} is already on hold since {call.held_since.isoformat()} "
            f"({call.holds[-1].reason.replace('_', ' ')}).",
            on_hold_since=call.held_since.isoformat(),
        )
    when = business_time(at, now, "at")
    last = max([call.history[-1].at, *(h.resumed_at for h in call.holds if h.resumed_at)])
    if when < last:
        raise InvalidInput(
            "A pause cannot be dated before the call's last step or resume.",
            errors={"at": ["Too early."]},
        )
    session.add(
        CallHold(
            call_id=call.id,
            reason=hold_reason,
            note=note,
            paused_at=when,
            paused_by_id=by.id if by else None,
        )
    )
    call.held_since = when
    session.flush()
    audit.record(
        session,
        "call.paused",
        kind="call",
        key=call.id,
        details={"reason": hold_reason.value, "note": note, "at": when},
    )
    session.refresh(call, ["holds"])
    return call


def resume_call(
    session: Session,
    call_id: int,
    *,
    now: datetime,
    calendar: WorkingCalendar,
    note: str | None = None,
    at: datetime | None = None,
    by: Caller | None = None,
) -> Call:
    """Restart a call's clocks from ``at`` (now if not given). Each deadline still running
    when it was paused moves by the working time paused, on the call's own clock (24×7
    where its SLA target says so); a call not on hold is a 409."""
    call = get_call(session, call_id, for_update=True, caller=by)
    if call.held_since is None:
        raise InvalidTransition(
            f"Call {call_id} is not on hold: only a paused clock resumes.",
            current_status=call.status,
        )
    hold = call.holds[-1]
    when = business_time(at, now, "at")
    if when < hold.paused_at:
        raise InvalidInput(
            "A call resumes after it was paused.", errors={"at": ["Before the pause."]}
        )
    target = target_for(session, call.tier, call.priority)
    clock = WorkingCalendar.always_open(calendar.timezone) if target.round_the_clock else calendar
    paused = clock.working_time_between(hold.paused_at, when)
    moved = {}
    for deadline in Deadline:
        due: datetime = getattr(call, _DUE[deadline])
        met_at: datetime | None = getattr(call, _MET_AT[deadline])
        later = after_pause(due, met_at, hold.paused_at, when, clock).astimezone(UTC)
        if later != due:
            setattr(call, _DUE[deadline], later)
            moved[deadline.value] = {"from": due, "to": later}
    hold.resumed_at = when
    hold.resumed_by_id = by.id if by else None
    hold.resume_note = note
    hold.paused_seconds = int(paused.total_seconds())
    call.held_since = None
    session.flush()
    audit.record(
        session,
        "call.resumed",
        kind="call",
        key=call.id,
        details={
            "reason": hold.reason,
            "paused_at": hold.paused_at,
            "at": when,
            "note": note,
            "paused_working_minutes": hold.paused_seconds // 60,
            "deadlines": moved,
        },
    )
    session.refresh(call, ["holds"])
    return call
