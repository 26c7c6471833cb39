"""One serial's whole story (R18): every move, loan, RMA and service call, and the faulty →
replacement link when a unit was swapped. A read model across the modules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.calls.models import Call, Equipment
from partsvc.core.errors import UnknownKey
from partsvc.inventory.catalog import hidden_from
from partsvc.inventory.ledger_reads import list_moves
from partsvc.inventory.models import Unit
from partsvc.loans.models import Loan
from partsvc.repairs.rmas import RmaSerialEvent, rma_events_for_serial

HISTORY_LIMIT = 500


@dataclass(frozen=True)
class SerialHistory:
    serial: str
    unit: Unit | None  # None: a customer's unit that never passed through our stock
    equipment: Equipment | None
    moves: list[Any]
    loans: list[Loan]
    rmas: list[RmaSerialEvent]
    calls: list[Call]
    replaced_by: str | None  # the unit that took this one's place
    replaces: str | None  # the faulty unit this one replaced


def serial_history(
    session: Session, serial: str, *, only_engineer: int | None = None
) -> SerialHistory:
    """Everything known of ``serial``; 404 if nothing is. ``only_engineer`` narrows the
    calls and loans to that engineer's (engineers see their own), drops the moves through
    other engineers' vans, and makes a unit in another engineer's van unknown."""
    if "\x00" in serial:  # PostgreSQL text cannot hold NUL: no serial has one
        raise UnknownKey(f"Nothing is known of serial {serial!r}.", serial=serial)
    unit = session.scalar(select(Unit).where(Unit.serial == serial))
    equipment = session.scalar(select(Equipment).where(Equipment.serial == serial))
    rmas = rma_events_for_serial(session, serial)
    if unit is None and equipment is None and not rmas:
        raise UnknownKey(f"Nothing is known of serial {serial!r}.", serial=serial)
    if unit is not None and hidden_from(unit.location, only_engineer):
        raise UnknownKey(f"Nothing is known of serial {serial!r}.", serial=serial)
    loans = []
    if unit is not None:
        query = select(Loan).where(Loan.unit_id == unit.id).order_by(Loan.id)
        if only_engineer is not None:  # engineers see the loans they placed
            query = query.where(Loan.engineer_id == only_engineer)
        loans = list(session.scalars(query))
    calls: list[Call] = []
    if equipment is not None:
        calls = [
            call
            for call in equipment.calls
            if only_engineer is None or call.engineer_id == only_engineer
        ]
    faulty = [event for event in rmas if event.role == "faulty" and event.replacement_serial]
    replacing = [event for event in rmas if event.role == "replacement"]
    return SerialHistory(
        serial=serial,
        unit=unit,
        equipment=equipment,
        moves=[
            move
            for move in (list_moves(session, serial=serial, limit=HISTORY_LIMIT) if unit else [])
            if not hidden_from(move.from_location, only_engineer)
            and not hidden_from(move.to_location, only_engineer)
        ],
        loans=loans,
        rmas=rmas,
        calls=calls,
        replaced_by=faulty[-1].replacement_serial if faulty else None,
        replaces=replacing[-1].serial if replacing else None,
    )
