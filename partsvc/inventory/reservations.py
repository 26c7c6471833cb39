"""Reservations: stock set aside for a request. They lower ``available``, never ``on_hand``;
only the ledger moves stock (DESIGN rule 3). Each change is one guarded UPDATE, so two
requests racing for the last unit cannot both get it."""

from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from partsvc.core.errors import Conflict
from partsvc.inventory.models import StockLevel
from partsvc.platform.db import table_of

_levels = table_of(StockLevel)

_RESERVE = (
    update(_levels)
    .where(
        _levels.c.part_id == bindparam("b_part"),
        _levels.c.location_id == bindparam("b_location"),
        _levels.c.on_hand - _levels.c.reserved >= bindparam("b_qty"),
    )
    .values(reserved=_levels.c.reserved + bindparam("b_add"))
)
_RELEASE = (
    update(_levels)
    .where(
        _levels.c.part_id == bindparam("b_part"),
        _levels.c.location_id == bindparam("b_location"),
        _levels.c.reserved >= bindparam("b_qty"),
    )
    .values(reserved=_levels.c.reserved - bindparam("b_take"))
)
ATTEMPTS = 5


def available(session: Session, part_id: int, location_id: int) -> int:
    """On hand less reserved; 0 where the part has never been."""
    value = session.scalar(
        select(StockLevel.on_hand - StockLevel.reserved).where(
            StockLevel.part_id == part_id, StockLevel.location_id == location_id
        )
    )
    return max(value or 0, 0)


def reserve(session: Session, part_id: int, location_id: int, qty: int) -> bool:
    """Set ``qty`` aside if that much is available; False (and nothing changed) if not."""
    result = session.connection().execute(
        _RESERVE, {"b_part": part_id, "b_location": location_id, "b_qty": qty, "b_add": qty}
    )
    return result.rowcount == 1


def reserve_up_to(session: Session, part_id: int, location_id: int, qty: int) -> int:
    """Set aside as much of ``qty`` as is available; returns how much was reserved."""
    for _ in range(ATTEMPTS):
        wanted = min(qty, available(session, part_id, location_id))
        if wanted == 0:
            return 0
        if reserve(session, part_id, location_id, wanted):
            return wanted
        # Someone took stock between the read and the update: read again.
    return 0


def release(session: Session, part_id: int, location_id: int, qty: int) -> None:
    """Give ``qty`` reserved back to free stock."""
    result = session.connection().execute(
        _RELEASE, {"b_part": part_id, "b_location": location_id, "b_qty": qty, "b_take": qty}
    )
    if result.rowcount != 1:
        raise Conflict(
            "Less is reserved here than the request holds: the reservation was changed elsewhere.",
            reserved_needed=qty,
        )
