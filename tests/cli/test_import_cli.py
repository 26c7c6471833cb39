"""``partsvc import parts|stock FILE``: the report printed, non-zero on errors."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partsvc.cli import main
from partsvc.inventory.models import Move, Part
from tests.factories import make_location


def run(database, clock, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        main, ["import", *args], obj={"database": database, "clock": clock}, catch_exceptions=False
    )


def test_importing_parts_then_their_opening_stock_prints_what_was_done(
    database, clock, session: Session, tmp_path: Path
) -> None:
    shelf = make_location(session).code
    session.commit()
    moves_before = session.scalar(select(func.count(Move.id)))  # live-server tests commit some
    parts = tmp_path / "parts.csv"
    parts.write_text("sku,name,serialized\nCLI-1,Belt,no\nCLI-2,Head,yes\n", encoding="utf-8-sig")
    stock = tmp_path / "stock.csv"
    stock.write_text(f"sku,location,qty,serials\nCLI-1,{shelf},5,\nCLI-2,{shelf},1,CLI-SN-1\n")

    done = run(database, clock, "parts", str(parts))
    assert done.exit_code == 0, done.output
    assert done.output == "imported: rows 2, parts 2, serialized 1\n"
    done = run(database, clock, "stock", str(stock))
    assert done.exit_code == 0, done.output
    assert done.output.startswith("imported: rows 2, moves 2, units 6, serials 1, reference ")
    assert "(stock.csv)" in done.output
    assert done.output.endswith(f"\n  {shelf}: 6 units\n")
    session.expire_all()
    assert session.scalar(select(func.count(Move.id))) == moves_before + 2


def test_a_bad_file_prints_each_bad_row_exits_1_and_writes_nothing(
    database, clock, session: Session, tmp_path: Path
) -> None:
    parts = tmp_path / "parts.csv"
    parts.write_text("sku,name,unit_cost\nCLI-1,Belt,abc\nCLI-2,,1\n")
    done = run(database, clock, "parts", str(parts))
    assert done.exit_code == 1
    assert "row 2, unit_cost: 'abc' is not an amount of money." in done.output
    assert "row 3, name: Empty; this column must be filled in." in done.output
    session.expire_all()
    assert session.scalar(select(Part.id).where(Part.sku.like("CLI-%"))) is None


def test_a_dry_run_reports_and_writes_nothing(
    database, clock, session: Session, tmp_path: Path
) -> None:
    parts = tmp_path / "parts.csv"
    parts.write_text("sku,name\nCLI-9,Belt\n")
    done = run(database, clock, "parts", str(parts), "--dry-run")
    assert done.output == "would import: rows 1, parts 1, serialized 0\n"
    session.expire_all()
    assert session.scalar(select(Part.id).where(Part.sku.like("CLI-%"))) is None
