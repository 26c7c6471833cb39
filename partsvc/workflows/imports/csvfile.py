"""Reading a clerk's CSV file into rows: no database, no Flask.

What spreadsheets write is accepted: UTF-8 with or without the BOM Excel puts first
(and Excel's "Unicode text", UTF-16 with a BOM), comma, semicolon or tab between cells,
quoted cells holding separators or line breaks, blank rows. Rows are numbered as the
spreadsheet shows them: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from partsvc.platform.schemas import KEY_PATTERN

MAX_ROWS = 50_000
"""More rows than this are refused: split the file (20,000 rows take seconds)."""

WHOLE_ROW = "row"
"""The column named for a problem of a whole row (or of the file, on the row it starts)."""

SEPARATORS = (",", ";", "\t")
_MAX_CELL = 10_000  # far above any column's limit; csv's own limit is 131,072
_SPREADSHEET_MAGIC = {
    b"PK\x03\x04": "an Excel workbook (.xlsx)",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)",
}
_HEADER_SPACES = re.compile(r"[\s\-]+")


class CellError(ValueError):
    """A cell's value is not what its column takes; the message says why, for the clerk."""


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    message: str


@dataclass
class Problems:
    """Every problem found in a file, by the row and column a clerk would look at."""

    items: list[Problem] = field(default_factory=list)

    def add(self, row: int, column: str, message: str) -> None:
        self.items.append(Problem(row, column, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def bad_rows(self) -> int:
        return len({problem.row for problem in self.items})

    def by_row(self) -> dict[str, dict[str, list[str]]]:
        """Row → column → messages, rows in order (the ``errors`` of a problem answer)."""
        grouped: dict[int, dict[str, list[str]]] = {}
        for problem in sorted(self.items, key=lambda p: p.row):
            grouped.setdefault(problem.row, {}).setdefault(problem.column, []).append(
                problem.message
            )
        return {str(row): columns for row, columns in grouped.items()}


@dataclass(frozen=True)
class Columns:
    """The columns a kind of file has: those it must have, and those it may have."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def known(self) -> tuple[str, ...]:
        return self.required + self.optional


@dataclass(frozen=True)
class Row:
    """One data row: its number in the spreadsheet and its cells by column (stripped,
    ``""`` when empty or missing)."""

    number: int
    cells: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.cells.get(column, "")


def read_rows(data: bytes, columns: Columns, problems: Problems) -> list[Row]:
    """The data rows of a CSV file; blank rows are skipped (their numbers still count).

    A file that cannot be read (not text, no header, unknown or missing columns) adds its
    problems and gives no rows, since every row would be wrong for the same reason.
    """
    text = _decode(data, problems)
    if text is None:
        return []
    if not text.strip():
        problems.add(
            1,
            WHOLE_ROW,
            f"The file is empty; its first row names the columns: {_list(columns.known)}.",
        )
        return []
    records = _records(text, _separator(text))
    header = _header(records, columns, problems)
    if header is None:
        return []
    header_row, names = header
    rows: list[Row] = []
    number = header_row
    try:
        for number, record in records:
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) == MAX_ROWS:
                problems.add(
                    number,
                    WHOLE_ROW,
                    f"More than {MAX_ROWS:,} rows: split the file, and import the pieces in turn.",
                )
                return []
            rows.append(_row(number, record, names, problems))
    except csv.Error as error:  # a cell longer than the csv module takes
        problems.add(number + 1, WHOLE_ROW, f"Cannot read this row: {error}.")
        return []
    if not rows:
        problems.add(header_row + 1, WHOLE_ROW, "There are no rows to import below the header.")
    return rows


def _decode(data: bytes, problems: Problems) -> str | None:
    for magic, what in _SPREADSHEET_MAGIC.items():
        if data.startswith(magic):
            problems.add(
                1,
                WHOLE_ROW,
                f"This is {what}, not a CSV file: in Excel, save it as "
                "'CSV UTF-8 (Comma delimited)'.",
            )
            return None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        row = data.count(b"\n", 0, error.start) + 1
        bad = data[error.start : error.start + 1].hex().upper()
        problems.add(
            row,
            WHOLE_ROW,
            f"The file is not UTF-8 text (byte 0x{bad} on this row): in Excel, save it as "
            "'CSV UTF-8 (Comma delimited)'; other programs call it UTF-8 encoding.",
        )
        return None


def _separator(text: str) -> str:
    """The separator the header row uses most: tab, semicolon (Excel in much of Europe)
    or comma."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {separator: first.count(separator) for separator in SEPARATORS}
    best = max(SEPARATORS, key=lambda separator: counts[separator])
    return best if counts[best] else ","


def _records(text: str, separator: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of each record, blank ones included so the numbers match."""
    return enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=separator), start=1)


def _header(
    records: Iterator[tuple[int, list[str]]], columns: Columns, problems: Problems
) -> tuple[int, list[str]] | None:
    """The header's row number and its column names, normalised; None if it is wrong."""
    try:
        first = next(((n, record) for n, record in records if any(c.strip() for c in record)), None)
    except csv.Error as error:
        problems.add(1, WHOLE_ROW, f"Cannot read the header row: {error}.")
        return None
    if first is None:
        problems.add(
            1, WHOLE_ROW, f"There is no header row naming the columns: {_list(columns.known)}."
        )
        return None
    number, record = first
    names = [normalise_column(cell) for cell in record]
    before = len(problems)
    seen: set[str] = set()
    for written, name in zip(record, names, strict=True):
        if not name:
            continue
        if name not in columns.known:
            problems.add(
                number,
                written.strip()[:64],
                f"Unknown column {written.strip()[:64]!r}; the columns are {_list(columns.known)}.",
            )
        elif name in seen:
            problems.add(number, name, f"The column {name!r} appears twice.")
        seen.add(name)
    for name in columns.required:
        if name not in seen:
            problems.add(number, name, f"The column {name!r} is missing; it must be there.")
    return None if len(problems) > before else (number, names)


def normalise_column(written: str) -> str:
    """``" Unit Cost "`` → ``unit_cost``: any case, spaces or hyphens for underscores."""
    return _HEADER_SPACES.sub("_", written.strip().lower())


def _row(number: int, record: list[str], names: list[str], problems: Problems) -> Row:
    cells: dict[str, str] = {}
    for index, value in enumerate(record):
        value = value.strip()
        name = names[index] if index < len(names) else ""
        if not name:
            if value:
                problems.add(
                    number,
                    WHOLE_ROW,
                    f"A value ({value[:40]!r}) in column {index + 1}, which has no name "
                    "in the header.",
                )
            continue
        if len(value) > _MAX_CELL:
            problems.add(number, name, f"Far too long ({len(value):,} characters).")
            value = ""
        cells[name] = value
    return Row(number, cells)


def _list(names: tuple[str, ...]) -> str:
    return ", ".join(names)


# ---------------------------------------------------------------- cells


_KEY = re.compile(KEY_PATTERN)
_THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?")
_DECIMAL_COMMA = re.compile(r"\d+,\d{1,2}")
_CURRENCY = ("¥", "￥", "CNY", "RMB")
TRUE_WORDS = frozenset({"yes", "y", "true", "t", "1", "x", "是", "√", "✓"})
FALSE_WORDS = frozenset({"no", "n", "false", "f", "0", "否", ""})


def key(value: str, max_length: int = 64) -> str:
    """A SKU, a location code, a serial, a barcode: letters, digits, '.', '_', '-'."""
    if len(value) > max_length:
        raise CellError(f"Too long: {len(value)} characters, at most {max_length}.")
    if not _KEY.match(value):
        raise CellError(
            f"{value[:40]!r} is not a valid code: letters, digits, '.', '_' and '-', "
            "starting with a letter or digit."
        )
    return value


def text(value: str, max_length: int) -> str:
    """A name a person typed: no control characters, at most ``max_length`` characters."""
    if len(value) > max_length:
        raise CellError(f"Too long: {len(value)} characters, at most {max_length}.")
    if any(unicodedata.category(ch) in {"Cc", "Cs", "Co", "Cn"} for ch in value):
        raise CellError(
            "Contains a line break or another control character (a quote never closed?)."
        )
    return value


def whole_number(value: str, low: int, high: int) -> int:
    """``12``, ``1,200`` or ``12.0`` (as spreadsheets write them), from ``low`` to ``high``."""
    written = value
    if _THOUSANDS.fullmatch(value):
        value = value.replace(",", "")
    whole, dot, fraction = value.partition(".")
    if not whole.isascii() or not whole.lstrip("-").isdigit() or (dot and fraction.strip("0")):
        raise CellError(f"{written[:40]!r} is not a whole number.")
    number = int(whole)
    if not low <= number <= high:
        raise CellError(f"{written[:40]} is out of range: from {low:,} to {high:,}.")
    return number


def money(value: str, high: int) -> Decimal:
    """A cost: ``1850``, ``1,850.00``, ``¥1850.5`` or ``1850,50``; not negative, 2 decimals."""
    written = value
    for sign in _CURRENCY:
        value = value.removeprefix(sign).strip()
    if _THOUSANDS.fullmatch(value):
        value = value.replace(",", "")
    elif _DECIMAL_COMMA.fullmatch(value):
        value = value.replace(",", ".")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise CellError(f"{written[:40]!r} is not an amount of money.") from None
    if not value.isascii() or not amount.is_finite():
        raise CellError(f"{written[:40]!r} is not an amount of money.")
    if amount < 0:
        raise CellError(f"{written[:40]} is negative; a cost is 0 or more.")
    if amount > high:
        raise CellError(f"{written[:40]} is more than {high:,}.")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise CellError(f"{written[:40]} has more than 2 decimal places.")
    return abs(amount).quantize(Decimal("0.01"))  # abs: "-0" is 0, not -0.00


def yes_no(value: str) -> bool:
    """yes/no, true/false, 1/0, y/n, x, 是/否; empty is no."""
    word = value.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(f"{value[:40]!r} is neither yes nor no.")


_SERIAL_SPLIT = re.compile(r"[\s,;|]+")


def serial_list(value: str) -> list[str]:
    """The serials of one row, separated by spaces, commas, semicolons or '|'."""
    return [serial for serial in _SERIAL_SPLIT.split(value) if serial]
