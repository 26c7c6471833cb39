"""Pooled PostgreSQL connections are not pinged on every checkout (a round trip per
request), yet one the server ended is replaced before a request uses it."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import event, text

from partsvc.platform import db as platform_db
from partsvc.platform.db import Database


@pytest.fixture
def pg(database_url: str):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's pool only")
    database = Database(database_url, pool_size=1)
    yield database
    database.dispose()


def backend_pid(database: Database) -> int:
    with database.engine.connect() as connection:
        return int(connection.scalar(text("SELECT pg_backend_pid()")))


def pings(database: Database, action) -> int:
    seen = []

    def note(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", note)
    dialect = database.engine.dialect
    ping = dialect.do_ping
    counted = []
    dialect.do_ping = lambda conn: counted.append(1) or ping(conn)
    try:
        action()
    finally:
        dialect.do_ping = ping
        event.remove(database.engine, "before_cursor_execute", note)
    return len(counted)


def test_a_connection_in_use_is_not_pinged_again(pg):
    first = backend_pid(pg)
    assert pings(pg, lambda: backend_pid(pg)) == 0
    assert backend_pid(pg) == first


def test_a_connection_the_server_ended_is_replaced_before_use(pg, database, monkeypatch):
    monkeypatch.setattr(platform_db, "PING_AFTER_IDLE_S", 3600.0)  # not for being idle
    first = backend_pid(pg)
    with database.engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    time.sleep(0.5)  # the server's notice and the socket's end reach this side
    assert backend_pid(pg) != first  # no error: a new connection took its place


def test_a_connection_idle_for_long_is_pinged(pg, monkeypatch):
    backend_pid(pg)
    monkeypatch.setattr(platform_db, "PING_AFTER_IDLE_S", -1.0)
    assert pings(pg, lambda: backend_pid(pg)) == 1
