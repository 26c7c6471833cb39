"""Any list as a download: CSV (UTF-8 with a BOM, so Excel reads Chinese) or XLSX.

One module for every list page and endpoint. A list hands in its column names and an
iterator of rows (a query run with ``yield_per``, so the database sends them a batch at
a time); the rows are written out as they come and never held together in memory: the
CSV goes to the client chunk by chunk, the XLSX is written by openpyxl's write-only
workbook to a temporary file that is then streamed. A cell that a spreadsheet would take
for a formula (one beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return)
is neutralised with a leading apostrophe (OWASP's advice on CSV injection).
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from multiprocessing.connection import Connection
from typing import IO, Any

from flask import Response, g, stream_with_context
from marshmallow import Schema
from sqlalchemy.orm import Session

from partsvc.http.context import database

FORMATS = ("csv", "xlsx")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CHUNK_ROWS = 500
_FILE_CHUNK = 64 * 1024

Cell = str | int | float | Decimal | bool | None


def neutralise(value: str) -> str:
    """A text cell that no spreadsheet will run: ``=1+1`` comes out as ``'=1+1``."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def cell(value: Any) -> Cell:
    """One value as a spreadsheet cell: numbers stay numbers, lists join with spaces
    (lists of records, like an order's lines, are written as JSON), text is neutralised."""
    if isinstance(value, str):  # most cells: the first test
        return neutralise(value)
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, datetime | date):
        value = value.isoformat()
    elif isinstance(value, list | tuple) and any(isinstance(item, Mapping) for item in value):
        value = json.dumps(value, ensure_ascii=False, default=str)  # an order's lines, ...
    elif isinstance(value, list | tuple):
        value = " ".join("" if item is None else str(item) for item in value)
    elif isinstance(value, Mapping):
        value = json.dumps(value, ensure_ascii=False, default=str)
    return neutralise(str(value))


def csv_chunks(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The CSV file a few hundred rows at a time, the BOM first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([cell(name) for name in columns])
    first = True
    for count, row in enumerate(rows, start=1):
        writer.writerow(["" if value is None else value for value in map(cell, row)])
        if count % _CHUNK_ROWS == 0:
            yield _encoded(buffer, first)
            first = False
    yield _encoded(buffer, first)


def _encoded(buffer: io.StringIO, first: bool) -> bytes:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return ("\ufeff" + text if first else text).encode("utf-8")


def xlsx_chunks(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "export"
) -> Iterator[bytes]:
    """The XLSX workbook, written row by row to a temporary file, then read out in chunks.

    openpyxl spends some 7 µs on a cell, most of a large download's time. So the rows are
    read and neutralised here while a forked process writes them into the workbook: the
    two halves run on two cores, and a pipe of a few batches keeps memory flat (where the
    platform cannot fork, both halves run here, one after the other)."""
    from openpyxl import Workbook  # imported on use (most requests export nothing), before a fork

    lines = _xlsx_lines(columns, rows)
    with tempfile.TemporaryFile() as spool:
        if _FORK is None:
            _write_book(Workbook, lines, spool, title)
        else:
            _write_book_beside(Workbook, lines, spool, title)
        spool.seek(0)
        while chunk := spool.read(_FILE_CHUNK):
            yield chunk


def _xlsx_lines(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[list[Cell]]:
    yield [cell(name) for name in columns]
    for row in rows:
        # An empty text is no cell at all: the same to the reader, less to write.
        yield [cell(value) if value != "" else None for value in row]


_FORK = (
    multiprocessing.get_context("fork")
    if "fork" in multiprocessing.get_all_start_methods()
    else None
)


def _write_book(
    workbook: Callable[..., Any], lines: Iterable[list[Cell]], spool: IO[bytes], title: str
) -> None:
    book = workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31] or "export")
    for line in lines:
        sheet.append(line)
    book.save(spool)
    spool.flush()


def _write_book_beside(
    workbook: Callable[..., Any], lines: Iterable[list[Cell]], spool: IO[bytes], title: str
) -> None:
    """``_write_book`` in a forked process fed batches of lines through a pipe; it writes
    to the same temporary file (a fork shares it), which is read once it has ended."""
    assert _FORK is not None
    receiver, sender = _FORK.Pipe(duplex=False)
    writer = _FORK.Process(
        target=_book_writer, args=(workbook, receiver, spool, title), daemon=True
    )
    writer.start()
    receiver.close()
    try:
        batch: list[list[Cell]] = []
        for line in lines:
            batch.append(line)
            if len(batch) == _CHUNK_ROWS:
                sender.send(batch)
                batch = []
        sender.send(batch)
        sender.send(None)
        writer.join()
        if writer.exitcode != 0:
            raise RuntimeError(f"the workbook's writer ended with exit code {writer.exitcode}")
    finally:
        sender.close()
        if writer.is_alive():  # the rows failed, or the download was dropped
            writer.kill()
            writer.join()


def _book_writer(
    workbook: Callable[..., Any], receiver: Connection, spool: IO[bytes], title: str
) -> None:
    def received() -> Iterator[list[Cell]]:
        while (batch := receiver.recv()) is not None:
            yield from batch

    _write_book(workbook, received(), spool, title)


Rows = Callable[[Session], Iterable[Sequence[Any]]]
"""The rows of a download, read from the session they are given (the download's own)."""


def download(fmt: str, name: str, columns: Sequence[str], rows: Rows) -> Response:
    """A streamed download of ``rows`` as ``name.csv`` or ``name.xlsx``.

    The view's unit of work ends when the view returns; the rows are read afterwards, as
    the response is sent, in a read-only unit of work of the download's own (``g.session``
    meanwhile)."""

    def chunks() -> Iterator[bytes]:
        with database().unit_of_work(write=False) as session:
            # The request's session while the rows are written: what a schema reads on the
            # side (a loan's terms, through current_session()) comes from this one too.
            g.session = session
            try:
                if fmt == "xlsx":
                    yield from xlsx_chunks(columns, rows(session), name)
                else:
                    yield from csv_chunks(columns, rows(session))
            finally:
                g.pop("session", None)

    mimetype = XLSX_TYPE if fmt == "xlsx" else CSV_TYPE
    response = Response(stream_with_context(chunks()), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def keyset(
    fetch: Callable[[int | None, int], Sequence[Any]], *, batch: int = 1000, key: str = "id"
) -> Iterator[Any]:
    """Every item of a list read a batch at a time, each batch after the last one's key
    (the way its pages are read), so no more than a batch is held at once."""
    after: int | None = None
    while True:
        items = fetch(after, batch)
        yield from items
        if len(items) < batch:
            return
        after = getattr(items[-1], key)


def schema_columns(schema: Schema) -> list[str]:
    """The names a list endpoint's items carry in JSON, in the schema's order."""
    return [field.data_key or name for name, field in schema.fields.items() if not field.load_only]


def schema_rows(schema: Schema, items: Iterable[Any]) -> Iterator[list[Any]]:
    """Each item as the endpoint's JSON shows it, one cell per top-level name."""
    columns = schema_columns(schema)
    for item in items:
        dumped = schema.dump(item)
        yield [dumped.get(column) for column in columns]


def download_as(
    fmt: str, name: str, schema: Schema, items: Callable[[Session], Iterable[Any]]
) -> Response:
    """A list endpoint's items, the columns those of its JSON, as a download."""
    return download(
        fmt, name, schema_columns(schema), lambda session: schema_rows(schema, items(session))
    )
