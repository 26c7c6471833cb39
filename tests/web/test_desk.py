"""The clerk desk through the test client: what the clerk sees, and what is booked."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.auth.models import User
from partsvc.inventory.models import Location, Move, Part, StockLevel
from partsvc.purchasing import orders as purchasing
from partsvc.purchasing.models import VendorOrder
from partsvc.purchasing.order_book import LineIn
from tests.factories import NOW, count_moves, make_location, make_part
from tests.web.conftest import Shelf, issue_to_van, login, post_form


def _on_hand(session: Session, part_id: int, location_id: int) -> int:
    session.expire_all()
    level = session.scalar(
        select(StockLevel).where(
            StockLevel.part_id == part_id, StockLevel.location_id == location_id
        )
    )
    return level.on_hand if level else 0


def test_scanning_a_barcode_opens_the_part(
    client: FlaskClient, users: dict[str, User], session: Session
) -> None:
    part = make_part(session, barcode="6900000000017", name_zh="定影组件")
    session.commit()
    login(client, "clerk")
    answer = client.get("/desk?q=6900000000017")
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/desk/parts/{part.sku}"
    page = client.get(answer.headers["Location"])
    assert "定影组件" in page.text


def test_searching_by_chinese_name_lists_the_part(
    client: FlaskClient, users: dict[str, User], session: Session
) -> None:
    part = make_part(session, name_zh="转印带组件")
    session.commit()
    login(client, "clerk")
    page = client.get("/desk?q=转印带")
    assert page.status_code == 200
    assert part.sku in page.text


def test_booking_out_to_a_van_moves_the_stock_and_says_so(
    client: FlaskClient, users: dict[str, User], session: Session, five_on_a_shelf: Shelf
) -> None:
    part, shelf, van = five_on_a_shelf
    login(client, "clerk")

    answer = issue_to_van(client, five_on_a_shelf, 2)

    assert answer.status_code == 302
    page = client.get(answer.headers["Location"])
    assert f"Booked 2 × {part.sku} from {shelf.name} to {van.name}." in page.text
    assert _on_hand(session, part.id, shelf.id) == 3
    assert _on_hand(session, part.id, van.id) == 2


def test_booking_more_than_the_shelf_holds_is_refused_with_the_form_kept(
    client: FlaskClient, users: dict[str, User], session: Session, five_on_a_shelf: Shelf
) -> None:
    part, shelf, van = five_on_a_shelf
    moves = count_moves(session)
    login(client, "clerk")

    answer = issue_to_van(client, five_on_a_shelf, 9)

    assert answer.status_code == 409
    assert "Nothing was booked." in answer.text
    assert 'value="9"' in answer.text
    assert f'value="{van.code}"' in answer.text
    assert "Traceback" not in answer.text
    assert count_moves(session) == moves
    assert _on_hand(session, part.id, shelf.id) == 5


def test_a_move_form_with_a_bad_quantity_is_sent_back_with_the_reason(
    client: FlaskClient, clerk_with_a_part: Part
) -> None:
    part = clerk_with_a_part
    answer = post_form(
        client,
        f"/desk/parts/{part.sku}",
        f"/desk/parts/{part.sku}/moves",
        {"qty": -3, "from_code": "A", "to_code": "B", "reason": "x"},
    )
    assert answer.status_code == 422
    assert "Number must be between 1 and 1000000." in answer.text


def test_an_unknown_part_is_a_404_page(client: FlaskClient, users: dict[str, User]) -> None:
    login(client, "clerk")
    answer = client.get("/desk/parts/NO-SUCH-PART")
    assert answer.status_code == 404
    assert "NO-SUCH-PART" in answer.text


def _order_of_ten(session: Session) -> tuple[Part, Location, VendorOrder]:
    """A sent vendor order of 10 of a new part, to be delivered to a new warehouse."""
    part = make_part(session)
    shelf = make_location(session)
    vendor = make_location(session, "vendor")
    order = purchasing.create_order(
        session,
        vendor=vendor.code,
        lines=[LineIn(sku=part.sku, qty=10, eta=date(2026, 11, 25))],
        now=NOW,
        today=NOW.date(),
        deliver_to=shelf.code,
    )
    session.commit()
    return part, shelf, order


def test_receiving_part_of_a_vendor_order_books_it_in(
    client: FlaskClient, users: dict[str, User], session: Session
) -> None:
    part, shelf, order = _order_of_ten(session)
    line = order.lines[0]
    login(client, "clerk")
    url = f"/desk/orders/{order.number}"

    too_many = post_form(
        client, url, f"{url}/receipts", {"location": shelf.code, f"qty-{line.id}": 11}
    )
    assert too_many.status_code == 409
    assert "Nothing was received." in too_many.text
    assert 'value="11"' in too_many.text
    assert _on_hand(session, part.id, shelf.id) == 0

    answer = post_form(
        client, url, f"{url}/receipts", {"location": shelf.code, f"qty-{line.id}": 4}
    )
    assert answer.status_code == 302
    page = client.get(url)
    assert f"Received 4 units on {order.number} into {shelf.name}." in page.text
    assert "partially received" in page.text
    assert _on_hand(session, part.id, shelf.id) == 4


def test_a_receipt_with_no_quantity_asks_for_one(
    client: FlaskClient, users: dict[str, User], session: Session
) -> None:
    _, shelf, order = _order_of_ten(session)
    login(client, "clerk")
    url = f"/desk/orders/{order.number}"
    answer = post_form(client, url, f"{url}/receipts", {"location": shelf.code})
    assert answer.status_code == 422
    assert "Enter the quantity received on at least one line." in answer.text


def test_reversing_a_move_from_the_ledger(
    client: FlaskClient, users: dict[str, User], session: Session, five_on_a_shelf: Shelf
) -> None:
    part, shelf = five_on_a_shelf.part, five_on_a_shelf.shelf
    move = session.scalars(select(Move).where(Move.part_id == part.id)).one()
    login(client, "clerk")
    url = f"/desk/parts/{part.sku}"
    answer = post_form(client, url, f"/desk/moves/{move.id}/reversal", {})
    assert answer.status_code == 302
    assert f"Move {move.id} reversed" in client.get(url).text
    assert _on_hand(session, part.id, shelf.id) == 0
    again = post_form(client, url, f"/desk/moves/{move.id}/reversal", {})
    assert "already" in client.get(again.headers["Location"]).text
