"""Recording audit events and reading them back.

The edge of each unit of work (the API pipeline, a page, a CLI command, the login) says
who acts, from where and when with ``begin``; services then ``record`` what they did in
the same transaction, so a write that rolls back leaves no event. A request whose services
recorded nothing specific gets one general event (``record_request``), so no write goes
untraced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.audit.models import AuditEvent

_CONTEXT = "partsvc.audit.context"
_COUNT = "partsvc.audit.recorded"


class Actor(Protocol):
    """Who acts, as the audit trail signs it (``auth.identity.Caller`` is one)."""

    @property
    def id(self) -> int: ...

    @property
    def username(self) -> str: ...


@dataclass(frozen=True)
class Context:
    """Who acts in a unit of work, from where, and when (the app clock)."""

    user_id: int | None
    username: str | None
    client: str | None
    now: datetime


def begin(session: Session, *, actor: Actor | None, client: str | None, now: datetime) -> None:
    """Name who acts in this session's unit of work; the events recorded in it are theirs."""
    session.info[_CONTEXT] = Context(
        actor.id if actor else None, actor.username if actor else None, client, now
    )
    session.info[_COUNT] = 0


def recorded(session: Session) -> int:
    """How many events this unit of work has recorded so far."""
    count: int = session.info.get(_COUNT, 0)
    return count


def record(
    session: Session,
    action: str,
    *,
    kind: str | None = None,
    key: object = None,
    details: dict[str, Any] | None = None,
    username: str | None = None,
) -> AuditEvent | None:
    """Append an event for the session's actor; none outside a request or command (a
    service called by a test or the sweep has nobody to name). ``username`` stands for a
    name that is not (yet) a caller: the name tried at a failed login."""
    context: Context | None = session.info.get(_CONTEXT)
    if context is None:
        return None
    event = AuditEvent(
        at=context.now,
        user_id=context.user_id,
        username=_text(username if username is not None else context.username, 64),
        action=action,
        subject_kind=kind,
        subject_key=_text(key, 200),
        details=_plain(details or {}),
        client=_text(context.client, 64),
    )
    session.add(event)
    session.flush()
    session.info[_COUNT] = recorded(session) + 1
    return event


def record_request(
    session: Session, *, method: str, route: str, args: dict[str, Any], created: str | None
) -> AuditEvent | None:
    """The general event of a write request whose services recorded nothing specific:
    the method and route, the route's values, and where the created thing lives."""
    kind = route.removeprefix("/api/v1").strip("/").split("/")[0] or None
    key = "/".join(str(value) for value in args.values()) or (
        created.rstrip("/").rsplit("/", 1)[-1] if created else None
    )
    details: dict[str, Any] = {"method": method, "route": route, "args": args}
    if created:
        details["created"] = created
    return record(session, f"{method} {route}", kind=kind, key=key, details=details)


def list_events(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    subject: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after_id: int | None = None,
    limit: int,
) -> list[AuditEvent]:
    """Events oldest first; ``subject`` is a kind (``call``) or a kind and key (``call:12``)."""
    query = select(AuditEvent).order_by(AuditEvent.id).limit(limit)
    if actor:
        query = query.where(AuditEvent.username == actor)
    if action:
        query = query.where(AuditEvent.action == action)
    if subject:
        kind, has_key, key = subject.partition(":")
        query = query.where(AuditEvent.subject_kind == kind)
        if has_key:
            query = query.where(AuditEvent.subject_key == key)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    if after_id is not None:
        query = query.where(AuditEvent.id > after_id)
    return list(session.scalars(query))


def _plain(value: Any) -> Any:
    """Details as JSON can hold them: dates as ISO text, anything odd as text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


def _text(value: object, length: int) -> str | None:
    """A column's text: cut to its length; PostgreSQL text cannot hold NUL."""
    if value is None or value == "":
        return None
    return str(value)[:length].replace("\x00", "\ufffd")
