"""Errors as types. Each carries its HTTP status and RFC 9457 problem type."""

from __future__ import annotations

from typing import Any


class PartsvcError(Exception):
    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, errors: dict[str, Any] | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra

    @property
    def type(self) -> str:
        return f"/problems/{self.slug}"


class InvalidInput(PartsvcError):
    status = 422
    slug = "invalid-input"
    title = "Invalid input"


class Unauthenticated(PartsvcError):
    status = 401
    slug = "unauthenticated"
    title = "Authentication required"


class Forbidden(PartsvcError):
    status = 403
    slug = "forbidden"
    title = "Not allowed for your role"


class UnknownKey(PartsvcError):
    status = 404
    slug = "unknown-key"
    title = "Not found"


class Conflict(PartsvcError):
    status = 409
    slug = "conflict"
    title = "Conflict with the current state"


class InsufficientStock(Conflict):
    slug = "insufficient-stock"
    title = "Not enough stock"


class SerialNotHere(Conflict):
    slug = "serial-not-here"
    title = "Serial is not at that location"


class AlreadyReversed(Conflict):
    slug = "already-reversed"
    title = "Move already reversed"


class InvalidTransition(Conflict):
    slug = "invalid-transition"
    title = "Step out of order"


class DuplicateKey(Conflict):
    slug = "duplicate-key"
    title = "Already exists"


class IdempotencyKeyReused(PartsvcError):
    status = 422
    slug = "idempotency-key-reused"
    title = "Idempotency-Key reused with a different request"


class StaleVersion(PartsvcError):
    status = 412
    slug = "stale-version"
    title = "The resource has changed"


class PlannerUnavailable(PartsvcError):
    status = 503
    slug = "planner-unavailable"
    title = "The planner could not make the plan"


class Relayed(PartsvcError):
    """An error raised where the work ran (a planner worker), told again as it was."""

    def __init__(
        self, *, status: int, slug: str, title: str, detail: str, errors: dict[str, Any] | None
    ) -> None:
        super().__init__(detail, errors=errors)
        self.status = status
        self.slug = slug
        self.title = title


class InvalidRows(InvalidInput):
    """An imported file with bad rows: ``errors`` maps each bad row (numbered as in a
    spreadsheet, the header being row 1) to its columns and their messages."""

    slug = "invalid-rows"
    title = "The file has errors; nothing was imported"
