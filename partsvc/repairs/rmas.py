"""RMAs as they are read (R14–R17): look-ups by number, lists with their filters, what
was received where, the sweep's escalation of RMAs past their target (R16) and a
serial's RMA events for its history."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from partsvc.calls.customers import get_customer
from partsvc.core.errors import InvalidInput, UnknownKey
from partsvc.inventory.models import Location, Move
from partsvc.repairs.models import Rma, RmaItem
from partsvc.repairs.rules import (
    TURNAROUND_MET,
)

log = logging.getLogger(__name__)

RECEIPT_REASON = "rma receipt"

SHIPMENT_REASON = "rma shipment"

_NUMBER = re.compile(r"RMA-(\d{1,9})\Z")


@dataclass(frozen=True)
class RmaSerialEvent:
    """One RMA in a serial's history: the serial came back on it (``faulty``) or was sent
    out on it in place of a faulty unit (``replacement``)."""

    rma: str
    status: str
    role: str  # "faulty" or "replacement"
    serial: str
    replacement_serial: str | None
    verdict: str
    verdict_reason: str
    requested_at: datetime
    received_qty: int
    steps: tuple[tuple[str, datetime], ...]


def get_rma(session: Session, number: str, *, for_update: bool = False) -> Rma:
    """The RMA named by its number, ``RMA-000042``; 404 if there is none."""
    match = _NUMBER.match(number)
    rma = None
    if match:
        query = select(Rma).where(Rma.id == int(match.group(1)))
        if for_update and session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(of=Rma)
        rma = session.scalar(query)
    if rma is None:
        raise UnknownKey(f"No RMA {number!r}.", rma=number)
    return rma


def rma_of_customer(session: Session, number: str, customer_id: int) -> Rma:
    """The RMA a loan covers (R13), by its number; it must be that customer's."""
    rma = get_rma(session, number)
    if rma.customer_id != customer_id:
        raise InvalidInput(
            f"{number} is another customer's RMA.", errors={"rma": ["Another customer's."]}
        )
    return rma


def list_rmas(
    session: Session,
    *,
    now: datetime,
    status: str | None = None,
    overdue: bool | None = None,
    customer: str | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[Rma]:
    """RMAs oldest first; ``overdue=true``: those past their turnaround target and not yet
    shipped, closed or rejected (R16); ``overdue=false``: all the others."""
    query = select(Rma).order_by(Rma.id).limit(limit)
    if after_id is not None:
        query = query.where(Rma.id > after_id)
    if status is not None:
        query = query.where(Rma.status == status)
    if customer is not None:
        query = query.where(Rma.customer_id == get_customer(session, customer).id)
    if overdue is not None:
        late = _overdue_clause(now)
        query = query.where(late if overdue else ~late)
    return list(session.scalars(query).unique())


def _overdue_clause(now: datetime) -> ColumnElement[bool]:
    return (
        Rma.due_at.is_not(None)
        & (Rma.due_at < now)
        & Rma.status.not_in([str(status) for status in TURNAROUND_MET])
    )


def item_label(item: RmaItem) -> str:
    """How an item is named to a person: its serial, or the quantity and SKU."""
    return item.serial or f"{item.qty} x {item.part.sku}"


def received_into(session: Session, rma: Rma) -> Location | None:
    """The repair location the RMA's goods were last received into (from the ledger)."""
    move = session.scalar(
        select(Move)
        .where(Move.reference == rma.number, Move.reason == RECEIPT_REASON)
        .order_by(Move.id.desc())
        .limit(1)
    )
    return move.to_location if move else None


def escalate_overdue_rmas(session: Session, now: datetime) -> list[int]:
    """Escalate each RMA past its turnaround target, once: ``escalated_at`` is set and a
    warning logged. Running it again, or beside another sweep, escalates nothing twice."""
    candidates = session.scalars(
        select(Rma).where(_overdue_clause(now), Rma.escalated_at.is_(None)).order_by(Rma.id)
    ).all()
    escalated = []
    for rma in candidates:
        result = session.execute(
            update(Rma)
            .where(Rma.id == rma.id, Rma.escalated_at.is_(None))
            .values(escalated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            continue
        session.expire(rma, ["escalated_at"])
        escalated.append(rma.id)
        assert rma.due_at is not None
        log.warning(
            "%s (%s, %s) missed its turnaround target %s; escalated",
            rma.number,
            rma.customer.code,
            rma.status,
            rma.due_at.isoformat(),
        )
    return escalated


def rma_events_for_serial(session: Session, serial: str) -> list[RmaSerialEvent]:
    """The RMAs a serial came back on, or went out on as a replacement, oldest first."""
    rows = session.execute(
        select(RmaItem, Rma)
        .join(Rma, Rma.id == RmaItem.rma_id)
        .where((RmaItem.serial == serial) | (RmaItem.replacement_serial == serial))
        .order_by(Rma.id, RmaItem.id)
    ).all()
    events = []
    for item, rma in rows:
        faulty = item.serial == serial
        events.append(
            RmaSerialEvent(
                rma=rma.number,
                status=rma.status,
                role="faulty" if faulty else "replacement",
                serial=item.serial or serial,
                replacement_serial=item.replacement_serial,
                verdict=item.verdict,
                verdict_reason=item.verdict_reason,
                requested_at=rma.requested_at,
                received_qty=item.received_qty,
                steps=tuple((step.status, step.at) for step in rma.steps),
            )
        )
    return events
