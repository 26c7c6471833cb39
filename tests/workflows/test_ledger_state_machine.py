"""Stateful property: receipts, issues, transfers, reversals, part requests, counts, loans
and returns, in any order, through the services the API calls, keep the ledger true.

After every step: each level equals the sum of the ledger; where stock is held it is never
negative and never less than what is reserved, and what is reserved is what the part
requests hold; every serial is where the last move that carried it took it, and a loaner
stays on its site while its loan is open. A refused step (not enough stock, already
reversed, ...) is one request rolled back: it writes nothing, like ``unit_of_work``.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partsvc.calls.customers import create_customer, create_site
from partsvc.core.errors import PartsvcError
from partsvc.core.worktime import WorkingCalendar
from partsvc.inventory import catalog, counts, ledger
from partsvc.inventory.models import Location, Move, MoveUnit, StockLevel, Unit
from partsvc.loans import lending as loans
from partsvc.loans.models import Loan
from partsvc.platform.db import Database
from partsvc.purchasing import orders as purchasing
from partsvc.purchasing.models import PartRequest, Receipt, ReceiptLine, VendorOrderLine
from partsvc.purchasing.requests import WAITING, RequestStatus
from partsvc.workflows import bookings
from tests.factories import NOW, unique

TODAY = NOW.date()
CALENDAR = WorkingCalendar()
PICK = st.integers(0, 10_000)  # an index into what exists, taken modulo its length
QTY = st.integers(1, 6)
Levels = dict[tuple[int, int], StockLevel]


def pick(items: list[Any], index: int) -> Any:
    return items[index % len(items)]


class Ledger(RuleBasedStateMachine):
    """One world per example: two warehouses, a van, a customer's site, a vendor and a
    repair bench; a part bought from the vendor, a part with no vendor, and a loaner model.
    Everything runs in one outer transaction rolled back at the end of the example."""

    database: Database  # set by the test

    def __init__(self) -> None:
        super().__init__()
        self.connection = self.database.engine.connect()
        self.transaction = self.connection.begin()
        self.session = Session(bind=self.connection, join_transaction_mode="create_savepoint")
        session = self.session
        make = catalog.create_location
        self.vendor = make(session, code=unique("VENDOR"), name="Vendor", kind="vendor")
        self.warehouses = [
            make(session, code=unique("WH"), name="Warehouse", kind="warehouse") for _ in range(2)
        ]
        self.van = make(session, code=unique("VAN"), name="Van", kind="van")
        self.repair = make(session, code=unique("BENCH"), name="Bench", kind="repair")
        customer = create_customer(session, code=unique("CUST"), name="C", contract_starts_on=TODAY)
        site = create_site(
            session, code=unique("SITE"), customer=customer.code, address="x", lat=31.2, lon=121.4
        )
        self.site = catalog.get_location(session, site.code)
        self.plain = [
            catalog.create_part(
                session, sku=unique("FUSER"), name="Fuser", vendor=self.vendor.code
            ),
            catalog.create_part(session, sku=unique("ROLLER"), name="Roller"),
        ]
        self.loaner = catalog.create_part(
            session, sku=unique("LOANER"), name="Loaner", serialized=True, loaner=True
        )
        for part, warehouse in itertools.product(self.plain, self.warehouses):
            ledger.post_move(
                session,
                sku=part.sku,
                qty=8,
                from_code=self.vendor.code,
                to_code=warehouse.code,
                reason="opening stock",
                now=NOW,
            )
        self.part_ids = [part.id for part in [*self.plain, self.loaner]]
        self.moves: list[int] = []
        self.orders: list[str] = []
        self.receipts: list[tuple[str, int]] = []
        self.requests: list[int] = []
        self.loans: list[int] = []
        self.serials: list[str] = []
        self.new_serials = (f"{unique('LN')}-{n}" for n in itertools.count())

    def teardown(self) -> None:
        self.session.close()
        self.transaction.rollback()
        self.connection.close()

    # ------------------------------------------------------------ one request per step

    def attempt(self, operation: Any) -> Any:
        """Run one step as a request: all of it, or (refused) none of it."""
        try:
            with self.session.begin_nested():
                return operation()
        except PartsvcError:
            return None

    def stock_places(self) -> list[Location]:
        return [*self.warehouses, self.van]

    # ------------------------------------------------------------ receipts

    @rule(part=st.integers(0, 1), warehouse=st.integers(0, 1), qty=st.integers(1, 12))
    def order_from_the_vendor(self, part: int, warehouse: int, qty: int) -> None:
        line = purchasing.LineIn(sku=self.plain[part].sku, qty=qty, eta=TODAY + timedelta(days=3))
        order = self.attempt(
            lambda: purchasing.create_order(
                self.session,
                vendor=self.vendor.code,
                lines=[line],
                deliver_to=self.warehouses[warehouse].code,
                now=NOW,
                today=TODAY,
            )
        )
        if order is not None:
            self.orders.append(order.number)

    @precondition(lambda self: self.orders)
    @rule(order=PICK, qty=st.integers(1, 12))
    def receive_a_vendor_order(self, order: int, qty: int) -> None:
        number = pick(self.orders, order)

        def receive() -> Any:
            found = purchasing.get_order(self.session, number)
            line = found.lines[0]
            return purchasing.receive(
                self.session,
                number,
                location=found.deliver_to.code,
                lines=[purchasing.ReceivedLine(line=line.id, qty=min(qty, line.open_qty) or 1)],
                now=NOW,
                today=TODAY,
            )

        receipt = self.attempt(receive)
        if receipt is not None:
            self.receipts.append((number, receipt.id))
            self.moves.extend(line.move_id for line in receipt.lines)

    @precondition(lambda self: self.receipts)
    @rule(receipt=PICK)
    def reverse_a_receipt(self, receipt: int) -> None:
        number, receipt_id = pick(self.receipts, receipt)
        self.attempt(
            lambda: purchasing.reverse_receipt(
                self.session, number, receipt_id, now=NOW, today=TODAY
            )
        )

    @rule(place=st.integers(0, 2))
    def receive_a_new_loaner(self, place: int) -> None:
        serial = next(self.new_serials)
        self.book(self.loaner.sku, 1, self.vendor, self.stock_places()[place], [serial])
        self.serials.append(serial)

    # ------------------------------------------------------------ moves and reversals

    def book(
        self, sku: str, qty: int, source: Location, target: Location, serials: list[str]
    ) -> None:
        move = self.attempt(
            lambda: bookings.book_move(
                self.session,
                sku=sku,
                qty=qty,
                from_code=source.code,
                to_code=target.code,
                reason="transfer",
                serials=serials,
                now=NOW,
                today=TODAY,
            )
        )
        if move is not None:
            self.moves.append(move.id)

    @rule(part=st.integers(0, 1), source=st.integers(0, 3), to=st.integers(0, 3), qty=QTY)
    def move_stock(self, part: int, source: int, to: int, qty: int) -> None:
        """Transfers between warehouses and the van, issues to the site, returns from it."""
        places = [*self.stock_places(), self.site]
        self.book(self.plain[part].sku, qty, places[source], places[to], [])

    @precondition(lambda self: self.serials)
    @rule(serial=PICK, to=st.integers(0, 3))
    def move_a_loaner(self, serial: int, to: int) -> None:
        """A serial moved by hand, wherever it is: out on loan, it must stay there."""
        unit = catalog.get_unit(self.session, pick(self.serials, serial))
        places = [*self.stock_places(), self.site]
        self.book(self.loaner.sku, 1, unit.location, places[to], [unit.serial])

    @precondition(lambda self: self.moves)
    @rule(move=PICK)
    def reverse_a_move(self, move: int) -> None:
        reversal = self.attempt(
            lambda: bookings.book_reversal(
                self.session, pick(self.moves, move), now=NOW, today=TODAY
            )
        )
        if reversal is not None:
            self.moves.append(reversal.id)

    @rule(part=st.integers(0, 1), warehouse=st.integers(0, 1), counted=st.integers(0, 10))
    def count_a_shelf(self, part: int, warehouse: int, counted: int) -> None:
        line = counts.CountedLine(sku=self.plain[part].sku, counted=counted)
        self.attempt(
            lambda: bookings.book_count(
                self.session,
                location_code=self.warehouses[warehouse].code,
                lines=[line],
                now=NOW,
                today=TODAY,
            )
        )

    # ------------------------------------------------------------ part requests

    @rule(part=st.integers(0, 1), warehouse=st.integers(0, 1), qty=QTY, backorder=st.booleans())
    def request_a_part(self, part: int, warehouse: int, qty: int, backorder: bool) -> None:
        request = self.attempt(
            lambda: purchasing.request_part(
                self.session,
                sku=self.plain[part].sku,
                qty=qty,
                warehouse=self.warehouses[warehouse].code,
                allow_backorder=backorder,
                calendar=CALENDAR,
                now=NOW,
            )
        )
        if request is not None:
            self.requests.append(request.id)

    @precondition(lambda self: self.requests)
    @rule(request=PICK, to_site=st.booleans())
    def issue_a_request(self, request: int, to_site: bool) -> None:
        target = self.site if to_site else self.van
        issued = self.attempt(
            lambda: purchasing.issue_request(
                self.session, pick(self.requests, request), to=target.code, now=NOW
            )
        )
        if issued is not None:
            self.moves.append(issued.issue_move_id)

    @precondition(lambda self: self.requests)
    @rule(request=PICK)
    def cancel_a_request(self, request: int) -> None:
        self.attempt(
            lambda: purchasing.cancel_request(
                self.session, pick(self.requests, request), now=NOW, today=TODAY
            )
        )

    # ------------------------------------------------------------ loans

    @precondition(lambda self: self.serials)
    @rule(serial=PICK)
    def lend_a_loaner(self, serial: int) -> None:
        loan = self.attempt(
            lambda: loans.lend(
                self.session, serial=pick(self.serials, serial), site=self.site.code, now=NOW
            )
        )
        if loan is not None:
            self.loans.append(loan.id)
            self.moves.append(loan.out_move_id)

    @precondition(lambda self: self.loans)
    @rule(
        loan=PICK,
        condition=st.sampled_from(["ok", "damaged", "missing_accessories"]),
        back_to=st.integers(0, 3),
    )
    def return_a_loaner(self, loan: int, condition: str, back_to: int) -> None:
        # 0: where it came from; else a warehouse, the van, or (damaged) the bench.
        choices = [None, *(place.code for place in self.stock_places())]
        location = self.repair.code if condition == "damaged" else choices[back_to]
        returned = self.attempt(
            lambda: loans.return_loan(
                self.session,
                pick(self.loans, loan),
                condition=condition,
                location=location,
                now=NOW,
            )
        )
        if returned is not None:
            self.moves.append(returned.return_move_id)

    # ------------------------------------------------------------ what must always hold

    @invariant()
    def the_ledger_holds_up(self) -> None:
        levels = {
            (level.part_id, level.location_id): level
            for level in self.session.scalars(
                select(StockLevel)
                .where(StockLevel.part_id.in_(self.part_ids))
                .execution_options(populate_existing=True)
            )
        }
        self.levels_are_the_sum_of_the_ledger(levels)
        self.stock_is_never_negative_nor_less_than_what_requests_hold(levels)
        self.every_serial_is_where_its_last_move_took_it(levels)
        self.a_loaner_out_on_loan_is_on_its_site()
        self.an_order_line_has_received_what_its_standing_receipts_brought()

    def levels_are_the_sum_of_the_ledger(self, levels: Levels) -> None:
        moves = select(Move.part_id, Move.qty, Move.from_location_id, Move.to_location_id).where(
            Move.part_id.in_(self.part_ids)
        )
        ledger: dict[tuple[int, int], int] = defaultdict(int)
        for part_id, qty, source, target in self.session.execute(moves):
            ledger[(part_id, source)] -= qty
            ledger[(part_id, target)] += qty
        for key in set(levels) | set(ledger):
            on_hand = levels[key].on_hand if key in levels else 0
            assert on_hand == ledger[key], (key, on_hand, ledger[key])

    def stock_is_never_negative_nor_less_than_what_requests_hold(self, levels: Levels) -> None:
        held: dict[tuple[int, int], int] = defaultdict(int)
        rows = self.session.execute(
            select(PartRequest.part_id, PartRequest.warehouse_id, PartRequest.reserved_qty).where(
                PartRequest.part_id.in_(self.part_ids),
                PartRequest.status.in_([*WAITING, RequestStatus.RESERVED]),
            )
        )
        for part_id, warehouse_id, qty in rows:
            held[(part_id, warehouse_id)] += qty
        for key, level in levels.items():
            if level.guarded:
                assert 0 <= level.reserved <= level.on_hand, (key, level.on_hand, level.reserved)
            assert level.reserved == held[key], key

    def every_serial_is_where_its_last_move_took_it(self, levels: Levels) -> None:
        """One place per serial, the ledger's; the units at a stock place are its level."""
        last_move = (
            select(MoveUnit.unit_id, func.max(MoveUnit.move_id).label("move_id"))
            .group_by(MoveUnit.unit_id)
            .subquery()
        )
        rows = self.session.execute(
            select(Unit.serial, Unit.location_id, Move.to_location_id)
            .join(last_move, last_move.c.unit_id == Unit.id)
            .join(Move, Move.id == last_move.c.move_id)
            .where(Unit.part_id == self.loaner.id)
        ).all()
        assert sorted(serial for serial, _, _ in rows) == sorted(self.serials)
        units_at: dict[int, int] = defaultdict(int)
        for serial, location_id, moved_to in rows:
            assert location_id == moved_to, serial
            units_at[location_id] += 1
        for (part_id, location_id), level in levels.items():
            if part_id == self.loaner.id and location_id != self.vendor.id:
                assert level.on_hand == units_at[location_id], (location_id, level.on_hand)

    def a_loaner_out_on_loan_is_on_its_site(self) -> None:
        """It moves only through its loan while the loan is open (lent, returned)."""
        rows = self.session.execute(
            select(Loan.id, Unit.location_id)
            .join(Unit, Unit.id == Loan.unit_id)
            .where(Loan.status == "open", Unit.part_id == self.loaner.id)
        ).all()
        assert [location for _, location in rows] == [self.site.id] * len(rows), rows

    def an_order_line_has_received_what_its_standing_receipts_brought(self) -> None:
        rows = self.session.execute(
            select(
                VendorOrderLine.id,
                VendorOrderLine.qty,
                VendorOrderLine.received_qty,
                select(func.coalesce(func.sum(ReceiptLine.qty), 0))
                .join(Receipt, Receipt.id == ReceiptLine.receipt_id)
                .where(ReceiptLine.line_id == VendorOrderLine.id, Receipt.reversed_at.is_(None))
                .scalar_subquery(),
            ).where(VendorOrderLine.part_id.in_(self.part_ids))
        )
        for line_id, qty, received_qty, standing in rows:
            assert 0 <= received_qty <= qty, line_id
            assert received_qty == standing, line_id


def test_any_mix_of_receipts_issues_transfers_reversals_requests_and_loans_keeps_the_ledger_true(
    database: Database,
) -> None:
    class OnTheTestDatabase(Ledger):
        pass

    OnTheTestDatabase.database = database
    run_state_machine_as_test(
        OnTheTestDatabase,
        settings=settings(
            max_examples=15,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
