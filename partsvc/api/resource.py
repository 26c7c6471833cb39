"""The request pipeline of the JSON API.

Every API view is a ``Resource``: one unit of work per request, the bearer token
checked, the caller's role checked against the roles the view declares with ``allow``
(a view that declares none is closed to everyone), and ``Idempotency-Key`` honoured.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, TypeVar

from flask import Response, current_app, g, request
from flask.views import MethodView
from marshmallow import Schema
from sqlalchemy.orm import Session
from werkzeug.routing import BaseConverter, IntegerConverter, Map, UnicodeConverter, ValidationError

from partsvc.api import idempotency
from partsvc.audit import trail as audit
from partsvc.auth.identity import Caller, caller_for_token, caller_of_token_row, hash_token
from partsvc.auth.models import ROLE_VALUES
from partsvc.core.errors import Forbidden, InvalidInput, Unauthenticated
from partsvc.http import badinput, exports
from partsvc.http.context import audit_request, current_session, database, now
from partsvc.platform.db import Database

F = TypeVar("F", bound=Callable[..., Any])

MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ALL_ROLES = ROLE_VALUES


def allow(*roles: str) -> Callable[[F], F]:
    """Declare which roles may call a view; documented in the OpenAPI operation."""
    unknown = set(roles) - set(ALL_ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorate(func: F) -> F:
        func.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
        apidoc = dict(getattr(func, "_apidoc", {}))
        manual = dict(apidoc.get("manual_doc", {}))
        manual["security"] = [{"bearerAuth": []}]
        manual["x-roles"] = sorted(roles)
        apidoc["manual_doc"] = manual
        func._apidoc = apidoc  # type: ignore[attr-defined]
        return func

    return decorate


class Resource(MethodView):
    """Base of every API view: the unit of work, authentication, roles, idempotency, and
    an audit event for each write that succeeds (``audited = False``: the ledger's moves,
    which are their own audit)."""

    audited = True

    def dispatch_request(self, **kwargs: Any) -> Response:
        method = request.method
        handler = getattr(self, "get" if method == "HEAD" else method.lower(), None)
        roles: frozenset[str] = getattr(handler, "allowed_roles", frozenset())
        db = database()
        try:
            if method in SAFE_METHODS:
                with db.unit_of_work(write=False) as session:
                    g.session = session
                    g.user = _authorize(session, roles)
                    return current_app.make_response(super().dispatch_request(**kwargs))
            if db.writers_queue:
                # SQLite has one writer at a time: read who is calling before taking the
                # write lock, so a caller without a valid token or role never holds it.
                with db.unit_of_work(write=False) as session:
                    user = _authorize(session, roles)
                return self._write(db, user, kwargs)
            return self._write(db, None, kwargs, roles=roles)
        finally:
            g.pop("session", None)
            g.pop("calendar", None)

    def _write(
        self,
        db: Database,
        user: Caller | None,
        kwargs: dict[str, Any],
        *,
        roles: frozenset[str] = frozenset(),
    ) -> Response:
        """Run a writing view in its unit of work; ``user`` is None if not yet known.

        A keyed POST first claims its key, so a concurrent retry waits for the first
        request and then replays its stored answer (``idempotency.claim``).
        """
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        with db.unit_of_work(write=True) as session:
            g.session = session
            stored: idempotency.StoredAnswer | None = None
            claimed = False
            if (
                key is not None
                and user is None
                and idempotency.usable_key(key)
                and idempotency.joins_token_check(session)
            ):  # PostgreSQL: the token check and the key's claim in one round trip
                fingerprint = idempotency.fingerprint(request.method, _path(), request.get_data())
                user, stored = _authorize_and_claim(session, roles, key, fingerprint)
                claimed = True
            g.user = user = user or _authorize(session, roles)
            audit.begin(session, actor=user, client=request.remote_addr, now=now())
            if key is None:
                return self._audited(session, super().dispatch_request(**kwargs))
            if not claimed:
                idempotency.check_key(key)
                fingerprint = idempotency.fingerprint(request.method, _path(), request.get_data())
                stored = idempotency.claim(
                    session, user_id=user.id, key=key, fingerprint=fingerprint, now=now()
                )
            if stored is not None:
                return _replay(stored)
            response = self._audited(session, super().dispatch_request(**kwargs))
            if 200 <= response.status_code < 300:
                idempotency.store_answer(
                    session,
                    user_id=user.id,
                    key=key,
                    answer=idempotency.StoredAnswer(
                        response.status_code,
                        response.content_type or "application/json",
                        self.replayable(response.get_data()),
                        response.headers.get("Location"),
                    ),
                )
            else:
                idempotency.release(session, user_id=user.id, key=key)
            return response

    def replayable(self, body: bytes) -> bytes:
        """What of a successful answer's body is kept to replay for its Idempotency-Key:
        all of it, unless the view holds a secret back (a new API token)."""
        return body

    def _audited(self, session: Session, answer: Any) -> Response:
        """The view's answer; a success leaves an event unless the view recorded its own."""
        response = current_app.make_response(answer)
        if self.audited and 200 <= response.status_code < 300 and not audit.recorded(session):
            audit_request(session, created=response.headers.get("Location"))
        return response


