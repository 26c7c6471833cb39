"""The order book (R8): vendor orders' lines with ETAs, every ETA change kept, partial
receipts booked in through the ledger, and a ``late`` flag for a line past its ETA with
quantity open. Reading is for anyone; a change made here alone would leave the waiting
part requests behind, so the use cases that change an order are in ``orders.py``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from partsvc.auth.identity import Caller
from partsvc.core.businesstime import business_time
from partsvc.core.errors import Conflict, InvalidInput, InvalidTransition, UnknownKey
from partsvc.inventory.catalog import get_location, get_part
from partsvc.inventory.ledger import claim_moves, post_move, reverse_move
from partsvc.inventory.models import Location, Part
from partsvc.inventory.rules import LocationKind
from partsvc.platform import outbox
from partsvc.purchasing.models import (
    EtaChange,
    PartRequest,
    Receipt,
    ReceiptLine,
    VendorOrder,
    VendorOrderLine,
)


class OrderStatus:
    DRAFT = "draft"
    SENT = "sent"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CANCELLED = "cancelled"


# Orders whose lines still bring stock: what "on order" counts (R5) and backorders wait on.
OPEN_STATUSES = (OrderStatus.DRAFT, OrderStatus.SENT, OrderStatus.PARTIALLY_RECEIVED)
# Orders the vendor has: these can be received, and be late.
WITH_VENDOR = (OrderStatus.SENT, OrderStatus.PARTIALLY_RECEIVED)

_NUMBER = re.compile(r"VO-(\d{1,9})\Z")


@dataclass(frozen=True)
class LineIn:
    sku: str
    qty: int
    eta: date
    unit_cost: Decimal | None = None


@dataclass(frozen=True)
class ReceivedLine:
    line: int
    qty: int


def get_order(session: Session, number: str, *, for_update: bool = False) -> VendorOrder:
    match = _NUMBER.match(number)
    order = None
    if match:
        query = select(VendorOrder).where(VendorOrder.id == int(match.group(1)))
        if for_update and session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(of=VendorOrder)
        order = session.scalar(query)
    if order is None:
        raise UnknownKey(f"No vendor order {number!r}.", vendor_order=number)
    return order


def _vendor(session: Session, code: str) -> Location:
    location = get_location(session, code)
    if location.kind != LocationKind.VENDOR:
        raise InvalidInput(
            f"{code} is a {location.kind}, not a vendor.", errors={"vendor": ["Not a vendor."]}
        )
    return location


def _warehouse(session: Session, code: str, field: str) -> Location:
    location = get_location(session, code)
    if location.kind != LocationKind.WAREHOUSE:
        raise InvalidInput(
            f"{code} is a {location.kind}, not a warehouse.", errors={field: ["Not a warehouse."]}
        )
    return location


DEFAULT_LEAD_TIME_DAYS = 14


def expected_on(part: Part, today: date) -> date:
    """When a part ordered today arrives: its lead time in calendar days, 14 if unset."""
    days = part.lead_time_days if part.lead_time_days is not None else DEFAULT_LEAD_TIME_DAYS
    return today + timedelta(days=days)


def default_warehouse(session: Session) -> Location | None:
    """The warehouse, when the deployment has exactly one."""
    found = session.scalars(
        select(Location).where(Location.kind == LocationKind.WAREHOUSE).limit(2)
    ).all()
    return found[0] if len(found) == 1 else None


def create_vendor_order(
    session: Session,
    *,
    vendor: str,
    lines: Sequence[LineIn],
    now: datetime,
    status: str = OrderStatus.SENT,
    deliver_to: str | None = None,
    note: str | None = None,
    by: Caller | None = None,
) -> VendorOrder:
    """An order to ``vendor``, sent (the default) or kept as a draft to send later."""
    if status not in (OrderStatus.SENT, OrderStatus.DRAFT):
        raise InvalidInput(
            "A new order is sent or a draft.", errors={"status": ["Must be sent or draft."]}
        )
    if not lines:
        raise InvalidInput("An order has at least one line.", errors={"lines": ["Empty."]})
    source = _vendor(session, vendor)
    target = (
        _warehouse(session, deliver_to, "deliver_to") if deliver_to else default_warehouse(session)
    )
    if target is None:
        raise InvalidInput(
            "Name the warehouse the order goes to: there is more than one.",
            errors={"deliver_to": ["Required with several warehouses."]},
        )
    order = VendorOrder(
        vendor_id=source.id,
        deliver_to_id=target.id if target else None,
        status=status,
        note=note,
        created_at=now,
        created_by_id=by.id if by else None,
        sent_at=now if status == OrderStatus.SENT else None,
    )
    session.add(order)
    session.flush()
    for line in lines:
        add_line(session, order, line)
    session.refresh(order, ["lines"])
    return order


def add_line(session: Session, order: VendorOrder, line: LineIn) -> VendorOrderLine:
    part = get_part(session, line.sku)
    row = VendorOrderLine(
        order_id=order.id,
        part_id=part.id,
        qty=line.qty,
        received_qty=0,
        unit_cost=line.unit_cost if line.unit_cost is not None else part.unit_cost,
        eta=line.eta,
    )
    session.add(row)
    session.flush()
    return row


def send_order(session: Session, number: str, *, now: datetime, today: date) -> VendorOrder:
    """Send a draft. A line raised earlier whose ETA the vendor's lead time can no longer
    meet moves to today + lead time, kept as an ETA change like any other."""
    order = get_order(session, number, for_update=True)
    if order.status != OrderStatus.DRAFT:
        raise InvalidTransition(
            f"{order.number} is {order.status}; only a draft is sent.",
            current_status=order.status,
            requested_status=OrderStatus.SENT,
        )
    for line in order.lines:
        lead = line.part.lead_time_days
        earliest = today + timedelta(days=lead) if lead is not None else today
        if line.eta < earliest:
            _record_eta(session, line, earliest, "Sent on " + today.isoformat(), now, None)
    order.status = OrderStatus.SENT
    order.sent_at = now
    session.flush()
    return order


def close_short(session: Session, number: str) -> VendorOrder:
    """The vendor will send no more: what is still open on a partly received order is
    dropped (each line's quantity becomes what was received) and the order is received."""
    order = get_order(session, number, for_update=True)
    if order.status != OrderStatus.PARTIALLY_RECEIVED:
        raise InvalidTransition(
            f"{order.number} is {order.status}; only a partly received order is closed short "
            "(cancel one nothing was received on).",
            current_status=order.status,
            requested_status=OrderStatus.RECEIVED,
        )
    for line in order.lines:
        line.qty = line.received_qty if line.received_qty else line.qty
    order.status = OrderStatus.RECEIVED
    order.note = ((order.note + " ") if order.note else "") + "Closed short."
    session.flush()
    return order


def cancel_order(session: Session, number: str) -> VendorOrder:
    """Cancel an order nothing has been received on."""
    order = get_order(session, number, for_update=True)
    if order.status not in (OrderStatus.DRAFT, OrderStatus.SENT):
        raise InvalidTransition(
            f"{order.number} is {order.status}; only an order nothing was received on is "
            "cancelled.",
            current_status=order.status,
            requested_status=OrderStatus.CANCELLED,
        )
    order.status = OrderStatus.CANCELLED
    session.flush()
    return order


def change_eta(
    session: Session,
    number: str,
    line_id: int,
    *,
    eta: date,
    now: datetime,
    reason: str | None = None,
    by: Caller | None = None,
) -> VendorOrderLine:
    """A new ETA for a line; the old one is kept with who changed it and when (R8).

    Requests waiting on the line read its ETA, so they follow the change.
    """
    order = get_order(session, number, for_update=True)
    line = _line_of(order, line_id)
    if order.status in (OrderStatus.RECEIVED, OrderStatus.CANCELLED):
        raise Conflict(
            f"{order.number} is {order.status}; its ETAs no longer change.",
            current_status=order.status,
        )
    if line.eta != eta:
        _record_eta(session, line, eta, reason, now, by)
    return line


def _record_eta(
    session: Session,
    line: VendorOrderLine,
    eta: date,
    reason: str | None,
    now: datetime,
    by: Caller | None,
) -> None:
    session.add(
        EtaChange(
            line_id=line.id,
            old_eta=line.eta,
            new_eta=eta,
            reason=reason,
            at=now,
            user_id=by.id if by else None,
        )
    )
    old_eta = line.eta
    line.eta = eta
    session.flush()
    session.refresh(line, ["eta_changes"])
    waiting = session.scalars(
        select(PartRequest).where(PartRequest.line_id == line.id, PartRequest.call_id.is_not(None))
    ).all()
    outbox.emit(
        session,
        "vendor_order.eta_changed",
        subject=f"vendor_order:{line.order_id}",
        now=now,
        vendor_order=line.order.number,
        line=line.id,
        sku=line.part.sku,
        old_eta=old_eta,
        eta=eta,
        reason=reason,
        calls=sorted({request.call_id for request in waiting}),
    )


def _line_of(order: VendorOrder, line_id: int) -> VendorOrderLine:
    for line in order.lines:
        if line.id == line_id:
            return line
    raise UnknownKey(f"{order.number} has no line {line_id}.", line=line_id)


def receive(
    session: Session,
    number: str,
    *,
    location: str,
    lines: Sequence[ReceivedLine],
    now: datetime,
    at: datetime | None = None,
    by: Caller | None = None,
) -> Receipt:
    """Book received goods in through the ledger, line by line (R8).

    Over-receipt, or receiving an order that is a draft, received or cancelled, is a 409
    and nothing is written.
    """
    order = get_order(session, number, for_update=True)
    if order.status not in WITH_VENDOR:
        raise InvalidTransition(
            f"{order.number} is {order.status}; it cannot be received.",
            current_status=order.status,
        )
    if not lines:
        raise InvalidInput("A receipt has at least one line.", errors={"lines": ["Empty."]})
    target = _warehouse(session, location, "location")
    if order.deliver_to_id is not None and target.id != order.deliver_to_id:
        raise Conflict(
            f"{order.number} is for {order.deliver_to.code}; receive it there, then transfer.",
            deliver_to=order.deliver_to.code,
        )
    when = business_time(at, now, "at")
    seen: set[int] = set()
    for received in lines:
        line = _line_of(order, received.line)
        if received.line in seen:
            raise InvalidInput(
                f"Line {received.line} is listed twice.", errors={"lines": ["Twice."]}
            )
        seen.add(received.line)
        if received.qty > line.open_qty:
            raise Conflict(
                f"Line {line.id} ({line.part.sku}) has {line.open_qty} still to come; "
                f"{received.qty} is more than was ordered.",
                line=line.id,
                open_qty=line.open_qty,
                received_qty=received.qty,
            )
    receipt = Receipt(
        order_id=order.id, location_id=target.id, at=when, user_id=by.id if by else None
    )
    session.add(receipt)
    session.flush()
    for received in lines:
        line = _line_of(order, received.line)
        move = post_move(
            session,
            sku=line.part.sku,
            qty=received.qty,
            from_code=order.vendor.code,
            to_code=target.code,
            reason="receipt",
            reference=order.number,
            at=when,
            now=now,
            by=by,
        )
        line.received_qty += received.qty
        session.add(
            ReceiptLine(receipt_id=receipt.id, line_id=line.id, qty=received.qty, move_id=move.id)
        )
    session.flush()
    session.refresh(receipt, ["lines"])
    claim_moves(session, [line.move_id for line in receipt.lines], order.number)
    _update_status(order)
    session.flush()
    return receipt


def _update_status(order: VendorOrder) -> None:
    """Sent, partly received or received, from what the lines have had."""
    if all(line.open_qty == 0 for line in order.lines):
        order.status = OrderStatus.RECEIVED
    elif any(line.received_qty for line in order.lines):
        order.status = OrderStatus.PARTIALLY_RECEIVED
    else:
        order.status = OrderStatus.SENT


def reverse_receipt(
    session: Session,
    number: str,
    receipt_id: int,
    *,
    now: datetime,
    reason: str | None = None,
    by: Caller | None = None,
) -> Receipt:
    """Undo a receipt booked by mistake: its moves are reversed, the lines expect the
    quantity again, the order's status follows. The stock must be free: the caller first
    takes back what requests had reserved of it."""
    order = get_order(session, number, for_update=True)
    receipt = session.get(Receipt, receipt_id)
    if receipt is None or receipt.order_id != order.id:
        raise UnknownKey(f"{order.number} has no receipt {receipt_id}.", receipt=receipt_id)
    if receipt.reversed_at is not None:
        raise Conflict(
            f"Receipt {receipt_id} was reversed on {receipt.reversed_at.isoformat()}.",
            receipt=receipt_id,
        )
    for received in receipt.lines:
        reverse_move(
            session,
            received.move_id,
            now=now,
            reason=reason or f"receipt {receipt_id} reversed",
            by=by,
            as_document=order.number,
        )
        line = _line_of(order, received.line_id)
        line.received_qty -= received.qty
    receipt.reversed_at = now
    receipt.reversed_by_id = by.id if by else None
    _update_status(order)
    session.flush()
    return receipt


def is_late(line: VendorOrderLine, today: date) -> bool:
    """Past its ETA with quantity still to come, on an order the vendor has (R8)."""
    return line.order.status in WITH_VENDOR and line.open_qty > 0 and line.eta < today


def list_orders(
    session: Session,
    *,
    today: date,
    late: bool | None = None,
    vendor: str | None = None,
    status: str | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[VendorOrder]:
    """Orders oldest first; ``late`` narrows to those with a late line (or none)."""
    query = select(VendorOrder).order_by(VendorOrder.id).limit(limit)
    if after_id is not None:
        query = query.where(VendorOrder.id > after_id)
    if vendor is not None:
        query = query.where(VendorOrder.vendor_id == _vendor(session, vendor).id)
    if status is not None:
        query = query.where(VendorOrder.status == status)
    if late is not None:
        late_line = exists().where(
            and_(
                VendorOrderLine.order_id == VendorOrder.id,
                VendorOrderLine.received_qty < VendorOrderLine.qty,
                VendorOrderLine.eta < today,
            )
        )
        with_vendor = VendorOrder.status.in_(WITH_VENDOR)
        query = query.where(and_(with_vendor, late_line) if late else ~and_(with_vendor, late_line))
    return list(session.scalars(query).unique())


def open_lines_of_part(session: Session, part_id: int) -> list[VendorOrderLine]:
    """The part's vendor order lines still to come, soonest ETA first (the clerk desk)."""
    query = (
        select(VendorOrderLine)
        .join(VendorOrder, VendorOrder.id == VendorOrderLine.order_id)
        .where(
            VendorOrderLine.part_id == part_id,
            VendorOrderLine.received_qty < VendorOrderLine.qty,
            VendorOrder.status.in_(WITH_VENDOR),
        )
        .order_by(VendorOrderLine.eta, VendorOrderLine.id)
    )
    return list(session.scalars(query))


def receipts_of(session: Session, order_id: int) -> list[Receipt]:
    """An order's receipts, newest first, the reversed ones too (the order page)."""
    query = select(Receipt).where(Receipt.order_id == order_id).order_by(Receipt.id.desc())
    return list(session.scalars(query))
