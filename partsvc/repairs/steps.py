"""Taking one step of an RMA's life (R17): each step has its own typed input."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from partsvc.auth.identity import Caller
from partsvc.core.errors import InvalidInput
from partsvc.core.worktime import WorkingCalendar
from partsvc.repairs.finishing import complete, ship, start_repair
from partsvc.repairs.models import Rma
from partsvc.repairs.progress import (
    CompleteStepIn,
    ReasonedStepIn,
    ReceiveStepIn,
    RepairStepIn,
    ShipStepIn,
    StepIn,
    advance,
)
from partsvc.repairs.receiving import receive
from partsvc.repairs.rmas import get_rma
from partsvc.repairs.rules import (
    DEFAULT_TURNAROUND,
    Step,
    TurnaroundPolicy,
    step_status,
)

STEP_INPUTS: dict[Step, type[StepIn]] = {
    Step.AUTHORIZE: StepIn,
    Step.REJECT: ReasonedStepIn,
    Step.RECEIVE: ReceiveStepIn,
    Step.DIAGNOSE: ReasonedStepIn,
    Step.REPAIR: RepairStepIn,
    Step.COMPLETE: CompleteStepIn,
    Step.SHIP: ShipStepIn,
    Step.CLOSE: StepIn,
}
"""The input each step takes; the API's schema for a step builds exactly this."""


def take_step(
    session: Session,
    number: str,
    step: str,
    body: StepIn,
    *,
    now: datetime,
    calendar: WorkingCalendar,
    by: Caller | None = None,
    turnaround: TurnaroundPolicy = DEFAULT_TURNAROUND,
) -> Rma:
    """Take one step of an RMA's life (R17) with that step's input (``STEP_INPUTS``).

    A loaner out on the customer's site is not the repairs' business: edges take steps
    through ``workflows.repair_steps.take_repair_step``, which keeps the loans in step.
    """
    kind = Step(step)
    if type(body) is not STEP_INPUTS[kind]:
        raise InvalidInput(
            f"The {kind} step takes a {STEP_INPUTS[kind].__name__}, not a {type(body).__name__}."
        )
    rma = get_rma(session, number, for_update=True)
    taken: dict[str, Any] = {"now": now, "by": by, "at": body.at, "note": body.note}
    match body:
        case ReceiveStepIn():
            return receive(
                session,
                rma,
                location=body.location,
                items=body.items,
                calendar=calendar,
                turnaround=turnaround,
                **taken,
            )
        case RepairStepIn():
            return start_repair(session, rma, place=body.place, **taken)
        case CompleteStepIn():
            return complete(session, rma, outcome=body.outcome, items=body.items, **taken)
        case ShipStepIn(location=origin, engineer=courier):
            return ship(
                session, rma, location=origin, engineer=courier, zone=calendar.zone, **taken
            )
    return advance(session, rma, step_status(kind), **taken)
