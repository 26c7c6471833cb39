"""Real concurrent requests against a live server on 127.0.0.1, on SQLite and PostgreSQL.

Each request runs in its own thread with its own database connection, as under gunicorn;
the data is committed for real (these tests cannot use the rolled-back transaction).
"""

from __future__ import annotations

import http.client
import json
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest
from werkzeug.serving import make_server

from partsvc import create_app
from partsvc.auth.identity import create_user, issue_token
from partsvc.inventory import catalog, ledger, ledger_reads
from partsvc.inventory.models import StockLevel
from partsvc.platform.config import Settings
from partsvc.platform.db import Database
from tests.factories import NOW

pytestmark = pytest.mark.concurrency

CLIENTS = 32


@dataclass
class LiveServer:
    port: int
    database: Database
    token: str

    def post(self, path: str, body: dict, **headers: str) -> tuple[int, str, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(
                "POST",
                path,
                body=json.dumps(body),
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Content-Type": "application/json",
                    **headers,
                },
            )
            answer = connection.getresponse()
            return answer.status, answer.getheader("Content-Type"), json.loads(answer.read())
        finally:
            connection.close()


@pytest.fixture
def live_server(database_url: str) -> Iterator[LiveServer]:
    database = Database(database_url, pool_size=CLIENTS)
    with database.unit_of_work() as session:
        user = create_user(session, username=f"clerk-{uuid.uuid4().hex[:8]}", role="clerk")
        token = issue_token(session, user)
    app = create_app(Settings(database_url=database_url, secret_key="test"), database=database)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(server.server_port, database, token)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        database.dispose()


def stocked_part(database: Database, qty: int) -> tuple[str, str, str]:
    """A part with ``qty`` on hand in a new warehouse, and a van; committed."""
    tag = uuid.uuid4().hex[:8]
    sku, warehouse, van, vendor = f"C-{tag}", f"WH-{tag}", f"VAN-{tag}", f"V-{tag}"
    with database.unit_of_work() as session:
        catalog.create_part(session, sku=sku, name="Pickup roller")
        for code, kind in [(warehouse, "warehouse"), (van, "van"), (vendor, "vendor")]:
            catalog.create_location(session, code=code, name=code, kind=kind)
        ledger.post_move(
            session,
            sku=sku,
            qty=qty,
            from_code=vendor,
            to_code=warehouse,
            reason="receipt",
            now=NOW,
        )
    return sku, warehouse, van


def fire(count: int, request) -> list:
    """Run ``request(i)`` in ``count`` threads released at the same instant."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        results[i] = request(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def level_and_ledger(database: Database, sku: str, location: str) -> tuple[int, int]:
    with database.unit_of_work(write=False) as session:
        part, place = catalog.get_part(session, sku), catalog.get_location(session, location)
        level = session.query(StockLevel).filter_by(part_id=part.id, location_id=place.id).one()
        return level.on_hand, ledger_reads.ledger_balance(session, part.id, place.id)


def book_out_the_last_10_units(database: Database, servers: Sequence[LiveServer]) -> None:
    """32 clerks at once, spread over ``servers``, each book 1 of the last 10 units out:
    exactly 10 get 201, the other 22 a 409 problem, and the levels are the ledger's."""
    sku, warehouse, van = stocked_part(database, 10)
    body = {"sku": sku, "qty": 1, "from": warehouse, "to": van, "reason": "issue"}
    results = fire(CLIENTS, lambda i: servers[i % len(servers)].post("/api/v1/moves", body))
    statuses = sorted(status for status, _, _ in results)
    assert statuses.count(201) == 10
    assert statuses.count(409) == CLIENTS - 10, statuses
    for status, content_type, answer in results:
        if status == 409:
            assert content_type == "application/problem+json"
            assert answer["type"] == "/problems/insufficient-stock"
    assert level_and_ledger(database, sku, warehouse) == (0, 0)
    assert level_and_ledger(database, sku, van) == (10, 10)


def test_32_clerks_booking_out_the_last_10_units_book_exactly_10(live_server):
    book_out_the_last_10_units(live_server.database, [live_server])


def test_the_same_request_retried_concurrently_is_booked_once(live_server):
    sku, warehouse, van = stocked_part(live_server.database, 10)
    body = {"sku": sku, "qty": 2, "from": warehouse, "to": van, "reason": "issue"}
    key = uuid.uuid4().hex
    results = fire(8, lambda i: live_server.post("/api/v1/moves", body, **{"Idempotency-Key": key}))
    assert {status for status, _, _ in results} == {201}
    assert len({answer["id"] for _, _, answer in results}) == 1
    assert level_and_ledger(live_server.database, sku, warehouse) == (8, 8)


def test_a_move_reversed_by_several_clerks_at_once_is_reversed_once(live_server):
    sku, warehouse, van = stocked_part(live_server.database, 10)
    status, _, move = live_server.post(
        "/api/v1/moves", {"sku": sku, "qty": 3, "from": warehouse, "to": van, "reason": "issue"}
    )
    assert status == 201
    results = fire(8, lambda i: live_server.post(f"/api/v1/moves/{move['id']}/reversal", {}))
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [201] + [409] * 7
    assert level_and_ledger(live_server.database, sku, warehouse) == (10, 10)


def test_opposite_transfers_at_once_neither_deadlock_nor_lose_stock(live_server):
    sku, warehouse, van = stocked_part(live_server.database, 20)
    status, _, _ = live_server.post(
        "/api/v1/moves", {"sku": sku, "qty": 10, "from": warehouse, "to": van, "reason": "issue"}
    )
    assert status == 201

    def transfer(i: int):
        source, target = (warehouse, van) if i % 2 else (van, warehouse)
        return live_server.post(
            "/api/v1/moves", {"sku": sku, "qty": 1, "from": source, "to": target, "reason": "t"}
        )

    results = fire(16, transfer)
    assert {status for status, _, _ in results} == {201}
    assert level_and_ledger(live_server.database, sku, warehouse) == (10, 10)
    assert level_and_ledger(live_server.database, sku, van) == (10, 10)


