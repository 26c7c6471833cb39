"""Completing a call on site (R23): the work done, the parts consumed from the van, a
loaner placed, the faulty unit taken back under a new RMA, and both sides' signatures.

All of it happens in one transaction or none of it does: a part the van does not hold, a
loaner that is not on the van, or a call not yet on site refuses the whole completion.
The engineer's page and ``POST /api/v1/calls/{id}/completion`` both complete through
``complete_call``; it is the only way a call becomes resolved (the bare status change to
resolved is refused without a service record).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.auth.identity import Caller
from partsvc.calls.calls import change_call_status, get_call
from partsvc.calls.models import ServiceRecord
from partsvc.calls.rules import CallStatus
from partsvc.core.businesstime import business_time
from partsvc.core.errors import Conflict, InvalidInput, InvalidTransition
from partsvc.core.worktime import WorkingCalendar
from partsvc.inventory.catalog import get_unit
from partsvc.inventory.ledger import post_move
from partsvc.loans.lending import lend
from partsvc.repairs.intake import ItemIn, create_rma

CONSUMED = "consumed on call"


@dataclass(frozen=True)
class PartUsed:
    sku: str
    qty: int


def complete_call(
    session: Session,
    call_id: int,
    *,
    work_done: str,
    signed_by: str,
    now: datetime,
    calendar: WorkingCalendar,
    consumed: Sequence[PartUsed] = (),
    loaner: str | None = None,
    taken_back: str | None = None,
    engineer_signed_by: str | None = None,
    at: datetime | None = None,
    by: Caller | None = None,
) -> ServiceRecord:
    """Resolve a call the engineer is on site for, with its service record.

    ``signed_by`` is the customer's name as signed, ``engineer_signed_by`` the engineer's
    (the call's engineer's name if not given). ``taken_back`` is the serial of the
    customer's unit going in for repair: an RMA is requested for it, and a ``loaner``
    placed at the same time is lent against that RMA. ``at`` is when the work finished
    (now if not given): the moves, the loan, the RMA and the resolved status carry it.
    """
    call = get_call(session, call_id, for_update=True, caller=by)
    if call.status != CallStatus.ON_SITE:
        raise InvalidTransition(
            f"Call {call_id} is {call.status.replace('_', ' ')}: a call is completed on site.",
            call=call_id,
            current_status=call.status,  # "status" is the problem's HTTP status
        )
    if not work_done.strip() or not signed_by.strip():
        raise InvalidInput(
            "Say what was done and who signed for the customer.",
            errors={"work_done": ["Required."], "signed_by": ["Required."]},
        )
    if engineer_signed_by is not None and not engineer_signed_by.strip():
        raise InvalidInput(
            "Say who signed for the service team.",
            errors={"engineer_signed_by": ["Blank."]},
        )
    engineer = call.engineer
    if engineer is None or engineer.van is None:
        raise InvalidInput(f"Call {call_id} has no engineer with a van to book parts from.")
    if session.scalar(select(ServiceRecord.id).where(ServiceRecord.call_id == call_id)):
        raise InvalidTransition(f"Call {call_id} already has its service record.")
    when = business_time(at, now, "at")
    if when < call.history[-1].at:
        raise InvalidInput(
            "A call is completed after it was reached on site.", errors={"at": ["Too early."]}
        )
    site = call.site
    for used in consumed:
        post_move(
            session,
            sku=used.sku,
            qty=used.qty,
            from_code=engineer.van.code,
            to_code=site.code,  # a site's ledger location has its code
            reason=CONSUMED,
            reference=f"call {call_id}",
            at=when,
            now=now,
            by=by,
        )
    rma = None
    if taken_back:
        rma = create_rma(
            session,
            customer=site.customer.code,
            items=[ItemIn(serial=taken_back)],
            fault=call.description or work_done,
            site=site.code,
            call=call_id,
            requested_at=when,
            now=now,
            calendar=calendar,
            by=by,
        )
    loan = None
    if loaner:
        unit = get_unit(session, loaner)
        if unit.location_id != engineer.van.id:
            raise Conflict(
                f"Loaner {loaner} is at {unit.location.code}, not on {engineer.van.code}: "
                "place a loaner from your van.",
                serial=loaner,
                location=unit.location.code,
            )
        loan = lend(
            session,
            serial=loaner,
            site=site.code,
            call=call_id,
            engineer=engineer.code,
            rma_id=rma.id if rma is not None else None,
            out_at=when,
            now=now,
            by=by,
        )
    record = ServiceRecord(
        call_id=call_id,
        engineer_id=engineer.id,
        work_done=work_done.strip(),
        signed_by=signed_by.strip(),
        engineer_signed_by=(engineer_signed_by or engineer.name).strip(),
        finished_at=when,
        loan_id=loan.id if loan is not None else None,
        rma_id=rma.id if rma is not None else None,
        recorded_by_id=by.id if by is not None else None,
    )
    session.add(record)
    session.flush()  # the record first: a call is resolved only with its service record
    change_call_status(session, call_id, CallStatus.RESOLVED, at=when, now=now, by=by)
    session.flush()
    return record
