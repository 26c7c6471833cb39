"""Receiving an RMA's goods (R14): each line matched to an item on it, booked in through
the ledger, the turnaround target set by where the spare is (R16)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partsvc.auth.identity import Caller
from partsvc.core.errors import Conflict, InvalidInput
from partsvc.core.worktime import WorkingCalendar
from partsvc.inventory.catalog import get_location
from partsvc.inventory.ledger import claim_moves, post_move
from partsvc.inventory.models import Location, StockLevel
from partsvc.inventory.rules import LocationKind
from partsvc.repairs.intake import site_code
from partsvc.repairs.models import Rma, RmaItem
from partsvc.repairs.progress import StepItem, check_step, record_step, step_time
from partsvc.repairs.rmas import RECEIPT_REASON, item_label
from partsvc.repairs.rules import (
    DEFAULT_TURNAROUND,
    RmaStatus,
    TurnaroundPolicy,
    turnaround_due,
)


def receive(
    session: Session,
    rma: Rma,
    *,
    location: str,
    items: Sequence[StepItem],
    now: datetime,
    calendar: WorkingCalendar,
    by: Caller | None = None,
    at: datetime | None = None,
    note: str | None = None,
    turnaround: TurnaroundPolicy = DEFAULT_TURNAROUND,
) -> Rma:
    """Book returned goods from the customer's site into a repair location (R14).

    Only against an authorized RMA (or, for what was missing, one received and not yet
    diagnosed), and only of the items on it, no more than listed: else 409, nothing
    written. The first receipt sets the turnaround target (R16).
    """
    missing_before = [item for item in rma.items if item.received_qty < item.qty]
    follow_up = rma.status == RmaStatus.RECEIVED and bool(missing_before)
    if not follow_up:
        check_step(rma, RmaStatus.RECEIVED)
    if not items:
        raise InvalidInput("A receipt lists what came in.", errors={"items": ["Empty."]})
    target = get_location(session, location)
    if target.kind != LocationKind.REPAIR:
        raise InvalidInput(
            f"{target.code} is a {target.kind}; returned goods go to a repair location.",
            errors={"location": ["Not a repair location."]},
        )
    when = step_time(rma, at, now)
    plan = _match_receipt(rma, items)
    booked = []
    for item, qty, received in plan:
        serials = [item.serial] if item.serial and item.part.serialized else []
        move = post_move(
            session,
            sku=item.part.sku,
            qty=qty,
            from_code=site_code(session, rma, item),
            to_code=target.code,
            reason=RECEIPT_REASON,
            reference=rma.number,
            serials=serials,
            at=when,
            now=now,
            by=by,
        )
        booked.append(move.id)
        item.received_qty += qty
        if received.accessories_complete is not None:
            # Incomplete once is incomplete: a later complete lot does not undo it.
            item.accessories_complete = item.accessories_complete is not False and (
                received.accessories_complete
            )
    # The RMA counts what it received: a bare reversal would leave it counting wrong.
    claim_moves(session, booked, rma.number)
    if not follow_up:
        rma.spare_in_stock = spares_in_stock(session, rma.items)
        rma.due_at = turnaround_due(
            when, spare_in_stock=rma.spare_in_stock, calendar=calendar, policy=turnaround
        ).astimezone(UTC)
    summary = _receipt_summary(rma, plan, target.code)
    return record_step(
        session, rma, RmaStatus.RECEIVED, when, by, f"{note} — {summary}" if note else summary
    )


def _match_receipt(rma: Rma, items: Sequence[StepItem]) -> list[tuple[RmaItem, int, StepItem]]:
    """Each received line matched to an item on the RMA; 409 for one not on it, or more
    than it lists, or a unit already received (R14); 422 for a line that names nothing."""
    plan: list[tuple[RmaItem, int, StepItem]] = []
    taken: dict[int, int] = defaultdict(int)
    for received in items:
        if received.replacement_serial is not None:
            raise InvalidInput(
                "A replacement serial is given when the repair is completed, not on receipt.",
                errors={"replacement_serial": ["Not taken by receive."]},
            )
        if received.serial is not None:
            if received.qty not in (None, 1):
                raise InvalidInput(
                    "A unit received by serial is one unit.", errors={"qty": ["Must be 1."]}
                )
            item = next((i for i in rma.items if i.serial == received.serial), None)
            if item is None:
                raise Conflict(
                    f"Serial {received.serial} is not on {rma.number}: it cannot be received "
                    "against it.",
                    serial=received.serial,
                    rma=rma.number,
                )
            if received.sku is not None and received.sku != item.part.sku:
                raise InvalidInput(
                    f"Serial {received.serial} is a {item.part.sku} on {rma.number}.",
                    errors={"sku": [f"{received.serial} is a {item.part.sku}."]},
                )
            qty = 1
        else:
            if received.sku is None or received.qty is None:
                raise InvalidInput(
                    "A received item is a serial, or a SKU and a quantity.",
                    errors={"items": ["Give serial, or sku and qty."]},
                )
            candidates = [i for i in rma.items if i.serial is None and i.part.sku == received.sku]
            if not candidates:
                raise Conflict(
                    f"{received.sku} is not on {rma.number} (by quantity): it cannot be "
                    "received against it.",
                    sku=received.sku,
                    rma=rma.number,
                )
            item, qty = candidates[0], received.qty
            if len(candidates) > 1:  # the same part listed twice: fill the first with room
                item = next(
                    (i for i in candidates if i.qty - i.received_qty - taken[i.id] >= qty),
                    candidates[0],
                )
        room = item.qty - item.received_qty - taken[item.id]
        if qty > room:
            detail = (
                f"{item.serial} was already received on {rma.number}."
                if item.serial
                else f"{rma.number} lists {item.qty} x {item.part.sku}, {room} of them still "
                f"to come; {qty} is more than that."
            )
            raise Conflict(
                detail, rma=rma.number, item=item_label(item), expected=room, received=qty
            )
        taken[item.id] += qty
        plan.append((item, qty, received))
    return plan


def _receipt_summary(rma: Rma, plan: Sequence[tuple[RmaItem, int, StepItem]], location: str) -> str:
    got = ", ".join(item.serial or f"{qty} x {item.part.sku}" for item, qty, _ in plan)
    parts = [f"Received into {location}: {got}."]
    incomplete = [item_label(item) for item, _, r in plan if r.accessories_complete is False]
    if incomplete:
        parts.append(f"Accessories incomplete: {', '.join(incomplete)}.")
    missing = [
        item.serial or f"{item.qty - item.received_qty} x {item.part.sku}"
        for item in rma.items
        if item.received_qty < item.qty
    ]
    if missing:
        parts.append(f"Missing: {', '.join(missing)}.")
    return " ".join(parts)


def spares_in_stock(session: Session, items: Sequence[RmaItem]) -> bool:
    """Whether our warehouses have, available, a spare for every item (R16)."""
    needed: dict[int, int] = defaultdict(int)
    for item in items:
        needed[item.part_id] += item.qty
    rows = session.execute(
        select(StockLevel.part_id, func.sum(StockLevel.on_hand - StockLevel.reserved))
        .join(Location, Location.id == StockLevel.location_id)
        .where(StockLevel.part_id.in_(list(needed)), Location.kind == LocationKind.WAREHOUSE)
        .group_by(StockLevel.part_id)
    )
    available: dict[int, int] = {part_id: total or 0 for part_id, total in rows}
    return all((available.get(part_id) or 0) >= qty for part_id, qty in needed.items())
