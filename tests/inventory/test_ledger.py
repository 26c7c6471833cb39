"""The stock ledger on a real database (SQLite or PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.core.errors import (
    AlreadyReversed,
    Conflict,
    DuplicateKey,
    InsufficientStock,
    InvalidInput,
    SerialNotHere,
    UnknownKey,
)
from partsvc.inventory import catalog, counts, ledger, ledger_reads
from partsvc.inventory.models import Move, StockLevel
from tests.factories import NOW, book_move, make_location, make_part, receive


def on_hand(session: Session, part_id: int, location_id: int) -> int:
    value = session.scalar(
        select(StockLevel.on_hand).where(
            StockLevel.part_id == part_id, StockLevel.location_id == location_id
        )
    )
    return value or 0


def test_a_receipt_books_stock_in_and_the_ledger_agrees(session):
    part, warehouse = make_part(session), make_location(session)
    receive(session, part, warehouse, 7)
    assert on_hand(session, part.id, warehouse.id) == 7
    assert ledger_reads.ledger_balance(session, part.id, warehouse.id) == 7


def test_booking_out_more_than_on_hand_is_refused_and_writes_nothing(session):
    part, warehouse, van = make_part(session), make_location(session), make_location(session, "van")
    receive(session, part, warehouse, 2)
    moves_before = session.scalar(select(Move.id).order_by(Move.id.desc()).limit(1))
    with pytest.raises(InsufficientStock) as refused, session.begin_nested():
        book_move(session, part, warehouse, van, 3)
    assert "Only 2" in refused.value.detail
    assert refused.value.extra["available"] == 2
    assert on_hand(session, part.id, warehouse.id) == 2
    assert on_hand(session, part.id, van.id) == 0
    assert session.scalar(select(Move.id).order_by(Move.id.desc()).limit(1)) == moves_before


def test_a_van_cannot_go_negative_either(session):
    part, van, site = (
        make_part(session),
        make_location(session, "van"),
        make_location(session, "site"),
    )
    with pytest.raises(InsufficientStock):
        book_move(session, part, van, site, 1)


def test_counterparty_locations_may_run_negative(session):
    part, vendor, warehouse = (
        make_part(session),
        make_location(session, "vendor"),
        make_location(session),
    )
    book_move(session, part, vendor, warehouse, 4, reason="receipt")
    assert on_hand(session, part.id, vendor.id) == -4
    assert on_hand(session, part.id, warehouse.id) == 4


def test_a_move_to_the_same_location_is_invalid(session):
    part, warehouse = make_part(session), make_location(session)
    with pytest.raises(InvalidInput):
        book_move(session, part, warehouse, warehouse, 1)


def test_unknown_sku_and_location_are_unknown_keys(session):
    warehouse = make_location(session)
    with pytest.raises(UnknownKey):
        ledger.post_move(
            session, sku="NOPE", qty=1, from_code=warehouse.code, to_code="ADJ", reason="x", now=NOW
        )
    part = make_part(session)
    with pytest.raises(UnknownKey):
        ledger.post_move(
            session, sku=part.sku, qty=1, from_code="NOWHERE", to_code="ADJ", reason="x", now=NOW
        )


def test_a_reversal_undoes_the_move_and_points_at_it(session):
    part, warehouse, van = make_part(session), make_location(session), make_location(session, "van")
    receive(session, part, warehouse, 5)
    issued = book_move(session, part, warehouse, van, 3)
    reversal = ledger.reverse_move(session, issued.id, now=NOW)
    assert reversal.reverses_id == issued.id
    assert (reversal.from_location_id, reversal.to_location_id) == (van.id, warehouse.id)
    assert on_hand(session, part.id, warehouse.id) == 5
    assert on_hand(session, part.id, van.id) == 0


def test_a_move_is_reversed_once_only(session):
    part, warehouse, van = make_part(session), make_location(session), make_location(session, "van")
    receive(session, part, warehouse, 5)
    issued = book_move(session, part, warehouse, van, 1)
    ledger.reverse_move(session, issued.id, now=NOW)
    with pytest.raises(AlreadyReversed):
        ledger.reverse_move(session, issued.id, now=NOW)


def test_a_reversal_cannot_itself_be_reversed(session):
    part, warehouse, van = make_part(session), make_location(session), make_location(session, "van")
    receive(session, part, warehouse, 5)
    reversal = ledger.reverse_move(session, book_move(session, part, warehouse, van, 1).id, now=NOW)
    with pytest.raises(Conflict):
        ledger.reverse_move(session, reversal.id, now=NOW)


def test_a_reversal_that_would_make_stock_negative_is_refused(session):
    part, warehouse, van = make_part(session), make_location(session), make_location(session, "van")
    receipt = receive(session, part, warehouse, 5)
    book_move(session, part, warehouse, van, 4)
    with pytest.raises(InsufficientStock):
        ledger.reverse_move(session, receipt.id, now=NOW)


def test_serialized_units_move_serial_by_serial_with_history(session):
    part = make_part(session, serialized=True)
    warehouse, van, site = (
        make_location(session),
        make_location(session, "van"),
        make_location(session, "site"),
    )
    receive(session, part, warehouse, 2, serials=["LN-1", "LN-2"])
    book_move(session, part, warehouse, van, 1, serials=["LN-1"])
    book_move(session, part, van, site, 1, serials=["LN-1"])
    unit = catalog.get_unit(session, "LN-1")
    assert unit.location_id == site.id
    history = ledger_reads.list_moves(session, serial="LN-1")
    assert [(m.from_location.code, m.to_location.code) for m in history] == [
        (van.code, site.code),
        (warehouse.code, van.code),
        (history[-1].from_location.code, warehouse.code),
    ]
    assert ledger_reads.units_at(session, warehouse.id, part.id) == ["LN-2"]


def test_a_serial_must_be_where_the_move_says(session):
    part = make_part(session, serialized=True)
    warehouse, other, van = (
        make_location(session),
        make_location(session),
        make_location(session, "van"),
    )
    receive(session, part, warehouse, 1, serials=["LN-9"])
    receive(session, part, other, 1, serials=["LN-10"])
    with pytest.raises(SerialNotHere) as refused:
        book_move(session, part, warehouse, van, 1, serials=["LN-10"])
    assert other.code in refused.value.detail


def test_serialized_parts_need_one_serial_per_unit(session):
    part = make_part(session, serialized=True)
    warehouse = make_location(session)
    with pytest.raises(InvalidInput):
        receive(session, part, warehouse, 2, serials=["A-1"])
    with pytest.raises(InvalidInput):
        receive(session, part, warehouse, 2, serials=["A-1", "A-1"])


def test_plain_parts_take_no_serials(session):
    part, warehouse = make_part(session), make_location(session)
    with pytest.raises(InvalidInput):
        receive(session, part, warehouse, 1, serials=["A-1"])


def test_a_serial_of_another_part_is_refused(session):
    head, board = make_part(session, serialized=True), make_part(session, serialized=True)
    warehouse, van = make_location(session), make_location(session, "van")
    receive(session, head, warehouse, 1, serials=["PH-1"])
    with pytest.raises(InvalidInput):
        book_move(session, board, warehouse, van, 1, serials=["PH-1"])


def test_a_count_books_differences_against_adjustment(session):
    part, warehouse = make_part(session), make_location(session)
    other = make_part(session)
    receive(session, part, warehouse, 10)
    receive(session, other, warehouse, 3)
    count = counts.post_count(
        session,
        location_code=warehouse.code,
        lines=[
            counts.CountedLine(sku=part.sku, counted=8),
            counts.CountedLine(sku=other.sku, counted=5),
        ],
        now=NOW,
    )
    by_sku = {line.part.sku: line for line in count.lines}
    assert (by_sku[part.sku].expected, by_sku[part.sku].counted, by_sku[part.sku].difference) == (
        10,
        8,
        -2,
    )
    assert by_sku[part.sku].move.to_location.kind == "adjustment"
    assert by_sku[other.sku].move.from_location.kind == "adjustment"
    assert on_hand(session, part.id, warehouse.id) == 8
    assert on_hand(session, other.id, warehouse.id) == 5


def test_a_count_that_matches_books_nothing(session):
    part, warehouse = make_part(session), make_location(session)
    receive(session, part, warehouse, 4)
    count = counts.post_count(
        session,
        location_code=warehouse.code,
        lines=[counts.CountedLine(sku=part.sku, counted=4)],
        now=NOW,
    )
    assert count.lines[0].move is None


def test_a_serialized_count_books_missing_and_found_serials(session):
    part = make_part(session, serialized=True)
    warehouse = make_location(session)
    receive(session, part, warehouse, 3, serials=["C-1", "C-2", "C-3"])
    counts.post_count(
        session,
        location_code=warehouse.code,
        lines=[counts.CountedLine(sku=part.sku, serials=("C-1", "C-3", "C-4"))],
        now=NOW,
    )
    assert ledger_reads.units_at(session, warehouse.id, part.id) == ["C-1", "C-3", "C-4"]
    assert catalog.get_unit(session, "C-2").location.kind == "adjustment"
    assert on_hand(session, part.id, warehouse.id) == 3


def test_a_serial_counted_here_but_booked_at_another_warehouse_is_refused(session):
    part = make_part(session, serialized=True)
    warehouse, other = make_location(session), make_location(session)
    receive(session, part, other, 1, serials=["X-1"])
    with pytest.raises(SerialNotHere):
        counts.post_count(
            session,
            location_code=warehouse.code,
            lines=[counts.CountedLine(sku=part.sku, serials=("X-1",))],
            now=NOW,
        )


def test_only_warehouses_and_vans_are_counted(session):
    part, site = make_part(session), make_location(session, "site")
    with pytest.raises(InvalidInput):
        counts.post_count(
            session,
            location_code=site.code,
            lines=[counts.CountedLine(sku=part.sku, counted=1)],
            now=NOW,
        )


def test_a_duplicate_sku_or_code_is_a_conflict(session):
    part = make_part(session)
    with pytest.raises(DuplicateKey):
        make_part(session, sku=part.sku)
    location = make_location(session)
    with pytest.raises(DuplicateKey):
        make_location(session, code=location.code)


def test_a_part_names_its_vendor_by_a_vendor_location(session):
    vendor, warehouse = make_location(session, "vendor"), make_location(session)
    assert make_part(session, vendor=vendor.code).vendor.code == vendor.code
    with pytest.raises(InvalidInput):
        make_part(session, vendor=warehouse.code)


def test_parts_are_found_by_sku_barcode_and_either_name(session):
    part = make_part(
        session, name="Print head PX-500", name_zh="PX-500 打印头", barcode="6912345678901"
    )
    assert part in catalog.search_parts(session, q="6912345678901")
    assert part in catalog.search_parts(session, q="打印头")
    assert part in catalog.search_parts(session, q="print head")
    assert part in catalog.search_parts(session, q=part.sku.lower())
    assert part not in catalog.search_parts(session, q="50%")


def test_stock_read_again_in_the_same_session_shows_the_moves_since(session):
    part, warehouse, van = make_part(session), make_location(session), make_location(session, "van")
    receive(session, part, warehouse, 3)
    levels = ledger_reads.list_stock(session, sku=part.sku, location=warehouse.code)
    assert levels[0].on_hand == 3
    book_move(session, part, warehouse, van, 2)
    assert ledger_reads.list_stock(session, sku=part.sku, location=warehouse.code)[0].on_hand == 1
