"""A customer reports a fault from a unit's label, follows the call and rates the visit
(issue 26). The call opens with its contract's SLA deadlines (R20) and the priority the
customer's words propose, marked unconfirmed until a dispatcher confirms it."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.audit import trail as audit
from partsvc.auth.identity import Caller
from partsvc.calls.calls import get_call, report_call, target_for
from partsvc.calls.models import Call, Equipment
from partsvc.calls.photos import MAX_PHOTOS, CleanPhoto, PhotoRefused, store_photo
from partsvc.calls.report_models import CallPhoto, FaultReport
from partsvc.calls.rules import CallStatus, Priority, deadlines
from partsvc.core.errors import Conflict, InvalidInput
from partsvc.core.worktime import WorkingCalendar

PROPOSED = {"down": Priority.P1, "partial": Priority.P2, "other": Priority.P3}
"""The priority a customer's urgency proposes: 停机 P1, 部分功能 P2, anything else P3."""
FINISHED = (CallStatus.RESOLVED, CallStatus.CLOSED)
RATED_WHEN = FINISHED

_MOBILE = re.compile(r"(?:\+?86)?1[3-9]\d{9}")
_SERVICE = re.compile(r"[48]00\d{7}")
_LANDLINE = re.compile(r"(?:\+?86-?)?0[1-9]\d{1,2}-?\d{7,8}(?:(?:-|转|ext|#)\d{1,6})?")


def china_phone(text: str) -> str | None:
    """A mainland mobile (139 1234 5678), a landline with its area code (021-61234567,
    an extension after 转 or -) or a 400/800 number, without spaces; None if it is none
    of these."""
    compact = re.sub(r"[\s()（）]", "", text or "")
    if _MOBILE.fullmatch(compact.replace("-", "")) or _SERVICE.fullmatch(compact.replace("-", "")):
        return compact
    return compact if _LANDLINE.fullmatch(compact) else None


def tracking_url(call: Call, public_url: str = "") -> str:
    """The call's tracking page, ``{public_url}/t/{tracking}``: what a message to the
    customer links to (call received, engineer en route, resolved with the rating link).
    A call opened by staff gets its random tracking id here, the first time it is asked."""
    if call.tracking_code is None:
        call.tracking_code = new_tracking_code()
    return f"{public_url.rstrip('/')}/t/{call.tracking_code}"


def new_tracking_code() -> str:
    """192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class FaultReportIn:
    contact_name: str
    contact_phone: str
    urgency: str
    description: str


@dataclass(frozen=True)
class Reported:
    call: Call
    report: FaultReport
    joined: bool


def open_call_of(session: Session, unit: Equipment) -> Call | None:
    """The unit's open corrective call, if any: a second report joins it."""
    return session.scalar(
        select(Call)
        .where(
            Call.equipment_id == unit.id,
            Call.status.not_in(FINISHED),
            Call.kind == "corrective",
        )
        .order_by(Call.id)
        .limit(1)
    )


def report_fault(
    session: Session,
    unit: Equipment,
    wanted: FaultReportIn,
    photos: Sequence[CleanPhoto],
    *,
    folder: Path,
    calendar: WorkingCalendar,
    now: datetime,
) -> Reported:
    """Open a call for the unit, or join the open one, with the report and its photos."""
    phone = china_phone(wanted.contact_phone)
    if phone is None:
        raise InvalidInput(
            "Not a mainland China mobile or landline number.",
            errors={"contact_phone": ["Not a phone number."]},
        )
    if wanted.urgency not in PROPOSED:
        raise InvalidInput("Unknown urgency.", errors={"urgency": ["Unknown."]})
    if len(photos) > MAX_PHOTOS:
        raise PhotoRefused("too_many", f"At most {MAX_PHOTOS} photos.", "")
    call = open_call_of(session, unit)
    joined = call is not None
    if call is None:
        call = report_call(
            session,
            site=unit.site.code,
            equipment=unit.serial,
            priority=PROPOSED[wanted.urgency],
            calendar=calendar,
            now=now,
            description=wanted.description,
        )
        call.contact_name = wanted.contact_name
        call.contact_phone = phone
        call.priority_confirmed = False
        call.tracking_code = new_tracking_code()
    elif call.tracking_code is None:  # an open call staff reported: now the customer follows it
        call.tracking_code = new_tracking_code()
    if call.contact_name is None:
        call.contact_name, call.contact_phone = wanted.contact_name, phone
    report = FaultReport(
        call_id=call.id,
        equipment_id=unit.id,
        reported_at=now,
        contact_name=wanted.contact_name,
        contact_phone=phone,
        urgency=wanted.urgency,
        description=wanted.description,
        joined=joined,
    )
    session.add(report)
    session.flush()
    for photo in photos:
        session.add(
            CallPhoto(
                call_id=call.id,
                report_id=report.id,
                stored_as=store_photo(folder, photo),
                content_type=photo.content_type,
                width=photo.width,
                height=photo.height,
                size_bytes=len(photo.data),
            )
        )
    session.flush()
    audit.record(
        session,
        "call.report_joined" if joined else "call.reported_by_customer",
        kind="call",
        key=call.id,
        details={"serial": unit.serial, "urgency": wanted.urgency, "photos": len(photos)},
    )
    return Reported(call, report, joined)


