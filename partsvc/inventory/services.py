"""Stock use cases. ``post_move`` is the one writer of stock (DESIGN rule 3).

Every function takes a session and plain values, flushes and never commits.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Executable, Select, Table, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from partsvc.calls.models import Engineer
from partsvc.db import Base
from partsvc.errors import (
    AlreadyReversed,
    Conflict,
    DuplicateKey,
    InsufficientStock,
    InvalidInput,
    SerialNotHere,
    UnknownKey,
)
from partsvc.inventory.models import (
    Location,
    Move,
    MoveUnit,
    Part,
    StockCount,
    StockCountLine,
    StockLevel,
    Unit,
)
from partsvc.inventory.rules import (
    LocationKind,
    count_difference,
    holds_stock,
    lock_order,
    may_introduce_serials,
    serial_count_differences,
)

ADJUSTMENT_CODE = "ADJ"


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


# ---------------------------------------------------------------- look-ups


def get_part(session: Session, sku: str) -> Part:
    part = session.scalar(select(Part).where(Part.sku == sku))
    if part is None:
        raise UnknownKey(f"No part with SKU {sku!r}.", sku=sku)
    return part


def get_location(session: Session, code: str) -> Location:
    location = session.scalar(select(Location).where(Location.code == code))
    if location is None:
        raise UnknownKey(f"No location with code {code!r}.", location=code)
    return location


def get_locations(session: Session, *codes: str) -> list[Location]:
    """Several locations by code in one query, in the order asked."""
    found = {
        location.code: location
        for location in session.scalars(select(Location).where(Location.code.in_(set(codes))))
    }
    for code in codes:
        if code not in found:
            raise UnknownKey(f"No location with code {code!r}.", location=code)
    return [found[code] for code in codes]


def get_move(session: Session, move_id: int) -> Move:
    move = session.get(Move, move_id)
    if move is None:
        raise UnknownKey(f"No move {move_id}.", move=move_id)
    return move


def get_unit(session: Session, serial: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.serial == serial))
    if unit is None:
        raise UnknownKey(f"No unit with serial {serial!r}.", serial=serial)
    return unit


def get_count(session: Session, count_id: int) -> StockCount:
    count = session.get(StockCount, count_id)
    if count is None:
        raise UnknownKey(f"No stock count {count_id}.", count=count_id)
    return count


def adjustment_location(session: Session) -> Location:
    """Where count differences are booked: the location of kind adjustment (R6)."""
    location = session.scalar(
        select(Location)
        .where(Location.kind == LocationKind.ADJUSTMENT)
        .order_by(Location.code != ADJUSTMENT_CODE, Location.id)
        .limit(1)
    )
    if location is None:
        raise Conflict("There is no location of kind 'adjustment' to book count differences.")
    return location


# ---------------------------------------------------------------- parts and locations


def create_part(
    session: Session,
    *,
    sku: str,
    name: str,
    name_zh: str | None = None,
    barcode: str | None = None,
    serialized: bool = False,
    unit_cost: Decimal | None = None,
    vendor: str | None = None,
    lead_time_days: int | None = None,
    warranty_months: int | None = None,
) -> Part:
    if session.scalar(select(Part.id).where(Part.sku == sku)) is not None:
        raise DuplicateKey(f"A part with SKU {sku!r} already exists.", sku=sku)
    if barcode and session.scalar(select(Part.sku).where(Part.barcode == barcode)):
        raise DuplicateKey(f"Barcode {barcode!r} already belongs to another part.")
    vendor_location = None
    if vendor is not None:
        vendor_location = get_location(session, vendor)
        if vendor_location.kind != LocationKind.VENDOR:
            raise InvalidInput(
                f"{vendor!r} is a {vendor_location.kind}, not a vendor.",
                errors={"vendor": ["Must name a location of kind vendor."]},
            )
    part = Part(
        sku=sku,
        name=name,
        name_zh=name_zh,
        barcode=barcode or None,
        serialized=serialized,
        unit_cost=unit_cost,
        vendor=vendor_location,
        lead_time_days=lead_time_days,
        warranty_months=warranty_months,
    )
    session.add(part)
    _flush_or_conflict(session, f"A part with SKU {sku!r} already exists.")
    return part


def create_location(
    session: Session,
    *,
    code: str,
    name: str,
    kind: str,
    lat: float | None = None,
    lon: float | None = None,
    engineer: str | None = None,
) -> Location:
    if session.scalar(select(Location.id).where(Location.code == code)) is not None:
        raise DuplicateKey(f"A location with code {code!r} already exists.", location=code)
    engineer_row = None
    if engineer is not None:
        if kind != LocationKind.VAN:
            raise InvalidInput(
                "Only a van belongs to an engineer.",
                errors={"engineer": ["Only allowed for locations of kind van."]},
            )
        engineer_row = session.scalar(select(Engineer).where(Engineer.code == engineer))
        if engineer_row is None:
            raise UnknownKey(f"No engineer with code {engineer!r}.", engineer=engineer)
        if session.scalar(select(Location.code).where(Location.engineer_id == engineer_row.id)):
            raise Conflict(f"Engineer {engineer!r} already has a van.")
    location = Location(
        code=code,
        name=name,
        kind=kind,
        lat=lat,
        lon=lon,
        engineer_id=engineer_row.id if engineer_row else None,
    )
    session.add(location)
    _flush_or_conflict(session, f"A location with code {code!r} already exists.")
    return location


def search_parts(
    session: Session, *, q: str | None = None, after_id: int | None = None, limit: int = 50
) -> list[Part]:
    """Parts whose SKU, barcode or name (English or Chinese) matches ``q``; by id."""
    query = select(Part).order_by(Part.id).limit(limit)
    if q:
        pattern = f"%{_escape_like(q)}%"
        query = query.where(
            or_(
                Part.sku == q,
                Part.barcode == q,
                Part.sku.ilike(pattern, escape="\\"),
                Part.name.ilike(pattern, escape="\\"),
                Part.name_zh.like(pattern, escape="\\"),
            )
        )
    if after_id is not None:
        query = query.where(Part.id > after_id)
    return list(session.scalars(query))


def list_locations(
    session: Session, *, kind: str | None = None, after_id: int | None = None, limit: int = 50
) -> list[Location]:
    query = select(Location).order_by(Location.id).limit(limit)
    if kind:
        query = query.where(Location.kind == kind)
    if after_id is not None:
        query = query.where(Location.id > after_id)
    return list(session.scalars(query))


# ---------------------------------------------------------------- the ledger


def post_move(
    session: Session,
    *,
    sku: str,
    qty: int,
    from_code: str,
    to_code: str,
    reason: str,
    now: datetime,
    reference: str | None = None,
    serials: Sequence[str] = (),
    at: datetime | None = None,
    user_id: int | None = None,
) -> Move:
    """Book ``qty`` of a part from one location to another (R1–R4).

    Appends one move to the ledger and updates the cached levels in the same
    transaction. Refused with ``InsufficientStock`` if a warehouse or van would go
    negative, and with ``SerialNotHere`` if a serial is not where the move says.
    """
    part = get_part(session, sku)
    source, target = get_locations(session, from_code, to_code)
    return _book(
        session,
        part=part,
        source=source,
        target=target,
        qty=qty,
        reason=reason,
        reference=reference,
        serials=serials,
        at=at or now,
        now=now,
        user_id=user_id,
    )


def reverse_move(
    session: Session,
    move_id: int,
    *,
    now: datetime,
    reason: str | None = None,
    user_id: int | None = None,
) -> Move:
    """Post the move that undoes ``move_id``: same part, quantity and serials, back."""
    original = get_move(session, move_id)
    if original.reverses_id is not None:
        raise Conflict(
            f"Move {move_id} is itself a reversal; post a new move instead.", move=move_id
        )
    already = session.scalar(select(Move.id).where(Move.reverses_id == move_id))
    if already is not None:
        raise AlreadyReversed(
            f"Move {move_id} was already reversed by move {already}.",
            move=move_id,
            reversal=already,
        )
    return _book(
        session,
        part=original.part,
        source=original.to_location,
        target=original.from_location,
        qty=original.qty,
        reason=reason or "reversal",
        reference=f"reversal of move {move_id}",
        serials=[unit.serial for unit in original.units],
        at=now,
        now=now,
        user_id=user_id,
        reverses_id=original.id,
    )


def _book(
    session: Session,
    *,
    part: Part,
    source: Location,
    target: Location,
    qty: int,
    reason: str,
    reference: str | None,
    serials: Sequence[str],
    at: datetime,
    now: datetime,
    user_id: int | None,
    reverses_id: int | None = None,
) -> Move:
    if qty <= 0:
        raise InvalidInput("Quantity must be positive.", errors={"qty": ["Must be at least 1."]})
    if source.id == target.id:
        raise InvalidInput(
            "A move needs two different locations.", errors={"to": ["Must differ from 'from'."]}
        )
    _check_serials_match(part, qty, serials)

    # Serials first (a wrong serial is the clearer error), then the levels; rows are
    # always taken in the same order so that concurrent moves cannot deadlock.
    units = _carry_units(session, part, source, target, serials)
    for location_id in lock_order(source.id, target.id):
        if location_id == source.id:
            _take(session, part, source, qty)
        else:
            _put(session, part, target, qty)

    move = Move(
        part=part,
        qty=qty,
        from_location=source,
        to_location=target,
        reason=reason,
        reference=reference,
        at=at.astimezone(UTC),
        recorded_at=now.astimezone(UTC),
        user_id=user_id,
        reverses_id=reverses_id,
    )
    session.add(move)
    try:
        session.flush()
    except IntegrityError as exc:
        if reverses_id is not None:  # a concurrent reversal of the same move won the race
            raise AlreadyReversed(f"Move {reverses_id} was already reversed.") from exc
        raise
    if units:
        session.execute(
            insert(_table(MoveUnit)), [{"move_id": move.id, "unit_id": u.id} for u in units]
        )
    # A new move's collections are known: say so rather than have them loaded again.
    set_committed_value(move, "units", sorted(units, key=lambda unit: unit.serial))
    set_committed_value(move, "reversed_by", None)
    return move


def _check_serials_match(part: Part, qty: int, serials: Sequence[str]) -> None:
    if part.serialized:
        if len(serials) != qty:
            raise InvalidInput(
                f"{part.sku} is serialized: give one serial per unit moved.",
                errors={"serials": [f"Expected {qty} serials, got {len(serials)}."]},
            )
        if len(set(serials)) != len(serials):
            raise InvalidInput(
                "A serial is listed twice.", errors={"serials": ["Serials must be unique."]}
            )
    elif serials:
        raise InvalidInput(
            f"{part.sku} is not serialized.", errors={"serials": ["Not allowed for this part."]}
        )


def _take(session: Session, part: Part, location: Location, qty: int) -> None:
    if not holds_stock(location.kind):
        _add_to_level(session, part, location, -qty)
        return
    result = session.connection().execute(
        _TAKE, {"b_part": part.id, "b_location": location.id, "b_qty": qty, "b_take": qty}
    )
    if result.rowcount != 1:
        available = session.scalar(
            select(StockLevel.on_hand - StockLevel.reserved).where(
                StockLevel.part_id == part.id, StockLevel.location_id == location.id
            )
        )
        raise InsufficientStock(
            f"Only {available or 0} of {part.sku} available at {location.code}; "
            f"cannot book out {qty}.",
            sku=part.sku,
            location=location.code,
            available=available or 0,
            requested=qty,
        )


def _put(session: Session, part: Part, location: Location, qty: int) -> None:
    _add_to_level(session, part, location, qty)


def _add_to_level(session: Session, part: Part, location: Location, delta: int) -> None:
    session.connection().execute(
        _upsert_level(session.get_bind().dialect.name),
        {
            "b_part": part.id,
            "b_location": location.id,
            "b_delta": delta,
            "b_guarded": holds_stock(location.kind),
        },
    )


# The two statements of every move are built once: building them costs more than running them.
_levels = _table(StockLevel)
_TAKE = (
    update(_levels)
    .where(
        _levels.c.part_id == bindparam("b_part"),
        _levels.c.location_id == bindparam("b_location"),
        _levels.c.on_hand - _levels.c.reserved >= bindparam("b_qty"),
    )
    .values(on_hand=_levels.c.on_hand - bindparam("b_take"))
)


@functools.cache
def _upsert_level(dialect: str) -> Executable:
    """Add ``delta`` to a level, creating the row if it is the first move there."""
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = upsert(_levels).values(
        part_id=bindparam("b_part"),
        location_id=bindparam("b_location"),
        on_hand=bindparam("b_delta"),
        reserved=0,
        guarded=bindparam("b_guarded"),
    )
    return statement.on_conflict_do_update(
        index_elements=[_levels.c.part_id, _levels.c.location_id],
        set_={"on_hand": _levels.c.on_hand + statement.excluded.on_hand},
    )


def _carry_units(
    session: Session, part: Part, source: Location, target: Location, serials: Sequence[str]
) -> list[Unit]:
    """Move each serial from ``source`` to ``target``; returns the units (R3)."""
    if not serials:
        return []
    known = {
        unit.serial: unit
        for unit in session.scalars(select(Unit).where(Unit.serial.in_(list(serials))))
    }
    units = []
    for serial in sorted(serials):
        unit = known.get(serial)
        if unit is None:
            if not may_introduce_serials(source.kind):
                raise SerialNotHere(
                    f"Serial {serial} is not known at {source.code}.",
                    serial=serial,
                    location=source.code,
                )
            unit = Unit(serial=serial, part_id=part.id, location_id=target.id)
            session.add(unit)
            _flush_or_conflict(session, f"Serial {serial} was just booked by someone else.")
            units.append(unit)
            continue
        if unit.part_id != part.id:
            raise InvalidInput(
                f"Serial {serial} is a {unit.part.sku}, not a {part.sku}.",
                errors={"serials": [f"{serial} belongs to part {unit.part.sku}."]},
            )
        result = session.execute(
            update(Unit)
            .where(Unit.id == unit.id, Unit.location_id == source.id)
            .values(location_id=target.id)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            session.refresh(unit)
            raise SerialNotHere(
                f"Serial {serial} is at {unit.location.code}, not at {source.code}.",
                serial=serial,
                location=unit.location.code,
            )
        session.expire(unit, ["location_id", "location"])
        units.append(unit)
    return units


# ---------------------------------------------------------------- counts


@dataclass(frozen=True)
class CountedLine:
    sku: str
    counted: int | None = None
    serials: tuple[str, ...] | None = None


def post_count(
    session: Session,
    *,
    location_code: str,
    lines: Sequence[CountedLine],
    now: datetime,
    at: datetime | None = None,
    note: str | None = None,
    user_id: int | None = None,
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
    adjustment = adjustment_location(session)
    count = StockCount(
        location_id=location.id,
        at=(at or now).astimezone(UTC),
        recorded_at=now.astimezone(UTC),
        user_id=user_id,
        note=note,
    )
    session.add(count)
    session.flush()
    parts = sorted(((get_part(session, line.sku), line) for line in lines), key=lambda p: p[0].id)
    for part, line in parts:
        expected = _locked_on_hand(session, part, location)
        move = None
        for source, target, qty, serials in _count_bookings(
            session, part, location, adjustment, line, expected
        ):
            move = _book(
                session,
                part=part,
                source=source,
                target=target,
                qty=qty,
                reason="count",
                reference=f"count {count.id}",
                serials=serials,
                at=count.at,
                now=now,
                user_id=user_id,
            )
        counted = line.counted if line.counted is not None else len(line.serials or ())
        session.add(
            StockCountLine(
                count_id=count.id,
                part_id=part.id,
                expected=expected,
                counted=counted,
                move_id=move.id if move else None,
            )
        )
    session.flush()
    session.refresh(count)
    return count


_Booking = tuple[Location, Location, int, Sequence[str]]


def _count_bookings(
    session: Session,
    part: Part,
    location: Location,
    adjustment: Location,
    line: CountedLine,
    expected: int,
) -> list[_Booking]:
    """The moves that make the ledger agree with what was counted."""
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
            return [(adjustment, location, difference, ())]
        if difference < 0:
            return [(location, adjustment, -difference, ())]
        return []

    if line.serials is None:
        raise InvalidInput(
            f"{part.sku} is serialized: list the serials counted.",
            errors={"serials": ["Required for serialized parts."]},
        )
    if line.counted is not None and line.counted != len(line.serials):
        raise InvalidInput(
            f"Counted {line.counted} but listed {len(line.serials)} serials of {part.sku}.",
            errors={"counted": ["Must equal the number of serials."]},
        )
    missing, found = serial_count_differences(units_at(session, location.id, part.id), line.serials)
    bookings: list[_Booking] = []
    if missing:
        bookings.append((location, adjustment, len(missing), missing))
    # A found serial we never saw comes in from adjustment; one booked at a counterparty
    # (a site, a vendor) comes back from there; one booked at another warehouse or van
    # is refused, because that shelf's count would then be wrong.
    sources: dict[int, Location] = {adjustment.id: adjustment}
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
        sources[unit.location_id] = unit.location
        by_source.setdefault(unit.location_id, []).append(serial)
    for source_id, serials in by_source.items():
        bookings.append((sources[source_id], location, len(serials), serials))
    return bookings


def _locked_on_hand(session: Session, part: Part, location: Location) -> int:
    query: Select[int] = select(StockLevel.on_hand).where(
        StockLevel.part_id == part.id, StockLevel.location_id == location.id
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalar(query) or 0


# ---------------------------------------------------------------- reading the ledger


def list_moves(
    session: Session,
    *,
    sku: str | None = None,
    location: str | None = None,
    serial: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[Move]:
    """The ledger, newest first, filtered by part, location (either side) or serial."""
    query = select(Move).order_by(Move.id.desc()).limit(limit)
    if sku is not None:
        query = query.where(Move.part_id == get_part(session, sku).id)
    if location is not None:
        location_id = get_location(session, location).id
        query = query.where(
            or_(Move.from_location_id == location_id, Move.to_location_id == location_id)
        )
    if serial is not None:
        unit = get_unit(session, serial)
        query = query.join(MoveUnit, MoveUnit.move_id == Move.id).where(MoveUnit.unit_id == unit.id)
    if before_id is not None:
        query = query.where(Move.id < before_id)
    return list(session.scalars(query))


def list_stock(
    session: Session,
    *,
    sku: str | None = None,
    location: str | None = None,
    kind: str | None = None,
    include_zero: bool = False,
    after_id: int | None = None,
    limit: int = 50,
) -> list[StockLevel]:
    """Stock levels per part and location: on hand, reserved and available.

    Without a location or kind, only warehouses and vans, where stock is held; a
    counterparty's balance (a vendor's, a site's) is asked for by location or kind.
    """
    query = select(StockLevel).order_by(StockLevel.id).limit(limit)
    if sku is not None:
        query = query.where(StockLevel.part_id == get_part(session, sku).id)
    if location is not None:
        query = query.where(StockLevel.location_id == get_location(session, location).id)
    elif kind is not None:
        query = query.join(Location, Location.id == StockLevel.location_id).where(
            Location.kind == kind
        )
    else:
        query = query.where(StockLevel.guarded.is_(True))
    if not include_zero:
        query = query.where(or_(StockLevel.on_hand != 0, StockLevel.reserved != 0))
    if after_id is not None:
        query = query.where(StockLevel.id > after_id)
    return list(session.scalars(query))


def units_at(session: Session, location_id: int, part_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Unit.serial)
            .where(Unit.location_id == location_id, Unit.part_id == part_id)
            .order_by(Unit.serial)
        )
    )


def ledger_balance(session: Session, part_id: int, location_id: int) -> int:
    """On-hand as the ledger says it: moves in minus moves out (R1)."""
    incoming = session.scalar(
        select(func.coalesce(func.sum(Move.qty), 0)).where(
            Move.part_id == part_id, Move.to_location_id == location_id
        )
    )
    outgoing = session.scalar(
        select(func.coalesce(func.sum(Move.qty), 0)).where(
            Move.part_id == part_id, Move.from_location_id == location_id
        )
    )
    return int(incoming or 0) - int(outgoing or 0)


# ---------------------------------------------------------------- helpers


def _flush_or_conflict(session: Session, detail: str) -> None:
    """Flush; a unique key taken meanwhile by a concurrent request becomes a 409."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise DuplicateKey(detail) from exc


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
