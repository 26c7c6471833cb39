"""Vendor orders as every edge changes them: kept in step with the part requests waiting
on them (the book itself is ``order_book.py``).

An order created, sent, re-dated, received, closed or cancelled changes what waiting
requests wait on. Each function here takes the waiting-requests lock for the parts it
touches, does the order's half, then brings the requests up to date (``rebalance``), all in
the caller's one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from partsvc.auth.identity import Caller
from partsvc.inventory.catalog import get_part
from partsvc.inventory.ledger import MOVE_PART, MOVE_TO
from partsvc.inventory.models import StockLevel
from partsvc.purchasing import order_book as orders
from partsvc.purchasing.models import PartRequest, Receipt, VendorOrder, VendorOrderLine
from partsvc.purchasing.order_book import (
    LineIn,
    ReceivedLine,
    get_order,
    is_late,
    list_orders,
)
from partsvc.purchasing.requests import (
    WAITING,
    cancel_request,
    get_request,
    hold_requests,
    issue_request,
    list_requests,
    make_room,
    rebalance,
    request_part,
)

__all__ = [
    "LineIn",
    "ReceivedLine",
    "cancel_order",
    "cancel_request",
    "change_eta",
    "close_order",
    "create_order",
    "get_order",
    "get_request",
    "is_late",
    "issue_request",
    "list_orders",
    "list_requests",
    "receive",
    "request_part",
    "requests_waiting",
    "reverse_receipt",
    "send_order",
    "stock_arrived",
]


def _destination(session: Session, order: VendorOrder) -> int | None:
    """Where the order's parts go: its warehouse, or the only one there is."""
    if order.deliver_to_id is not None:
        return order.deliver_to_id
    only = orders.default_warehouse(session)
    return only.id if only else None


def _rebalance_order(session: Session, order: VendorOrder, now: datetime, today: date) -> None:
    destination = _destination(session, order)
    if destination is None:
        return
    for part_id in sorted({line.part_id for line in order.lines}):
        rebalance(session, part_id, destination, now=now, today=today)


def _hold(session: Session, order: VendorOrder) -> None:
    destination = _destination(session, order)
    if destination is not None:
        hold_requests(session, {line.part_id for line in order.lines}, destination)


@contextmanager
def _requests_follow(
    session: Session, number: str, now: datetime, today: date
) -> Iterator[VendorOrder]:
    """Hold the requests waiting on order ``number``'s parts, let the body change the
    order, then lay the requests over its lines again."""
    order = get_order(session, number)
    _hold(session, order)
    yield order
    _rebalance_order(session, order, now, today)


def create_order(
    session: Session,
    *,
    vendor: str,
    lines: Sequence[LineIn],
    now: datetime,
    today: date,
    status: str = orders.OrderStatus.SENT,
    deliver_to: str | None = None,
    note: str | None = None,
    by: Caller | None = None,
) -> VendorOrder:
    """A vendor order; requests waiting for want of a line, or for a sooner one, take it."""
    order = orders.create_vendor_order(
        session,
        vendor=vendor,
        lines=lines,
        now=now,
        status=status,
        deliver_to=deliver_to,
        note=note,
        by=by,
    )
    _hold(session, order)
    _rebalance_order(session, order, now, today)
    return order


def send_order(session: Session, number: str, *, now: datetime, today: date) -> VendorOrder:
    """Send a draft; a line whose ETA the vendor's lead time can no longer meet is moved to
    today + lead time (kept as an ETA change), and its requests follow."""
    with _requests_follow(session, number, now, today):
        return orders.send_order(session, number, now=now, today=today)


def change_eta(
    session: Session,
    number: str,
    line_id: int,
    *,
    eta: date,
    now: datetime,
    today: date,
    reason: str | None = None,
    by: Caller | None = None,
) -> VendorOrderLine:
    """A new ETA for a line; the requests waiting on it show it, and the queue is laid
    over the lines again (the most urgent request waits on the soonest)."""
    with _requests_follow(session, number, now, today):
        return orders.change_eta(session, number, line_id, eta=eta, now=now, reason=reason, by=by)


def receive(
    session: Session,
    number: str,
    *,
    location: str,
    lines: Sequence[ReceivedLine],
    now: datetime,
    today: date,
    at: datetime | None = None,
    by: Caller | None = None,
) -> Receipt:
    """Book a receipt in (R8), then reserve it for the requests waiting at that warehouse,
    most urgent first, whichever order they waited on (R9)."""
    with _requests_follow(session, number, now, today):
        return orders.receive(
            session, number, location=location, lines=lines, now=now, at=at, by=by
        )


