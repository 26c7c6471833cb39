"""A gunicorn worker killed (kill -9) in the middle of a burst of postings.

Each request is one transaction: a worker dying mid-request leaves its move wholly booked
or not at all, never a ledger line without its levels. The client that lost its answer
retries with the same Idempotency-Key and the move is booked exactly once.
"""

from __future__ import annotations

import http.client
import os
import signal
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

from partsvc.inventory.models import Move
from partsvc.platform.db import Database
from tests.live.test_concurrency import LiveServer, level_and_ledger, stocked_part
from tests.processes import AppProcess, app_processes, clerk_on

pytestmark = pytest.mark.concurrency

WORKERS = 3
CLIENTS = 8
REQUESTS = 300
OPENING = 10_000


def test_a_worker_killed_mid_burst_leaves_each_posting_whole_or_absent_and_retries_book_once(
    own_database: str, tmp_path: Path
) -> None:
    with clerk_on(own_database) as (database, token):
        sku, warehouse, van = stocked_part(database, OPENING)
        tag = uuid.uuid4().hex[:8]
        keys = [f"{tag}-key-{i}" for i in range(REQUESTS)]
        references = [f"{tag}-ref-{i}" for i in range(REQUESTS)]
        quantities = [1 + i % 3 for i in range(REQUESTS)]

        with app_processes(own_database, tmp_path, workers=WORKERS) as (app,):
            server = LiveServer(app.port, database, token)

            def post(i: int) -> tuple[int, dict] | None:
                """The answer, or None when the connection died with the worker."""
                body = {
                    "sku": sku,
                    "qty": quantities[i],
                    "from": warehouse,
                    "to": van,
                    "reason": "issue",
                    "reference": references[i],
                }
                try:
                    status, _, answer = server.post(
                        "/api/v1/moves", body, **{"Idempotency-Key": keys[i]}
                    )
                except (OSError, http.client.HTTPException):
                    return None
                return status, answer

            done = threading.Semaphore(0)

            def counted(i: int) -> tuple[int, dict] | None:
                try:
                    return post(i)
                finally:
                    done.release()

            with ThreadPoolExecutor(CLIENTS) as clients:
                answers = clients.map(counted, range(REQUESTS))
                for _ in range(REQUESTS // 3):  # a third of the burst has been answered
                    assert done.acquire(timeout=60)
                victim = busy_worker(app)
                os.kill(victim, signal.SIGKILL)
                results = list(answers)

            # gunicorn replaced the worker it lost.
            app.wait_until_serving(WORKERS)
            assert victim not in app.workers()

            lost = [i for i, result in enumerate(results) if result is None]
            for i, result in enumerate(results):
                if result is not None:
                    assert result[0] == 201, (i, result)
            booked = moves_by_reference(database, references)
            for i, result in enumerate(results):
                if result is not None:
                    assert [move.id for move in booked[references[i]]] == [result[1]["id"]]
                else:  # the worker died with it: booked whole, or not at all
                    assert len(booked[references[i]]) <= 1, references[i]
            assert_levels_are_the_ledger(database, sku, warehouse, van, booked)

            for i in lost:  # the clients that lost their answer try again, same key
                retried = post(i)
                assert retried is not None and retried[0] == 201, (i, retried)

        booked = moves_by_reference(database, references)
        for i, reference in enumerate(references):
            assert len(booked[reference]) == 1, reference
            (move,) = booked[reference]
            assert (move.qty, move.reason) == (quantities[i], "issue")
        assert_levels_are_the_ledger(database, sku, warehouse, van, booked)
        assert sum(move.qty for (move,) in booked.values()) == sum(quantities)


def busy_worker(app: AppProcess) -> int:
    """A worker caught in the middle of a request (a move takes a few milliseconds now,
    so look for up to 20 s while the burst's last two thirds are under way)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        busy = app.busy_workers()
        if busy:
            return min(busy)
    raise AssertionError("no worker was busy in the middle of the burst")


def moves_by_reference(database: Database, references: list[str]) -> dict[str, list[Move]]:
    found: dict[str, list[Move]] = defaultdict(list)
    with database.unit_of_work(write=False) as session:
        for move in session.scalars(
            select(Move).where(Move.reference.in_(references)).order_by(Move.id)
        ):
            found[move.reference or ""].append(move)
    return found


def assert_levels_are_the_ledger(
    database: Database, sku: str, warehouse: str, van: str, booked: dict[str, list[Move]]
) -> None:
    """Both levels equal the ledger, and every booked move changed both of them."""
    moved = sum(move.qty for moves in booked.values() for move in moves)
    assert level_and_ledger(database, sku, warehouse) == (OPENING - moved, OPENING - moved)
    assert level_and_ledger(database, sku, van) == (moved, moved)
