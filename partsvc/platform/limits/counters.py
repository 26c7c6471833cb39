"""Fixed-window rate limits (``10/minute``) counted where every process sees them.

A ``Limiter`` counts hits on a key (``login-user:wang``, ``token:<hash>``) in the window
the app clock is in, in a ``Windows`` store: Redis (``INCRBY`` + ``EXPIRE``) or the
database (one atomic upsert, correct on SQLite and PostgreSQL under concurrency). A
database write per API request would make every GET queue for SQLite's write lock, so a
limiter may count in ``batch``es: a process adds its hits to the shared counter every
``batch`` hits, and between two adds checks the last shared total plus its own. The
shared count then lags by less than ``batch`` hits per process (docs/DECISIONS.md).
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from redis.exceptions import RedisError
from sqlalchemy import case, select
from sqlalchemy.dialects import postgresql, sqlite

from partsvc.core.errors import InvalidInput
from partsvc.platform.db import Database, table_of
from partsvc.platform.limits.models import RateCounter

log = logging.getLogger("partsvc.limits")

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Rate:
    """At most ``limit`` hits per ``window_s`` seconds."""

    limit: int
    window_s: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``10/minute``, ``600/min``, ``5/hour``, ``100/10 seconds``..."""
        try:
            count, _, per = text.strip().partition("/")
            amount, _, unit = per.strip().rpartition(" ")
            unit = unit.rstrip("s") if unit not in PERIODS else unit
            unit = {"min": "minute", "sec": "second", "s": "second"}.get(unit, unit)
            rate = cls(int(count), int(amount or 1) * PERIODS[unit])
        except (ValueError, KeyError) as error:
            raise InvalidInput(f"{text!r} is not a rate like '10/minute'.") from error
        if rate.limit < 1 or rate.window_s < 1:
            raise InvalidInput(f"{text!r} is not a rate like '10/minute'.")
        return rate


@dataclass(frozen=True)
class Decision:
    allowed: bool
    hits: int
    retry_after_s: int
    """Seconds until the window ends (when refused)."""


class Windows(Protocol):
    def add(self, key: str, window: int, amount: int, expire_s: int) -> int:
        """Add ``amount`` hits to ``key`` in ``window``; the window's total."""

    def read(self, key: str, window: int) -> int:
        """Hits on ``key`` in ``window``."""


class DatabaseWindows:
    """Counters in the ``rate_counters`` table, each add one upsert in its own transaction."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def add(self, key: str, window: int, amount: int, expire_s: int) -> int:
        with self.database.unit_of_work(write=True) as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            table = table_of(RateCounter)
            new = insert(table).values(key=key, window=window, hits=amount)
            same_window = table.c.window == new.excluded.window
            hits = case((same_window, table.c.hits + amount), else_=new.excluded.hits)
            upsert = new.on_conflict_do_update(
                index_elements=[table.c.key], set_={"window": new.excluded.window, "hits": hits}
            ).returning(table.c.hits)
            total: int = session.execute(upsert).scalar_one()
            return total

    def read(self, key: str, window: int) -> int:
        with self.database.unit_of_work(write=False) as session:
            hits = session.scalar(
                select(RateCounter.hits).where(RateCounter.key == key, RateCounter.window == window)
            )
            return hits or 0


class RedisWindows:
    """Counters in Redis, one key per key and window, gone when the window is over.

    If Redis does not answer, the hit is let through and a warning logged: an outage of
    the counters must not take the API down with it.
    """

    def __init__(self, client: Any, prefix: str = "partsvc:rate:") -> None:
        self.client = client
        self.prefix = prefix

    def add(self, key: str, window: int, amount: int, expire_s: int) -> int:
        name = f"{self.prefix}{key}:{window}"
        try:
            pipeline = self.client.pipeline()
            pipeline.incrby(name, amount)
            pipeline.expire(name, expire_s)
            total, _ = pipeline.execute()
        except RedisError as error:
            log.warning("rate limit not counted, Redis failed: %s", error)
            return 0
        return int(total)

    def read(self, key: str, window: int) -> int:
        try:
            return int(self.client.get(f"{self.prefix}{key}:{window}") or 0)
        except RedisError as error:
            log.warning("rate limit not read, Redis failed: %s", error)
            return 0


class Limiter:
    """Counts hits on keys against one ``Rate`` in a shared ``Windows`` store."""

    def __init__(
        self, windows: Windows, rate: Rate, *, batch: int = 1, fresh_s: float = 1.0
    ) -> None:
        self.windows = windows
        self.rate = rate
        self.batch = max(1, batch)
        self.fresh_s = fresh_s
        """How long a count read by ``peek`` is trusted: every API request peeks, and a
        read of the store per request would cost as much as the request itself."""
        self._local: dict[str, tuple[int, int, int]] = {}  # key → window, shared, own
        self._seen: dict[str, tuple[int, float, int]] = {}  # key → window, when, hits
        self._lock = threading.Lock()

    def hit(self, key: str, now: datetime) -> Decision:
        """Count one hit on ``key`` now; allowed while the window's hits are within limit."""
        window, retry_after = self._window(now)
        with self._lock:
            seen, shared, own = self._local.get(key, (window, 0, 0))
            if seen != window:
                shared, own = 0, 0
            own += 1
            if own >= self.batch or shared + own >= self.rate.limit:
                shared, own = self.windows.add(key, window, own, self.rate.window_s * 2), 0
            self._local[key] = (window, shared, own)
            self._seen[key] = (window, now.timestamp(), shared + own)
            if len(self._local) > 10_000:  # keys of old windows: forget them
                self._local = {k: v for k, v in self._local.items() if v[0] == window}
                self._seen = {k: v for k, v in self._seen.items() if v[0] == window}
        hits = shared + own
        return Decision(hits <= self.rate.limit, hits, retry_after)

    def peek(self, key: str, now: datetime) -> Decision:
        """Whether one more hit on ``key`` would be allowed, without counting one: read
        from the store at most once per ``fresh_s``, else from what this process saw."""
        window, retry_after = self._window(now)
        seen = self._seen.get(key)
        if seen is not None and seen[0] == window and now.timestamp() - seen[1] < self.fresh_s:
            hits = seen[2]
        else:
            hits = self.windows.read(key, window)
            with self._lock:
                self._seen[key] = (window, now.timestamp(), hits)
        return Decision(hits < self.rate.limit, hits, retry_after)

    def _window(self, now: datetime) -> tuple[int, int]:
        seconds = now.timestamp()
        window = math.floor(seconds / self.rate.window_s)
        retry_after = math.ceil((window + 1) * self.rate.window_s - seconds)
        return window, max(1, retry_after)
