"""What every step of an RMA shares (R17): its body, the order of statuses, the step's
time, and the record of who took it and when."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from partsvc.auth.identity import Caller
from partsvc.core.businesstime import business_time
from partsvc.core.errors import InvalidInput, InvalidTransition
from partsvc.platform import outbox
from partsvc.repairs.models import Rma, RmaStep
from partsvc.repairs.rules import (
    NEXT_STATUSES,
    RmaStatus,
    can_move,
)


@dataclass(frozen=True)
class StepItem:
    """An item named in a step: what came in (``receive``: a serial, or ``qty`` of a part
    by ``sku``, and whether its accessories and packaging were complete, None meaning no
    list came with it), or what a faulty unit was swapped for (``complete``:
    ``serial`` and ``replacement_serial``)."""

    serial: str | None = None
    sku: str | None = None
    qty: int | None = None
    accessories_complete: bool | None = None
    replacement_serial: str | None = None


@dataclass(frozen=True, kw_only=True)
class StepIn:
    """What every step may carry: when it happened (default now) and a note. Authorize
    and close take no more."""

    at: datetime | None = None
    note: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReasonedStepIn(StepIn):
    """Reject (why) and diagnose (the finding): the note is required."""

    note: str


@dataclass(frozen=True, kw_only=True)
class ReceiveStepIn(StepIn):
    """What came in, into which repair location."""

    location: str
    items: Sequence[StepItem]


@dataclass(frozen=True, kw_only=True)
class RepairStepIn(StepIn):
    """Where it is repaired: in house or at the vendor."""

    place: str


@dataclass(frozen=True, kw_only=True)
class CompleteStepIn(StepIn):
    """Repaired or replaced; for replaced, each swapped unit and its replacement."""

    outcome: str
    items: Sequence[StepItem] = ()


@dataclass(frozen=True, kw_only=True)
class ShipStepIn(StepIn):
    """Back to the customer, from ``location`` (default: where it was received),
    delivered by ``engineer``, who collects the loaner (R13)."""

    location: str | None = None
    engineer: str | None = None


def check_step(rma: Rma, new: RmaStatus) -> None:
    """409 for a step out of order (R17), naming what may come next."""
    if not can_move(rma.status, new):
        raise InvalidTransition(
            f"{rma.number} is {rma.status}; it cannot become {new} now.",
            current_status=rma.status,
            requested_status=str(new),
            next_statuses=sorted(NEXT_STATUSES[RmaStatus(rma.status)]),
        )


def step_time(rma: Rma, at: datetime | None, now: datetime) -> datetime:
    """When a step happened: now, or earlier as a clerk enters it, but not before the
    RMA's previous step."""
    when = business_time(at, now, "at")
    last = max((step.at for step in rma.steps), default=rma.requested_at)
    if when < last:
        raise InvalidInput(
            f"{rma.number}'s last step was at {last.isoformat()}; a later step cannot be "
            "dated before it.",
            errors={"at": ["Before the previous step."]},
        )
    return when


def advance(
    session: Session,
    rma: Rma,
    new: RmaStatus,
    *,
    now: datetime,
    by: Caller | None = None,
    at: datetime | None = None,
    note: str | None = None,
) -> Rma:
    """Move the RMA to ``new`` if R17 allows it, recording who and when."""
    check_step(rma, new)
    when = step_time(rma, at, now)
    return record_step(session, rma, new, when, by, note)


def record_step(
    session: Session,
    rma: Rma,
    status: RmaStatus,
    when: datetime,
    by: Caller | None,
    note: str | None,
) -> Rma:
    rma.status = status
    rma.steps.append(
        RmaStep(status=status, at=when, user_id=by.id if by else None, note=note and note[:2000])
    )
    session.flush()
    outbox.emit(
        session,
        f"rma.{status}",
        subject=f"rma:{rma.id}",
        now=when,
        rma=rma.number,
        status=str(status),
        customer=rma.customer.code,
        site=rma.site.code if rma.site else None,
        call=rma.call_id,
        at=when,
    )
    return rma
