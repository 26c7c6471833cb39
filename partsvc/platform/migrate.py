"""Running the Alembic migrations from code (the CLI, the tests, the demo)."""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from partsvc.platform.resources import MIGRATIONS


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def is_current(engine: Engine) -> bool:
    """Whether the database is at the newest migration."""
    with engine.connect() as connection:
        current, head = revisions(connection)
    return current == head


def revisions(connection: Connection) -> tuple[set[str], set[str]]:
    """The database's migration revision(s), and the head(s) of ``migrations/``."""
    current = MigrationContext.configure(connection).get_current_heads()
    return set(current), _heads()


@cache
def _heads() -> set[str]:
    """The head(s) of ``migrations/`` (read once: the code does not change while it runs)."""
    return set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())
