"""Stock use cases, in one place for the HTTP layer, the CLI and the demo.

Every function takes a session and plain values, flushes and never commits. The ledger
has one writer, ``post_move`` (and ``reverse_move`` and counts, built on it).
"""

from partsvc.inventory.catalog import (
    ADJUSTMENT_CODE,
    adjustment_location,
    create_location,
    create_part,
    get_count,
    get_location,
    get_move,
    get_part,
    get_unit,
    get_visible_location,
    list_locations,
    search_parts,
)
from partsvc.inventory.counts import CountedLine, post_count
from partsvc.inventory.ledger import (
    BookedMove,
    ledger_balance,
    list_moves,
    list_stock,
    post_move,
    reverse_move,
    units_at,
)

__all__ = [
    "ADJUSTMENT_CODE",
    "BookedMove",
    "CountedLine",
    "adjustment_location",
    "create_location",
    "create_part",
    "get_count",
    "get_location",
    "get_move",
    "get_part",
    "get_unit",
    "get_visible_location",
    "ledger_balance",
    "list_locations",
    "list_moves",
    "list_stock",
    "post_count",
    "post_move",
    "reverse_move",
    "search_parts",
    "units_at",
]
