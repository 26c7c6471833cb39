"""Prometheus metrics: requests, moves committed to the ledger, planner runs.

Under gunicorn, ``partsvc serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` before any worker
imports prometheus_client, so every worker writes its samples there and ``/metrics``
adds them up (``registry()``).

A move is counted when its transaction commits, not when it is booked: a booking refused
later in the same request, or inside a savepoint that is rolled back, is not counted.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

REQUESTS = Counter(
    "partsvc_http_requests_total",
    "HTTP requests answered, by route, method and status.",
    ["endpoint", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "partsvc_http_request_duration_seconds",
    "Time to answer an HTTP request, by route, method and status.",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
MOVES = Counter(
    "partsvc_moves_posted_total",
    "Moves committed to the stock ledger, by the kinds of their from and to locations.",
    ["from_kind", "to_kind"],
)
PLANNER_RUNS = Counter(
    "partsvc_planner_runs_total",
    "Planner searches, by outcome: complete (every call placed), partial, or error.",
    ["outcome"],
)
PLANNER_SECONDS = Histogram(
    "partsvc_planner_duration_seconds",
    "Time the planner searched, by outcome.",
    ["outcome"],
    buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300),
)

_PENDING = "partsvc.metrics.moves"


def registry() -> CollectorRegistry:
    """What ``/metrics`` shows: this process's samples, or all gunicorn workers' samples."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    from prometheus_client import multiprocess

    gathered = CollectorRegistry()
    multiprocess.MultiProcessCollector(gathered)  # type: ignore[no-untyped-call]
    return gathered


def move_booked(session: Session, from_kind: str, to_kind: str) -> None:
    """Note a move booked in ``session``'s transaction; counted when it commits."""
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append((transaction, from_kind, to_kind))


@event.listens_for(Session, "after_commit")
def _count_committed_moves(session: Session) -> None:
    for _, from_kind, to_kind in session.info.pop(_PENDING, ()):
        MOVES.labels(from_kind, to_kind).inc()


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_moves(session: Session, previous: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if pending:
        session.info[_PENDING] = [entry for entry in pending if not _inside(entry[0], previous)]


def _inside(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


@dataclass
class PlannerRun:
    outcome: str = "error"


@contextmanager
def planner_run() -> Iterator[PlannerRun]:
    """Time one planner search; the caller sets its ``outcome`` (an exception: error)."""
    run = PlannerRun()
    began = time.perf_counter()
    try:
        yield run
    except BaseException:
        run.outcome = "error"
        raise
    finally:
        PLANNER_RUNS.labels(run.outcome).inc()
        PLANNER_SECONDS.labels(run.outcome).observe(time.perf_counter() - began)
