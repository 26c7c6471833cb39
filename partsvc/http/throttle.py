"""Rate limits at the edge: logins per client address and per username, API requests per
token, and requests with a bad token per client address (``partsvc.limits``); a request with a good
token is never refused for the bad ones sent from its address.

Counted in Redis when ``PARTSVC_REDIS_URL`` is set, else in the database, so every process
and machine shares the same limits. Over a limit the API answers 429 problem+json with
Retry-After; the login page says how long to wait.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, Response, current_app, request

from partsvc.auth.identity import caller_for_token, hash_token
from partsvc.http.context import now
from partsvc.http.problems import problem
from partsvc.platform.config import Settings
from partsvc.platform.db import Database
from partsvc.platform.limits.counters import (
    DatabaseWindows,
    Decision,
    Limiter,
    Rate,
    RedisWindows,
    Windows,
)

DATABASE_BATCH = 20
"""Without Redis, a process adds a token's hits to the database counter 1/20 of its limit
at a time (600/minute: every 30 requests), not on every request (docs/BENCHMARKS.md)."""


@dataclass(frozen=True)
class Limits:
    login: Limiter
    token: Limiter
    token_failures: Limiter
    report: Limiter

    @classmethod
    def counted_in(cls, windows: Windows, settings: Settings, *, batched: bool) -> Limits:
        token_rate = Rate.parse(settings.token_rate)
        return cls(
            login=Limiter(windows, Rate.parse(settings.login_rate)),
            token=Limiter(
                windows, token_rate, batch=token_rate.limit // DATABASE_BATCH if batched else 1
            ),
            token_failures=Limiter(windows, Rate.parse(settings.token_failure_rate)),
            report=Limiter(windows, Rate.parse(settings.report_rate)),
        )


def install(app: Flask, settings: Settings, database: Database) -> None:
    if settings.redis_url:
        import redis

        windows: Windows = RedisWindows(redis.Redis.from_url(settings.redis_url))
    else:
        windows = DatabaseWindows(database)
    app.extensions["partsvc.limits"] = Limits.counted_in(
        windows, settings, batched=not settings.redis_url
    )
    app.before_request(_limit_tokens)
    app.after_request(_count_token_failures)


def limits() -> Limits:
    found: Limits = current_app.extensions["partsvc.limits"]
    return found


def count_login(username: str) -> int | None:
    """Count a login attempt; None if allowed, else the seconds to wait."""
    address = request.remote_addr or "unknown"
    moment = now()
    refused = [
        decision
        for decision in (
            limits().login.hit(f"login-addr:{address}", moment),
            limits().login.hit(f"login-user:{username.strip().lower()[:64]}", moment),
        )
        if not decision.allowed
    ]
    return max(d.retry_after_s for d in refused) if refused else None


def count_report(token: str) -> int | None:
    """Count a customer's fault report, per client address and per unit label; None if
    allowed, else the seconds to wait."""
    address = request.remote_addr or "unknown"
    moment = now()
    refused = [
        decision
        for decision in (
            limits().report.hit(f"report-addr:{address}", moment),
            limits().report.hit(f"report-label:{hash_token(token)[:40]}", moment),
        )
        if not decision.allowed
    ]
    return max(d.retry_after_s for d in refused) if refused else None


def _bearer_token() -> str | None:
    if not request.path.startswith("/api/"):
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _limit_tokens() -> Response | None:
    token = _bearer_token()
    if token is None:
        return None
    moment = now()
    address = request.remote_addr or "unknown"
    failures = limits().token_failures.peek(f"token-failures:{address}", moment)
    if not failures.allowed and not _token_is_good(token):
        return _too_many(
            failures, "Too many requests with an unknown, expired or revoked token from here."
        )
    used = limits().token.hit(f"token:{hash_token(token)[:40]}", moment)
    if not used.allowed:
        rate = limits().token.rate
        return _too_many(
            used,
            f"This token may make {rate.limit} requests in {rate.window_s} seconds; "
            f"wait {used.retry_after_s} seconds.",
        )
    return None


def _token_is_good(token: str) -> bool:
    """Whether the token names an active caller. Asked only of requests from an address
    over its failure limit: a phone with a revoked token behind the same proxy as everyone
    else must not lock the others out, while guessing tokens from there stays refused."""
    with current_app.extensions["partsvc.db"].unit_of_work(write=False) as session:
        return caller_for_token(session, token, now=now()) is not None


def _count_token_failures(response: Response) -> Response:
    if response.status_code == 401 and _bearer_token() is not None:
        address = request.remote_addr or "unknown"
        limits().token_failures.hit(f"token-failures:{address}", now())
    return response


def _too_many(decision: Decision, detail: str) -> Response:
    answer = problem(
        429,
        "Too many requests",
        detail,
        "/problems/too-many-requests",
        retry_after=decision.retry_after_s,
    )
    answer.headers["Retry-After"] = str(decision.retry_after_s)
    return answer
