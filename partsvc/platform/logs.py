"""Logging: one JSON object per line (or plain text for a terminal), each with the id of
the request (or command run) it belongs to.

``PARTSVC_LOG_FORMAT=json`` is the default because logs are read by a collector in
production and a forgotten setting there should not leave them unparseable; ``make demo``
asks for ``text``. The web app, ``partsvc serve`` (gunicorn) and ``partsvc sweep`` all
configure logging here.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
import secrets
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id: ContextVar[str | None] = ContextVar("partsvc_request_id", default=None)
"""The id of the request (or command run) being served on this thread."""

FIELDS = ("method", "path", "status", "duration_ms", "user", "endpoint")
"""Extra fields a record may carry (``log.info(..., extra={...})``), written when present."""

_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def new_request_id(incoming: str | None = None) -> str:
    """``incoming`` (a proxy's X-Request-Id) if it is short and plain, else a new id."""
    if incoming and _SANE_ID.fullmatch(incoming):
        return incoming
    return secrets.token_hex(8)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get(),
        }
        for name in FIELDS:
            if name in record.__dict__:
                entry[name] = record.__dict__[name]
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = " ".join(
            f"{name}={record.__dict__[name]}" for name in FIELDS if name in record.__dict__
        )
        rid = request_id.get()
        return " ".join(part for part in (line, extra, f"[{rid}]" if rid else "") if part)


def dict_config(level: str, form: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the app, its commands and gunicorn's own log."""
    formatter = JsonFormatter if form == "json" else TextFormatter
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "partsvc",
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"partsvc": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {"console": handler},
        "root": {"level": level, "handlers": ["console"]},
        "loggers": {
            "partsvc": {"level": level},
            "weasyprint.progress": {"level": "WARNING"},  # a line per step
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }


def configure(level: str, form: str) -> None:
    """Set up logging unless something (gunicorn, pytest) already has."""
    if form not in {"json", "text"}:
        raise ValueError(f"PARTSVC_LOG_FORMAT is json or text, not {form!r}")
    if logging.getLogger().handlers:
        logging.getLogger("partsvc").setLevel(level)
        logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
        return
    logging.config.dictConfig(dict_config(level, form))
