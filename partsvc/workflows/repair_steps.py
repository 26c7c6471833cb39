"""An RMA's steps with the loans that cover it (R13): a unit out on loan is not received
under an RMA, and the customer's loaner is to collect once their repaired unit ships."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from partsvc.auth.identity import Caller
from partsvc.core.worktime import WorkingCalendar
from partsvc.loans.lending import mark_to_collect, refuse_if_on_loan
from partsvc.repairs.models import Rma
from partsvc.repairs.progress import ReceiveStepIn, ShipStepIn, StepIn
from partsvc.repairs.steps import take_step


def take_repair_step(
    session: Session,
    number: str,
    step: str,
    body: StepIn,
    *,
    now: datetime,
    calendar: WorkingCalendar,
    by: Caller | None = None,
) -> Rma:
    """Take one step of the RMA (``repairs.steps.take_step``) and keep its loans in
    step: a receipt refuses a unit out on loan (it moves only through its loan), and
    shipping the repaired unit back marks the loaner to collect, by the engineer named."""
    if isinstance(body, ReceiveStepIn):
        refuse_if_on_loan(session, [item.serial for item in body.items if item.serial])
    rma = take_step(session, number, step, body, now=now, calendar=calendar, by=by)
    if isinstance(body, ShipStepIn):
        mark_to_collect(session, rma.id, body.engineer)
    return rma
