"""What the purchasing endpoints do: vendor orders and part requests, kept in step.

An order created, received or cancelled changes what waiting requests wait on; these
functions do both halves in the caller's one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from partsvc.auth.services import Caller
from partsvc.purchasing import orders, requests
from partsvc.purchasing.models import Receipt, VendorOrder
from partsvc.purchasing.orders import (
    LineIn,
    ReceivedLine,
    change_eta,
    get_order,
    is_late,
    list_orders,
    send_order,
)
from partsvc.purchasing.requests import (
    cancel_request,
    get_request,
    issue_request,
    list_requests,
    request_part,
)

__all__ = [
    "LineIn",
    "ReceivedLine",
    "cancel_order",
    "cancel_request",
    "change_eta",
    "create_order",
    "get_order",
    "get_request",
    "is_late",
    "issue_request",
    "list_orders",
    "list_requests",
    "receive",
    "request_part",
    "send_order",
]


def create_order(
    session: Session,
    *,
    vendor: str,
    lines: Sequence[LineIn],
    now: datetime,
    status: str = orders.OrderStatus.SENT,
    deliver_to: str | None = None,
    note: str | None = None,
    by: Caller | None = None,
) -> VendorOrder:
    """A vendor order; requests left open for want of a line now wait on it."""
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
    for part_id in sorted({line.part_id for line in order.lines}):
        for warehouse_id in _warehouses_served(session, order):
            requests.attach_open_requests(session, part_id, warehouse_id, now)
    return order


def _warehouses_served(session: Session, order: VendorOrder) -> list[int]:
    if order.deliver_to_id is not None:
        return [order.deliver_to_id]
    default = orders.default_warehouse(session)
    return [default.id] if default else []


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
    """Book a receipt in (R8), then reserve it for the requests waiting at that warehouse,
    most urgent first, whichever order they waited on (R9)."""
    receipt = orders.receive(session, number, location=location, lines=lines, now=now, at=at, by=by)
    received = {line.line_id for line in receipt.lines}
    order = get_order(session, number)
    for part_id in sorted({line.part_id for line in order.lines if line.id in received}):
        requests.serve_waiting_requests(session, part_id, receipt.location_id, now)
    return receipt


def cancel_order(session: Session, number: str) -> VendorOrder:
    """Cancel an order; the requests that waited on it are open again for a clerk."""
    order = orders.cancel_order(session, number)
    for line in order.lines:
        requests.detach_backorders(session, line.id)
    return order
