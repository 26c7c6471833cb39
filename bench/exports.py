"""Time the ledger's download: 50,000 moves as CSV and as XLSX, streamed.

One process, a Flask test client reading ``GET /api/v1/moves?format=csv|xlsx`` chunk by
chunk as a browser would, on a fresh database seeded with ``--rows`` moves (one in a
hundred with a reference that a spreadsheet would run as a formula). Per format: the
wall-clock seconds to the last byte, the size, the chunks, and on a second run under
tracemalloc the peak of Python memory allocated while the download ran (what "not
loading all rows into memory" means: compare it with the file's size). The machine's load is
printed beside them (a shared machine makes wall-clock seconds a ceiling). The download is
checked: a 200, every move there once, every formula neutralised; anything else voids
the figures (exit 1).

    .venv/bin/python bench/exports.py                      # SQLite in a temp folder
    .venv/bin/python bench/exports.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/partsvc_bench

The PostgreSQL database given is emptied first (it must not be ``test`` or ``postgres``).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from move_cost import fresh_database  # bench/move_cost.py, beside this script
from openpyxl import load_workbook
from sqlalchemy import insert, select
from verdict import Answers, show_settings

from partsvc import create_app
from partsvc.auth.identity import create_user, issue_token
from partsvc.inventory import catalog
from partsvc.models import Move, Part
from partsvc.platform.config import Settings
from partsvc.platform.db import Database

ATTACK = "=cmd|' /C calc'!A0"
PARTS = 1000
BATCH = 5000


def seed(database: Database, rows: int) -> str:
    """``rows`` moves into one warehouse, a clerk's token to read them.

    The rows are inserted straight into the ledger's table, a batch at a time: what is
    measured is reading them out, and booking 50,000 moves one by one takes minutes."""
    now = datetime.now(UTC)
    with database.unit_of_work() as session:
        token = issue_token(session, create_user(session, username="clerk", role="clerk"))
        vendor = catalog.create_location(session, code="V", name="Vendor", kind="vendor").id
        shelf = catalog.create_location(session, code="WH-SH", name="上海仓库", kind="warehouse").id
        session.execute(
            insert(Part),
            [
                {"sku": f"PH-{n:04d}", "name": "Print head", "name_zh": "打印头"}
                for n in range(PARTS)
            ],
        )
        first = session.scalar(select(Part.id).where(Part.sku == "PH-0000"))
        assert first is not None
    for start in range(0, rows, BATCH):
        with database.unit_of_work() as session:
            session.execute(
                insert(Move),
                [
                    {
                        "part_id": first + (n % PARTS),
                        "qty": 1 + n % 7,
                        "from_location_id": vendor,
                        "to_location_id": shelf,
                        "reason": "receipt",
                        "reference": ATTACK if n % 100 == 0 else f"PO-{n // 50:05d} 采购单",
                        "at": now,
                        "recorded_at": now,
                    }
                    for n in range(start, min(start + BATCH, rows))
                ],
            )
    return token


def cpu_seconds() -> float:
    """CPU seconds of this process and of its ended children (the XLSX's writer)."""
    spent = os.times()
    return spent.user + spent.system + spent.children_user + spent.children_system


def download(client: object, token: str, fmt: str) -> tuple[int, bytes, int, float, float]:
    """Status, body, chunks, seconds to the last byte and the CPU seconds spent (the
    writer's process included), read chunk by chunk."""
    started, cpu = time.perf_counter(), cpu_seconds()
    answer = client.get(  # type: ignore[attr-defined]
        f"/api/v1/moves?format={fmt}",
        headers={"Authorization": f"Bearer {token}"},
        buffered=False,
    )
    chunks = []
    for chunk in answer.response:
        chunks.append(chunk)
    answer.close()
    elapsed, used = time.perf_counter() - started, cpu_seconds() - cpu
    return answer.status_code, b"".join(chunks), len(chunks), elapsed, used


def rows_of(fmt: str, body: bytes) -> list[list[object]]:
    if fmt == "csv":
        return [list(row) for row in csv.reader(io.StringIO(body.decode("utf-8-sig")))]
    book = load_workbook(io.BytesIO(body), read_only=True)
    return [list(row) for row in book.active.iter_rows(values_only=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", help="a PostgreSQL database to empty and use")
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--limit", type=float, default=5.0, help="seconds a download may take")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.pg_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        database = fresh_database(url)
        seeding = time.perf_counter()
        token = seed(database, args.rows)
        seeded = time.perf_counter() - seeding
        settings = Settings(
            database_url=url, secret_key="bench", token_rate="600/minute", log_level="WARNING"
        )
        show_settings(
            database=database.engine.dialect.name, rows=args.rows, limit_seconds=args.limit
        )
        print(
            f"seeded {args.rows:,} moves in {seeded:.1f} s; load average {os.getloadavg()}",
            flush=True,
        )
        client = create_app(settings, database=database).test_client()
        answers = Answers()
        for fmt in ("csv", "xlsx"):
            status, body, chunks, seconds, cpu = download(client, token, fmt)
            if not answers.check(f"GET /api/v1/moves?format={fmt}", status, 200, body[:300]):
                continue
            tracemalloc.start()
            download(client, token, fmt)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            header, *rows = rows_of(fmt, body)
            reference = header.index("reference")
            ids = {row[0] for row in rows}
            attacks = [row for row in rows if str(row[reference]).startswith("=")]
            defused = sum(1 for row in rows if row[reference] == "'" + ATTACK)
            answers.check(
                f"{fmt}: every move once", len(ids) if len(ids) == len(rows) else -1, args.rows
            )
            answers.check(f"{fmt}: no formula left", len(attacks), 0)
            answers.check(f"{fmt}: formulas defused", int(defused > 0), 1)
            answers.check(
                f"{fmt}: under {args.limit} s", int(seconds < args.limit), 1, f"{seconds:.2f} s"
            )
            print(
                f"{fmt}: {seconds:.2f} s to the last byte ({cpu:.2f} s CPU, any writer's "
                f"included), {len(body) / 1e6:.1f} MB in {chunks} chunks, "
                f"peak Python memory while streaming {peak / 1e6:.1f} MB",
                flush=True,
            )
        database.dispose()
        sys.exit(answers.verdict())


if __name__ == "__main__":
    main()
