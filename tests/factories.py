"""Small builders of test data, each with overridable defaults."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partsvc.inventory import catalog, ledger
from partsvc.inventory.models import Location, Move, Part

_numbers = itertools.count(1)
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_numbers)}"


def make_part(session: Session, **overrides: Any) -> Part:
    values: dict[str, Any] = {"sku": unique("SKU"), "name": "Fuser unit", "name_zh": "定影组件"}
    values.update(overrides)
    return catalog.create_part(session, **values)


def make_location(session: Session, kind: str = "warehouse", **overrides: Any) -> Location:
    values: dict[str, Any] = {"code": unique(kind.upper()), "name": f"A {kind}", "kind": kind}
    values.update(overrides)
    return catalog.create_location(session, **values)


def book_move(
    session: Session,
    part: Part,
    source: Location,
    target: Location,
    qty: int,
    reason: str = "transfer",
    **details: Any,
) -> Move:
    """Book ``qty`` of the part from one location to another at NOW, through the ledger."""
    return ledger.post_move(
        session,
        sku=part.sku,
        qty=qty,
        from_code=source.code,
        to_code=target.code,
        reason=reason,
        now=NOW,
        **details,
    )


def receive(
    session: Session, part: Part, location: Location, qty: int, *, serials: list[str] | None = None
) -> Move:
    """Book stock in from a fresh vendor location."""
    vendor = make_location(session, "vendor")
    return book_move(session, part, vendor, location, qty, "receipt", serials=serials or [])


def count_moves(session: Session) -> int:
    """How many moves the ledger holds."""
    return session.scalar(select(func.count(Move.id))) or 0
