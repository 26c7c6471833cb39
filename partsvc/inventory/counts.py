"""Stock counts (R6): what was counted, and the moves that make the ledger agree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.auth.identity import Caller
from partsvc.core.errors import Conflict, InvalidInput, SerialNotHere
from partsvc.inventory.catalog import adjustment_location, get_location, get_part
from partsvc.inventory.ledger import LocationRef, PartRef, book
from partsvc.inventory.ledger_reads import units_at
from partsvc.inventory.models import Location, Part, StockCount, StockCountLine, StockLevel, Unit
from partsvc.inventory.rules import count_difference, holds_stock, serial_count_differences


@dataclass(frozen=True)
class CountedLine:
    """One part as counted: a quantity, or for a serialized part the serials seen."""

    sku: str
    counted: int | None = None
    serials: tuple[str, ...] | None = None


_Booking = tuple[LocationRef, LocationRef, int, Sequence[str]]


def post_count(
    session: Session,
    *,
    location_code: str,
    lines: Sequence[CountedLine],
    now: datetime,
    at: datetime | None = None,
    note: str | None = None,
    by: Caller | None = None,
) -> StockCount:
    """Record a stock count and book each difference against adjustment (R6)."""
    location = get_location(session, location_code)
    if not holds_stock(location.kind):
        raise InvalidInput(
            f"{location.code} is a {location.kind}; only warehouses and vans are counted.",
            errors={"location": ["Must be a warehouse or a van."]},
        )
    skus = [line.sku for line in lines]
    if len(set(skus)) != len(skus):
        raise InvalidInput("A part is counted twice.", errors={"lines": ["One line per SKU."]})
    adjustment = LocationRef.of(adjustment_location(session))
    count = StockCount(
        location_id=location.id,
        at=(at or now).astimezone(UTC),
        recorded_at=now.astimezone(UTC),
        user_id=by.id if by else None,
        note=note,
    )
    session.add(count)
    session.flush()
    parts = sorted(((get_part(session, line.sku), line) for line in lines), key=lambda p: p[0].id)
    for part, line in parts:
        expected = _on_hand(session, part, location)
        move_id = None
        for source, target, qty, serials in _count_bookings(
            session, part, location, adjustment, line, expected
        ):
            move_id = book(
                session,
                part=PartRef.of(part),
                source=source,
                target=target,
                qty=qty,
                reason="count",
                reference=f"count {count.id}",
                serials=serials,
                at=count.at,
                now=now,
                by=by,
            ).id
        counted = line.counted if line.counted is not None else len(line.serials or ())
        if move_id is not None and _on_hand(session, part, location) != counted:
            # Someone booked this part here while it was being counted: the difference
            # was worked out from a level that no longer holds. Nothing is written.
            raise Conflict(
                f"{part.sku} at {location.code} was booked while it was counted; count again.",
                sku=part.sku,
                location=location.code,
            )
        session.add(
            StockCountLine(
                count_id=count.id,
                part_id=part.id,
                expected=expected,
                counted=counted,
                move_id=move_id,
            )
        )
    session.flush()
    session.refresh(count)
    return count


def _count_bookings(
    session: Session,
    part: Part,
    location: Location,
    adjustment: LocationRef,
    line: CountedLine,
    expected: int,
) -> list[_Booking]:
    """The moves that make the ledger agree with what was counted."""
    here = LocationRef.of(location)
    if not part.serialized:
        if line.serials:
            raise InvalidInput(
                f"{part.sku} is not serialized.", errors={"serials": ["Not allowed for this part."]}
            )
        if line.counted is None:
            raise InvalidInput(
                f"Give the counted quantity of {part.sku}.", errors={"counted": ["Required."]}
            )
        difference = count_difference(expected, line.counted)
        if difference > 0:
            return [(adjustment, here, difference, ())]
        if difference < 0:
            return [(here, adjustment, -difference, ())]
        return []

    if line.serials is None:
        raise InvalidInput(
            f"{part.sku} is serialized: list the serials counted.",
            errors={"serials": ["Required for serialized parts."]},
        )
    if len(set(line.serials)) != len(line.serials):
        raise InvalidInput(
            f"A serial of {part.sku} is listed twice.",
            errors={"serials": ["Each serial once."]},
        )
    if line.counted is not None and line.counted != len(line.serials):
        raise InvalidInput(
            f"Counted {line.counted} but listed {len(line.serials)} serials of {part.sku}.",
            errors={"counted": ["Must equal the number of serials."]},
        )
    missing, found = serial_count_differences(units_at(session, location.id, part.id), line.serials)
    bookings: list[_Booking] = []
    if missing:
        bookings.append((here, adjustment, len(missing), missing))
    # A found serial we never saw comes in from adjustment; one booked at a counterparty
    # (a site, a vendor) comes back from there; one booked at another warehouse or van
    # is refused, because that shelf's count would then be wrong.
    sources: dict[int, LocationRef] = {adjustment.id: adjustment}
    by_source: dict[int, list[str]] = {}
    known = {u.serial: u for u in session.scalars(select(Unit).where(Unit.serial.in_(found)))}
    for serial in found:
        unit = known.get(serial)
        if unit is None:
            by_source.setdefault(adjustment.id, []).append(serial)
            continue
        if unit.part_id != part.id:
            raise InvalidInput(
                f"Serial {serial} is a {unit.part.sku}, not a {part.sku}.",
                errors={"serials": [f"{serial} belongs to part {unit.part.sku}."]},
            )
        if holds_stock(unit.location.kind):
            raise SerialNotHere(
                f"Serial {serial} was counted at {location.code} but is booked at "
                f"{unit.location.code}; transfer it first.",
                serial=serial,
                location=unit.location.code,
            )
        sources[unit.location_id] = LocationRef.of(unit.location)
        by_source.setdefault(unit.location_id, []).append(serial)
    for source_id, serials in by_source.items():
        bookings.append((sources[source_id], here, len(serials), serials))
    return bookings


def _on_hand(session: Session, part: Part, location: Location) -> int:
    """Read without a lock: taking one here, before the units and levels that ``book``
    locks, would take rows in another order than every move does, and could deadlock.
    The level is checked again after booking instead."""
    return (
        session.scalar(
            select(StockLevel.on_hand).where(
                StockLevel.part_id == part.id, StockLevel.location_id == location.id
            )
        )
        or 0
    )
