"""Reading the ledger: its moves, the stock levels it keeps, the units at a place."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import (
    Select,
    bindparam,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from partsvc.inventory.catalog import (
    get_location,
    get_part,
    get_unit,
    get_visible_location,
    visible_locations,
)
from partsvc.inventory.models import Location, Move, MoveUnit, Part, StockLevel, Unit
from partsvc.platform.db import table_of

_parts, _locations, _levels = table_of(Part), table_of(Location), table_of(StockLevel)
_moves, _move_units = table_of(Move), table_of(MoveUnit)


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
    query = moves_query(session, sku=sku, location=location, serial=serial, before_id=before_id)
    return list(session.scalars(query.limit(limit)))


def moves_query(
    session: Session,
    *,
    sku: str | None = None,
    location: str | None = None,
    serial: str | None = None,
    before_id: int | None = None,
) -> Select[Move]:
    """The ledger's moves, newest first, by part, location (either side) or serial: the
    query a page reads a page of and an export streams whole."""
    query = select(Move).order_by(Move.id.desc())
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
    return query


def list_stock(
    session: Session,
    *,
    sku: str | None = None,
    location: str | None = None,
    kind: str | None = None,
    include_zero: bool = False,
    after_id: int | None = None,
    limit: int = 50,
    only_engineer: int | None = None,
) -> list[StockLevel]:
    """Stock levels per part and location: on hand, reserved and available.

    Without a location or kind, only warehouses and vans, where stock is held; a
    counterparty's balance (a vendor's, a site's) is asked for by location or kind.
    An engineer (``only_engineer``) sees no other engineer's van: asked for by code,
    it is unknown.
    """
    # Moves change levels with Core statements: always read them afresh.
    query = (
        select(StockLevel)
        .order_by(StockLevel.id)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    if sku is not None:
        query = query.where(StockLevel.part_id == get_part(session, sku).id)
    if location is not None:
        place = get_visible_location(session, location, only_engineer=only_engineer)
        query = query.where(StockLevel.location_id == place.id)
    else:
        query = query.join(Location, Location.id == StockLevel.location_id).where(
            visible_locations(only_engineer)
        )
        if kind is not None:
            query = query.where(Location.kind == kind)
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


def units_by_location(session: Session, part_id: int) -> dict[Location, list[str]]:
    """Where each unit of a serialized part is: location → its serials, by code."""
    found: dict[Location, list[str]] = {}
    query = (
        select(Unit)
        .join(Location, Location.id == Unit.location_id)
        .where(Unit.part_id == part_id)
        .order_by(Location.code, Unit.serial)
    )
    for unit in session.scalars(query):
        found.setdefault(unit.location, []).append(unit.serial)
    return found


def loaner_serials_at(session: Session, location_id: int) -> list[tuple[str, str]]:
    """(serial, SKU) of the loaner units at a place (an engineer's van), by serial."""
    query = (
        select(Unit.serial, Part.sku)
        .join(Part, Part.id == Unit.part_id)
        .where(Unit.location_id == location_id, Part.loaner.is_(True))
        .order_by(Unit.serial)
    )
    return [(serial, sku) for serial, sku in session.execute(query)]


MOVE_COLUMNS = (
    "id", "sku", "qty", "from", "to", "reason", "reference", "serials",
    "at", "recorded_at", "by", "reverses", "reversed_by", "document",
)  # fmt: skip
"""A move's columns in a download: those of the API's move, in its order."""


def move_rows(
    session: Session, moves: Select[Move], *, batch: int = 1000
) -> Iterator[tuple[object, ...]]:
    """The moves ``moves`` selects as plain rows in ``MOVE_COLUMNS``, a batch at a time
    (a server-side cursor on PostgreSQL): a download of the whole ledger builds no
    objects and holds one batch of serials at a time."""
    from partsvc.auth.models import User  # the mover's name only

    source, target, reversal = aliased(Location), aliased(Location), aliased(Move)
    query = (
        moves.with_only_columns(
            Move.id,
            Part.sku,
            Move.qty,
            source.code,
            target.code,
            Move.reason,
            Move.reference,
            Move.at,
            Move.recorded_at,
            User.username,
            Move.reverses_id,
            reversal.id,
            Move.document,
        )
        .join(Part, Part.id == Move.part_id)
        .join(source, source.id == Move.from_location_id)
        .join(target, target.id == Move.to_location_id)
        .outerjoin(User, User.id == Move.user_id)
        .outerjoin(reversal, reversal.reverses_id == Move.id)
        .execution_options(yield_per=batch)
    )
    for rows in session.execute(query).partitions():
        serials: dict[int, list[str]] = {}
        for move_id, serial in session.execute(
            select(MoveUnit.move_id, Unit.serial)
            .join(Unit, Unit.id == MoveUnit.unit_id)
            .where(
                MoveUnit.move_id.in_(
                    # written into the statement: a thousand bound parameters cost
                    # more to render and send than the numbers themselves
                    bindparam("moves", [row[0] for row in rows], literal_execute=True)
                )
            )
            .order_by(Unit.serial)
        ):
            serials.setdefault(move_id, []).append(serial)
        for row in rows:
            yield (*row[:7], " ".join(serials.get(row[0], ())), *row[7:])
