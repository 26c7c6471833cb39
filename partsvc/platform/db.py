"""Database engine, sessions and the unit of work.

One transaction per request or command: services only ``flush()``; ``unit_of_work``
commits on success and rolls back on any exception.

SQLite needs care to be correct under concurrent writers: WAL so readers never block,
a busy timeout so writers queue instead of failing, and ``BEGIN IMMEDIATE`` for write
transactions so two writers never both read and then both try to upgrade their lock
(which SQLite answers with an immediate "database is locked").
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    DateTime,
    Dialect,
    Engine,
    Index,
    MetaData,
    Table,
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from partsvc.core.errors import DuplicateKey, UnknownKey

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _configure_sqlite(engine: Engine, busy_timeout_s: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module: we emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """The engine and two session factories: one for reading, one for writing."""

    def __init__(self, url: str, *, busy_timeout_s: float = 30.0, pool_size: int = 10) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.engine = create_engine(
                url, connect_args={"timeout": busy_timeout_s, "check_same_thread": False}
            )
            _configure_sqlite(self.engine, busy_timeout_s)
            write_bind: Engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        else:
            self.engine = create_engine(
                url, pool_size=pool_size, max_overflow=pool_size * 4, pool_pre_ping=True
            )
            write_bind = self.engine
        self._read = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._write = sessionmaker(bind=write_bind, expire_on_commit=False)
        self._bound: Connection | None = None
        # SQLite runs one write transaction at a time; PostgreSQL locks only the rows touched.
        self.writers_queue = self.is_sqlite
        database_file = self.engine.url.database if self.is_sqlite else None
        self.write_lock_path = (
            f"{database_file}.writelock" if database_file and database_file != ":memory:" else None
        )

    def bind_to(self, connection: Connection | None) -> None:
        """Tests: run every session inside ``connection``'s outer transaction (savepoints)."""
        self._bound = connection

    def session(self, *, write: bool) -> Session:
        if self._bound is not None:
            return Session(
                bind=self._bound,
                join_transaction_mode="create_savepoint",
                expire_on_commit=False,
            )
        return (self._write if write else self._read)()

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any error."""
        with self._writer_turn(write):
            session = self.session(write=write)
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

    @contextmanager
    def _writer_turn(self, write: bool) -> Iterator[None]:
        """On SQLite, writers queue on an OS file lock before BEGIN IMMEDIATE.

        SQLite's own busy handler makes a waiting writer sleep and retry (up to 100 ms
        between tries), so under load the lock sits free while writers sleep and the
        slowest request waits for seconds. A blocking ``flock`` wakes the next writer
        the moment the lock is released, in any process on the machine.
        """
        if not (write and self.write_lock_path and self._bound is None):
            yield
            return
        with open(self.write_lock_path, "a+b") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def dispose(self) -> None:
        self.engine.dispose()


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC on every database (SQLite keeps it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL text for a CHECK that ``column`` holds one of ``values``."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def unique_while(name: str, *columns: str, status: str) -> Index:
    """A unique index over ``columns`` among the rows whose status is ``status`` only (a
    partial index, on SQLite and on PostgreSQL alike): one open loan per unit, say."""
    condition = text(f"status = '{status}'")
    return Index(name, *columns, unique=True, sqlite_where=condition, postgresql_where=condition)


def table_of(model: type[Base]) -> Table:
    """A model's table, typed for Core statements."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def flush_or_conflict(session: Session, detail: str) -> None:
    """Flush; a unique key taken meanwhile by a concurrent request becomes a 409."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise DuplicateKey(detail) from exc


def one_by_key(
    session: Session, model: type[T], column: Any, value: Any, *, what: str, field: str
) -> T:
    """The one row whose business key is ``value``, or UnknownKey (a 404)."""
    unknown = UnknownKey(f"No {what} {value!r}.", **{field: value})
    if isinstance(value, str) and "\x00" in value:  # PostgreSQL text cannot hold NUL
        raise unknown
    row = session.scalar(select(model).where(column == value))
    if row is None:
        raise unknown
    return row


def advisory_lock(session: Session, name: str) -> None:
    """Hold a lock named ``name`` until the transaction ends (PostgreSQL advisory lock).

    SQLite needs nothing: it runs one write transaction at a time.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(name.encode()).digest()
    session.execute(
        text("SELECT pg_advisory_xact_lock(:lock)"),
        {"lock": int.from_bytes(digest[:8], "big", signed=True)},
    )
