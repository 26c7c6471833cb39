"""Property: any sequence of moves, reversals and counts keeps every level ≥ 0 where stock
is held, equal to the sum of the ledger, and (for serialized parts) equal to the units there."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partsvc.core.errors import PartsvcError
from partsvc.inventory import catalog, counts, ledger, ledger_reads
from partsvc.inventory.models import Move, StockLevel, Unit
from tests.factories import NOW, unique

KINDS = ["warehouse", "warehouse", "van", "site", "vendor"]
GUARDED = [0, 1, 2]

moves = st.tuples(
    st.just("move"),
    st.integers(0, 1),
    st.integers(0, len(KINDS) - 1),
    st.integers(0, len(KINDS) - 1),
    st.integers(1, 6),
)
reversals = st.tuples(st.just("reverse"), st.integers(0, 50))
count_steps = st.tuples(
    st.just("count"), st.sampled_from(GUARDED), st.integers(0, 1), st.integers(0, 8)
)
operations = st.lists(st.one_of(moves, moves, reversals, count_steps), max_size=30)


class World:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.parts = [
            catalog.create_part(session, sku=unique("PLAIN"), name="Fuser"),
            catalog.create_part(session, sku=unique("SER"), name="Loaner", serialized=True),
        ]
        self.locations = [
            catalog.create_location(session, code=unique(kind.upper()), name=kind, kind=kind)
            for kind in KINDS
        ]
        self.posted: list[int] = []
        self.new_serials = (f"{unique('U')}-{n}" for n in itertools.count())

    def serials(self, part_index: int, location_index: int, qty: int) -> list[str]:
        if part_index == 0:
            return []
        part, location = self.parts[part_index], self.locations[location_index]
        here = ledger_reads.units_at(self.session, location.id, part.id)[:qty]
        return here + [next(self.new_serials) for _ in range(qty - len(here))]

    def apply(self, operation: tuple) -> None:
        kind, *args = operation
        if kind == "move":
            part_i, source_i, target_i, qty = args
            move = ledger.post_move(
                self.session,
                sku=self.parts[part_i].sku,
                qty=qty,
                from_code=self.locations[source_i].code,
                to_code=self.locations[target_i].code,
                reason="transfer",
                serials=self.serials(part_i, source_i, qty),
                now=NOW,
            )
            self.posted.append(move.id)
        elif kind == "reverse" and self.posted:
            move = ledger.reverse_move(
                self.session, self.posted[args[0] % len(self.posted)], now=NOW
            )
            self.posted.append(move.id)
        elif kind == "count":
            location_i, part_i, counted = args
            part = self.parts[part_i]
            line = (
                counts.CountedLine(sku=part.sku, counted=counted)
                if part_i == 0
                else counts.CountedLine(
                    sku=part.sku, serials=tuple(self.serials(1, location_i, counted))
                )
            )
            counts.post_count(
                self.session, location_code=self.locations[location_i].code, lines=[line], now=NOW
            )

    def check_invariants(self) -> None:
        session = self.session
        part_ids = [p.id for p in self.parts]
        levels = {
            (row.part_id, row.location_id): row
            for row in session.scalars(select(StockLevel).where(StockLevel.part_id.in_(part_ids)))
        }
        ledger: dict[tuple[int, int], int] = {}
        for column, sign in ((Move.to_location_id, 1), (Move.from_location_id, -1)):
            rows = session.execute(
                select(Move.part_id, column, func.sum(Move.qty))
                .where(Move.part_id.in_(part_ids))
                .group_by(Move.part_id, column)
            )
            for part_id, location_id, total in rows:
                ledger[(part_id, location_id)] = (
                    ledger.get((part_id, location_id), 0) + sign * total
                )
        for key in set(levels) | set(ledger):
            level = levels[key].on_hand if key in levels else 0
            assert level == ledger.get(key, 0), key
        for (part_id, location_id), level in levels.items():
            if level.guarded:
                assert level.on_hand >= 0
                assert 0 <= level.reserved <= level.on_hand
                if part_id == self.parts[1].id:
                    units = session.scalar(
                        select(func.count()).where(
                            Unit.part_id == part_id, Unit.location_id == location_id
                        )
                    )
                    assert units == level.on_hand


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=operations)
def test_any_sequence_of_moves_reversals_and_counts_keeps_levels_true(database, operations):
    connection = database.engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        world = World(session)
        for operation in operations:
            try:
                with session.begin_nested():  # one request: all of it or none of it
                    world.apply(operation)
            except PartsvcError:
                pass
        world.check_invariants()
    finally:
        session.close()
        transaction.rollback()
        connection.close()
