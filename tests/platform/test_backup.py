"""``partsvc db backup FILE``: SQLite's online backup of a database that keeps serving."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from partsvc.cli import main
from partsvc.inventory import catalog
from partsvc.inventory.models import Part
from partsvc.platform import migrate
from partsvc.platform.db import Database


def test_a_backup_taken_while_a_writer_is_busy_holds_what_was_committed_and_restores(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    migrate.upgrade(url)
    live = Database(url)
    with live.unit_of_work() as session:
        catalog.create_part(session, sku="KEPT", name="Fuser")
    live.dispose()
    writer = sqlite3.connect(tmp_path / "live.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a request halfway through its transaction
    writer.execute("UPDATE parts SET name = 'half written' WHERE sku = 'KEPT'")
    target = tmp_path / "backup" / "copy.db"
    target.parent.mkdir()
    try:
        result = CliRunner().invoke(
            main, ["db", "backup", str(target)], env={"PARTSVC_DATABASE_URL": url}
        )
    finally:
        writer.execute("COMMIT")
        writer.close()
    assert result.exit_code == 0, result.output
    assert "integrity ok" in result.output
    assert not list(target.parent.glob("*.partial"))
    restored = Database(f"sqlite:///{target}")
    try:
        assert migrate.is_current(restored.engine)
        with restored.unit_of_work(write=False) as session:
            assert session.scalars(select(Part.name)).all() == ["Fuser"]
    finally:
        restored.dispose()


def test_a_backup_never_overwrites_a_file_nor_copies_postgresql(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    migrate.upgrade(url)
    existing = tmp_path / "old.db"
    existing.write_bytes(b"yesterday")
    runner = CliRunner()
    over = runner.invoke(main, ["db", "backup", str(existing)], env={"PARTSVC_DATABASE_URL": url})
    assert over.exit_code == 1
    assert "exists already" in over.output
    assert existing.read_bytes() == b"yesterday"
    postgres = runner.invoke(
        main,
        ["db", "backup", str(tmp_path / "pg.db")],
        env={"PARTSVC_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/none"},
    )
    assert postgres.exit_code == 1
    assert "pg_dump" in postgres.output
    assert not (tmp_path / "pg.db").exists()