def test_a_retry_racing_the_first_request_gets_its_answer_not_a_409(live_server):
    # 10 on hand, 6 asked: only the first request can be served; every retry with the
    # same key must get that first answer, not "not enough stock".
    sku, warehouse, van = stocked_part(live_server.database, 10)
    body = {"sku": sku, "qty": 6, "from": warehouse, "to": van, "reason": "issue"}
    key = uuid.uuid4().hex
    results = fire(8, lambda i: live_server.post("/api/v1/moves", body, **{"Idempotency-Key": key}))
    assert [status for status, _, _ in results] == [201] * 8
    assert len({answer["id"] for _, _, answer in results}) == 1
    assert level_and_ledger(live_server.database, sku, warehouse) == (4, 4)


def test_a_count_raced_by_moves_of_the_same_part_never_books_a_wrong_difference(live_server):
    sku, warehouse, van = stocked_part(live_server.database, 20)

    def count_or_move(i: int):
        if i == 0:
            return live_server.post(
                "/api/v1/counts", {"location": warehouse, "lines": [{"sku": sku, "counted": 15}]}
            )
        return live_server.post(
            "/api/v1/moves", {"sku": sku, "qty": 1, "from": warehouse, "to": van, "reason": "t"}
        )

    results = fire(8, count_or_move)
    count_status, _, count = results[0]
    moved = sum(1 for status, _, _ in results[1:] if status == 201)
    assert {status for status, _, _ in results[1:]} <= {201}
    on_hand, ledger = level_and_ledger(live_server.database, sku, warehouse)
    assert on_hand == ledger
    if count_status == 201:
        line = count["lines"][0]
        # The count is right for the moment it was booked: moves before it are in its
        # expected quantity, moves after it come off the counted 15.
        assert line["expected"] + line["difference"] == 15
        assert on_hand == 15 - (moved - (20 - line["expected"]))
    else:
        assert count_status == 409
        assert on_hand == 20 - moved


def test_32_requests_for_the_last_10_units_reserve_exactly_10(live_server):
    sku, warehouse, _ = stocked_part(live_server.database, 10)
    body = {"sku": sku, "qty": 1, "warehouse": warehouse}
    results = fire(CLIENTS, lambda i: live_server.post("/api/v1/part-requests", body))
    statuses = sorted(content["status"] for status, _, content in results if status == 201)
    assert len(statuses) == CLIENTS, results
    # The part has no vendor: what the shelf cannot fill waits open for a clerk.
    assert statuses.count("reserved") == 10
    assert statuses.count("open") == CLIENTS - 10
    with live_server.database.unit_of_work(write=False) as session:
        part, place = catalog.get_part(session, sku), catalog.get_location(session, warehouse)
        level = session.query(StockLevel).filter_by(part_id=part.id, location_id=place.id).one()
        assert (level.on_hand, level.reserved) == (10, 10)


def test_32_requests_that_refuse_a_backorder_reserve_exactly_10_and_refuse_22(live_server):
    sku, warehouse, _ = stocked_part(live_server.database, 10)
    body = {"sku": sku, "qty": 1, "warehouse": warehouse, "allow_backorder": False}
    results = fire(CLIENTS, lambda i: live_server.post("/api/v1/part-requests", body))
    codes = sorted(status for status, _, _ in results)
    assert codes == [201] * 10 + [409] * (CLIENTS - 10), results
    assert all(kind == "application/problem+json" for status, kind, _ in results if status == 409)
    with live_server.database.unit_of_work(write=False) as session:
        part, place = catalog.get_part(session, sku), catalog.get_location(session, warehouse)
        level = session.query(StockLevel).filter_by(part_id=part.id, location_id=place.id).one()
        assert (level.on_hand, level.reserved) == (10, 10)


def test_two_dispatchers_lending_one_loaner_at_once_make_exactly_one_loan(live_server):
    from partsvc.calls.customers import create_customer, create_site
    from partsvc.loans.models import Loan

    tag = uuid.uuid4().hex[:8]
    sku, warehouse, vendor, site = f"L-{tag}", f"WH-{tag}", f"V-{tag}", f"S-{tag}"
    with live_server.database.unit_of_work() as session:
        catalog.create_part(session, sku=sku, name="Loaner", serialized=True, loaner=True)
        for code, kind in [(warehouse, "warehouse"), (vendor, "vendor")]:
            catalog.create_location(session, code=code, name=code, kind=kind)
        ledger.post_move(
            session,
            sku=sku,
            qty=1,
            from_code=vendor,
            to_code=warehouse,
            reason="receipt",
            serials=[f"LN-{tag}"],
            now=NOW,
        )
        create_customer(session, code=f"C-{tag}", name="C", contract_starts_on=NOW.date())
        create_site(session, code=site, customer=f"C-{tag}", address="x", lat=31.0, lon=121.0)
    body = {"serial": f"LN-{tag}", "site": site}
    results = fire(2, lambda i: live_server.post("/api/v1/loans", body))
    assert sorted(status for status, _, _ in results) == [201, 409], results
    with live_server.database.unit_of_work(write=False) as session:
        unit = catalog.get_unit(session, f"LN-{tag}")
        loans = session.query(Loan).filter_by(unit_id=unit.id).all()
        assert len(loans) == 1
        assert unit.location.code == site
