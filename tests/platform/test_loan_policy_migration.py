"""Migration 0018: a loan policy still at the old default maximum (30 days from the day
out) moves to the service commitment's 15 days (R11); one an admin chose keeps its value."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from partsvc.platform import migrate

BEFORE, AFTER = "0016", "0018"


def policies(url: str) -> list[tuple[int, int, int]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, loan_days, max_days FROM loan_policy ORDER BY id")
            )
            return [tuple(row) for row in rows]
    finally:
        engine.dispose()


def run(url: str, sql: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(sql))
    finally:
        engine.dispose()


def test_policies_at_the_old_default_move_to_15_days(tmp_path):
    url = f"sqlite:///{tmp_path / 'loans.db'}"
    migrate.upgrade(url, BEFORE)
    assert policies(url) == [(1, 15, 30)]  # as shipped before
    run(
        url,
        "INSERT INTO loan_policy (id, loan_days, max_days, due_soon_days) "
        "VALUES (2, 10, 20, 2), (3, 20, 30, 2)",
    )
    migrate.upgrade(url, AFTER)
    assert policies(url) == [(1, 15, 15), (2, 10, 20), (3, 20, 20)]


def test_a_fresh_database_ships_the_15_day_maximum(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate.upgrade(url)
    assert policies(url) == [(1, 15, 15)]
