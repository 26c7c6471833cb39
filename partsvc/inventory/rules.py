"""Pure stock rules: no database, no Flask."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from partsvc.core.errors import InvalidInput


class LocationKind(StrEnum):
    WAREHOUSE = "warehouse"
    VAN = "van"
    SITE = "site"
    VENDOR = "vendor"
    REPAIR = "repair"
    TRANSIT = "transit"
    SCRAP = "scrap"
    ADJUSTMENT = "adjustment"


LOCATION_KINDS: tuple[str, ...] = tuple(k.value for k in LocationKind)

# R2: warehouses and vans hold stock, which can never go negative there. The other kinds
# are counterparties of the ledger (a vendor, a customer site, count differences): their
# balance is what has gone out to them or come in from them, and may be negative.
GUARDED_KINDS = frozenset({LocationKind.WAREHOUSE, LocationKind.VAN})


def holds_stock(kind: str) -> bool:
    """Whether stock at a location of this kind must never go negative (R2)."""
    return kind in GUARDED_KINDS


def may_introduce_serials(kind: str) -> bool:
    """A serial we have never seen may first appear coming from a counterparty."""
    return kind not in GUARDED_KINDS


def count_difference(expected: int, counted: int) -> int:
    """Signed quantity to book from the adjustment location into the counted one (R6)."""
    if counted < 0:
        raise ValueError("a counted quantity cannot be negative")
    return counted - expected


def serial_count_differences(
    expected: Sequence[str], counted: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Serials missing from the shelf and serials found that the ledger did not expect."""
    expected_set, counted_set = set(expected), set(counted)
    missing = sorted(expected_set - counted_set)
    found = sorted(counted_set - expected_set)
    return missing, found


def lock_order(*location_ids: int) -> list[int]:
    """Stock rows are always locked in one order so concurrent moves cannot deadlock."""
    return sorted(set(location_ids))


# ---------------------------------------------------------------- allocation (R7)


@dataclass(frozen=True)
class OpenLine:
    """A vendor order line that can still take a backorder: its ETA and its free room."""

    line_id: int
    eta: date
    room: int


@dataclass(frozen=True)
class Allocation:
    """Where a request's quantity comes from: the shelf, then one order line for the rest
    (None: a new order line is needed)."""

    from_shelf: int
    line_id: int | None
    waiting: int


def allocate(wanted: int, shelf_available: int, lines: Sequence[OpenLine]) -> Allocation:
    """Serve ``wanted`` from the shelf first; what the shelf lacks waits on the order line
    arriving soonest that has room for all of it, so the request has one ETA (R7)."""
    if wanted < 1:
        raise ValueError("a request is for at least one unit")
    from_shelf = min(wanted, max(shelf_available, 0))
    waiting = wanted - from_shelf
    line_id = None
    if waiting:
        fitting = [line for line in lines if line.room >= waiting]
        if fitting:
            line_id = min(fitting, key=lambda line: (line.eta, line.line_id)).line_id
    return Allocation(from_shelf=from_shelf, line_id=line_id, waiting=waiting)


# ---------------------------------------------------------------- reorder (R5)


def reorder_quantity(
    position: int, reorder_point: int, *, reorder_qty: int | None = None, max_qty: int | None = None
) -> int:
    """How much to order when the stock position (available + on order − backorders) is at
    or below the reorder point: up to ``max_qty`` (min/max), or enough lots of
    ``reorder_qty`` to lift it above the point. Nothing above the point."""
    if (reorder_qty is None) == (max_qty is None):
        raise ValueError("a rule orders either a fixed quantity or up to a maximum")
    if position > reorder_point:
        return 0
    if max_qty is not None:
        return max(max_qty - position, 0)
    assert reorder_qty is not None
    if reorder_qty < 1:
        raise ValueError("a reorder quantity is at least one")
    lots = (reorder_point - position) // reorder_qty + 1
    return lots * reorder_qty


def only_a_van_has_an_engineer(kind: str) -> None:
    """A location kept for an engineer must be a van (R2)."""
    if kind != LocationKind.VAN:
        raise InvalidInput(
            "Only a van belongs to an engineer.",
            errors={"engineer": ["Only allowed for locations of kind van."]},
        )
