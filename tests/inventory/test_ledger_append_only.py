"""The database itself keeps the ledger append-only (issue 23, finding 4; R1): moves, the
units they carried, stock counts and their lines refuse UPDATE and DELETE, by the ORM or
by raw SQL, on SQLite and PostgreSQL; a correction stays a reversal."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from partsvc.inventory import ledger
from partsvc.inventory.counts import CountedLine, post_count
from partsvc.inventory.models import Move, MoveUnit, StockCount, StockCountLine
from tests.factories import NOW, book_move, make_location, make_part, receive


@pytest.fixture
def booked(session: Session) -> Move:
    part = make_part(session, serialized=True)
    shelf, van = make_location(session), make_location(session, "van")
    receive(session, part, shelf, 2, serials=["AO-1", "AO-2"])
    move = book_move(session, part, shelf, van, 1, serials=["AO-1"])
    post_count(
        session, location_code=shelf.code, lines=[CountedLine(part.sku, serials=())], now=NOW
    )
    session.flush()
    return move


SQL = [
    "UPDATE moves SET qty = qty + 1",
    "UPDATE moves SET reason = 'edited'",
    "DELETE FROM moves",
    "UPDATE move_units SET unit_id = unit_id",
    "DELETE FROM move_units",
    "UPDATE stock_counts SET note = 'edited'",
    "DELETE FROM stock_counts",
    "UPDATE stock_count_lines SET counted = 99",
    "DELETE FROM stock_count_lines",
]


@pytest.mark.parametrize("sql", SQL)
def test_the_database_refuses_to_edit_or_delete_the_ledger(
    session: Session, booked: Move, sql: str
) -> None:
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text(sql))


def test_the_orm_cannot_edit_or_delete_a_move_either(session: Session, booked: Move) -> None:
    for statement in (
        update(Move).where(Move.id == booked.id).values(qty=5),
        delete(MoveUnit).where(MoveUnit.move_id == booked.id),
        delete(StockCountLine),
        delete(StockCount),
    ):
        with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
            session.execute(statement)
    session.expire_all()
    assert session.get(Move, booked.id).qty == 1


def test_a_moves_document_is_filled_in_once_and_then_kept(session: Session, booked: Move) -> None:
    ledger.claim_moves(session, [booked.id], "loan L-1")
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        ledger.claim_moves(session, [booked.id], "loan L-2")
    session.expire_all()
    assert session.get(Move, booked.id).document == "loan L-1"


def test_a_correction_is_still_a_reversal(session: Session, booked: Move) -> None:
    reversal = ledger.reverse_move(session, booked.id, now=NOW)
    assert reversal.reverses_id == booked.id
    lines = session.scalars(select(Move).where(Move.id.in_([booked.id, reversal.id])))
    assert len(list(lines)) == 2
