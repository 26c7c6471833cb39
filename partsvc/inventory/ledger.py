"""The stock ledger. ``post_move`` is the one writer of stock (DESIGN rule 3).

Every move appends one ledger line and changes the cached levels of its two locations in
the same transaction; a warehouse or van never goes negative (R1–R4). This is the hottest
path of the service, so it speaks SQLAlchemy Core: the statements that change levels are
built once, and the parts and locations it needs are read as plain rows.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    CTE,
    Boolean,
    ColumnElement,
    Executable,
    Integer,
    Update,
    bindparam,
    exists,
    insert,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import Insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload

from partsvc.auth.identity import Caller
from partsvc.core.errors import (
    AlreadyReversed,
    Conflict,
    DuplicateKey,
    InsufficientStock,
    InvalidInput,
    SerialNotHere,
    UnknownKey,
)
from partsvc.inventory.catalog import (
    get_move,
    get_part,
)
from partsvc.inventory.models import Location, Move, MoveUnit, Part, StockLevel, Unit
from partsvc.inventory.rules import holds_stock, lock_order, may_introduce_serials
from partsvc.platform import metrics
from partsvc.platform.db import lookups, table_of

_parts, _locations, _levels = table_of(Part), table_of(Location), table_of(StockLevel)
_moves, _move_units = table_of(Move), table_of(MoveUnit)


MOVE_PART, MOVE_TO = "b_move_part", "b_move_to"
"""The binds a question asked with a move (``post_move(ask=...)``) may use."""


class PartRef(NamedTuple):
    """What a move needs to know of a part."""

    id: int
    sku: str
    serialized: bool

    @classmethod
    def of(cls, part: Part) -> PartRef:
        return cls(part.id, part.sku, part.serialized)


class LocationRef(NamedTuple):
    """What a move needs to know of a location."""

    id: int
    code: str
    kind: str

    @classmethod
    def of(cls, location: Location) -> LocationRef:
        return cls(location.id, location.code, location.kind)


@dataclasses.dataclass(frozen=True)
class BookedMove:
    """A move just written to the ledger; it reads like a ``Move`` loaded from it."""

    id: int
    part_id: int
    sku: str
    qty: int
    from_location_id: int
    from_code: str
    to_location_id: int
    to_code: str
    reason: str
    reference: str | None
    serials: tuple[str, ...]
    at: datetime
    recorded_at: datetime
    user_id: int | None
    by: str | None
    reverses_id: int | None
    reversed_by_id: int | None = None
    document: str | None = None
    to_kind: str = ""  # the kind of location it went to (not a column: known when booked)
    asked: object = None
    """The answer to the question the booking asked with its ledger line (``ask``)."""

    def ledger_line(self) -> dict[str, object]:
        """The columns of its row in ``moves``."""
        return {
            "part_id": self.part_id,
            "qty": self.qty,
            "from_location_id": self.from_location_id,
            "to_location_id": self.to_location_id,
            "reason": self.reason,
            "reference": self.reference,
            "at": self.at,
            "recorded_at": self.recorded_at,
            "user_id": self.user_id,
            "reverses_id": self.reverses_id,
        }


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
    by: Caller | None = None,
    ask: ColumnElement[bool] | None = None,
) -> BookedMove:
    """Book ``qty`` of a part from one location to another (R1–R4).

    Refused with ``InsufficientStock`` if a warehouse or van would go negative, and with
    ``SerialNotHere`` if a serial is not where the move says; nothing is written then.
    ``ask``: a question about the move (an SQL expression, which may use the binds
    ``MOVE_PART`` and ``MOVE_TO``: its part's id and where it goes) that the database
    answers with the ledger line's INSERT, in the same round trip (``BookedMove.asked``).
    """
    part, source, target = _move_refs(session, sku, from_code, to_code)
    return book(
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
        by=by,
        ask=ask,
    )


def reverse_move(
    session: Session,
    move_id: int,
    *,
    now: datetime,
    reason: str | None = None,
    by: Caller | None = None,
    as_document: str | None = None,
) -> BookedMove:
    """Post the move that undoes ``move_id``: same part, quantity and serials, back.

    A move a document booked is reversed only by that document (``as_document``)."""
    original = get_move(session, move_id)
    if original.document is not None and original.document != as_document:
        raise Conflict(
            f"Move {move_id} was booked by {original.document}; undo it there.",
            move=move_id,
            document=original.document,
        )
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
    return book(
        session,
        part=PartRef.of(original.part),
        source=LocationRef.of(original.to_location),
        target=LocationRef.of(original.from_location),
        qty=original.qty,
        reason=reason or "reversal",
        reference=f"reversal of move {move_id}",
        serials=original.serials,
        at=now,
        now=now,
        by=by,
        reverses_id=original.id,
    )


def claim_moves(session: Session, move_ids: Sequence[int], document: str) -> None:
    """Mark moves as booked by ``document``: they are undone through it (see reverse_move)."""
    session.execute(update(Move).where(Move.id.in_(list(move_ids))).values(document=document))


def book(
    session: Session,
    *,
    part: PartRef,
    source: LocationRef,
    target: LocationRef,
    qty: int,
    reason: str,
    reference: str | None,
    serials: Sequence[str],
    at: datetime,
    now: datetime,
    by: Caller | None,
    reverses_id: int | None = None,
    ask: ColumnElement[bool] | None = None,
) -> BookedMove:
    """Write one move whose part and locations are already known (counts, reversals)."""
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
    moved = BookedMove(
        id=0,
        part_id=part.id,
        sku=part.sku,
        qty=qty,
        from_location_id=source.id,
        from_code=source.code,
        to_location_id=target.id,
        to_code=target.code,
        reason=reason,
        reference=reference,
        serials=tuple(sorted(serial for _, serial in units)),
        at=at.astimezone(UTC),
        recorded_at=now.astimezone(UTC),
        user_id=by.id if by else None,
        by=by.username if by else None,
        reverses_id=reverses_id,
        to_kind=target.kind,
    )
    connection = session.connection()
    asked = None
    try:
        if connection.dialect.name == "postgresql":
            move_id, asked = _book_in_one_statement(session, moved, part, source, target, ask)
        else:
            for location_id in lock_order(source.id, target.id):
                if location_id == source.id:
                    _take(session, part, source, qty)
                else:
                    _add_to_level(session, part, target, qty)
            if ask is None:
                move_id = connection.execute(_INSERT_MOVE, moved.ledger_line()).scalar_one()
            else:
                line = {**moved.ledger_line(), MOVE_PART: part.id, MOVE_TO: target.id}
                move_id, asked = connection.execute(_insert_move_asking(ask), line).one()
    except IntegrityError as exc:
        if reverses_id is not None:  # a concurrent reversal of the same move won the race
            raise AlreadyReversed(f"Move {reverses_id} was already reversed.") from exc
        raise
    if units:
        connection.execute(
            insert(_move_units), [{"move_id": move_id, "unit_id": uid} for uid, _ in units]
        )
    metrics.move_booked(session, source.kind, target.kind)
    return dataclasses.replace(moved, id=move_id, asked=asked)


def _move_refs(
    session: Session, sku: str, from_code: str, to_code: str
) -> tuple[PartRef, LocationRef, LocationRef]:
    """The part and both locations of a move: remembered by this process once read
    (neither ever changes: ``platform.db.Lookups``), else read in one round trip."""
    cache = lookups(session)
    if cache is not None:
        part = cache.get(("part", sku))
        source = cache.get(("location", from_code))
        target = cache.get(("location", to_code))
        if part is not None and source is not None and target is not None:
            return part, source, target
    rows = session.connection().execute(_MOVE_REFS, {"b_sku": sku, "b_codes": [from_code, to_code]})
    part = None
    found = {}
    for row in rows:
        part = PartRef(row.part_id, row.sku, row.serialized)
        found[row.code] = LocationRef(row.location_id, row.code, row.kind)
    if part is None:
        get_part(session, sku)  # raises UnknownKey when no part has this SKU
    for code in (from_code, to_code):
        if code not in found:
            raise UnknownKey(f"No location with code {code!r}.", location=code)
    assert part is not None
    if cache is not None:
        cache.remember(session, ("part", sku), part)
        for location in found.values():
            cache.remember(session, ("location", location.code), location)
    return part, found[from_code], found[to_code]


def _book_in_one_statement(
    session: Session,
    moved: BookedMove,
    part: PartRef,
    source: LocationRef,
    target: LocationRef,
    ask: ColumnElement[bool] | None,
) -> tuple[int, object]:
    """PostgreSQL: both levels and the ledger line in one statement (``_one_move``);
    the move's id and the answer to ``ask``. Refused as ``_take`` refuses."""
    source_takes = holds_stock(source.kind)
    source_first = lock_order(source.id, target.id)[0] == source.id
    row = (
        session.connection()
        .execute(
            _one_move(source_takes, source_first, ask),
            {
                **{f"line_{name}": value for name, value in moved.ledger_line().items()},
                "b_part": part.id,
                "b_src": source.id,
                "b_qty": moved.qty,
                "b_take": moved.qty,
                "b_out": -moved.qty,
                "b_src_guarded": source_takes,
                "b_dst": target.id,
                "b_in": moved.qty,
                "b_dst_guarded": holds_stock(target.kind),
                MOVE_PART: part.id,
                MOVE_TO: target.id,
            },
        )
        .one()
    )
    if row.move_id is None:  # only a take refuses: the source had not enough
        _refuse_take(session, part, source, moved.qty)
    return row.move_id, row.asked if ask is not None else None


def _check_serials_match(part: PartRef, qty: int, serials: Sequence[str]) -> None:
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


def _take(session: Session, part: PartRef, location: LocationRef, qty: int) -> None:
    if not holds_stock(location.kind):
        _add_to_level(session, part, location, -qty)
        return
    result = session.connection().execute(
        _TAKE, {"b_part": part.id, "b_location": location.id, "b_qty": qty, "b_take": qty}
    )
    if result.rowcount != 1:
        _refuse_take(session, part, location, qty)


def _refuse_take(session: Session, part: PartRef, location: LocationRef, qty: int) -> None:
    """Not enough is available at ``location``: a 409 that says how much there is."""
    available = session.scalar(
        select(StockLevel.on_hand - StockLevel.reserved).where(
            StockLevel.part_id == part.id, StockLevel.location_id == location.id
        )
    )
    raise InsufficientStock(
        f"Only {available or 0} of {part.sku} available at {location.code}; cannot book out {qty}.",
        sku=part.sku,
        location=location.code,
        available=available or 0,
        requested=qty,
    )


def _add_to_level(session: Session, part: PartRef, location: LocationRef, delta: int) -> None:
    session.connection().execute(
        _upsert_level(session.get_bind().dialect.name),
        {
            "b_part": part.id,
            "b_location": location.id,
            "b_delta": delta,
            "b_guarded": holds_stock(location.kind),
        },
    )


def _carry_units(
    session: Session,
    part: PartRef,
    source: LocationRef,
    target: LocationRef,
    serials: Sequence[str],
) -> list[tuple[int, str]]:
    """Move each serial from ``source`` to ``target`` (R3); returns (unit id, serial)."""
    if not serials:
        return []
    known = {unit.serial: unit for unit in session.scalars(_UNITS, {"b_serials": list(serials)})}
    carried = []
    new_units = []
    for serial in sorted(serials):
        unit = known.get(serial)
        if unit is None:
            if not may_introduce_serials(source.kind):
                raise SerialNotHere(
                    f"Serial {serial} is not known at {source.code}.",
                    serial=serial,
                    location=source.code,
                )
            new_units.append({"serial": serial, "part_id": part.id, "location_id": target.id})
            continue
        if unit.part_id != part.id:
            raise InvalidInput(
                f"Serial {serial} is a {unit.part.sku}, not a {part.sku}.",
                errors={"serials": [f"{serial} belongs to part {unit.part.sku}."]},
            )
        result = session.connection().execute(
            _CARRY_UNIT, {"b_unit": unit.id, "b_from": source.id, "b_to": target.id}
        )
        if result.rowcount != 1:
            session.refresh(unit)
            raise SerialNotHere(
                f"Serial {serial} is at {unit.location.code}, not at {source.code}.",
                serial=serial,
                location=unit.location.code,
            )
        session.expire(unit, ["location_id", "location"])
        carried.append((unit.id, serial))
    if new_units:  # first seen: all written by one statement
        try:
            inserted = session.connection().execute(_INSERT_UNITS, new_units)
        except IntegrityError as exc:
            raise DuplicateKey("A serial was just booked by someone else.") from exc
        carried += [(row.id, row.serial) for row in inserted]
    return carried


# The statements of every move are built once: building them costs more than running them.
_MOVE_REFS = (
    select(
        _parts.c.id.label("part_id"),
        _parts.c.sku,
        _parts.c.serialized,
        _locations.c.id.label("location_id"),
        _locations.c.code,
        _locations.c.kind,
    )
    .select_from(_parts.join(_locations, true()))
    .where(
        _parts.c.sku == bindparam("b_sku"),
        _locations.c.code.in_(bindparam("b_codes", expanding=True)),
    )
)
_TAKE = (
    update(_levels)
    .where(
        _levels.c.part_id == bindparam("b_part"),
        _levels.c.location_id == bindparam("b_location"),
        _levels.c.on_hand - _levels.c.reserved >= bindparam("b_qty"),
    )
    .values(on_hand=_levels.c.on_hand - bindparam("b_take"))
)
_CARRY_UNIT = (
    update(table_of(Unit))
    .where(Unit.id == bindparam("b_unit"), Unit.location_id == bindparam("b_from"))
    .values(location_id=bindparam("b_to"))
)
_INSERT_MOVE = insert(_moves).returning(_moves.c.id)
_INSERT_UNITS = insert(table_of(Unit)).returning(table_of(Unit).c.id, table_of(Unit).c.serial)
_UNITS = (  # a unit's eager joins (part, vendor, location, engineer) are not needed here
    select(Unit)
    .options(lazyload(Unit.part), lazyload(Unit.location))
    .where(Unit.serial.in_(bindparam("b_serials", expanding=True)))
)


@functools.cache
def _insert_move_asking(ask: ColumnElement[bool]) -> Executable:
    """The ledger line's INSERT, returning its id and the answer to ``ask`` (built once
    per question: each is a statement of its caller's, made once)."""
    return insert(_moves).returning(_moves.c.id, ask)


_LINE_COLUMNS = (
    "part_id",
    "qty",
    "from_location_id",
    "to_location_id",
    "reason",
    "reference",
    "at",
    "recorded_at",
    "user_id",
    "reverses_id",
)


def _done() -> ColumnElement[int]:
    return literal_column("1").label("done")


def _take_gated(gate: CTE | None) -> Update:
    """The guarded take of ``_TAKE``, done only once ``gate`` has returned a row."""
    c = _levels.c
    statement = update(_levels).where(
        c.part_id == bindparam("b_part"),
        c.location_id == bindparam("b_src"),
        c.on_hand - c.reserved >= bindparam("b_qty"),
    )
    if gate is not None:
        statement = statement.where(exists(select(gate.c.done)))
    return statement.values(on_hand=c.on_hand - bindparam("b_take")).returning(_done())


def _upsert_gated(location: str, delta: str, guarded: str, gate: CTE | None) -> Insert:
    """The upsert of ``_upsert_level`` (binds named here), done once ``gate`` has a row."""
    values: list[ColumnElement[Any]] = [
        bindparam("b_part", type_=Integer),
        bindparam(location, type_=Integer),
        bindparam(delta, type_=Integer),
        literal_column("0"),
        bindparam(guarded, type_=Boolean),
    ]
    rows = select(*values)
    if gate is not None:
        rows = rows.where(exists(select(gate.c.done)))
    statement = pg_insert(_levels).from_select(
        ["part_id", "location_id", "on_hand", "reserved", "guarded"], rows
    )
    upsert: Insert = statement.on_conflict_do_update(
        index_elements=[_levels.c.part_id, _levels.c.location_id],
        set_={"on_hand": _levels.c.on_hand + statement.excluded.on_hand},
    )
    return upsert.returning(_done())  # type: ignore[return-value]


@functools.cache
def _one_move(
    source_takes: bool, source_first: bool, ask: ColumnElement[bool] | None
) -> Executable:
    """PostgreSQL: a move's two level changes and its ledger line as one statement.

    Three data-modifying CTEs, each run only once the one before it returned a row (an
    uncommitted ``EXISTS`` on it, which PostgreSQL evaluates before the next one touches
    any row): the first location in lock order, then the second, then the line. So rows
    are locked in the same order as moves made statement by statement (no deadlock
    between opposite transfers), a take that finds too little stops what follows, and
    the statement says which step stopped: ``first_done``, ``second_done``, ``move_id``
    (None unless all were done) and ``asked`` (the answer to ``ask``, with the line).
    """

    def source(gate: CTE | None) -> Update | Insert:
        if source_takes:
            return _take_gated(gate)
        return _upsert_gated("b_src", "b_out", "b_src_guarded", gate)

    def target(gate: CTE | None) -> Update | Insert:
        return _upsert_gated("b_dst", "b_in", "b_dst_guarded", gate)

    one, two = (source, target) if source_first else (target, source)
    first = one(None).cte("first_level")
    second = two(first).cte("second_level")
    line_rows = select(  # binds named apart: a bind named like a column is SET by SQLAlchemy
        *(bindparam(f"line_{name}", type_=_moves.c[name].type) for name in _LINE_COLUMNS)
    ).where(exists(select(second.c.done)))
    returning: list[ColumnElement[Any]] = [_moves.c.id.label("move_id")]
    if ask is not None:
        returning.append(ask.label("asked"))
    line = (
        pg_insert(_moves).from_select(list(_LINE_COLUMNS), line_rows).returning(*returning)
    ).cte("line")
    columns: list[ColumnElement[Any]] = [
        exists(select(first.c.done)).label("first_done"),
        exists(select(second.c.done)).label("second_done"),
        select(line.c.move_id).scalar_subquery().label("move_id"),
    ]
    if ask is not None:
        columns.append(select(line.c.asked).scalar_subquery().label("asked"))
    return select(*columns)


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
