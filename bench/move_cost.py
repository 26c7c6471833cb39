"""CPU cost of one stock move inside one process: where a move's time goes.

No HTTP server and no concurrency: a Flask test client posts moves (vendor → warehouse,
each with an Idempotency-Key) on a fresh database, and ``time.process_time`` is read
around the whole request and around each step of it. Then the same statements are issued
bare through SQLAlchemy Core on one connection: the floor of this stack.

    .venv/bin/python bench/move_cost.py                     # SQLite in a temp folder
    .venv/bin/python bench/move_cost.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/partsvc_bench

The PostgreSQL database given is emptied first (it must not be ``test`` or ``postgres``).
"""

from __future__ import annotations

import argparse
import collections
import functools
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select, text

from partsvc import create_app
from partsvc.api import idempotency
from partsvc.api import inventory_schemas as schemas
from partsvc.api import resource as http
from partsvc.auth.identity import create_user, hash_token, issue_token
from partsvc.inventory import catalog, ledger
from partsvc.models import ApiToken, IdempotentAnswer, Location, Move, Part, User
from partsvc.platform import migrate
from partsvc.platform.config import Settings
from partsvc.platform.db import Database, utcnow

PARTS = 100
STEPS: list[tuple[Any, str]] = [
    (http, "_authenticate"),
    (idempotency, "find_answer"),
    (idempotency, "store_answer"),
    (ledger, "_move_refs"),
    (ledger, "book"),
    (ledger, "_take"),
    (ledger, "_add_to_level"),
]


def fresh_database(url: str) -> Database:
    if url.startswith("postgresql"):
        if url.rsplit("/", 1)[-1] in {"test", "postgres"}:
            raise SystemExit("refusing to empty the test or postgres database")
        database = Database(url)
        with database.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        database.dispose()
    migrate.upgrade(url)
    return Database(url)


def seed(database: Database) -> str:
    with database.unit_of_work() as session:
        token = issue_token(session, create_user(session, username="bench", role="clerk"))
        catalog.create_location(session, code="V", name="Vendor", kind="vendor")
        catalog.create_location(session, code="W", name="Warehouse", kind="warehouse")
        for n in range(PARTS):
            catalog.create_part(session, sku=f"P{n}", name="Fuser")
    return token


def timed(label: str, func: Callable[..., Any], totals: collections.Counter[str]) -> Any:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return func(*args, **kwargs)
        finally:
            totals[label] += time.process_time() - start

    return wrapper


def through_the_app(database: Database, token: str, moves: int) -> None:
    app = create_app(Settings(database_url=database.url, secret_key="bench"), database=database)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def post(n: int) -> None:
        body = {"sku": f"P{n % PARTS}", "qty": 1, "from": "V", "to": "W", "reason": "receipt"}
        answer = client.post(
            "/api/v1/moves", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
        )
        assert answer.status_code == 201, answer.json

    for n in range(50):  # warm caches and prepared statements
        post(n)
    totals: collections.Counter[str] = collections.Counter()
    originals = [(module, name, getattr(module, name)) for module, name in STEPS]
    for module, name, func in originals:
        setattr(module, name, timed(name, func, totals))
    dump = schemas.MoveOut.dump
    schemas.MoveOut.dump = timed("MoveOut.dump", dump, totals)  # type: ignore[method-assign]
    try:
        start = time.process_time()
        for n in range(moves):
            post(n)
        total = time.process_time() - start
    finally:
        for module, name, func in originals:
            setattr(module, name, func)
        schemas.MoveOut.dump = dump  # type: ignore[method-assign]
    print(f"through the app: {total / moves * 1000:.2f} ms of CPU per move ({moves} moves)")
    for label, seconds in totals.most_common():
        print(f"  {seconds / moves * 1000:6.2f} ms  {label}")


def bare_core(database: Database, token: str, moves: int) -> None:
    users, tokens, parts = User.__table__, ApiToken.__table__, Part.__table__
    locations, lines, answers = Location.__table__, Move.__table__, IdempotentAnswer.__table__
    who = (
        select(users.c.id, users.c.role, tokens.c.expires_at, tokens.c.revoked_at)
        .join(tokens, tokens.c.user_id == users.c.id)
        .where(tokens.c.token_hash == bindparam("h"))
    )
    answer = select(answers.c.fingerprint).where(
        answers.c.user_id == bindparam("u"), answers.c.key == bindparam("k")
    )
    part = select(parts.c.id, parts.c.serialized).where(parts.c.sku == bindparam("s"))
    places = select(locations.c.id, locations.c.kind).where(
        locations.c.code.in_(bindparam("c", expanding=True))
    )
    upsert = ledger._upsert_level(database.engine.dialect.name)
    digest = hash_token(token)
    start = time.process_time()
    for n in range(moves):
        with database.engine.connect() as connection, connection.begin():
            user = connection.execute(who, {"h": digest}).one()
            connection.execute(answer, {"u": user.id, "k": str(n)}).first()
            part_id = connection.execute(part, {"s": f"P{n % PARTS}"}).one().id
            vendor, warehouse = connection.execute(places, {"c": ["V", "W"]}).all()
            for place, delta in ((vendor, -1), (warehouse, 1)):
                connection.execute(
                    upsert,
                    {
                        "b_part": part_id,
                        "b_location": place.id,
                        "b_delta": delta,
                        "b_guarded": place.kind == "warehouse",
                    },
                )
            now = utcnow()
            connection.execute(
                lines.insert().returning(lines.c.id),
                {
                    "part_id": part_id,
                    "qty": 1,
                    "from_location_id": vendor.id,
                    "to_location_id": warehouse.id,
                    "reason": "receipt",
                    "reference": None,
                    "at": now,
                    "recorded_at": now,
                    "user_id": user.id,
                    "reverses_id": None,
                },
            ).scalar_one()
            connection.execute(
                answers.insert(),
                {
                    "user_id": user.id,
                    "key": uuid.uuid4().hex,
                    "fingerprint": "-",
                    "status_code": 201,
                    "content_type": "application/json",
                    "body": b"{}",
                    "location": None,
                    "created_at": now,
                },
            )
    total = time.process_time() - start
    print(f"bare SQLAlchemy Core, same statements: {total / moves * 1000:.2f} ms of CPU per move")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", help="PostgreSQL database to use (emptied first)")
    parser.add_argument("--moves", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.pg_url or f"sqlite:///{Path(folder) / 'moves.db'}"
        database = fresh_database(url)
        token = seed(database)
        print(
            f"{database.engine.dialect.name}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        )
        through_the_app(database, token, args.moves)
        bare_core(database, token, args.moves)
        database.dispose()


if __name__ == "__main__":
    main()
