"""Every error as application/problem+json (RFC 9457), never an HTML page or a trace."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from partsvc.core.errors import PartsvcError

log = logging.getLogger("partsvc")

PROBLEM_JSON = "application/problem+json"


def problem(
    status: int, title: str, detail: str, type_: str = "about:blank", **extra: Any
) -> Response:
    body = {"type": type_, "title": title, "status": status, "detail": detail, **extra}
    return Response(json.dumps(body), status=status, content_type=PROBLEM_JSON)


def _flatten_messages(messages: dict[str, Any]) -> dict[str, Any]:
    """webargs groups messages by location (json, query, ...); clients want field → messages."""
    errors: dict[str, Any] = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            errors.update(fields)
        else:
            errors[location] = fields
    return errors


def handle_partsvc_error(error: PartsvcError) -> Response:
    extra = dict(error.extra)
    if error.errors is not None:
        extra["errors"] = error.errors
    answer = problem(error.status, error.title, error.detail, error.type, **extra)
    if error.status == 401:
        answer.headers["WWW-Authenticate"] = 'Bearer realm="partsvc"'
    if "retry_after" in error.extra:
        answer.headers["Retry-After"] = str(error.extra["retry_after"])
    return answer


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    extra: dict[str, Any] = {}
    detail = error.description or error.name
    if "messages" in data:
        extra["errors"] = _flatten_messages(data["messages"])
        detail = "The request did not validate; see errors."
    elif "errors" in data:
        extra["errors"] = data["errors"]
    if "message" in data:
        detail = data["message"]
    response = problem(status, error.name, detail, **extra)
    if status == 405 and error.get_response().headers.get("Allow"):
        response.headers["Allow"] = error.get_response().headers["Allow"]
    return response


def handle_integrity_error(error: IntegrityError) -> Response:
    log.warning("integrity error turned into 409: %s", error.orig)
    return problem(
        409,
        "Conflict with the current state",
        "Someone else changed the same thing at the same moment; reload and try again.",
        "/problems/conflict",
    )


def handle_data_error(error: DataError) -> Response:
    log.warning("value refused by the database: %s", error.orig)
    return problem(
        422,
        "Invalid input",
        "A value is out of the range the database can store.",
        "/problems/invalid-input",
    )


def handle_operational_error(error: OperationalError) -> Response:
    text = str(error.orig).lower()
    if "locked" in text or "deadlock" in text or "could not serialize" in text:
        log.warning("database busy: %s", error.orig)
        response = problem(
            503, "Busy", "The database is busy; retry in a moment.", "/problems/busy"
        )
        response.headers["Retry-After"] = "1"
        return response
    return database_unavailable(error)


UNAVAILABLE_RETRY_S = 5


def database_unavailable(error: Exception) -> Response:
    """The database cannot be reached, or a statement ran past its timeout: a 503 the
    client may retry, never a 500 (the pages show their own page, ``partsvc.web``)."""
    log.warning("database unavailable: %s", getattr(error, "orig", None) or error)
    response = problem(
        503,
        "Database unavailable",
        "The database does not answer in time; retry in a moment.",
        "/problems/database-unavailable",
    )
    response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_S)
    return response


def handle_unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    log.exception("unexpected error", exc_info=error)
    return problem(
        500,
        "Internal Server Error",
        "Something went wrong on our side. It has been logged.",
    )


def register(app: Flask) -> None:
    app.register_error_handler(PartsvcError, handle_partsvc_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(OperationalError, handle_operational_error)
    app.register_error_handler(DataError, handle_data_error)
    app.register_error_handler(PoolTimeout, database_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