def _path() -> str:
    """The path and, if any, the query string: ``?dry_run=true`` is another request."""
    query = request.query_string.decode("latin-1")
    return f"{request.path}?{query}" if query else request.path


def authorize(session: Session, roles: frozenset[str]) -> Caller:
    """Who is calling, if their role may; for views that manage their own transactions."""
    return _authorize(session, roles)


def _authorize(session: Session, roles: frozenset[str]) -> Caller:
    """Who is calling, if their role may; then (authentication before validation) the
    request's body and query are checked for what no database can store."""
    user = _check_role(_authenticate(session), roles)
    badinput.check_request()
    return user


def _check_role(user: Caller, roles: frozenset[str]) -> Caller:
    if user.role not in roles:
        raise Forbidden(
            f"Your role ({user.role}) may not {request.method} {request.path}.",
            allowed_roles=sorted(roles),
        )
    return user


def _authenticate(session: Session) -> Caller:
    user = caller_for_token(session, _bearer_token(), now=now())
    if user is None:
        raise Unauthenticated(UNKNOWN_TOKEN)
    return user


def _bearer_token() -> str:
    """The token of the Authorization header; a 401 without one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send an API token: 'Authorization: Bearer <token>'.")
    return token.strip()


def _authorize_and_claim(
    session: Session, roles: frozenset[str], key: str, fingerprint: str
) -> tuple[Caller, idempotency.StoredAnswer | None]:
    """Who is calling, if their role may, and this request's claim on its key (see
    ``idempotency.caller_and_claim``): the stored answer to replay, or None when claimed."""
    moment = now()
    row = idempotency.caller_and_claim(
        session,
        token_hash=hash_token(_bearer_token()),
        key=key,
        fingerprint=fingerprint,
        now=moment,
    )
    user = caller_of_token_row(row, now=moment)
    if user is None:
        raise Unauthenticated(UNKNOWN_TOKEN)
    _check_role(user, roles)
    badinput.check_request()
    assert row is not None
    if row.claimed:
        return user, None
    return user, idempotency.find_answer(session, user_id=user.id, key=key, fingerprint=fingerprint)


UNKNOWN_TOKEN = "The API token is unknown, expired or revoked."  # noqa: S105  # nosec B105


def _replay(stored: idempotency.StoredAnswer) -> Response:
    response = Response(stored.body, status=stored.status_code, content_type=stored.content_type)
    if stored.location:
        response.headers["Location"] = stored.location
    response.headers["Idempotent-Replayed"] = "true"
    return response


class IdConverter(IntegerConverter):
    """``<int:...>``: an id a 32-bit column can hold; a bigger number names nothing (404)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class SegmentConverter(UnicodeConverter):
    """``<...>``: a path segment without control characters; one with them names nothing."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", "[^/\\x00-\\x1f\\x7f-\\x9f]")


def segment_schema(converter: SegmentConverter) -> dict[str, Any]:
    """The OpenAPI schema of a ``SegmentConverter`` path parameter."""
    return {"type": "string", "minLength": 1, "pattern": r"^[^/\x00-\x1F\x7F-\x9F]+$"}


class IsoDateConverter(BaseConverter):
    """``<isodate:day>``: a ``YYYY-MM-DD`` path segment; anything else is a 404."""

    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value: str) -> date:
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError from exc

    def to_url(self, value: date) -> str:
        return value.isoformat()


# ---------------------------------------------------------------- cursors


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"id": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))["id"]
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
            raise TypeError
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "The cursor is not one this service gave out.", errors={"cursor": ["Invalid."]}
        ) from exc
    return value


def paged(query: dict[str, Any], fetch: Callable[..., list[Any]], **fixed: Any) -> dict[str, Any]:
    """A list endpoint's answer: ``fetch`` called with the query's filters, ``fixed``
    arguments, and the cursor and limit turned into ``after_id`` and one row more."""
    limit = query.pop("limit")
    after_id = decode_cursor(query.pop("cursor", None))
    return page(fetch(after_id=after_id, limit=limit + 1, **fixed, **query), limit)


def listed(
    query: dict[str, Any],
    fetch: Callable[..., list[Any]],
    *,
    name: str,
    schema: Schema,
    **fixed: Any,
) -> Any:
    """A list endpoint's answer: a page, as ``paged``, or with ``format=csv|xlsx`` every
    item its filters select, as a download streamed a batch at a time."""
    fmt = query.pop("format", "json")
    if fmt == "json":
        return paged(query, fetch, **fixed)
    query.pop("limit", None)
    query.pop("cursor", None)
    fixed.pop("session", None)
    fetch(session=current_session(), after_id=None, limit=1, **fixed, **query)  # 404s now

    def items(session: Session) -> Iterator[Any]:
        return exports.keyset(
            lambda after_id, limit: fetch(
                session=session, after_id=after_id, limit=limit, **fixed, **query
            )
        )

    return exports.download_as(fmt, name, schema, items)


def page(items: list[Any], limit: int) -> dict[str, Any]:
    """A list answer: ``items`` and the cursor of the next page, or null at the end.

    Callers fetch ``limit + 1`` rows: the extra one tells whether there is a next page.
    """
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next": encode_cursor(items[-1].id) if more else None}
