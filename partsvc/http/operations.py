"""What operators watch: ``/healthz`` (the process answers), ``/readyz`` (the database
answers and is at the newest migration), ``/metrics`` (Prometheus), and a log line per
request carrying its request id (taken from a sane X-Request-Id, else made here, and
echoed in the response).
"""

from __future__ import annotations

import hmac
import logging
import time

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from partsvc.http.context import database, settings
from partsvc.http.problems import problem
from partsvc.platform import logs, metrics, migrate

log = logging.getLogger("partsvc.request")


def register(app: Flask) -> None:
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_forget)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/readyz", "readyz", readyz)
    app.add_url_rule("/metrics", "metrics", metrics_page)


def healthz() -> dict[str, str]:
    return {"status": "ok"}


def readyz() -> Response | dict[str, str]:
    """Ready when the database answers and its schema is at the head of migrations/."""
    try:
        with database().unit_of_work(write=False) as session:
            session.execute(text("SELECT 1"))
            current, head = migrate.revisions(session.connection())
    except SQLAlchemyError as error:
        logging.getLogger("partsvc").warning("readyz: database unreachable: %s", error)
        return _not_ready("The database does not answer.", database="unreachable")
    if current != head:
        return _not_ready(
            f"The database is at migration {_names(current)}; this code needs {_names(head)}. "
            "Run 'partsvc db upgrade'.",
            database="ok",
            migrations="not at head",
            current=sorted(current),
            head=sorted(head),
        )
    return {"status": "ready", "database": "ok", "migrations": "current"}


def _names(revisions: set[str]) -> str:
    return ", ".join(sorted(revisions)) or "(none)"


def _not_ready(detail: str, **extra: object) -> Response:
    answer = problem(503, "Not ready", detail, "/problems/not-ready", **extra)
    answer.headers["Retry-After"] = "5"
    return answer


def metrics_page() -> Response:
    """Open, unless ``PARTSVC_METRICS_TOKEN`` is set: then only with that bearer token. In
    production (``PARTSVC_ENV=production``) closed until that token is set."""
    wanted = settings().metrics_token
    if not wanted and settings().env == "production":
        answer = problem(
            401,
            "Authentication required",
            "In production /metrics answers only with PARTSVC_METRICS_TOKEN set on the "
            "server and sent as 'Authorization: Bearer <token>'.",
            "/problems/unauthenticated",
        )
        answer.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return answer
    if wanted:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), wanted.encode()):
            answer = problem(
                401,
                "Authentication required",
                "Send the metrics token: 'Authorization: Bearer <PARTSVC_METRICS_TOKEN>'.",
                "/problems/unauthenticated",
            )
            answer.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return answer
    return Response(generate_latest(metrics.registry()), content_type=CONTENT_TYPE_LATEST)


def _begin() -> None:
    g.request_started = time.perf_counter()
    g.request_id = logs.new_request_id(request.headers.get("X-Request-Id"))
    g.request_id_token = logs.request_id.set(g.request_id)


def _finish(response: Response) -> Response:
    seconds = time.perf_counter() - g.get("request_started", time.perf_counter())
    endpoint = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
    status = str(response.status_code)
    metrics.REQUESTS.labels(endpoint, request.method, status).inc()
    metrics.REQUEST_SECONDS.labels(endpoint, request.method, status).observe(seconds)
    user = g.get("user")
    log.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,
            "endpoint": endpoint,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 1),
            "user": getattr(user, "username", None),
        },
    )
    if "request_id" in g:
        response.headers["X-Request-Id"] = g.request_id
    return response


def _forget(_error: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        logs.request_id.reset(token)
