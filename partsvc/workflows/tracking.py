"""What a customer's tracking page shows of their call (issue 26), gathered across the
domains: the call's steps, the engineer once en route with the arrival the published plan
expects, parts awaited with their ETAs and each change, a loaner's due date, an RMA's
state. Only this call's own rows are read: nothing of another call, unit or customer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.calls.models import Call, CallStatusChange, ServiceRecord
from partsvc.calls.rules import CallStatus
from partsvc.loans.models import Loan
from partsvc.purchasing.models import PartRequest
from partsvc.repairs.models import Rma
from partsvc.routing.models import DayPlan, PlanRoute, PlanStatus, PlanStop

NAMED_FROM = (
    CallStatus.EN_ROUTE,
    CallStatus.ON_SITE,
    CallStatus.WAITING_FOR_PARTS,
    CallStatus.RESOLVED,
    CallStatus.CLOSED,
)
"""The engineer's name is shown once they set off."""


@dataclass(frozen=True)
class PartAwaited:
    name: str
    qty: int
    eta: date | None
    eta_changes: list[tuple[date, date, datetime]] = field(default_factory=list)
    """Each change of the ETA: from, to, when."""


@dataclass(frozen=True)
class Tracking:
    call: Call
    steps: list[CallStatusChange]
    engineer_name: str | None
    expected_arrival: datetime | None
    parts: list[PartAwaited]
    loan_due: datetime | None
    rma_status: str | None
    rma_number: str | None
    has_record: bool
    can_rate: bool


def tracking_of(session: Session, call: Call) -> Tracking:
    status = CallStatus(call.status)
    rma = _rma(session, call.id)
    named = status in NAMED_FROM and call.engineer is not None
    return Tracking(
        call=call,
        steps=list(call.history),
        engineer_name=call.engineer.name if named and call.engineer else None,
        expected_arrival=_expected_arrival(session, call)
        if status == CallStatus.EN_ROUTE
        else None,
        parts=_parts_awaited(session, call.id),
        loan_due=session.scalar(
            select(Loan.due_at)
            .where(Loan.call_id == call.id, Loan.returned_at.is_(None))
            .order_by(Loan.id.desc())
            .limit(1)
        ),
        rma_status=rma.status if rma else None,
        rma_number=rma.number if rma else None,
        has_record=session.scalar(select(ServiceRecord.id).where(ServiceRecord.call_id == call.id))
        is not None,
        can_rate=status in (CallStatus.RESOLVED, CallStatus.CLOSED) and call.satisfaction is None,
    )


def _expected_arrival(session: Session, call: Call) -> datetime | None:
    """When the published plan has the call's engineer arrive."""
    if call.engineer_id is None:
        return None
    arrival: datetime | None = session.scalar(
        select(PlanStop.arrive_at)
        .join(PlanRoute, PlanStop.route_id == PlanRoute.id)
        .join(DayPlan, PlanRoute.plan_id == DayPlan.id)
        .where(
            PlanStop.call_id == call.id,
            PlanStop.kind == "call",
            PlanRoute.engineer_id == call.engineer_id,
            DayPlan.status == PlanStatus.PUBLISHED,
        )
        .order_by(DayPlan.day.desc())
        .limit(1)
    )
    return arrival


def _parts_awaited(session: Session, call_id: int) -> list[PartAwaited]:
    requests = session.scalars(
        select(PartRequest)
        .where(PartRequest.call_id == call_id, PartRequest.status == "backordered")
        .order_by(PartRequest.id)
    ).all()
    awaited = []
    for request in requests:
        line = request.line
        awaited.append(
            PartAwaited(
                name=request.part.name,
                qty=request.waiting_qty,
                eta=line.eta if line else None,
                eta_changes=[(c.old_eta, c.new_eta, c.at) for c in line.eta_changes]
                if line
                else [],
            )
        )
    return awaited


def _rma(session: Session, call_id: int) -> Rma | None:
    return (
        session.scalars(select(Rma).where(Rma.call_id == call_id).order_by(Rma.id.desc()))
        .unique()
        .first()
    )
