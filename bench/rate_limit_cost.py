"""What counting API token use costs (issue 9): GETs through the Flask test client with
no token limit, with a database counter written on every request, with the database
counter written once per batch (the default without Redis), and with Redis.

A fresh SQLite file (or the PostgreSQL database given with --database, which is wiped of
nothing: the bench adds a user, a token and five parts) with one clerk; each variant
sends --requests GETs of /api/v1/parts?limit=5 after 20 warm-up requests. Prints mean,
median and p95 per request in ms and the rate counter writes, then one JSON line.

    .venv/bin/python bench/rate_limit_cost.py [--requests 300] [--database URL] [--redis URL]

The token limit is set by the bench (600/minute, above --requests); any answer but 200
voids the figures (exit 1).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from flask import Flask
from verdict import Answers, show_settings

from partsvc import create_app
from partsvc.auth.identity import create_user, issue_token
from partsvc.http import throttle
from partsvc.inventory import catalog
from partsvc.platform import migrate
from partsvc.platform.config import Settings
from partsvc.platform.db import Database
from partsvc.platform.limits.counters import DatabaseWindows, RedisWindows, Windows


class Counted:
    """A store that counts its writes."""

    def __init__(self, inner: Windows) -> None:
        self.inner = inner
        self.adds = 0

    def add(self, key: str, window: int, amount: int, expire_s: int) -> int:
        self.adds += 1
        return self.inner.add(key, window, amount, expire_s)

    def read(self, key: str, window: int) -> int:
        return self.inner.read(key, window)


def variant(
    app: Flask, settings: Settings, windows: Windows | None, *, batched: bool
) -> Counted | None:
    if windows is None:
        app.before_request_funcs[None].remove(throttle._limit_tokens)
        app.after_request_funcs[None].remove(throttle._count_token_failures)
        return None
    counted = Counted(windows)
    app.extensions["partsvc.limits"] = throttle.Limits.counted_in(
        counted, settings, batched=batched
    )
    return counted


def run(app: Flask, token: str, requests: int, answers: Answers) -> list[float]:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(20):
        answer = client.get("/api/v1/parts?limit=5", headers=headers)
        answers.check("GET /api/v1/parts (warm-up)", answer.status_code, 200, answer.text)
    times = []
    for _ in range(requests):
        began = time.perf_counter()
        answer = client.get("/api/v1/parts?limit=5", headers=headers)
        times.append((time.perf_counter() - began) * 1000)
        answers.check("GET /api/v1/parts", answer.status_code, 200, answer.text)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    options = parser.parse_args()
    if options.requests + 20 >= 600:
        parser.error("--requests must stay under the default 600/minute, warm-up included")
    url = options.database or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    migrate.upgrade(url)
    database = Database(url)
    with database.unit_of_work() as session:
        user = create_user(session, username=f"bench-{uuid.uuid4().hex[:8]}", role="clerk")
        tokens = [issue_token(session, user) for _ in range(4)]  # one per variant
        for number in range(5):
            catalog.create_part(session, sku=f"BENCH-{uuid.uuid4().hex[:8]}-{number}", name="Fuser")
    # The default rate: --requests stays under it, so the bench measures counting only.
    settings = Settings(
        database_url=url, secret_key="bench", token_rate="600/minute", log_level="WARNING"
    )
    show_settings(
        database=database.engine.dialect.name,
        requests=options.requests,
        token_rate=settings.token_rate,
        token_failure_rate=settings.token_failure_rate,
        redis=options.redis,
    )
    answers = Answers()
    results: dict[str, Any] = {
        "database": database.engine.dialect.name,
        "requests": options.requests,
    }
    import redis

    client = redis.Redis.from_url(options.redis)
    prefix = f"bench-{uuid.uuid4().hex[:8]}:"
    variants: list[tuple[str, Windows | None, bool]] = [
        ("no token limit", None, False),
        ("database, every request", DatabaseWindows(database), False),
        ("database, batched (default)", DatabaseWindows(database), True),
        ("redis, every request", RedisWindows(client, prefix=prefix), False),
    ]
    for (name, windows, batched), token in zip(variants, tokens, strict=True):
        app = create_app(settings, database=database)
        counted = variant(app, settings, windows, batched=batched)
        times = run(app, token, options.requests, answers)
        row = {
            "mean_ms": round(statistics.fmean(times), 2),
            "median_ms": round(statistics.median(times), 2),
            "p95_ms": round(statistics.quantiles(times, n=20)[-1], 2),
            "counter_writes": counted.adds if counted else 0,
        }
        results[name] = row
        print(
            f"{name:<30} mean {row['mean_ms']:6.2f}  median {row['median_ms']:6.2f}  "
            f"p95 {row['p95_ms']:6.2f} ms  counter writes {row['counter_writes']}"
        )
    for name in client.scan_iter(f"{prefix}*"):
        client.delete(name)
    database.dispose()
    print(json.dumps(results))
    sys.exit(answers.verdict())


if __name__ == "__main__":
    main()