def cancel_order(session: Session, number: str, *, now: datetime, today: date) -> VendorOrder:
    """Cancel an order nothing was received on; its requests wait on another line, a new
    draft line, or (no vendor) for a clerk."""
    with _requests_follow(session, number, now, today):
        return orders.cancel_order(session, number)


def close_order(session: Session, number: str, *, now: datetime, today: date) -> VendorOrder:
    """Close a partly received order short: the vendor will not send the rest."""
    with _requests_follow(session, number, now, today):
        return orders.close_short(session, number)


def reverse_receipt(
    session: Session,
    number: str,
    receipt_id: int,
    *,
    now: datetime,
    today: date,
    reason: str | None = None,
    by: Caller | None = None,
) -> Receipt:
    """Undo a receipt booked by mistake. What requests had reserved of it is taken back
    from the least urgent first (they wait again, on this order's line if it has room);
    parts already issued must come back before the receipt can be undone (409)."""
    with _requests_follow(session, number, now, today) as order:
        receipt = session.get(Receipt, receipt_id)
        if receipt is not None and receipt.order_id == order.id and receipt.reversed_at is None:
            for received in receipt.lines:
                line = next(line for line in order.lines if line.id == received.line_id)
                make_room(
                    session, line.part_id, receipt.location_id, received.qty, reason="the reversal"
                )
        return orders.reverse_receipt(session, number, receipt_id, now=now, reason=reason, by=by)


def make_room_for_count(session: Session, location_id: int, counted: Mapping[str, int]) -> None:
    """Before a count books a loss, free the reserved stock it takes: a count records what
    is there, and the least urgent requests lose their reservation first."""
    parts = {sku: get_part(session, sku) for sku in counted}
    hold_requests(session, [part.id for part in parts.values()], location_id)
    for sku, qty in sorted(counted.items()):
        part = parts[sku]
        on_hand = session.scalar(
            select(StockLevel.on_hand).where(
                StockLevel.part_id == part.id, StockLevel.location_id == location_id
            )
        )
        if on_hand is not None and qty < on_hand:
            make_room(session, part.id, location_id, on_hand - qty, reason="the count")


def after_count(
    session: Session, location_id: int, counted: Mapping[str, int], *, now: datetime, today: date
) -> None:
    """After a count, the requests waiting there are brought up to date (a gain serves them)."""
    for sku in sorted(counted):
        rebalance(session, get_part(session, sku).id, location_id, now=now, today=today)


_WAITING_HERE = (
    select(PartRequest.id)
    .where(
        PartRequest.part_id == bindparam("b_part"),
        PartRequest.warehouse_id == bindparam("b_location"),
        PartRequest.status.in_(WAITING),
    )
    .limit(1)
)


def requests_waiting(session: Session, part_id: int, location_id: int) -> bool:
    """Whether any request waits for the part there: one indexed read, on the hot path of
    every move into a warehouse, so a statement built once and run on the connection."""
    found = (
        session.connection()
        .execute(_WAITING_HERE, {"b_part": part_id, "b_location": location_id})
        .first()
    )
    return found is not None


WAITING_FOR_MOVE = (
    select(PartRequest.id)
    .where(
        PartRequest.part_id == bindparam(MOVE_PART),
        PartRequest.warehouse_id == bindparam(MOVE_TO),
        PartRequest.status.in_(WAITING),
    )
    .exists()
)
"""Whether a request waits for a move's part where it goes: asked by the INSERT of the
ledger line itself (``ledger.post_move(ask=...)``), so a move costs no round trip more."""


def waiting_at(session: Session, location_ids: Sequence[int]) -> set[tuple[int, int]]:
    """(part id, warehouse id) of every request waiting at these locations: one read for
    a bulk booking, instead of ``requests_waiting`` once per move."""
    rows = session.execute(
        select(PartRequest.part_id, PartRequest.warehouse_id)
        .where(PartRequest.warehouse_id.in_(list(location_ids)), PartRequest.status.in_(WAITING))
        .distinct()
    )
    return {(row.part_id, row.warehouse_id) for row in rows}


def stock_arrived(
    session: Session, part_id: int, location_id: int, *, now: datetime, today: date
) -> None:
    """Stock came into a location by a move (a transfer, a return, a reversal): the
    requests waiting there get it first, most urgent first (R9), not the next request."""
    if not requests_waiting(session, part_id, location_id):
        return
    hold_requests(session, [part_id], location_id)
    rebalance(session, part_id, location_id, now=now, today=today)
