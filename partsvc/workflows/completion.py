"""Completing a call on site (R23): the work done, the parts consumed from the van, a
loaner placed, the faulty unit taken back under a new RMA, and the customer's signature.

All of it happens in one transaction or none of it does: a part the van does not hold, a
loaner that is not on the van, or a call not yet on site refuses the whole completion.
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
    by: Caller | None = None,
) -> ServiceRecord:
    """Resolve a call the engineer is on site for, with its service record.

    ``taken_back`` is the serial of the customer's unit going in for repair: an RMA is
    requested for it, and a ``loaner`` placed at the same time is lent against that RMA.
    """
    call = get_call(session, call_id, for_update=True, caller=by)
    if call.status != CallStatus.ON_SITE:
        raise InvalidTransition(
            f"Call {call_id} is {call.status.replace('_', ' ')}: a call is completed on site.",
            call=call_id,
            status=call.status,
        )
    if not work_done.strip() or not signed_by.strip():
        raise InvalidInput(
            "Say what was done and who signed for the customer.",
            errors={"work_done": ["Required."], "signed_by": ["Required."]},
        )
    engineer = call.engineer
    if engineer is None or engineer.van is None:
        raise InvalidInput(f"Call {call_id} has no engineer with a van to book parts from.")
    if session.scalar(select(ServiceRecord.id).where(ServiceRecord.call_id == call_id)):
        raise InvalidTransition(f"Call {call_id} already has its service record.")
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
            now=now,
            by=by,
        )
    record = ServiceRecord(
        call_id=call_id,
        engineer_id=engineer.id,
        work_done=work_done.strip(),
        signed_by=signed_by.strip(),
        finished_at=now,
        loan_id=loan.id if loan is not None else None,
        rma_id=rma.id if rma is not None else None,
        recorded_by_id=by.id if by is not None else None,
    )
    session.add(record)
    change_call_status(session, call_id, CallStatus.RESOLVED, now=now, by=by)
    session.flush()
    return record
