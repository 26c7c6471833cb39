"""Importing the parts catalogue and the opening stock from a clerk's CSV files.

Every row is read and checked first, against the file and against the database; one bad
row refuses the whole file with every problem listed, and nothing is written. Only then
are the parts inserted, or the stock booked through the ledger (``post_moves_in``, the
batch form of ``post_move``, from the adjustment location, as a count books what it
finds), all in the caller's transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from partsvc.audit import trail as audit
from partsvc.auth.identity import Caller
from partsvc.core.errors import InvalidRows
from partsvc.inventory.catalog import adjustment_location
from partsvc.inventory.ledger_bulk import Arrival, post_moves_in
from partsvc.inventory.models import Location, Part, StockLevel, Unit
from partsvc.purchasing.orders import waiting_at
from partsvc.workflows.bookings import serve_waiting_requests
from partsvc.workflows.imports import rules
from partsvc.workflows.imports.csvfile import Problems, read_rows

OPENING_STOCK = "opening stock"
"""The reason of every move an opening-stock import books."""

_CHUNK = 1000  # keys per IN (...) look-up: well within SQLite's and PostgreSQL's limits


@dataclass(frozen=True)
class PartsImported:
    """What a parts import wrote, or would write on a dry run."""

    dry_run: bool
    rows: int
    parts: int
    serialized: int


@dataclass(frozen=True)
class StockImported:
    """What an opening-stock import booked, or would book on a dry run."""

    dry_run: bool
    rows: int
    moves: int
    units: int
    serials: int
    reference: str
    locations: dict[str, int] = field(default_factory=dict)


def import_parts(session: Session, data: bytes, *, dry_run: bool, now: datetime) -> PartsImported:
    """Create every part of a parts CSV file, or none: ``InvalidRows`` lists the bad rows."""
    problems = Problems()
    parts = rules.parse_parts(read_rows(data, rules.PART_COLUMNS, problems), problems)
    if parts:
        skus = [part.sku for part in parts if part.sku]
        barcodes = [part.barcode for part in parts if part.barcode]
        vendor_codes = sorted({part.vendor for part in parts if part.vendor})
        vendors = {
            row.code: row
            for row in session.execute(
                select(Location.code, Location.kind, Location.id).where(
                    Location.code.in_(vendor_codes)
                )
            )
        }
        taken = select(Part.sku, Part.barcode)
        rules.check_parts(
            parts,
            existing_skus={row.sku for row in _in_chunks(session, taken, Part.sku, skus)},
            barcode_owners={
                row.barcode: row.sku for row in _in_chunks(session, taken, Part.barcode, barcodes)
            },
            vendor_kinds={code: row.kind for code, row in vendors.items()},
            problems=problems,
        )
    _refuse_if_any(problems, len(parts))
    if not dry_run:
        session.execute(
            insert(Part),
            [
                {
                    "sku": part.sku,
                    "name": part.name,
                    "name_zh": part.name_zh,
                    "barcode": part.barcode,
                    "serialized": part.serialized,
                    "loaner": part.loaner,
                    "unit_cost": part.unit_cost,
                    "vendor_id": vendors[part.vendor].id if part.vendor else None,
                    "lead_time_days": part.lead_time_days,
                    "warranty_months": part.warranty_months,
                    "created_at": now,
                }
                for part in parts
            ],
        )
        audit.record(
            session,
            "parts.imported",
            kind="import",
            details={"parts": len(parts), "skus": [part.sku for part in parts[:20]]},
        )
    return PartsImported(
        dry_run=dry_run,
        rows=len(parts),
        parts=len(parts),
        serialized=sum(part.serialized for part in parts),
    )


def import_stock(
    session: Session,
    data: bytes,
    *,
    dry_run: bool,
    now: datetime,
    today: date,
    by: Caller | None = None,
    source: str | None = None,
    zone: tzinfo = UTC,
) -> StockImported:
    """Book the opening stock of an opening-stock CSV file into warehouses and vans, or
    nothing: ``InvalidRows`` lists the bad rows. Each part and location gets one move
    from adjustment, whose reference names this import (and ``source``, the file)."""
    problems = Problems()
    found = rules.parse_stock(read_rows(data, rules.STOCK_COLUMNS, problems), problems)
    moves: list[rules.OpeningMove] = []
    if found:
        moves = _check_stock(session, found, problems)
    _refuse_if_any(problems, len(found))
    adjustment = adjustment_location(session)  # a dry run says so too, if there is none
    reference = opening_reference(now, source, zone)
    if not dry_run:
        codes = sorted({move.location for move in moves})
        waiting = waiting_at(
            session, list(session.scalars(select(Location.id).where(Location.code.in_(codes))))
        )
        arrivals = [Arrival(m.sku, m.qty, m.location, m.serials) for m in moves]
        booked = post_moves_in(
            session,
            arrivals,
            from_code=adjustment.code,
            reason=OPENING_STOCK,
            reference=reference,
            now=now,
            by=by,
        )
        for arrived in booked:
            if (arrived.part_id, arrived.to_location_id) in waiting:
                serve_waiting_requests(session, arrived, now=now, today=today)
        audit.record(
            session,
            "stock.imported",
            kind="import",
            key=reference,
            details={"moves": len(moves), "units": sum(m.qty for m in moves)},
        )
    per_location: Counter[str] = Counter()
    for move in moves:
        per_location[move.location] += move.qty
    return StockImported(
        dry_run=dry_run,
        rows=len(found),
        moves=len(moves),
        units=sum(per_location.values()),
        serials=sum(len(move.serials) for move in moves),
        reference=reference,
        locations=dict(sorted(per_location.items())),
    )


def opening_reference(now: datetime, source: str | None, zone: tzinfo = UTC) -> str:
    """``opening stock import 2026-11-20 10:00 +08:00 (stock.csv)``: the moves' reference,
    at the deployment's time, as the clerk's clock showed it (``UTC`` in UTC)."""
    local = now.astimezone(zone)
    offset = local.strftime("%z")
    label = "UTC" if offset in ("", "+0000") else f"{offset[:3]}:{offset[3:]}"
    reference = f"{OPENING_STOCK} import {local:%Y-%m-%d %H:%M} {label}"
    name = "".join(ch for ch in (source or "") if ch.isprintable()).strip()[:120]
    return f"{reference} ({name})" if name else reference


def _check_stock(
    session: Session, found: Sequence[rules.StockRow], problems: Problems
) -> list[rules.OpeningMove]:
    skus = sorted({item.sku for item in found if item.sku})
    codes = sorted({item.location for item in found if item.location})
    serials = [serial for item in found for serial in item.serials]
    parts = {
        row.sku: row
        for row in _in_chunks(session, select(Part.sku, Part.id, Part.serialized), Part.sku, skus)
    }
    locations = {
        row.code: row
        for row in session.execute(
            select(Location.code, Location.id, Location.kind, Location.active).where(
                Location.code.in_(codes)
            )
        )
    }
    serials_at = {
        row.serial: row.code
        for row in _in_chunks(
            session,
            select(Unit.serial, Location.code).join(Location, Location.id == Unit.location_id),
            Unit.serial,
            serials,
        )
    }
    on_hand = {
        (row.sku, row.code): row.on_hand
        for row in _in_chunks(
            session,
            select(Part.sku, Location.code, StockLevel.on_hand)
            .join(Part, Part.id == StockLevel.part_id)
            .join(Location, Location.id == StockLevel.location_id)
            .where(
                StockLevel.location_id.in_([row.id for row in locations.values()]),
                StockLevel.on_hand != 0,
            ),
            StockLevel.part_id,
            [row.id for row in parts.values()],
        )
    }
    return rules.check_stock(
        found,
        parts={sku: rules.PartFacts(serialized=row.serialized) for sku, row in parts.items()},
        locations={
            code: rules.LocationFacts(kind=row.kind, active=row.active)
            for code, row in locations.items()
        },
        serials_at=serials_at,
        on_hand=on_hand,
        problems=problems,
    )


def _in_chunks(session: Session, query: Any, column: Any, keys: Sequence[Any]) -> Iterator[Any]:
    """The rows of ``query`` whose ``column`` is one of ``keys``, a chunk at a time."""
    for start in range(0, len(keys), _CHUNK):
        yield from session.execute(query.where(column.in_(keys[start : start + _CHUNK])))


def _refuse_if_any(problems: Problems, rows: int) -> None:
    if problems:
        raise InvalidRows(
            f"{_rows(problems.bad_rows)} with errors (see errors, by row and column); "
            "nothing was imported.",
            errors=problems.by_row(),
            rows=rows,
            bad_rows=problems.bad_rows,
        )


def _rows(count: int) -> str:
    return "1 row" if count == 1 else f"{count:,} rows"
