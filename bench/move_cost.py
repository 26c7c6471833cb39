"""CPU and round trips of one stock move inside one process: where a move's time goes.

No HTTP server and no concurrency: a Flask test client posts moves (half receipts
vendor → warehouse, half transfers warehouse → van, as bench/ledger.py does; each with an
Idempotency-Key) on a fresh database. Each layer of the request (token check, rate
counters, input, idempotency claim and answer, part and location look-ups, guarded
updates, serials, waiting-request check, audit, commit, JSON) is wrapped: its own CPU
time (``time.process_time``, excluding the layers it calls) and the database round trips
it makes (statements, BEGIN, COMMIT/ROLLBACK, connection pings), per move. What is left
is the framework: Flask, flask-smorest, werkzeug. Then the same statements are issued
bare through SQLAlchemy Core on one connection: the floor of this stack.

Any answer but 201 voids the figures (exit 1). The token rate limit is set high enough
for the run (``--token-rate``); the settings are printed.

    .venv/bin/python bench/move_cost.py                     # SQLite in a temp folder
    .venv/bin/python bench/move_cost.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/partsvc_bench

Instructions, which a busy machine does not change (the Python process only; run it
twice, before and after a change, and divide the total by the moves)::

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/moves.%p \
        .venv/bin/python bench/move_cost.py --callgrind --moves 300 --pg-url ...
    callgrind_annotate /tmp/moves.<pid> | head   # "PROGRAM TOTALS" / 300

The PostgreSQL database given is emptied first (it must not be ``test`` or ``postgres``).
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from proc_cpu import postgres_cpu  # bench/proc_cpu.py
from sqlalchemy import bindparam, event, select, text
from sqlalchemy.orm import Session

from partsvc import create_app
from partsvc.api import idempotency
from partsvc.api import inventory_schemas as schemas
from partsvc.api import resource as http
from partsvc.audit import trail as audit
from partsvc.auth.identity import create_user, hash_token, issue_token
from partsvc.inventory import catalog, ledger
from partsvc.models import ApiToken, IdempotentAnswer, Location, Move, Part, User
from partsvc.platform import metrics, migrate
from partsvc.platform.config import Settings
from partsvc.platform.db import Database, utcnow
from partsvc.workflows import bookings

PARTS = 100
TOKEN_RATE = "100000000/minute"
"""The token limit the app runs with: far above what one process can send in a minute,
so no move is refused (and the counter is written once per batch, as in production)."""

# Each layer of a move: (label, module or class, attribute). A layer's CPU is its own,
# without the layers it calls; round trips are counted where they are sent.
LAYERS: list[tuple[str, Any, str]] = [
    ("token check", http, "_authenticate"),
    ("token check and key claim (PostgreSQL: one statement)", idempotency, "caller_and_claim"),
    ("idempotency: fingerprint", idempotency, "fingerprint"),
    ("idempotency: claim and find the answer", idempotency, "claim"),
    ("idempotency: claim and find the answer", idempotency, "find_answer"),
    ("idempotency: claim and find the answer", idempotency, "release"),
    ("idempotency: store the answer", idempotency, "store_answer"),
    ("audit (begin, the request's event)", audit, "begin"),
    ("audit (begin, the request's event)", http.Resource, "_audited"),
    ("serials (on loan? carried?)", bookings, "refuse_if_on_loan"),
    ("serials (on loan? carried?)", ledger, "_carry_units"),
    ("part and location look-ups", ledger, "_move_refs"),
    ("guarded updates of the two levels", ledger, "_take"),
    ("levels and ledger line (PostgreSQL: one statement)", ledger, "_book_in_one_statement"),
    ("guarded updates of the two levels", ledger, "_add_to_level"),
    ("ledger line (checks, INSERT, metrics)", ledger, "book"),
    ("ledger line (checks, INSERT, metrics)", metrics, "move_booked"),
    ("waiting part requests check", bookings, "serve_waiting_requests"),
    ("commit", Session, "commit"),
    ("input: MoveIn.load", schemas.MoveIn, "load"),
    ("JSON: MoveOut.dump", schemas.MoveOut, "dump"),
]
FRAMEWORK = "framework (Flask, flask-smorest, werkzeug, the rest)"


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
        catalog.create_location(session, code="VAN", name="Van", kind="van")
        for n in range(PARTS):
            catalog.create_part(session, sku=f"P{n}", name="Fuser")
    with database.unit_of_work() as session:
        for n in range(PARTS):
            ledger.post_move(
                session,
                sku=f"P{n}",
                qty=100_000,
                from_code="V",
                to_code="W",
                reason="opening stock",
                now=utcnow(),
            )
    return token


class Probe:
    """Own CPU time and database round trips per layer, on a stack of layers."""

    def __init__(self, database: Database) -> None:
        self.cpu: collections.Counter[str] = collections.Counter()
        self.trips: collections.Counter[str] = collections.Counter()
        self.statements: collections.Counter[str] = collections.Counter()
        self.stack: list[str] = [FRAMEWORK]
        self.mark = time.process_time()
        self.sql: collections.Counter[str] = collections.Counter()
        self.postgres = not database.is_sqlite
        self.engine = database.engine

    def _switch(self) -> None:
        moment = time.process_time()
        self.cpu[self.stack[-1]] += moment - self.mark
        self.mark = moment

    @contextmanager
    def layer(self, label: str) -> Iterator[None]:
        self._switch()
        self.stack.append(label)
        try:
            yield
        finally:
            self._switch()
            self.stack.pop()

    def wrap(self, label: str, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.layer(label):
                return func(*args, **kwargs)

        return wrapper

    def trip(self, what: str) -> None:
        self.trips[self.stack[-1]] += 1
        self.sql[what] += 1

    # SQLAlchemy events: every statement is a round trip; on PostgreSQL BEGIN is one too
    # (psycopg sends it before the first statement) and so is COMMIT or ROLLBACK.
    def on_execute(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements[self.stack[-1]] += 1
        self.trip(" ".join(statement.split())[:110])

    def on_begin(self, _conn: Any) -> None:
        if self.postgres:  # SQLite's BEGIN is a statement, counted above
            self.trip("BEGIN")

    def on_commit(self, _conn: Any) -> None:
        self.trip("COMMIT")

    def on_rollback(self, _conn: Any) -> None:
        self.trip("ROLLBACK")

    @contextmanager
    def listening(self) -> Iterator[None]:
        hooks = [
            ("before_cursor_execute", self.on_execute),
            ("begin", self.on_begin),
            ("commit", self.on_commit),
            ("rollback", self.on_rollback),
        ]
        for name, hook in hooks:
            event.listen(self.engine, name, hook)
        dialect = self.engine.dialect
        ping = dialect.do_ping

        def counted_ping(dbapi_connection: Any) -> bool:
            self.trip("(pool pre-ping)")
            with self.layer("connection checkout (pre-ping)"):
                return bool(ping(dbapi_connection))

        dialect.do_ping = counted_ping  # type: ignore[method-assign]
        try:
            yield
        finally:
            dialect.do_ping = ping  # type: ignore[method-assign]
            for name, hook in hooks:
                event.remove(self.engine, name, hook)


@contextmanager
def probed(app: Flask, probe: Probe) -> Iterator[None]:
    """Every layer wrapped, the rate limit hooks too (registered on the app)."""
    layers = [layer for layer in LAYERS if hasattr(layer[1], layer[2])]  # older code: fewer
    originals = [(owner, name, owner.__dict__.get(name)) for _, owner, name in layers]
    for label, owner, name in layers:
        setattr(owner, name, probe.wrap(label, getattr(owner, name)))
    hooks = (app.before_request_funcs[None], app.after_request_funcs[None])
    saved = [list(funcs) for funcs in hooks]
    for funcs in hooks:
        funcs[:] = [probe.wrap("rate counters (token limit)", f) for f in funcs]
    try:
        with probe.listening():
            yield
    finally:
        for owner, name, func in reversed(originals):
            if func is None:  # inherited: the subclass's wrapper goes
                delattr(owner, name)
            else:
                setattr(owner, name, func)
        for funcs, before in zip(hooks, saved, strict=True):
            funcs[:] = before


def backend_cpu(database: Database) -> float:
    """CPU seconds of the PostgreSQL backends serving this database (0 on SQLite)."""
    if database.is_sqlite:
        return 0.0
    return postgres_cpu({database.engine.url.database or ""})


def callgrind(switch: str) -> None:
    """Under ``valgrind --tool=callgrind --instr-atstart=no``: count instructions only
    while the measured moves run (``callgrind_control -i on|off``)."""
    subprocess.run(["callgrind_control", "-i", switch, str(os.getpid())], check=True)


def through_the_app(
    database: Database, token: str, moves: int, verbose: bool, count_instructions: bool
) -> float:
    settings = Settings(
        database_url=database.url, secret_key="bench", token_rate=TOKEN_RATE, log_level="WARNING"
    )
    app = create_app(settings, database=database)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    refused: collections.Counter[int] = collections.Counter()

    def post(n: int) -> None:
        if n % 2:
            body = {"sku": f"P{n % PARTS}", "qty": 1, "from": "V", "to": "W", "reason": "receipt"}
        else:
            body = {"sku": f"P{n % PARTS}", "qty": 1, "from": "W", "to": "VAN", "reason": "refill"}
        answer = client.post(
            "/api/v1/moves", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
        )
        if answer.status_code != 201:
            refused[answer.status_code] += 1

    for n in range(100):  # warm caches and prepared statements
        post(n)
    probe = Probe(database)
    with probe.listening():  # every round trip of a request, first without any wrapping
        if count_instructions:
            callgrind("on")
        database_start = backend_cpu(database)
        start = time.process_time()
        for n in range(moves):
            post(n)
        total = time.process_time() - start
        database_total = backend_cpu(database) - database_start
        if count_instructions:
            callgrind("off")
    trips = sum(probe.trips.values())
    statements = sum(probe.statements.values())
    probe = Probe(database)
    with probed(app, probe):
        probe.mark = time.process_time()
        for n in range(moves):
            post(n)
        probe._switch()
    print(
        f"through the app: {total / moves * 1000:.2f} ms of CPU per move ({moves} moves, "
        f"half receipts into a warehouse, half transfers to a van); "
        f"{statements / moves:.2f} statements and {trips / moves:.2f} round trips per move"
    )
    if not database.is_sqlite:
        print(
            f"  PostgreSQL backends: {database_total / moves * 1000:.2f} ms of CPU per move "
            f"(/proc, 10 ms ticks: read it over 1,000 moves or more)"
        )
    wrapped = sum(probe.cpu.values())
    print(f"  by layer (own CPU, wrapped run: {wrapped / moves * 1000:.2f} ms per move):")
    print(f"  {'ms/move':>8} {'share':>6} {'trips':>6} {'stmts':>6}  layer")
    for label, seconds in probe.cpu.most_common():
        print(
            f"  {seconds / moves * 1000:8.3f} {seconds / wrapped:6.1%} "
            f"{probe.trips[label] / moves:6.2f} {probe.statements[label] / moves:6.2f}  {label}"
        )
    if verbose:
        print("  round trips per move, by statement:")
        for sql, count in probe.sql.most_common():
            print(f"    {count / moves:5.2f}  {sql}")
    if refused:
        print(f"VOID: {sum(refused.values())} moves not answered 201: {dict(refused)}")
        sys.exit(1)
    return total / moves


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
    parser.add_argument("--sql", action="store_true", help="list each statement's round trips")
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="run under valgrind --tool=callgrind --instr-atstart=no: instructions of the "
        "measured moves only",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.pg_url or f"sqlite:///{Path(folder) / 'moves.db'}"
        database = fresh_database(url)
        token = seed(database)
        print(
            f"{database.engine.dialect.name}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
            f"; settings: token rate {TOKEN_RATE} (counted in the database), "
            f"{args.moves} moves measured after 100"
        )
        through_the_app(database, token, args.moves, args.sql, args.callgrind)
        bare_core(database, token, args.moves)
        database.dispose()


if __name__ == "__main__":
    main()
