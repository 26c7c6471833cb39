"""Many moves into stock from one counterparty, booked as one batch: a first day's
opening stock of thousands of lines.

It does for each line what ``ledger.post_move`` does — the same checks, the same level
upsert, the same ledger line — with one statement per table for the whole batch instead
of several round trips per line. Only stock *arriving* is taken: the source is a
counterparty (adjustment, a vendor) whose balance may go negative, so no warehouse or
van is taken from, and every serial must be one the ledger has not seen yet.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from partsvc.auth.identity import Caller
from partsvc.core.errors import DuplicateKey, InvalidInput, SerialNotHere, UnknownKey
from partsvc.inventory.catalog import get_location
from partsvc.inventory.ledger import (
    BookedMove,
    LocationRef,
    PartRef,
    _check_serials_match,
    _upsert_level,
)
from partsvc.inventory.models import Location, Move, MoveUnit, Part, Unit
from partsvc.inventory.rules import holds_stock
from partsvc.platform.db import table_of

_CHUNK = 1000  # keys per IN (...) look-up
_moves, _units, _move_units = table_of(Move), table_of(Unit), table_of(MoveUnit)
_INSERT_MOVES = insert(_moves).returning(_moves.c.id, sort_by_parameter_order=True)
_INSERT_UNITS = insert(_units).returning(_units.c.id, sort_by_parameter_order=True)


@dataclasses.dataclass(frozen=True)
class Arrival:
    """One line of a batch: ``qty`` of a part into a location, with its new serials."""

    sku: str
    qty: int
    to_code: str
    serials: tuple[str, ...] = ()


def post_moves_in(
    session: Session,
    arrivals: Sequence[Arrival],
    *,
    from_code: str,
    reason: str,
    now: datetime,
    reference: str | None = None,
    by: Caller | None = None,
) -> list[BookedMove]:
    """Book each arrival as a move from the counterparty ``from_code``; all or none.

    Refused like ``post_move``, with nothing written: an unknown part or location, a
    quantity below 1, a move to the source itself, serials not matching the quantity or
    given twice, and here also a serial already booked anywhere (``SerialNotHere``).
    """
    source = LocationRef.of(get_location(session, from_code))
    if holds_stock(source.kind):
        raise InvalidInput(
            f"{from_code} holds stock: moves out of it are booked one by one.",
            errors={"from": ["Must be a counterparty: adjustment, a vendor, ..."]},
        )
    parts = {
        row.sku: PartRef(row.id, row.sku, row.serialized)
        for row in _rows(
            session, select(Part.id, Part.sku, Part.serialized), Part.sku, [a.sku for a in arrivals]
        )
    }
    places = {
        row.code: LocationRef(row.id, row.code, row.kind)
        for row in _rows(
            session,
            select(Location.id, Location.code, Location.kind),
            Location.code,
            [a.to_code for a in arrivals],
        )
    }
    at = now.astimezone(UTC)
    moves = [
        _move(arrival, parts, places, source, reason, reference, at, by) for arrival in arrivals
    ]
    serials = [serial for move in moves for serial in move.serials]
    if len(set(serials)) != len(serials):
        raise InvalidInput(
            "A serial is listed twice.", errors={"serials": ["Serials must be unique."]}
        )
    for row in _rows(session, select(Unit.serial), Unit.serial, serials):
        raise SerialNotHere(f"Serial {row.serial} is already booked.", serial=row.serial)
    if not moves:
        return []

    connection = session.connection()
    deltas: defaultdict[tuple[int, int], int] = defaultdict(int)
    guarded = {source.id: False}
    for move in moves:
        deltas[(move.from_location_id, move.part_id)] -= move.qty
        deltas[(move.to_location_id, move.part_id)] += move.qty
        guarded[move.to_location_id] = holds_stock(move.to_kind)
    # Level rows in one order, location then part, as post_move takes them.
    connection.execute(
        _upsert_level(session.get_bind().dialect.name),
        [
            {"b_part": part, "b_location": place, "b_delta": delta, "b_guarded": guarded[place]}
            for (place, part), delta in sorted(deltas.items())
        ],
    )
    ids = connection.execute(_INSERT_MOVES, [move.ledger_line() for move in moves]).scalars()
    booked = [
        dataclasses.replace(move, id=move_id) for move, move_id in zip(moves, ids, strict=True)
    ]
    _insert_units(session, booked)
    return booked


def _move(
    arrival: Arrival,
    parts: dict[str, PartRef],
    places: dict[str, LocationRef],
    source: LocationRef,
    reason: str,
    reference: str | None,
    at: datetime,
    by: Caller | None,
) -> BookedMove:
    part = parts.get(arrival.sku)
    if part is None:
        raise UnknownKey(f"No part with SKU {arrival.sku!r}.", sku=arrival.sku)
    target = places.get(arrival.to_code)
    if target is None:
        raise UnknownKey(f"No location with code {arrival.to_code!r}.", location=arrival.to_code)
    if arrival.qty <= 0:
        raise InvalidInput("Quantity must be positive.", errors={"qty": ["Must be at least 1."]})
    if target.id == source.id:
        raise InvalidInput(
            "A move needs two different locations.", errors={"to": ["Must differ from 'from'."]}
        )
    _check_serials_match(part, arrival.qty, arrival.serials)
    return BookedMove(
        id=0,
        part_id=part.id,
        sku=part.sku,
        qty=arrival.qty,
        from_location_id=source.id,
        from_code=source.code,
        to_location_id=target.id,
        to_code=target.code,
        reason=reason,
        reference=reference,
        serials=tuple(sorted(arrival.serials)),
        at=at,
        recorded_at=at,
        user_id=by.id if by else None,
        by=by.username if by else None,
        reverses_id=None,
        to_kind=target.kind,
    )


def _insert_units(session: Session, booked: Sequence[BookedMove]) -> None:
    """Each new serial as a unit where its move took it, and the link to that move."""
    lines = [(move, serial) for move in booked for serial in move.serials]
    if not lines:
        return
    connection = session.connection()
    try:
        unit_ids = connection.execute(
            _INSERT_UNITS,
            [
                {"serial": serial, "part_id": move.part_id, "location_id": move.to_location_id}
                for move, serial in lines
            ],
        ).scalars()
    except IntegrityError as exc:
        raise DuplicateKey("A serial was just booked by someone else.") from exc
    connection.execute(
        insert(_move_units),
        [
            {"move_id": move.id, "unit_id": unit_id}
            for (move, _), unit_id in zip(lines, unit_ids, strict=True)
        ],
    )


def _rows(session: Session, query: Any, column: Any, keys: Sequence[str]) -> list[Any]:
    """The rows of ``query`` whose ``column`` is one of ``keys``, a chunk at a time."""
    unique = sorted(set(keys))
    found: list[Any] = []
    for start in range(0, len(unique), _CHUNK):
        found += session.execute(query.where(column.in_(unique[start : start + _CHUNK]))).all()
    return found
