"""What makes a row of a parts or opening-stock file right: no database, no Flask.

Each check adds a problem to the row and column at fault and goes on, so one pass over
the file finds every bad row. What the catalogue already holds (SKUs, vendors,
locations, serials) is handed in as plain mappings by the service that looked it up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from partsvc.inventory.rules import LocationKind, holds_stock
from partsvc.platform.schemas import MAX_QTY
from partsvc.workflows.imports import csvfile
from partsvc.workflows.imports.csvfile import CellError, Columns, Problems, Row

T = TypeVar("T")

MAX_UNIT_COST = 10**9
MAX_LEAD_TIME_DAYS = 3650
MAX_WARRANTY_MONTHS = 1200

PART_COLUMNS = Columns(
    required=("sku", "name"),
    optional=(
        "name_zh",
        "barcode",
        "serialized",
        "loaner",
        "unit_cost",
        "vendor",
        "lead_time_days",
        "warranty_months",
    ),
)
STOCK_COLUMNS = Columns(required=("sku", "location", "qty"), optional=("serials",))


def _cell(row: Row, column: str, parse: Callable[[str], T], problems: Problems, default: T) -> T:
    """The parsed cell, or ``default`` with a problem added when it is wrong."""
    try:
        return parse(row[column])
    except CellError as error:
        problems.add(row.number, column, str(error))
        return default


def _optional(parse: Callable[[str], T]) -> Callable[[str], T | None]:
    return lambda value: parse(value) if value else None


def _required(parse: Callable[[str], T]) -> Callable[[str], T]:
    def parse_required(value: str) -> T:
        if not value:
            raise CellError("Empty; this column must be filled in.")
        return parse(value)

    return parse_required


# ---------------------------------------------------------------- parts


@dataclass(frozen=True)
class PartRow:
    """A part as one row of the file gives it."""

    row: int
    sku: str
    name: str
    name_zh: str | None = None
    barcode: str | None = None
    serialized: bool = False
    loaner: bool = False
    unit_cost: Decimal | None = None
    vendor: str | None = None
    lead_time_days: int | None = None
    warranty_months: int | None = None


def parse_parts(rows: Iterable[Row], problems: Problems) -> list[PartRow]:
    """Each row as a part; a SKU or barcode given twice is a problem on its second row.

    A row with a problem is still returned (its bad cells empty), so that the checks
    against the catalogue report the rest of what is wrong with it."""
    parts: list[PartRow] = []
    first_sku: dict[str, int] = {}
    first_barcode: dict[str, int] = {}
    for row in rows:
        part = PartRow(
            row=row.number,
            sku=_cell(row, "sku", _required(csvfile.key), problems, ""),
            name=_cell(row, "name", _required(lambda v: csvfile.text(v, 200)), problems, ""),
            name_zh=_cell(
                row, "name_zh", _optional(lambda v: csvfile.text(v, 200)), problems, None
            ),
            barcode=_cell(row, "barcode", _optional(csvfile.key), problems, None),
            serialized=_cell(row, "serialized", csvfile.yes_no, problems, False),
            loaner=_cell(row, "loaner", csvfile.yes_no, problems, False),
            unit_cost=_cell(
                row,
                "unit_cost",
                _optional(lambda v: csvfile.money(v, MAX_UNIT_COST)),
                problems,
                None,
            ),
            vendor=_cell(row, "vendor", _optional(csvfile.key), problems, None),
            lead_time_days=_cell(
                row,
                "lead_time_days",
                _optional(lambda v: csvfile.whole_number(v, 0, MAX_LEAD_TIME_DAYS)),
                problems,
                None,
            ),
            warranty_months=_cell(
                row,
                "warranty_months",
                _optional(lambda v: csvfile.whole_number(v, 0, MAX_WARRANTY_MONTHS)),
                problems,
                None,
            ),
        )
        if part.loaner and not part.serialized:
            problems.add(
                row.number, "loaner", "A loaner model is serialized: set serialized to yes."
            )
        if part.sku:
            _first_or_duplicate(first_sku, part.sku, row.number, "sku", "SKU", problems)
        if part.barcode:
            _first_or_duplicate(
                first_barcode, part.barcode, row.number, "barcode", "Barcode", problems
            )
        parts.append(part)
    return parts


def check_parts(
    parts: Sequence[PartRow],
    *,
    existing_skus: Iterable[str],
    barcode_owners: Mapping[str, str],
    vendor_kinds: Mapping[str, str],
    problems: Problems,
) -> None:
    """Against the catalogue: a SKU or barcode taken already, a vendor that is none."""
    taken = set(existing_skus)
    for part in parts:
        if part.sku in taken:
            problems.add(part.row, "sku", f"A part with SKU {part.sku!r} already exists.")
        owner = barcode_owners.get(part.barcode) if part.barcode else None
        if owner is not None:
            problems.add(
                part.row, "barcode", f"Barcode {part.barcode!r} already belongs to part {owner}."
            )
        if part.vendor is not None:
            kind = vendor_kinds.get(part.vendor)
            if kind is None:
                problems.add(part.row, "vendor", f"No vendor with code {part.vendor!r}.")
            elif kind != LocationKind.VENDOR:
                problems.add(part.row, "vendor", f"{part.vendor!r} is a {kind}, not a vendor.")


# ---------------------------------------------------------------- opening stock


@dataclass(frozen=True)
class StockRow:
    """A quantity of a part found at a warehouse or van, as one row of the file gives it."""

    row: int
    sku: str
    location: str
    qty: int
    serials: tuple[str, ...] = ()


@dataclass(frozen=True)
class PartFacts:
    serialized: bool


@dataclass(frozen=True)
class LocationFacts:
    kind: str
    active: bool = True


@dataclass(frozen=True)
class OpeningMove:
    """What the import books: one move per part and location, from adjustment."""

    sku: str
    location: str
    qty: int
    serials: tuple[str, ...]
    rows: tuple[int, ...]


def parse_stock(rows: Iterable[Row], problems: Problems) -> list[StockRow]:
    """Each row as stock found; a serial given twice is a problem on its second row.

    Like ``parse_parts``, a row with a problem is returned too, its bad cells empty."""
    found: list[StockRow] = []
    first_serial: dict[str, int] = {}
    for row in rows:
        sku = _cell(row, "sku", _required(csvfile.key), problems, "")
        location = _cell(row, "location", _required(csvfile.key), problems, "")
        qty = _cell(
            row,
            "qty",
            _required(lambda v: csvfile.whole_number(v, 1, MAX_QTY)),
            problems,
            0,
        )
        serials = csvfile.serial_list(row["serials"])
        for serial in serials:
            try:
                csvfile.key(serial, 100)
            except CellError as error:
                problems.add(row.number, "serials", str(error))
                continue
            _first_or_duplicate(first_serial, serial, row.number, "serials", "Serial", problems)
        if serials and qty and len(serials) != qty:
            problems.add(
                row.number,
                "serials",
                f"{len(serials)} serials for a quantity of {qty}: give one serial per unit.",
            )
        found.append(StockRow(row.number, sku, location, qty, tuple(serials)))
    return found


def check_stock(
    found: Sequence[StockRow],
    *,
    parts: Mapping[str, PartFacts],
    locations: Mapping[str, LocationFacts],
    serials_at: Mapping[str, str],
    on_hand: Mapping[tuple[str, str], int],
    problems: Problems,
) -> list[OpeningMove]:
    """Against the catalogue and the ledger, and the moves to book if nothing is wrong.

    ``serials_at`` tells where each serial of the file already is; ``on_hand`` what a
    (SKU, location) of the file already holds. Opening stock is for a place that holds
    none of the part yet: a second import of the same file is refused, not doubled.
    """
    first_of_pair: dict[tuple[str, str], int] = {}
    for item in found:
        _check_location(item, locations.get(item.location), problems)
        facts = parts.get(item.sku)
        if facts is None:
            if item.sku:
                problems.add(
                    item.row, "sku", f"No part with SKU {item.sku!r}; import the parts first."
                )
        else:
            _check_serials_wanted(item, facts, problems)
            pair = (item.sku, item.location)
            if item.location and not facts.serialized and pair in first_of_pair:
                problems.add(
                    item.row,
                    "sku",
                    f"{item.sku} at {item.location} is already on row {first_of_pair[pair]}: "
                    "put its whole quantity on one row.",
                )
            first_of_pair.setdefault(pair, item.row)
            if on_hand.get(pair, 0):
                problems.add(
                    item.row,
                    "qty",
                    f"{item.location} already holds {on_hand[pair]} of {item.sku}: opening "
                    "stock goes where there is none yet (correct a quantity with a count).",
                )
        for serial in item.serials:
            if serial in serials_at:
                problems.add(
                    item.row,
                    "serials",
                    f"Serial {serial} is already booked, at {serials_at[serial]}.",
                )
    return _moves(found)


def _check_location(item: StockRow, place: LocationFacts | None, problems: Problems) -> None:
    if not item.location:
        return
    if place is None:
        problems.add(item.row, "location", f"No location with code {item.location!r}.")
    elif not holds_stock(place.kind):
        problems.add(
            item.row,
            "location",
            f"{item.location} is a {place.kind}; opening stock goes into a warehouse or a van.",
        )
    elif not place.active:
        problems.add(item.row, "location", f"{item.location} is closed.")


def _check_serials_wanted(item: StockRow, facts: PartFacts, problems: Problems) -> None:
    if facts.serialized and not item.serials:
        problems.add(
            item.row, "serials", f"{item.sku} is serialized: give the serial of each unit."
        )
    elif not facts.serialized and item.serials:
        problems.add(item.row, "serials", f"{item.sku} is not serialized: leave this empty.")


def _moves(found: Sequence[StockRow]) -> list[OpeningMove]:
    """One move per (SKU, location), in the order of the file: the serials of a part may
    come one row per serial."""
    grouped: dict[tuple[str, str], list[StockRow]] = {}
    for item in found:
        grouped.setdefault((item.sku, item.location), []).append(item)
    return [
        OpeningMove(
            sku=sku,
            location=location,
            qty=sum(item.qty for item in items),
            serials=tuple(serial for item in items for serial in item.serials),
            rows=tuple(item.row for item in items),
        )
        for (sku, location), items in grouped.items()
    ]


def _first_or_duplicate(
    first: dict[str, int], value: str, row: int, column: str, what: str, problems: Problems
) -> None:
    if value in first:
        problems.add(row, column, f"{what} {value} is already on row {first[value]}.")
    else:
        first[value] = row
