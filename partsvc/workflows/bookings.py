"""A clerk's bookings as one use case each, for the API and the pages alike.

A move is more than a ledger line: a serial out on loan may only move through its loan,
and stock arriving at a warehouse goes first to the part requests waiting there (R9).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.orm import Session

from partsvc.auth.identity import Caller
from partsvc.inventory import catalog, counts, ledger
from partsvc.inventory.ledger import BookedMove
from partsvc.inventory.models import StockCount
from partsvc.inventory.rules import LocationKind
from partsvc.loans.lending import refuse_if_on_loan
from partsvc.purchasing import orders as purchasing


def book_move(
    session: Session,
    *,
    sku: str,
    qty: int,
    from_code: str,
    to_code: str,
    reason: str,
    now: datetime,
    today: date,
    reference: str | None = None,
    serials: Sequence[str] = (),
    at: datetime | None = None,
    by: Caller | None = None,
) -> BookedMove:
    """Book a move (R1–R4); refused with nothing written if stock would go negative."""
    refuse_if_on_loan(session, serials)
    move = ledger.post_move(
        session,
        sku=sku,
        qty=qty,
        from_code=from_code,
        to_code=to_code,
        reason=reason,
        reference=reference,
        serials=serials,
        at=at,
        now=now,
        by=by,
        ask=purchasing.WAITING_FOR_MOVE,
    )
    serve_waiting_requests(session, move, now=now, today=today)
    return move


def book_reversal(
    session: Session,
    move_id: int,
    *,
    now: datetime,
    today: date,
    reason: str | None = None,
    by: Caller | None = None,
) -> BookedMove:
    """Post the move that undoes ``move_id``; refused if it was reversed already, or if
    it would carry a unit now out on loan (an older move of it, from before the loan)."""
    refuse_if_on_loan(session, catalog.get_move(session, move_id).serials)
    move = ledger.reverse_move(session, move_id, reason=reason, now=now, by=by)
    serve_waiting_requests(session, move, now=now, today=today)
    return move


def serve_waiting_requests(
    session: Session, move: BookedMove, *, now: datetime, today: date
) -> None:
    """Stock booked into a warehouse goes to the part requests waiting there first (R9).

    Whether any waits was asked with the move's ledger line when it was booked by
    ``book_move`` (``purchasing.WAITING_FOR_MOVE``), else it is asked now."""
    if move.to_kind != LocationKind.WAREHOUSE:
        return
    waiting = move.asked if move.asked is not None else None
    if waiting is None:
        waiting = purchasing.requests_waiting(session, move.part_id, move.to_location_id)
    if waiting:
        purchasing.stock_arrived(session, move.part_id, move.to_location_id, now=now, today=today)


def book_count(
    session: Session,
    *,
    location_code: str,
    lines: Sequence[counts.CountedLine],
    now: datetime,
    today: date,
    at: datetime | None = None,
    note: str | None = None,
    by: Caller | None = None,
) -> StockCount:
    """Record a count (R6): differences booked against adjustment; at a warehouse, when
    less is on the shelf than was promised, the least urgent part requests wait again (R9)."""
    counted = {
        line.sku: len(line.serials) if line.serials is not None else line.counted or 0
        for line in lines
    }
    place = catalog.get_location(session, location_code)
    at_warehouse = place.kind == LocationKind.WAREHOUSE
    if at_warehouse:
        purchasing.make_room_for_count(session, place.id, counted)
    count = counts.post_count(
        session, location_code=location_code, lines=lines, at=at, note=note, now=now, by=by
    )
    if at_warehouse:
        purchasing.after_count(session, place.id, counted, now=now, today=today)
    return count
