"""Fixtures: one migrated test database per run; each test inside a rolled-back transaction.

The database is SQLite in a temporary folder, or PostgreSQL when
PARTSVC_TEST_DATABASE_URL is set (CI runs both).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, create_engine, make_url, text
from sqlalchemy.orm import Session

from partsvc import create_app
from partsvc.auth.identity import create_user, issue_token
from partsvc.platform import migrate
from partsvc.platform.config import Settings
from partsvc.platform.db import Database
from tests import system

ROLES = ("admin", "clerk", "dispatcher", "engineer")
BROWSER_TESTS = Path(__file__).parent / "e2e"


class Clock:
    """A clock the tests move by hand (DESIGN rule 7: time is a parameter)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep this run's share of the tests (``PARTSVC_TEST_SHARD``, see `_shard`); stop at
    once, in one line, when the machine lacks a program the chosen tests need."""
    shard = _shard()
    if shard is not None:
        index, count = shard
        kept = [item for n, item in enumerate(items) if n % count == index]
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept
    browser = any(item.path.is_relative_to(BROWSER_TESTS) for item in items)
    redis = any("redis_url" in getattr(item, "fixturenames", ()) for item in items)
    missing = system.missing_packages(browser=browser, redis=redis)
    if missing:
        pytest.exit(
            f"missing system packages; install them with: apt-get install -y {' '.join(missing)}",
            returncode=4,
        )


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis for the run: our own ``redis-server``, or PARTSVC_TEST_REDIS_URL's."""
    with system.redis_server() as url:
        yield url


def _shard() -> tuple[int, int] | None:
    """``PARTSVC_TEST_SHARD=i/n``: this process runs every n-th test from the i-th, on a
    database of its own. The Makefile runs the API fuzz (one process by design: under
    pytest-xdist schemathesis runs fewer examples) as two such shards side by side."""
    value = os.environ.get("PARTSVC_TEST_SHARD")
    if not value:
        return None
    index, count = (int(part) for part in value.split("/"))
    if not 0 <= index < count:
        raise pytest.UsageError(f"PARTSVC_TEST_SHARD={value}: i/n with 0 <= i < n")
    return index, count


def _reset_postgres(url: str) -> None:
    database = Database(url)
    with database.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    database.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> str | None:
    """PARTSVC_TEST_DATABASE_URL; under pytest-xdist or in a shard, a database of each
    worker's own beside it (``test_gw0``, ``test_shard1``, made afresh), so workers never
    share rows."""
    base = os.environ.get("PARTSVC_TEST_DATABASE_URL")
    shard = _shard()
    worker = os.environ.get("PYTEST_XDIST_WORKER") or (f"shard{shard[0]}" if shard else None)
    if not base or not worker:
        return base
    url = make_url(base)
    name = f"{url.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, postgres_url: str | None) -> str:
    url = postgres_url
    if url:
        _reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'partsvc.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def connection(database: Database) -> Iterator[Connection]:
    """An outer transaction that every session of the test joins, rolled back at the end."""
    connection = database.engine.connect()
    transaction = connection.begin()
    database.bind_to(connection)
    try:
        yield connection
    finally:
        database.bind_to(None)
        transaction.rollback()
        connection.close()


@pytest.fixture
def session(database: Database, connection: Connection) -> Iterator[Session]:
    session = database.session(write=True)
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 20, 2, 0, tzinfo=UTC))


AppMaker = Callable[..., Flask]


@pytest.fixture
def make_app(
    database: Database, database_url: str, connection: Connection, clock: Clock
) -> AppMaker:
    """Apps on the test database (so sharing its counters), with the given settings."""

    def make(**settings: str) -> Flask:
        # The pages' tests read English unless they ask for Chinese (test_language.py).
        settings = {"default_locale": "en", **settings}
        config = Settings(database_url=database_url, secret_key="test", **settings)
        return create_app(config, clock=clock, database=database, TESTING=True)

    return make


@pytest.fixture
def app(make_app: AppMaker) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def tokens(session: Session) -> dict[str, str]:
    """One user per role; role → Authorization header value."""
    result = {}
    for role in ROLES:
        user = create_user(session, username=f"test-{role}", role=role)
        result[role] = f"Bearer {issue_token(session, user)}"
    session.commit()
    return result


@pytest.fixture
def auth(tokens: dict[str, str]) -> dict[str, dict[str, str]]:
    """role → headers to send."""
    return {role: {"Authorization": value} for role, value in tokens.items()}


@pytest.fixture(scope="module")
def own_database(
    tmp_path_factory: pytest.TempPathFactory, postgres_url: str | None
) -> Iterator[str]:
    """A migrated database of the module's own, for tests whose other processes commit
    for real (servers, workers): a new SQLite file, or a new PostgreSQL schema dropped
    afterwards. The shared test database stays as the rolled-back tests expect it."""
    base = postgres_url
    if not base:
        url = f"sqlite:///{tmp_path_factory.mktemp('own') / 'partsvc.db'}"
        migrate.upgrade(url)
        yield url
        return
    schema = f"own_{uuid.uuid4().hex[:10]}"
    admin = Database(base)
    with admin.engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
