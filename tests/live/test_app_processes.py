"""Two app processes on their own ports against one database (the same PostgreSQL, or the
same SQLite file): the app keeps no state of its own, so the ledger's guard holds across
processes as it does across threads."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.live.test_concurrency import CLIENTS, LiveServer, book_out_the_last_10_units
from tests.processes import app_processes, clerk_on

pytestmark = pytest.mark.concurrency


def test_32_clerks_split_over_two_app_processes_book_exactly_10_of_the_last_10(
    own_database: str, tmp_path: Path
) -> None:
    with clerk_on(own_database) as (database, token):
        threads = CLIENTS // 2
        with app_processes(own_database, tmp_path, count=2, threads=threads) as (first, second):
            assert first.port != second.port
            servers = [LiveServer(app.port, database, token) for app in (first, second)]
            book_out_the_last_10_units(database, servers)
