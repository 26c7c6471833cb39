"""Part requests (R7, R9): reserved from the shelf at once, or backordered on a vendor
order line whose ETA they carry; served by receipts in order of urgency."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, or_, select
from sqlalchemy.orm import Session

from partsvc.audit import trail as audit
from partsvc.auth.identity import Caller
from partsvc.auth.models import Role
from partsvc.auth.scope import get_scoped, only_engineer
from partsvc.calls.calls import emit_call_event, engineer_of, get_call
from partsvc.calls.engineers import get_engineer
from partsvc.calls.models import Call, Engineer
from partsvc.core.businesstime import business_time
from partsvc.core.errors import Conflict, Forbidden, InsufficientStock, InvalidInput, UnknownKey
from partsvc.core.worktime import WorkingCalendar
from partsvc.inventory import reservations
from partsvc.inventory.catalog import get_location, get_part
from partsvc.inventory.ledger import claim_moves, post_move
from partsvc.inventory.models import Location, Part
from partsvc.inventory.rules import LocationKind, OpenLine, allocate
from partsvc.platform.db import advisory_lock
from partsvc.purchasing.models import PartRequest, ProcessingTarget, VendorOrder, VendorOrderLine
from partsvc.purchasing.order_book import OPEN_STATUSES, LineIn, OrderStatus, add_line, expected_on


class RequestStatus:
    OPEN = "open"  # waiting, on no order line yet: a clerk must act (no preferred vendor)
    RESERVED = "reserved"  # all of it set aside on the shelf
    BACKORDERED = "backordered"  # the rest waits on a vendor order line
    ISSUED = "issued"
    CANCELLED = "cancelled"


WAITING = (RequestStatus.OPEN, RequestStatus.BACKORDERED)
DEFAULT_PROCESSING = timedelta(hours=4)  # R7, when the policy table has no row


def processing_time(session: Session) -> timedelta:
    """How much working time a part request has to be processed (R7's 4 hours, editable)."""
    minutes = session.scalar(
        select(ProcessingTarget.working_minutes).where(ProcessingTarget.name == "part_request")
    )
    return DEFAULT_PROCESSING if minutes is None else timedelta(minutes=minutes)


def set_processing_time(session: Session, working_minutes: int) -> ProcessingTarget:
    """Change R7's processing time; requests already made keep their deadline."""
    row = session.get(ProcessingTarget, "part_request")
    if row is None:
        row = ProcessingTarget(name="part_request")
        session.add(row)
    row.working_minutes = working_minutes
    session.flush()
    details = {"working_minutes": working_minutes}
    audit.record(
        session, "sla_policy.changed", kind="sla_target", key="part_request", details=details
    )
    return row


def request_part(
    session: Session,
    *,
    sku: str,
    qty: int,
    calendar: WorkingCalendar,
    now: datetime,
    call: int | None = None,
    engineer: str | None = None,
    warehouse: str | None = None,
    requested_at: datetime | None = None,
    allow_backorder: bool = True,
    note: str | None = None,
    by: Caller | None = None,
) -> PartRequest:
    """Reserve ``qty`` in the warehouse that serves the engineer, or backorder the rest (R7).

    With ``allow_backorder`` false, a request the shelf cannot fill is a 409 and nothing
    is written.
    """
    part = get_part(session, sku)
    the_call = get_call(session, call, caller=by) if call is not None else None
    person = _engineer_for(session, engineer, the_call, by)
    store = _serving_warehouse(session, warehouse, person, the_call)
    asked = business_time(requested_at, now, "requested_at")
    hold_requests(session, [part.id], store.id)
    request = PartRequest(
        part_id=part.id,
        qty=qty,
        reserved_qty=0,
        warehouse_id=store.id,
        call_id=the_call.id if the_call else None,
        engineer_id=person.id if person else None,
        status=RequestStatus.OPEN,
        requested_at=asked,
        due_at=calendar.add_working_time(asked, processing_time(session)).astimezone(UTC),
        note=note,
        created_by_id=by.id if by else None,
    )
    session.add(request)
    session.flush()
    rebalance(session, part.id, store.id, now=now, today=now.astimezone(calendar.zone).date())
    if request.status != RequestStatus.RESERVED and not allow_backorder:
        raise InsufficientStock(
            f"Only {request.reserved_qty} of {sku} can be reserved at {store.code} for this "
            f"request; cannot reserve {qty}.",
            sku=sku,
            location=store.code,
            available=request.reserved_qty,
            requested=qty,
        )
    return request


def _engineer_for(
    session: Session, code: str | None, call: Call | None, by: Caller | None
) -> Engineer | None:
    """Who the part is for: named, the caller if an engineer, or the call's engineer."""
    if by is not None and by.role == Role.ENGINEER:
        mine = engineer_of(session, by)
        if mine is None or (code is not None and code != mine.code):
            raise Forbidden("An engineer requests parts for themselves.", engineer=code)
        return mine
    if code is not None:
        return get_engineer(session, code)
    return call.engineer if call is not None else None


def _serving_warehouse(
    session: Session, code: str | None, engineer: Engineer | None, call: Call | None
) -> Location:
    """The named warehouse, else the one nearest the engineer's home base (or the call's
    site), else the only one."""
    if code is not None:
        location = get_location(session, code)
        if location.kind != LocationKind.WAREHOUSE:
            raise InvalidInput(
                f"{code} is a {location.kind}, not a warehouse.",
                errors={"warehouse": ["Not a warehouse."]},
            )
        return location
    warehouses = session.scalars(
        select(Location).where(Location.kind == LocationKind.WAREHOUSE).order_by(Location.id)
    ).all()
    point = None
    if engineer is not None and engineer.home_lat is not None and engineer.home_lon is not None:
        point = (engineer.home_lat, engineer.home_lon)
    elif call is not None and call.site.lat is not None and call.site.lon is not None:
        point = (call.site.lat, call.site.lon)
    placed = [w for w in warehouses if w.lat is not None and w.lon is not None]
    if point is not None and placed:
        return min(placed, key=lambda w: _km(point, (w.lat, w.lon)))
    if len(warehouses) == 1:
        return warehouses[0]
    raise InvalidInput(
        "Name the warehouse: no engineer or call tells which one serves this request.",
        errors={"warehouse": ["Required here."]},
    )


def _km(a: tuple[float, float], b: tuple[float | None, float | None]) -> float:
    """Great-circle distance, enough to pick the nearest warehouse."""
    lat1, lon1 = map(math.radians, a)
    lat2, lon2 = math.radians(b[0] or 0.0), math.radians(b[1] or 0.0)
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 6371.0 * 2 * math.asin(math.sqrt(h))


# ---------------------------------------------------------------- backorders and serving


def hold_requests(session: Session, part_ids: Iterable[int], warehouse_id: int) -> None:
    """Take the lock on "the requests waiting for these parts at this warehouse": every
    change to them (a request, a receipt, a cancel, an ETA) runs one at a time per part and
    warehouse (PostgreSQL; SQLite has one writer anyway). Taken in id order: no deadlock."""
    for part_id in sorted(set(part_ids)):
        advisory_lock(session, f"backorders:{part_id}:{warehouse_id}")


def rebalance(
    session: Session, part_id: int, warehouse_id: int, *, now: datetime, today: date
) -> None:
    """Bring the waiting requests for a part at a warehouse up to date (R7, R9).

    Most urgent first (P1, P2, P3 calls, then no call; oldest first within each): free
    stock is reserved for them; what is still missing waits on the open order line with
    the soonest ETA that has room for all of it, else on a line added to the draft order
    for the part's vendor; with no vendor the request stays open for a clerk. Run after
    anything that changes the stock, the lines or the queue; the caller holds
    ``hold_requests`` for the part.
    """
    waiting = list(session.scalars(_waiting_query(part_id, warehouse_id)).unique())
    lines_before = {request.id: request.line_id for request in waiting}
    for request in waiting:
        got = reservations.reserve_up_to(session, part_id, warehouse_id, request.waiting_qty)
        request.reserved_qty += got
    lines = open_lines(session, part_id, warehouse_id)
    room = {line.line_id: line.room for line in lines}
    part = session.get(Part, part_id)
    assert part is not None
    for request in waiting:
        if request.waiting_qty == 0:
            request.status = RequestStatus.RESERVED
            request.line_id = None
            request.processed_at = request.processed_at or now
            continue
        options = [OpenLine(line.line_id, line.eta, room[line.line_id]) for line in lines]
        chosen = allocate(request.waiting_qty, 0, options).line_id
        if chosen is None and part.vendor_id is not None:
            store = session.get(Location, warehouse_id)
            assert store is not None
            line = _draft_line(session, part, store, request.waiting_qty, now=now, today=today)
            lines.append(OpenLine(line.id, line.eta, line.open_qty))
            room[line.id] = line.open_qty
            chosen = line.id
        if chosen is None:
            request.status, request.line_id, request.processed_at = RequestStatus.OPEN, None, None
            continue
        room[chosen] -= request.waiting_qty
        request.status = RequestStatus.BACKORDERED
        request.line_id = chosen
        request.processed_at = request.processed_at or now
    session.flush()
    for request in waiting:
        session.expire(request, ["line"])  # set by id above: load the line afresh
    for request in waiting:
        if request.call is not None and request.line_id not in (None, lines_before[request.id]):
            _tell_part_eta(session, request, part, now)


def _tell_part_eta(session: Session, request: PartRequest, part: Part, now: datetime) -> None:
    """The call's customer is told when the part it waits for is expected (set or moved)."""
    assert request.line is not None
    emit_call_event(
        session,
        request.call,
        "call.part_eta",
        now,
        sku=part.sku,
        part_name=part.name,
        part_name_zh=part.name_zh,
        eta=request.line.eta,
        vendor_order=request.line.order.number,
    )


def make_room(session: Session, part_id: int, warehouse_id: int, qty: int, *, reason: str) -> None:
    """Free ``qty`` of reserved stock, if free stock is short of it, by taking reservations
    back from the least urgent requests (they wait again). For a receipt undone or a count
    that finds less than was promised; the caller holds ``hold_requests`` and rebalances."""
    short = qty - reservations.available(session, part_id, warehouse_id)
    if short <= 0:
        return
    holding = session.scalars(
        select(PartRequest)
        .outerjoin(Call, Call.id == PartRequest.call_id)
        .where(
            PartRequest.part_id == part_id,
            PartRequest.warehouse_id == warehouse_id,
            PartRequest.status.in_([*WAITING, RequestStatus.RESERVED]),
            PartRequest.reserved_qty > 0,
        )
        .order_by(_URGENCY.desc(), PartRequest.requested_at.desc(), PartRequest.id.desc())
    ).unique()
    for request in holding:
        take = min(short, request.reserved_qty)
        reservations.release(session, part_id, warehouse_id, take)
        request.reserved_qty -= take
        request.status = RequestStatus.BACKORDERED  # rebalance finds it a line, or opens it
        short -= take
        if short == 0:
            break
    session.flush()
    if short > 0:
        raise Conflict(
            f"{short} of the parts are no longer in the warehouse (issued or moved): {reason} "
            "needs them back first.",
            missing=short,
        )


def open_lines(session: Session, part_id: int, warehouse_id: int) -> list[OpenLine]:
    """Lines of open orders for the part bound for the warehouse, with what is still to
    come on each (the queue is laid over them afresh by ``rebalance``)."""
    rows = session.execute(
        select(
            VendorOrderLine.id,
            VendorOrderLine.eta,
            VendorOrderLine.qty - VendorOrderLine.received_qty,
        )
        .join(VendorOrder, VendorOrder.id == VendorOrderLine.order_id)
        .where(
            VendorOrderLine.part_id == part_id,
            VendorOrderLine.received_qty < VendorOrderLine.qty,
            VendorOrder.status.in_(OPEN_STATUSES),
            or_(VendorOrder.deliver_to_id == warehouse_id, VendorOrder.deliver_to_id.is_(None)),
        )
        .order_by(VendorOrderLine.eta, VendorOrderLine.id)
    ).all()
    return [OpenLine(line_id=i, eta=eta, room=room) for i, eta, room in rows]


def _draft_line(
    session: Session, part: Part, store: Location, qty: int, *, now: datetime, today: date
) -> VendorOrderLine:
    """A line for ``qty`` more on the draft order to the part's vendor for this warehouse."""
    assert part.vendor_id is not None
    advisory_lock(session, f"draft:{part.vendor_id}:{store.id}")  # one draft per vendor
    draft = session.scalar(
        select(VendorOrder)
        .where(
            VendorOrder.vendor_id == part.vendor_id,
            VendorOrder.deliver_to_id == store.id,
            VendorOrder.status == OrderStatus.DRAFT,
        )
        .order_by(VendorOrder.id)
        .limit(1)
    )
    if draft is None:
        draft = VendorOrder(
            vendor_id=part.vendor_id,
            deliver_to_id=store.id,
            status=OrderStatus.DRAFT,
            note="Raised for backordered part requests (R7).",
            created_at=now,
        )
        session.add(draft)
        session.flush()
    return add_line(session, draft, LineIn(sku=part.sku, qty=qty, eta=expected_on(part, today)))


_URGENCY = case(
    (Call.priority == "P1", 1), (Call.priority == "P2", 2), (Call.priority == "P3", 3), else_=4
)


def _waiting_query(part_id: int, warehouse_id: int) -> Select[Any]:
    """Waiting requests for a part at a warehouse, most urgent first (R9): P1 calls before
    P2 before P3 before requests for no call, then the oldest."""
    return (
        select(PartRequest)
        .outerjoin(Call, Call.id == PartRequest.call_id)
        .where(
            PartRequest.part_id == part_id,
            PartRequest.warehouse_id == warehouse_id,
            PartRequest.status.in_(WAITING),
        )
        .order_by(_URGENCY, PartRequest.requested_at, PartRequest.id)
    )


# ---------------------------------------------------------------- issue, cancel, read


def issue_request(
    session: Session,
    request_id: int,
    *,
    now: datetime,
    to: str | None = None,
    by: Caller | None = None,
) -> PartRequest:
    """Book the reserved parts out of the warehouse into the engineer's van (or ``to``)."""
    request = get_request(session, request_id, for_update=True)
    if request.status != RequestStatus.RESERVED:
        raise Conflict(
            f"Request {request_id} is {request.status}; only a fully reserved request is issued.",
            current_status=request.status,
        )
    target = to or (
        request.engineer.van.code if request.engineer and request.engineer.van else None
    )
    if target is None:
        raise InvalidInput(
            "Name where the parts go: the request has no engineer with a van.",
            errors={"to": ["Required here."]},
        )
    kind = get_location(session, target).kind
    if kind not in (LocationKind.VAN, LocationKind.SITE):
        raise InvalidInput(
            f"Requested parts are issued to a van or a customer's site, not to {target} ({kind}).",
            errors={"to": ["A van or a site."]},
        )
    reservations.release(session, request.part_id, request.warehouse_id, request.qty)
    move = post_move(
        session,
        sku=request.part.sku,
        qty=request.qty,
        from_code=request.warehouse.code,
        to_code=target,
        reason="issue",
        reference=f"PR-{request.id}",
        now=now,
        by=by,
    )
    claim_moves(session, [move.id], f"PR-{request.id}")
    request.status = RequestStatus.ISSUED
    request.issued_at = now
    request.issue_move_id = move.id
    session.flush()
    return request


def cancel_request(session: Session, request_id: int, *, now: datetime, today: date) -> PartRequest:
    """Give back what was reserved and leave the order line; the stock serves others."""
    found = get_request(session, request_id)
    hold_requests(session, [found.part_id], found.warehouse_id)
    request = get_request(session, request_id, for_update=True)
    session.refresh(request)
    if request.status in (RequestStatus.ISSUED, RequestStatus.CANCELLED):
        raise Conflict(
            f"Request {request_id} is {request.status}; it cannot be cancelled.",
            current_status=request.status,
        )
    if request.reserved_qty:
        reservations.release(session, request.part_id, request.warehouse_id, request.reserved_qty)
    request.status = RequestStatus.CANCELLED
    request.line_id = None
    session.flush()
    rebalance(session, request.part_id, request.warehouse_id, now=now, today=today)
    return request


def get_request(
    session: Session, request_id: int, *, for_update: bool = False, caller: Caller | None = None
) -> PartRequest:
    """One part request; an engineer sees the ones for them."""
    unknown = UnknownKey(f"No part request {request_id}.", part_request=request_id)
    return get_scoped(
        session, PartRequest, request_id, unknown=unknown, for_update=for_update, caller=caller
    )


def list_requests(
    session: Session,
    *,
    caller: Caller | None = None,
    status: str | None = None,
    sku: str | None = None,
    call: int | None = None,
    engineer: str | None = None,
    warehouse: str | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[PartRequest]:
    """Part requests oldest first; an engineer sees their own."""
    query = select(PartRequest).order_by(PartRequest.id).limit(limit)
    mine = only_engineer(session, caller)
    if mine is not None:
        query = query.where(PartRequest.engineer_id == mine)
    if after_id is not None:
        query = query.where(PartRequest.id > after_id)
    if status is not None:
        query = query.where(PartRequest.status == status)
    if sku is not None:
        query = query.where(PartRequest.part_id == get_part(session, sku).id)
    if call is not None:
        query = query.where(PartRequest.call_id == call)
    if engineer is not None:
        query = query.where(PartRequest.engineer_id == get_engineer(session, engineer).id)
    if warehouse is not None:
        query = query.where(PartRequest.warehouse_id == get_location(session, warehouse).id)
    return list(session.scalars(query).unique())
