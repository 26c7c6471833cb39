"""A copy of a live SQLite database, made with SQLite's online backup API.

The copy is one consistent snapshot, taken while the service keeps serving (in WAL mode
readers and the writer carry on), and checked before it is called good.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from partsvc.core.errors import InvalidInput


def backup_sqlite(url: str, target: Path) -> int:
    """Copy the SQLite database at ``url`` to ``target`` (which must not exist); its size."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise InvalidInput(
            f"{parsed.get_backend_name()} is backed up with its own tools (pg_dump); "
            "this command copies an SQLite database."
        )
    source = Path(parsed.database)
    if not source.is_file():
        raise InvalidInput(f"There is no database at {source}.")
    if target.exists():
        raise InvalidInput(f"{target} exists already; name a new file.")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    live, copy = sqlite3.connect(source), sqlite3.connect(partial)
    try:
        live.backup(copy)  # all pages in one step: one snapshot; WAL lets the writer go on
        verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        copy.close()
        live.close()
    if verdict != "ok":
        partial.unlink()
        raise InvalidInput(f"The copy failed its integrity check ({verdict}); nothing kept.")
    partial.rename(target)
    return target.stat().st_size
