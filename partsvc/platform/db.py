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
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from select import select as select_fds
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
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, sessionmaker
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


LOOKUPS = "partsvc.lookups"
WAKE_AFTER_COMMIT = "partsvc.wake_after_commit"
_PENDING_LOOKUPS = "partsvc.lookups.pending"


class Lookups:
    """Rows that never change once committed, remembered by this process: a part's id
    and whether it is serialized by SKU, a location's id and kind by code (neither is
    ever updated or deleted). Only what a transaction read is remembered, and only when
    it commits: a row created in a transaction that rolls back (its id may be given to
    another row on SQLite) is never remembered. A miss is read from the database, so a
    row another process creates is found there; an unknown key is never remembered.
    """

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self._rows: dict[Hashable, Any] = {}

    def get(self, key: Hashable) -> Any:
        return self._rows.get(key)

    def remember(self, session: Session, key: Hashable, value: Any) -> None:
        """Remember ``value`` once ``session``'s transaction commits."""
        session.info.setdefault(_PENDING_LOOKUPS, []).append((key, value))

    def clear(self) -> None:
        self._rows = {}

    def _publish(self, pending: list[tuple[Hashable, Any]]) -> None:
        if len(self._rows) + len(pending) > self.limit:
            self._rows = {}
        self._rows.update(pending)


def lookups(session: Session) -> Lookups | None:
    """The lookups of the database ``session`` belongs to (None: a session made elsewhere)."""
    found: Lookups | None = session.info.get(LOOKUPS)
    return found


@event.listens_for(Session, "after_commit")
def _publish_lookups(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: the transaction may yet roll back
        return
    pending = session.info.pop(_PENDING_LOOKUPS, None)
    cache = lookups(session)
    if pending and cache is not None:
        cache._publish(pending)


@event.listens_for(Session, "after_soft_rollback")
def _forget_lookups(session: Session, _previous: Any) -> None:
    session.info.pop(_PENDING_LOOKUPS, None)  # any rollback, a savepoint's too: all of them


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted_lookups(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the session's transaction ended without a commit
        session.info.pop(_PENDING_LOOKUPS, None)  # (after a commit, nothing is pending)


PING_AFTER_IDLE_S = 5.0


def _ping_when_in_doubt(engine: Engine) -> None:
    """Test a pooled connection before use only when in doubt, not on every checkout
    (a round trip per request): when it sat idle for more than ``PING_AFTER_IDLE_S``, or
    when its socket has something to read while no query runs, which is how a server
    that restarted or ended the session (PostgreSQL sends a FATAL notice, or the socket
    closes) shows. A dead connection is replaced by a new one before the request uses it
    (``DisconnectionError``: the pool retries the checkout)."""

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_from"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_from = record.info.pop("idle_from", None)
        if idle_from is None:  # a new connection
            return
        if time.monotonic() - idle_from <= PING_AFTER_IDLE_S and not _readable(dbapi_connection):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("the database connection is gone") from exc


def _limit_statements(engine: Engine, timeout_s: float) -> None:
    """Every statement of a new PostgreSQL connection is cancelled after ``timeout_s``
    (set once per connection, committed so the pool's rollback keeps it): a stuck query
    frees its worker with an error instead of holding it for ever."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        milliseconds = max(1, int(timeout_s * 1000))
        dbapi_connection.execute(f"SET statement_timeout = {milliseconds}")
        dbapi_connection.commit()


def _readable(dbapi_connection: Any) -> bool:
    """Whether an idle connection's socket has data (or its end): it should have none."""
    try:
        ready, _, _ = select_fds([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError, AttributeError):
        return True
    return bool(ready)


class Database:
    """The engine and two session factories: one for reading, one for writing."""

    def __init__(
        self,
        url: str,
        *,
        busy_timeout_s: float = 30.0,
        pool_size: int = 10,
        connect_timeout_s: int = 3,
        statement_timeout_s: float = 30.0,
    ) -> None:
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
                url,
                pool_size=pool_size,
                max_overflow=pool_size * 4,
                pool_timeout=connect_timeout_s,
                connect_args={"connect_timeout": max(2, int(connect_timeout_s))},
            )
            _limit_statements(self.engine, statement_timeout_s)
            _ping_when_in_doubt(self.engine)
            write_bind = self.engine
        self.lookups = Lookups()
        info = {LOOKUPS: self.lookups}
        self._read = sessionmaker(bind=self.engine, expire_on_commit=False, info=info)
        self._write = sessionmaker(bind=write_bind, expire_on_commit=False, info=info)
        self._bound: Connection | None = None
        self.after_commit: list[Callable[[], None]] = []
        """Called after a unit of work that emitted an outbox event commits (a delivery
        worker's wake-up call); each must be quick and must not raise."""
        # SQLite runs one write transaction at a time; PostgreSQL locks only the rows touched.
        self.writers_queue = self.is_sqlite
        database_file = self.engine.url.database if self.is_sqlite else None
        self.write_lock_path = (
            f"{database_file}.writelock" if database_file and database_file != ":memory:" else None
        )

    def bind_to(self, connection: Connection | None) -> None:
        """Tests: run every session inside ``connection``'s outer transaction (savepoints).

        What was committed inside it is rolled back with it, so the lookups cached
        meanwhile are forgotten, both when a test binds and when it ends."""
        self._bound = connection
        self.lookups.clear()

    def session(self, *, write: bool) -> Session:
        if self._bound is not None:
            return Session(
                bind=self._bound,
                join_transaction_mode="create_savepoint",
                expire_on_commit=False,
                info={LOOKUPS: self.lookups},
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
                if session.info.pop(WAKE_AFTER_COMMIT, False):
                    for wake in self.after_commit:
                        wake()
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

    @contextmanager
    def named_lock(self, name: str) -> Iterator[None]:
        """Hold a lock named ``name`` across transactions, in every process that shares
        this database: a PostgreSQL session advisory lock on a connection of its own
        (released by the server if the process dies), or on SQLite (one machine) an OS
        file lock beside the database, one of 64 files chosen by the name."""
        digest = hashlib.sha256(name.encode()).digest()
        if not self.is_sqlite:
            key = {"lock": int.from_bytes(digest[:8], "big", signed=True)}
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("SELECT pg_advisory_lock(:lock)"), key)
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:lock)"), key)
            return
        if self.write_lock_path is None:
            yield
            return
        with open(f"{self.write_lock_path}.{digest[0] % 64}", "a+b") as lock_file:
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
