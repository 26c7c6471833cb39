"""CSV imports on a real database: all rows written, or none (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partsvc.core.errors import InvalidRows
from partsvc.core.worktime import WorkingCalendar
from partsvc.inventory import catalog, ledger_bulk, ledger_reads
from partsvc.inventory.models import Move, Part, StockLevel, Unit
from partsvc.purchasing.models import PartRequest
from partsvc.purchasing.requests import request_part
from partsvc.workflows.imports import importer as imports
from tests.factories import NOW, make_location, make_part, receive


def totals(session: Session) -> tuple[int, ...]:
    """Parts, moves, stock levels, units, and the units on hand everywhere."""
    session.expire_all()
    return (
        session.scalar(select(func.count(Part.id))) or 0,
        session.scalar(select(func.count(Move.id))) or 0,
        session.scalar(select(func.count(StockLevel.id))) or 0,
        session.scalar(select(func.count(Unit.id))) or 0,
        session.scalar(select(func.coalesce(func.sum(StockLevel.on_hand), 0))) or 0,
    )


def import_stock(session: Session, text: str, **kwargs: object) -> imports.StockImported:
    return imports.import_stock(
        session,
        text.encode(),
        dry_run=kwargs.pop("dry_run", False),  # type: ignore[arg-type]
        now=NOW,
        today=NOW.date(),
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def places(session: Session) -> dict[str, str]:
    made = {
        "vendor": make_location(session, "vendor"),
        "warehouse": make_location(session, "warehouse"),
        "van": make_location(session, "van"),
        "site": make_location(session, "site"),
    }
    return {kind: location.code for kind, location in made.items()}


def test_a_parts_file_creates_every_part_with_its_vendor_and_chinese_name(
    session: Session, places: dict[str, str]
) -> None:
    data = (
        "\ufeffsku;name;name_zh;serialized;unit_cost;vendor;lead_time_days;warranty_months\n"
        f"IMP-PH-1;Print head;打印头;yes;1850,00;{places['vendor']};14;3\n"
        "IMP-FU-1;Fuser unit;定影组件;no;960;;;\n"
    ).encode()
    result = imports.import_parts(session, data, dry_run=False, now=NOW)
    assert (result.parts, result.serialized) == (2, 1)
    head = catalog.get_part(session, "IMP-PH-1")
    assert (head.name_zh, head.serialized, str(head.unit_cost)) == ("打印头", True, "1850.00")
    assert head.vendor is not None and head.vendor.code == places["vendor"]
    assert catalog.get_part(session, "IMP-FU-1").vendor is None


def test_one_bad_part_among_many_writes_no_part_and_names_its_row(
    session: Session, places: dict[str, str]
) -> None:
    rows = [f"IMP-{n},Part {n},{n}" for n in range(500)]
    rows[300] = "IMP-300,Part 300,-1"
    before = totals(session)
    with pytest.raises(InvalidRows) as refused:
        imports.import_parts(
            session, ("sku,name,unit_cost\n" + "\n".join(rows)).encode(), dry_run=False, now=NOW
        )
    assert refused.value.errors == {"302": {"unit_cost": ["-1 is negative; a cost is 0 or more."]}}
    assert refused.value.extra == {"rows": 500, "bad_rows": 1}
    assert totals(session) == before


def test_a_part_that_exists_already_is_a_row_error(session: Session) -> None:
    part = make_part(session)
    with pytest.raises(InvalidRows) as refused:
        imports.import_parts(
            session, f"sku,name\nNEW-1,New\n{part.sku},Again\n".encode(), dry_run=False, now=NOW
        )
    assert refused.value.errors == {"3": {"sku": [f"A part with SKU {part.sku!r} already exists."]}}


def test_a_dry_run_of_parts_says_what_it_would_create_and_creates_nothing(
    session: Session,
) -> None:
    before = totals(session)
    result = imports.import_parts(
        session, b"sku,name\nDRY-1,One\nDRY-2,Two\n", dry_run=True, now=NOW
    )
    assert (result.dry_run, result.parts) == (True, 2)
    assert totals(session) == before


def test_opening_stock_is_booked_through_the_ledger_from_adjustment(
    session: Session, places: dict[str, str]
) -> None:
    belt = make_part(session)
    head = make_part(session, serialized=True)
    text = (
        "sku,location,qty,serials\n"
        f"{belt.sku},{places['warehouse']},12,\n"
        f"{head.sku},{places['van']},1,IMP-SN-1\n"
        f"{head.sku},{places['van']},2,IMP-SN-2 IMP-SN-3\n"
    )
    result = import_stock(session, text, source="stock.csv")
    assert (result.moves, result.units, result.serials) == (2, 15, 3)
    assert result.locations == {places["van"]: 3, places["warehouse"]: 12}
    assert result.reference == "opening stock import 2026-11-20 02:00 UTC (stock.csv)"
    moves = ledger_reads.list_moves(session, sku=head.sku)
    assert [(m.from_code, m.to_code, m.qty, m.reason, m.reference) for m in moves] == [
        ("ADJ", places["van"], 3, "opening stock", result.reference)
    ]
    assert moves[0].serials == ("IMP-SN-1", "IMP-SN-2", "IMP-SN-3")
    assert catalog.get_unit(session, "IMP-SN-2").location.code == places["van"]
    for part, code in ((belt, places["warehouse"]), (head, places["van"])):
        where = catalog.get_location(session, code)
        [level] = ledger_reads.list_stock(session, sku=part.sku, location=code)
        assert level.on_hand == ledger_reads.ledger_balance(session, part.id, where.id)
    assert ledger_reads.list_stock(session, sku=belt.sku)[0].on_hand == 12


def test_one_bad_stock_row_among_many_writes_nothing_at_all(
    session: Session, places: dict[str, str]
) -> None:
    belts = [make_part(session) for _ in range(40)]
    head = make_part(session, serialized=True)
    rows = [f"{belt.sku},{places['warehouse']},3," for belt in belts]
    rows += [f"{head.sku},{places['van']},1,BAD-SN-{n}" for n in range(5)]
    rows.append(f"{belts[0].sku},{places['site']},1,")  # a site holds no stock: row 47
    before = totals(session)
    with pytest.raises(InvalidRows) as refused:
        import_stock(session, "sku,location,qty,serials\n" + "\n".join(rows) + "\n\n\n")
    assert list(refused.value.errors or {}) == ["47"]
    assert totals(session) == before


def test_a_failure_while_booking_rolls_back_what_was_booked_before_it(
    session: Session, places: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    belts = [make_part(session) for _ in range(5)]
    head = make_part(session, serialized=True)
    session.commit()

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away")

    # The levels and the ledger lines are written by then; the units were to come.
    monkeypatch.setattr(ledger_bulk, "_insert_units", fail)
    before = totals(session)
    text = "sku,location,qty,serials\n" + "".join(
        f"{b.sku},{places['warehouse']},2,\n" for b in belts
    )
    text += f"{head.sku},{places['van']},1,ROLLED-BACK-1\n"
    with pytest.raises(RuntimeError), session.begin_nested():  # as the unit of work does
        import_stock(session, text)
    assert totals(session) == before


def test_importing_the_same_stock_file_twice_is_refused_the_second_time(
    session: Session, places: dict[str, str]
) -> None:
    belt = make_part(session)
    head = make_part(session, serialized=True)
    text = (
        f"sku,location,qty,serials\n{belt.sku},{places['warehouse']},4,\n"
        f"{head.sku},{places['warehouse']},1,TWICE-1\n"
    )
    import_stock(session, text)
    before = totals(session)
    with pytest.raises(InvalidRows) as refused:
        import_stock(session, text)
    assert refused.value.errors == {
        "2": {
            "qty": [
                f"{places['warehouse']} already holds 4 of {belt.sku}: opening stock goes where "
                "there is none yet (correct a quantity with a count)."
            ]
        },
        "3": {
            "qty": [
                f"{places['warehouse']} already holds 1 of {head.sku}: opening stock goes where "
                "there is none yet (correct a quantity with a count)."
            ],
            "serials": [f"Serial TWICE-1 is already booked, at {places['warehouse']}."],
        },
    }
    assert totals(session) == before


def test_a_dry_run_of_stock_books_nothing_and_says_what_it_would(
    session: Session, places: dict[str, str]
) -> None:
    belt = make_part(session)
    before = totals(session)
    result = import_stock(
        session, f"sku,location,qty\n{belt.sku},{places['warehouse']},7\n", dry_run=True
    )
    assert (result.dry_run, result.moves, result.units) == (True, 1, 7)
    assert totals(session) == before


def test_opening_stock_into_a_warehouse_goes_first_to_the_requests_waiting_there(
    session: Session, places: dict[str, str]
) -> None:
    belt = make_part(session)
    request = request_part(
        session,
        sku=belt.sku,
        qty=2,
        warehouse=places["warehouse"],
        calendar=WorkingCalendar(),
        now=NOW,
    )
    assert request.reserved_qty == 0
    import_stock(session, f"sku,location,qty\n{belt.sku},{places['warehouse']},5\n")
    session.expire_all()
    assert session.get(PartRequest, request.id).reserved_qty == 2  # type: ignore[union-attr]


def test_existing_stock_elsewhere_does_not_stop_opening_stock_here(
    session: Session, places: dict[str, str]
) -> None:
    belt = make_part(session)
    receive(session, belt, catalog.get_location(session, places["warehouse"]), 3)
    import_stock(session, f"sku,location,qty\n{belt.sku},{places['van']},2\n")
    assert ledger_reads.list_stock(session, sku=belt.sku, location=places["van"])[0].on_hand == 2
