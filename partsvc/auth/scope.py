"""Who sees what: an engineer sees only their own calls, loans, requests, van and day;
everyone else sees all. The one place that decides it.

An engineer's account is linked from the engineers table (``engineers.user_id``, a row
of the calls domain). That link is part of who the caller is, so it is read here, by
table name, without importing the calls domain above.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlalchemy import column, select, table
from sqlalchemy.orm import Session

from partsvc.auth.identity import Caller
from partsvc.auth.models import Role
from partsvc.core.errors import UnknownKey

NO_ENGINEER = -1
"""Matches no row: an engineer's account that no engineer is linked to sees nothing."""

_ENGINEERS = table("engineers", column("id"), column("user_id"))
_CACHE = "partsvc.engineer_of_user"


def only_engineer(session: Session, caller: Caller | None) -> int | None:
    """The engineer id a caller's view is limited to; None for anyone not an engineer.

    Asked many times in one request, it reads the link once per session."""
    if caller is None or caller.role != Role.ENGINEER:
        return None
    known: dict[int, int] = session.info.setdefault(_CACHE, {})
    if caller.id not in known:
        found = session.scalar(select(_ENGINEERS.c.id).where(_ENGINEERS.c.user_id == caller.id))
        known[caller.id] = NO_ENGINEER if found is None else int(found)
    return known[caller.id]


class EngineersOwn(Protocol):
    id: Any
    engineer_id: Any


Own = TypeVar("Own", bound=EngineersOwn)


def get_scoped(
    session: Session,
    model: type[Own],
    row_id: int,
    *,
    unknown: UnknownKey,
    for_update: bool = False,
    caller: Caller | None = None,
) -> Own:
    """One row of something engineers own (a call, a loan, a part request), locked for
    update if asked (PostgreSQL). An engineer sees only their own; others look unknown
    (404), so ids cannot be probed."""
    query = select(model).where(model.id == row_id)
    if for_update and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=model)
    row = session.scalar(query)
    mine = only_engineer(session, caller)
    if row is None or (mine is not None and row.engineer_id != mine):
        raise unknown
    return row
