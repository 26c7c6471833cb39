"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from partsvc.models import metadata
from partsvc.platform import migrate
from partsvc.platform.db import Database


def test_models_and_migrations_agree(database):
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_the_test_database_is_at_the_newest_migration(database):
    assert migrate.is_current(database.engine)


def test_migrations_go_down_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    migrate.upgrade(url)
    command.downgrade(migrate.alembic_config(url), "base")
    migrate.upgrade(url)
    database = Database(url)
    try:
        assert migrate.is_current(database.engine)
    finally:
        database.dispose()
