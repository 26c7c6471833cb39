"""An RMA's repair and its way back (R15–R17): repairing in house or at the vendor, the
outcome (repaired, or replaced with a unit swapped in), and shipping back to the site."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.auth.identity import Caller
from partsvc.calls.customers import create_equipment
from partsvc.calls.models import Equipment
from partsvc.core.errors import Conflict, InvalidInput
from partsvc.inventory.catalog import get_location
from partsvc.inventory.ledger import claim_moves, post_move
from partsvc.inventory.models import Unit
from partsvc.inventory.rules import LocationKind
from partsvc.repairs.intake import site_code
from partsvc.repairs.models import Rma, RmaItem
from partsvc.repairs.progress import StepItem, check_step, record_step, step_time
from partsvc.repairs.rmas import SHIPMENT_REASON, item_label, received_into
from partsvc.repairs.rules import (
    RmaStatus,
    Step,
    Verdict,
    step_status,
)


def start_repair(
    session: Session,
    rma: Rma,
    *,
    place: str,
    now: datetime,
    by: Caller | None = None,
    at: datetime | None = None,
    note: str | None = None,
) -> Rma:
    """Repair in house or at the vendor (R17). A unit dead on arrival is replaced, not
    repaired: an RMA of such units only is completed as replaced instead."""
    check_step(rma, RmaStatus.REPAIRING)
    received = [item for item in rma.items if item.received_qty > 0]
    if received and all(item.verdict == Verdict.REPLACEMENT for item in received):
        raise Conflict(
            f"Everything on {rma.number} was dead on arrival: it is replaced, not repaired. "
            "Complete it with outcome replaced.",
            rma=rma.number,
        )
    when = step_time(rma, at, now)
    rma.repair_place = place
    return record_step(session, rma, RmaStatus.REPAIRING, when, by, note)


def complete(
    session: Session,
    rma: Rma,
    *,
    outcome: str,
    items: Sequence[StepItem],
    now: datetime,
    by: Caller | None = None,
    at: datetime | None = None,
    note: str | None = None,
) -> Rma:
    """The repair is done: ``repaired``, or ``replaced`` with the serial each faulty unit
    was swapped for (the faulty → replacement link of its history). A unit dead on
    arrival must be replaced."""
    new = step_status(Step.COMPLETE, outcome)
    check_step(rma, new)
    received = [item for item in rma.items if item.received_qty > 0]
    dead = [item for item in received if item.verdict == Verdict.REPLACEMENT]
    if new == RmaStatus.REPAIRED:
        if items:
            raise InvalidInput(
                "A repaired RMA swaps nothing; complete it as replaced.",
                errors={"items": ["Only with outcome replaced."]},
            )
        if dead:
            raise Conflict(
                f"{', '.join(item_label(item) for item in dead)} was dead on arrival: it is "
                "replaced, not repaired.",
                rma=rma.number,
            )
    else:
        _swap(session, rma, received, items)
    when = step_time(rma, at, now)
    return record_step(session, rma, new, when, by, note)


def _swap(
    session: Session, rma: Rma, received: Sequence[RmaItem], swaps: Sequence[StepItem]
) -> None:
    """Link each faulty unit to its replacement; every unit dead on arrival needs one."""
    seen: set[str] = set()
    for swap in swaps:
        if swap.serial is None or swap.replacement_serial is None:
            raise InvalidInput(
                "A replaced unit is named by its serial and its replacement_serial.",
                errors={"items": ["Give serial and replacement_serial."]},
            )
        if swap.sku is not None or swap.qty is not None or swap.accessories_complete is not None:
            raise InvalidInput(
                "Completing a repair takes serial and replacement_serial per item.",
                errors={"items": ["Only serial and replacement_serial."]},
            )
        item = next((i for i in received if i.serial == swap.serial), None)
        if item is None:
            raise Conflict(
                f"Serial {swap.serial} was not received on {rma.number}; it cannot be replaced "
                "on it.",
                serial=swap.serial,
                rma=rma.number,
            )
        new_serial = swap.replacement_serial
        if new_serial == swap.serial or new_serial in seen or swap.serial in seen:
            raise InvalidInput(
                f"Replacement {new_serial} for {swap.serial} is listed twice or is the faulty "
                "unit itself.",
                errors={"items": ["Each faulty unit gets its own, different replacement."]},
            )
        seen.update({new_serial, swap.serial})
        unit = session.scalar(select(Unit).where(Unit.serial == new_serial))
        if unit is None or unit.location.kind not in _STOCK_KINDS:
            where = f"at {unit.location.code}" if unit else "unknown to the ledger"
            raise Conflict(
                f"Replacement {new_serial} is {where}: a replacement comes from our stock "
                "(a warehouse, a van or the repair bench).",
                replacement_serial=new_serial,
            )
        if unit.part_id != item.part_id:
            raise InvalidInput(
                f"Replacement {new_serial} is a {unit.part.sku}, not a {item.part.sku}.",
                errors={"replacement_serial": [f"{new_serial} is a {unit.part.sku}."]},
            )
        item.replacement_serial = new_serial
    serial_items = [item for item in received if item.serial is not None]
    unmatched = [item for item in serial_items if item.replacement_serial is None]
    dead = [item for item in unmatched if item.verdict == Verdict.REPLACEMENT]
    if dead or (serial_items and len(unmatched) == len(serial_items)):
        need = dead or unmatched
        raise InvalidInput(
            f"Give the replacement serial of {', '.join(item_label(item) for item in need)}.",
            errors={"items": ["A replaced unit needs its replacement_serial."]},
        )


def _install_replacement(session: Session, item: RmaItem, when: datetime, zone: ZoneInfo) -> None:
    """The installed base follows a swap: the replacement becomes the customer's
    equipment at the same site, its warranty counted from the day it ships (R15), and the
    faulty unit's record points at it."""
    faulty = item.equipment
    assert faulty is not None and item.replacement_serial is not None
    existing = session.scalar(select(Equipment).where(Equipment.serial == item.replacement_serial))
    if existing is None:
        existing = create_equipment(
            session,
            serial=item.replacement_serial,
            sku=item.part.sku,
            site=faulty.site.code,
            installed_on=when.astimezone(zone).date(),
        )
    faulty.replaced_by_id = existing.id
    session.flush()