def confirm_priority(
    session: Session,
    call_id: int,
    priority: str,
    *,
    calendar: WorkingCalendar,
    now: datetime,
    by: Caller | None,
) -> Call:
    """A dispatcher confirms (or changes) the priority a customer's report proposed, or of
    any open call. A change sets the deadlines the contract gives the new priority, from
    the report (R20)."""
    call = get_call(session, call_id, for_update=True, caller=by)
    if call.status in FINISHED:
        raise Conflict(
            f"Call {call_id} is {call.status}; its priority is kept as it was.",
            current_status=call.status,
        )
    proposed = call.priority
    if priority != proposed:
        due = deadlines(target_for(session, call.tier, priority), call.reported_at, calendar)
        call.response_due = due.response_due.astimezone(UTC)
        call.onsite_due = due.onsite_due.astimezone(UTC)
        call.resolve_due = due.resolve_due.astimezone(UTC)
        call.priority = priority
    call.priority_confirmed = True
    session.flush()
    audit.record(
        session,
        "call.priority_confirmed",
        kind="call",
        key=call.id,
        details={"proposed": proposed, "priority": priority, "at": now},
    )
    return call


def call_for_tracking(session: Session, tracking: str) -> Call | None:
    """The call a tracking id names, or None: nothing tells a wrong id from a missing one."""
    if not tracking or len(tracking) > 64:
        return None
    return session.scalar(select(Call).where(Call.tracking_code == tracking))


def rate_call(session: Session, call: Call, *, score: int, note: str | None, now: datetime) -> Call:
    """The customer's rating of a resolved call (R25), once; the month's satisfaction
    counts it (``workflows.month_figures``)."""
    if call.status not in RATED_WHEN:
        raise Conflict(f"Call {call.id} is {call.status}; it is rated once resolved.")
    if call.satisfaction is not None:
        raise Conflict(f"Call {call.id} is already rated.", satisfaction=call.satisfaction)
    if not 1 <= score <= 5:
        raise InvalidInput("A rating is 1 to 5.", errors={"score": ["1 to 5."]})
    call.satisfaction = score
    call.satisfaction_note = note
    call.satisfaction_at = now
    session.flush()
    audit.record(
        session, "call.rated_by_customer", kind="call", key=call.id, details={"score": score}
    )
    return call


def warranty_state(unit: Equipment, today: date) -> tuple[str, date | None]:
    """``warranty`` (until a day), ``maintenance`` (a contract until a day) or ``none``."""
    if today <= unit.warranty_until:
        return "warranty", unit.warranty_until
    if today <= unit.maintenance_until:
        return "maintenance", unit.maintenance_until
    return "none", None


def photos_of(session: Session, call_id: int) -> list[CallPhoto]:
    return list(
        session.scalars(
            select(CallPhoto).where(CallPhoto.call_id == call_id).order_by(CallPhoto.id)
        )
    )


def reports_of(session: Session, call_id: int) -> list[FaultReport]:
    return list(
        session.scalars(
            select(FaultReport).where(FaultReport.call_id == call_id).order_by(FaultReport.id)
        )
    )
