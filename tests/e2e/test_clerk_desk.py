"""The clerk's day in a real browser, through the pages only: receive part of a vendor
order and undo it, set a reorder rule and see the part below it, move a serialized unit
chosen from the list; book a part out to a van, and be refused clearly when the shelf has
too few."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from partsvc.inventory.models import Location, Part, StockLevel, Unit
from partsvc.purchasing.models import VendorOrder, VendorOrderLine
from tests.e2e.conftest import LiveServer, log_in, screenshot


def _order_with_an_open_line(server: LiveServer) -> tuple[str, str, int]:
    """A vendor order on its way with a line of at least 2 still to come: number, sku, open."""
    with server.database.unit_of_work(write=False) as session:
        line = session.scalars(
            select(VendorOrderLine)
            .join(VendorOrder)
            .where(
                VendorOrder.status.in_(["sent", "partially_received"]),
                VendorOrderLine.qty - VendorOrderLine.received_qty >= 2,
            )
            .order_by(VendorOrderLine.id)
        ).first()
        assert line is not None
        return line.order.number, line.part.sku, line.open_qty


def _part_on_the_shelf(server: LiveServer) -> tuple[str, int]:
    """A part without serials with at least 3 available at WH-SH: its SKU and what is free."""
    with server.database.unit_of_work(write=False) as session:
        level = session.scalars(
            select(StockLevel)
            .join(Part, Part.id == StockLevel.part_id)
            .join(Location, Location.id == StockLevel.location_id)
            .where(
                Location.code == "WH-SH",
                Part.serialized.is_(False),
                StockLevel.on_hand - StockLevel.reserved >= 3,
            )
            .order_by(Part.sku)
        ).first()
        assert level is not None
        return level.part.sku, level.available


def _a_serial_on_the_shelf(server: LiveServer) -> tuple[str, str]:
    """A serialized part (not a loaner) with a unit at WH-SH: its SKU and that serial."""
    with server.database.unit_of_work(write=False) as session:
        unit = session.scalars(
            select(Unit)
            .join(Part, Part.id == Unit.part_id)
            .join(Location, Location.id == Unit.location_id)
            .where(Location.code == "WH-SH", Part.serialized.is_(True), Part.loaner.is_(False))
            .order_by(Part.sku, Unit.serial)
        ).first()
        assert unit is not None
        return unit.part.sku, unit.serial


def test_the_clerks_day_receive_undo_reorder_rule_and_a_serial_moved(
    page: Page, live_server: LiveServer
) -> None:
    number, sku, still_to_come = _order_with_an_open_line(live_server)
    shelf_sku, available = _part_on_the_shelf(live_server)
    serialized, serial = _a_serial_on_the_shelf(live_server)
    log_in(page, live_server, "clerk", start="/desk")
    expect(page.get_by_role("heading", name="Clerk desk")).to_be_visible()

    # Part of a vendor order comes in; the clerk books it in, then undoes it (a mistake).
    page.get_by_role("link", name=number).first.click()
    expect(page.get_by_role("heading", name=re.compile(number))).to_be_visible()
    row = page.locator("tr", has=page.get_by_role("link", name=sku)).first
    row.get_by_role("spinbutton").fill("1")
    page.get_by_label("Into warehouse").fill("wh-sh")  # any case will do
    page.get_by_role("button", name="Book the receipt in").click()
    expect(page.get_by_role("status")).to_contain_text(f"Received 1 unit on {number}")
    expect(row.locator(".open")).to_have_text(str(still_to_come - 1))
    expect(page.get_by_role("heading", name=re.compile("partially received"))).to_be_visible()
    screenshot(page, "clerk-1-partial-receipt")

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#receipts tbody tr").first.get_by_role("button", name="Undo the receipt").click()
    expect(page.get_by_role("status")).to_contain_text("undone: 1 unit booked out again")
    expect(row.locator(".open")).to_have_text(str(still_to_come))
    expect(page.locator("#receipts tbody tr").first).to_contain_text("undone")
    screenshot(page, "clerk-2-receipt-undone")

    # A reorder rule above what the shelf holds: the part shows below its reorder point.
    page.get_by_role("link", name="Clerk desk").first.click()
    page.locator("#rules-link").click()
    form = page.locator("#rule-form")
    form.get_by_label("Part (SKU)").fill(shelf_sku)
    form.get_by_label("Warehouse").fill("Shanghai central warehouse (上海中心仓)")  # by name
    form.get_by_label("Reorder at or below").fill(str(available + 5))
    form.get_by_label("Order a fixed quantity").fill("10")
    form.get_by_role("button", name="Save the rule").click()
    expect(page.get_by_role("status")).to_contain_text(f"Reorder rule saved for {shelf_sku}")
    expect(page.locator(f"#rules tr[data-sku='{shelf_sku}']")).to_contain_text("10 at a time")
    screenshot(page, "clerk-3-reorder-rule")
    page.get_by_role("link", name="Clerk desk").first.click()
    below = page.locator(
        "section", has=page.get_by_role("heading", name=re.compile("Below reorder"))
    )
    expect(below.get_by_role("link", name=shelf_sku)).to_be_visible()
    screenshot(page, "clerk-4-below-reorder-point")

    # A serialized unit moved to a van, its serial ticked in the list of where they are.
    page.goto(f"{live_server.url}/desk/parts/{serialized}")
    expect(page.locator("#serials dt[data-location='WH-SH'] + dd")).to_contain_text(serial)
    form = page.locator("#move-form")
    form.get_by_label("Quantity").fill("1")
    form.get_by_label("From").fill("WH-SH")
    form.get_by_label("To").fill("van-wang")
    form.get_by_label("Reason").fill("issue to van")
    form.get_by_role("checkbox", name=serial).check()
    screenshot(page, "clerk-5-serial-chosen")
    form.get_by_role("button", name="Book").click()
    expect(page.get_by_role("status")).to_contain_text(f"Booked 1 × {serialized}")
    expect(page.locator("#serials dt[data-location='VAN-WANG'] + dd")).to_contain_text(serial)
    screenshot(page, "clerk-6-serial-moved")


def test_the_clerk_books_a_part_out_to_a_van(page: Page, live_server: LiveServer) -> None:
    sku, available = _part_on_the_shelf(live_server)
    log_in(page, live_server, "clerk", start="/desk")

    # A barcode scanner types the code and presses Enter.
    search = page.get_by_label("Part: SKU, name or scan a barcode")
    search.fill(sku)
    search.press("Enter")
    expect(page.get_by_role("heading", name=re.compile(re.escape(sku)))).to_be_visible()

    shelf = page.locator("#stock tr[data-location='WH-SH'] .available")
    expect(shelf).to_have_text(str(available))
    form = page.locator("#move-form")
    form.get_by_label("Quantity").fill("2")
    form.get_by_label("From").fill("WH-SH")
    form.get_by_label("To").fill("VAN-WANG")
    form.get_by_label("Reason").fill("issue to van")
    form.get_by_role("button", name="Book").click()

    expect(page.get_by_role("status")).to_contain_text(f"Booked 2 × {sku} from Shanghai central")
    expect(shelf).to_have_text(str(available - 2))
    expect(page.locator("#stock tr[data-location='VAN-WANG']")).to_be_visible()
    screenshot(page, "clerk-book-out")

    # More than the shelf holds: refused in words, the form kept as typed, nothing booked.
    form = page.locator("#move-form")
    form.get_by_label("Quantity").fill(str(available * 10))
    form.get_by_label("From").fill("WH-SH")
    form.get_by_label("To").fill("VAN-WANG")
    form.get_by_label("Reason").fill("issue to van")
    form.get_by_role("button", name="Book").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was booked")
    expect(page.locator("#move-form").get_by_label("Quantity")).to_have_value(str(available * 10))
    expect(page.locator("#move-form").get_by_label("To")).to_have_value("VAN-WANG")
    expect(shelf).to_have_text(str(available - 2))
    screenshot(page, "clerk-refused")
