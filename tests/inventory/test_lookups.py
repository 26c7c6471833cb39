"""A move's part and locations, remembered by the process once committed: what a rolled
back transaction read is never remembered, and a test's rolled back rows are forgotten."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from partsvc.core.errors import UnknownKey
from partsvc.inventory import catalog, ledger
from partsvc.inventory.ledger import LocationRef, PartRef
from partsvc.platform.db import Database
from tests.factories import NOW


class Boom(Exception):
    pass


def places(database: Database) -> None:
    with database.unit_of_work() as session:
        catalog.create_location(session, code="LK-V", name="Vendor", kind="vendor")
        catalog.create_location(session, code="LK-W", name="Warehouse", kind="warehouse")


def receive(session, sku: str, qty: int = 1):
    return ledger.post_move(
        session, sku=sku, qty=qty, from_code="LK-V", to_code="LK-W", reason="receipt", now=NOW
    )


def statements(database: Database, action) -> list[str]:
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", note)
    try:
        action()
    finally:
        event.remove(database.engine, "before_cursor_execute", note)
    return seen


def test_a_committed_move_leaves_its_part_and_places_remembered(database, connection):
    places(database)
    with database.unit_of_work() as session:
        part = catalog.create_part(session, sku="LK-1", name="Fuser")
        receive(session, "LK-1")
    assert database.lookups.get(("part", "LK-1")) == PartRef(part.id, "LK-1", False)
    place = database.lookups.get(("location", "LK-W"))
    assert isinstance(place, LocationRef) and place.kind == "warehouse"

    def again() -> None:
        with database.unit_of_work() as session:
            receive(session, "LK-1")

    assert not [sql for sql in statements(database, again) if "FROM parts" in sql]


def test_a_move_in_a_transaction_that_rolls_back_is_not_remembered(database, connection):
    places(database)
    with pytest.raises(Boom), database.unit_of_work() as session:
        catalog.create_part(session, sku="LK-GHOST", name="Fuser")
        receive(session, "LK-GHOST")
        raise Boom
    assert database.lookups.get(("part", "LK-GHOST")) is None
    assert database.lookups.get(("location", "LK-W")) is None
    with pytest.raises(UnknownKey), database.unit_of_work() as session:
        receive(session, "LK-GHOST")  # the part was never committed: still unknown


def test_a_move_in_a_savepoint_rolled_back_is_not_remembered(database, connection):
    places(database)
    with database.unit_of_work() as session:
        catalog.create_part(session, sku="LK-2", name="Fuser")
        savepoint = session.begin_nested()
        catalog.create_part(session, sku="LK-SP", name="Fuser")
        receive(session, "LK-SP")
        savepoint.rollback()
        receive(session, "LK-2")
    assert database.lookups.get(("part", "LK-SP")) is None
    assert database.lookups.get(("part", "LK-2")) is not None


def test_a_part_rolled_back_then_its_id_given_to_another_moves_the_right_one(database, connection):
    """SQLite gives a rolled back row's id to the next row: a remembered id would then
    name another part. Nothing read in the rolled back transaction is remembered."""
    places(database)
    with pytest.raises(Boom), database.unit_of_work() as session:
        catalog.create_part(session, sku="LK-OLD", name="Fuser")
        receive(session, "LK-OLD")
        raise Boom
    with database.unit_of_work() as session:
        new = catalog.create_part(session, sku="LK-NEW", name="Fuser")
        booked = receive(session, "LK-NEW")
    assert booked.part_id == new.id
    with pytest.raises(UnknownKey), database.unit_of_work() as session:
        receive(session, "LK-OLD")


def test_binding_to_a_test_connection_forgets_what_was_remembered(database, connection):
    places(database)
    with database.unit_of_work() as session:
        catalog.create_part(session, sku="LK-3", name="Fuser")
        receive(session, "LK-3")
    assert database.lookups.get(("part", "LK-3")) is not None
    database.bind_to(connection)  # what the fixture does when a test begins and ends
    assert database.lookups.get(("part", "LK-3")) is None
