"""Many moves into stock booked as one batch: the same ledger as one move at a time."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partsvc.core.errors import InvalidInput, SerialNotHere, UnknownKey
from partsvc.inventory import catalog, ledger_reads
from partsvc.inventory.ledger_bulk import Arrival, post_moves_in
from partsvc.inventory.models import Move, StockLevel, Unit
from tests.factories import NOW, make_location, make_part, receive


def counts(session: Session) -> tuple[int, int, int]:
    session.expire_all()
    return tuple(  # type: ignore[return-value]
        session.scalar(select(func.count(column))) or 0
        for column in (Move.id, StockLevel.id, Unit.id)
    )


def test_a_batch_books_each_line_and_the_levels_equal_the_ledger(session: Session) -> None:
    belt, head = make_part(session), make_part(session, serialized=True)
    shelf, van = make_location(session), make_location(session, "van")
    booked = post_moves_in(
        session,
        [
            Arrival(belt.sku, 7, shelf.code),
            Arrival(head.sku, 2, van.code, ("BULK-2", "BULK-1")),
            Arrival(belt.sku, 3, van.code),
        ],
        from_code="ADJ",
        reason="opening stock",
        reference="day one",
        now=NOW,
    )
    assert [(m.sku, m.to_code, m.qty, m.serials) for m in booked] == [
        (belt.sku, shelf.code, 7, ()),
        (head.sku, van.code, 2, ("BULK-1", "BULK-2")),
        (belt.sku, van.code, 3, ()),
    ]
    for move in booked:
        stored = catalog.get_move(session, move.id)
        assert (stored.sku, stored.qty, stored.reference, stored.serials) == (
            move.sku,
            move.qty,
            "day one",
            move.serials,
        )
    adjustment = catalog.adjustment_location(session)
    for part, place in [
        (belt, shelf),
        (belt, van),
        (head, van),
        (belt, adjustment),
        (head, adjustment),
    ]:
        level = session.scalar(
            select(StockLevel.on_hand).where(
                StockLevel.part_id == part.id, StockLevel.location_id == place.id
            )
        )
        assert level == ledger_reads.ledger_balance(session, part.id, place.id), (
            part.sku,
            place.code,
        )
    assert ledger_reads.units_at(session, van.id, head.id) == ["BULK-1", "BULK-2"]
    assert [m.id for m in ledger_reads.list_moves(session, serial="BULK-1")] == [booked[1].id]


@pytest.mark.parametrize(
    ("arrival", "error"),
    [
        (Arrival("NO-SUCH-PART", 1, "SHELF"), UnknownKey),
        (Arrival("BELT", 0, "SHELF"), InvalidInput),
        (Arrival("HEAD", 2, "SHELF", ("ONE",)), InvalidInput),
        (Arrival("HEAD", 1, "SHELF", ("KNOWN-1",)), SerialNotHere),
        (Arrival("HEAD", 1, "NOWHERE", ("NEW-1",)), UnknownKey),
    ],
)
def test_one_wrong_line_refuses_the_batch_and_writes_nothing(
    session: Session, arrival: Arrival, error: type[Exception]
) -> None:
    belt, head = make_part(session), make_part(session, serialized=True)
    shelf = make_location(session)
    receive(session, head, shelf, 1, serials=["KNOWN-1"])
    rename = {"BELT": belt.sku, "HEAD": head.sku, "SHELF": shelf.code}
    wrong = Arrival(
        rename.get(arrival.sku, arrival.sku),
        arrival.qty,
        rename.get(arrival.to_code, arrival.to_code),
        arrival.serials,
    )
    before = counts(session)
    with pytest.raises(error):
        post_moves_in(
            session,
            [Arrival(belt.sku, 5, shelf.code), wrong],
            from_code="ADJ",
            reason="opening stock",
            now=NOW,
        )
    assert counts(session) == before


def test_a_batch_never_takes_from_a_warehouse(session: Session) -> None:
    belt = make_part(session)
    shelf, other = make_location(session), make_location(session)
    receive(session, belt, shelf, 5)
    with pytest.raises(InvalidInput):
        post_moves_in(
            session, [Arrival(belt.sku, 9, other.code)], from_code=shelf.code, reason="x", now=NOW
        )
