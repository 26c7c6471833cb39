"""Pure stock rules: no database, no Flask."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum


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