_STOCK_KINDS = frozenset({LocationKind.WAREHOUSE, LocationKind.VAN, LocationKind.REPAIR})


def ship(
    session: Session,
    rma: Rma,
    *,
    now: datetime,
    location: str | None = None,
    engineer: str | None = None,
    zone: ZoneInfo,
    by: Caller | None = None,
    at: datetime | None = None,
    note: str | None = None,
) -> Rma:
    """Book what was received, repaired or replaced, back to the customer's site through
    the ledger: from ``location``, by default the repair location it came into. The
    ``engineer`` delivering it collects the loaner that stood in for it (R13)."""
    check_step(rma, RmaStatus.SHIPPED)
    source = get_location(session, location) if location else received_into(session, rma)
    if source is None:
        raise Conflict(f"Nothing was received on {rma.number}; there is nothing to ship.")
    when = step_time(rma, at, now)
    booked = []
    for item in rma.items:
        if item.received_qty == 0:
            continue
        serial = item.replacement_serial or item.serial
        origin = source
        if item.replacement_serial is not None:
            # The replacement leaves from wherever it is in stock; the faulty unit stays
            # on the bench (for repair and the pool, or scrap).
            replacement = session.scalar(select(Unit).where(Unit.serial == serial))
            if replacement is not None:
                origin = replacement.location
        move = post_move(
            session,
            sku=item.part.sku,
            qty=item.received_qty,
            from_code=origin.code,
            to_code=site_code(session, rma, item),
            reason=SHIPMENT_REASON,
            reference=rma.number,
            serials=[serial] if serial and item.part.serialized else [],
            at=when,
            now=now,
            by=by,
        )
        booked.append(move.id)
        if item.replacement_serial is not None and item.equipment is not None:
            _install_replacement(session, item, when, zone)
    claim_moves(session, booked, rma.number)
    return record_step(session, rma, RmaStatus.SHIPPED, when, by, note)
