"""Time the CSV imports of a clerk's first day: 20,000 parts, then 20,000 stock rows.

One process, a Flask test client posting each file as ``text/csv`` to
``/api/v1/imports/parts`` and ``/api/v1/imports/stock`` on a fresh database: first a dry
run, then a file whose last row is bad (every row is checked, nothing is written), then
the import itself. Wall-clock seconds per request, and the file's size.

    .venv/bin/python bench/imports.py                      # SQLite in a temp folder
    .venv/bin/python bench/imports.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/partsvc_bench

The PostgreSQL database given is emptied first (it must not be ``test`` or ``postgres``).
One part in ten is serialized: its stock row carries two serials. The bench sets the
limits it needs (token rate, body size is the app's); an answer other than the one each
step expects (200 dry run, 422 bad file, 201 import) voids the figures (exit 1).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from move_cost import fresh_database  # bench/move_cost.py, beside this script
from sqlalchemy import func, select
from verdict import Answers, show_settings

from partsvc import create_app
from partsvc.auth.identity import create_user, issue_token
from partsvc.inventory import catalog
from partsvc.models import Move, Part
from partsvc.platform.config import Settings


def files(rows: int) -> tuple[bytes, bytes]:
    """A parts file (English and Chinese names, a vendor, costs) and its opening stock."""
    parts = ["sku,name,name_zh,serialized,unit_cost,vendor,lead_time_days,warranty_months"]
    stock = ["sku,location,qty,serials"]
    for n in range(rows):
        serialized = n % 10 == 0
        parts.append(
            f"PH-{n:06d},Print head PX-{n % 500},打印头 PX-{n % 500},"
            f"{'yes' if serialized else 'no'},1850.00,V-HPT,14,3"
        )
        where = ("WH-SH", "WH-SZ", "VAN-WANG")[n % 3]
        serials = f"SN{n:06d}A SN{n:06d}B" if serialized else ""
        stock.append(f"PH-{n:06d},{where},{2 if serialized else 5},{serials}")
    return ("\n".join(parts) + "\n").encode(), ("\n".join(stock) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", help="a PostgreSQL database to empty and use")
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.pg_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        database = fresh_database(url)
        with database.unit_of_work() as session:
            clerk = create_user(session, username="clerk", role="clerk")
            token = issue_token(session, clerk)
            catalog.create_location(session, code="V-HPT", name="Vendor", kind="vendor")
            for code, kind in (("WH-SH", "warehouse"), ("WH-SZ", "warehouse"), ("VAN-WANG", "van")):
                catalog.create_location(session, code=code, name=code, kind=kind)
        settings = Settings(
            database_url=url, secret_key="bench", token_rate="600/minute", log_level="WARNING"
        )
        show_settings(
            database=database.engine.dialect.name, rows=args.rows, token_rate=settings.token_rate
        )
        answers = Answers()
        app = create_app(settings, database=database)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
        parts, stock = files(args.rows)
        print(f"{database.engine.dialect.name}, {args.rows:,} rows")
        for kind, body in (("parts", parts), ("stock", stock)):
            bad = body.rstrip(b"\n") + b"\nBAD SKU,WH-SH,-1\n"
            for label, path, data, expected in (
                ("dry run", f"/api/v1/imports/{kind}?dry_run=true", body, 200),
                ("last row bad", f"/api/v1/imports/{kind}", bad, 422),
                ("import", f"/api/v1/imports/{kind}", body, 201),
            ):
                start = time.perf_counter()
                answer = client.post(path, data=data, headers=headers)
                seconds = time.perf_counter() - start
                answers.check(f"POST {path}", answer.status_code, expected, answer.text)
                print(f"  {kind:<6} {label:<13} {len(data) / 1e6:5.2f} MB  {seconds:6.2f} s")
        with database.unit_of_work(write=False) as session:
            made = session.scalar(select(func.count(Part.id)))
            moves = session.scalar(select(func.count(Move.id)))
        print(f"  parts in the database {made:,}, moves {moves:,}")
        database.dispose()
    sys.exit(answers.verdict())


if __name__ == "__main__":
    main()
