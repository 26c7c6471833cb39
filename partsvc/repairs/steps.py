"""Taking one step of an RMA's life (R17): each step takes only the fields it needs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from partsvc.auth.identity import Caller
from partsvc.core.errors import InvalidInput
from partsvc.core.worktime import WorkingCalendar
from partsvc.repairs.finishing import complete, ship, start_repair
from partsvc.repairs.models import Rma
from partsvc.repairs.progress import StepIn, advance, required_field
from partsvc.repairs.receiving import receive
from partsvc.repairs.rmas import get_rma
from partsvc.repairs.rules import (
    DEFAULT_TURNAROUND,
    Step,
    TurnaroundPolicy,
    step_status,
)

# What each step takes besides ``at`` and ``note``; anything else is refused (422).
_STEP_FIELDS: dict[Step, frozenset[str]] = {
    Step.RECEIVE: frozenset({"location", "items"}),
    Step.REPAIR: frozenset({"place"}),
    Step.COMPLETE: frozenset({"outcome", "items"}),
    Step.SHIP: frozenset({"location", "engineer"}),
}


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
    """Take one step of an RMA's life (R17); each step takes only what it needs.

    authorize (``note``), reject (``note``: why, required), receive (``location``,
    ``items``), diagnose (``note``: the finding, required), repair (``place``), complete
    (``outcome``; for replaced the ``items`` with their ``replacement_serial``), ship
    (``location``, default where the goods were received), close.

    A loaner out on the customer's site is not the repairs' business: edges take steps
    through ``workflows.repair_steps.take_repair_step``, which keeps the loans in step.
    """
    kind = Step(step)
    takes = _STEP_FIELDS.get(kind, frozenset())
    given = {
        "location": body.location,
        "items": body.items,
        "place": body.place,
        "outcome": body.outcome,
        "engineer": body.engineer,
    }
    extra = sorted(name for name, value in given.items() if value is not None and name not in takes)
    if extra:
        raise InvalidInput(
            f"The {step} step does not take {', '.join(extra)}.",
            errors={name: [f"Not taken by {step}."] for name in extra},
        )
    rma = get_rma(session, number, for_update=True)
    at, note = body.at, body.note
    if kind == Step.RECEIVE:
        return receive(
            session,
            rma,
            location=required_field(body.location, "location", step),
            items=body.items or [],
            now=now,
            calendar=calendar,
            by=by,
            at=at,
            note=note,
            turnaround=turnaround,
        )
    if kind == Step.REPAIR:
        place = required_field(body.place, "place", step)
        return start_repair(session, rma, place=place, now=now, by=by, at=at, note=note)
    if kind == Step.COMPLETE:
        outcome = required_field(body.outcome, "outcome", step)
        return complete(
            session, rma, outcome=outcome, items=body.items or [], now=now, by=by, at=at, note=note
        )
    if kind == Step.SHIP:
        return ship(
            session,
            rma,
            location=body.location,
            engineer=body.engineer,
            zone=calendar.zone,
            now=now,
            by=by,
            at=at,
            note=note,
        )
    if kind in (Step.REJECT, Step.DIAGNOSE):
        required_field(note, "note", step)
    return advance(session, rma, step_status(kind), now=now, by=by, at=at, note=note)
