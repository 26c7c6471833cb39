"""The clerk's import page: upload a file, see every bad row, or what was imported."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partsvc.auth.models import User
from partsvc.inventory.models import Move, Part
from tests.factories import make_location, make_part
from tests.web.conftest import csrf_token, login


def upload(client: FlaskClient, kind: str, text: str, **fields: str):  # type: ignore[no-untyped-def]
    page = client.get("/desk/imports")
    assert page.status_code == 200, page.text
    return client.post(
        f"/desk/imports/{kind}",
        data={
            "file": (io.BytesIO(text.encode()), f"{kind}.csv"),
            "csrf_token": csrf_token(page.text),
            **fields,
        },
        content_type="multipart/form-data",
    )


def count(session: Session, column: object) -> int:
    session.expire_all()
    return session.scalar(select(func.count(column))) or 0  # type: ignore[arg-type]


@pytest.fixture
def added(session: Session) -> Callable[[object], int]:
    """How many rows of a table the test added (tests with live servers commit some)."""
    before = {column: count(session, column) for column in (Part.id, Move.id)}
    return lambda column: count(session, column) - before[column]


def test_the_desk_links_to_the_import_page(client: FlaskClient, users: dict[str, User]) -> None:
    login(client, "clerk")
    assert 'href="/desk/imports"' in client.get("/desk").text


def test_a_good_parts_file_is_imported_and_the_page_says_how_many(
    client: FlaskClient, users: dict[str, User], session: Session, added: Callable[[object], int]
) -> None:
    login(client, "clerk")
    answer = upload(client, "parts", "sku,name,name_zh\nWEB-1,Print head,打印头\nWEB-2,Fan,风扇\n")
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"])
    assert "Imported 2 parts (0 serialized) from 2 rows." in page.text
    assert added(Part.id) == 2


def test_a_bad_file_shows_every_bad_row_and_imports_nothing(
    client: FlaskClient, users: dict[str, User], session: Session, added: Callable[[object], int]
) -> None:
    login(client, "clerk")
    answer = upload(
        client, "parts", "sku,name,unit_cost\nWEB-1,Head,12\nWEB-2,Belt,-3\nWEB-1,Fan,1\n"
    )
    assert answer.status_code == 422
    assert "nothing was imported" in answer.text
    assert (
        '<td class="num">3</td><td>unit_cost</td><td>-3 is negative; a cost is 0 or more.</td>'
        in answer.text
    )
    assert (
        '<td class="num">4</td><td>sku</td><td>SKU WEB-1 is already on row 2.</td>' in answer.text
    )
    assert added(Part.id) == 0


def upload_four_on_a_shelf(client: FlaskClient, session: Session, **fields: str):  # type: ignore[no-untyped-def]
    """As the clerk, upload a stock file of 4 of a new part on a new shelf; and the shelf."""
    part = make_part(session)
    shelf = make_location(session)
    session.commit()
    login(client, "clerk")
    text = f"sku,location,qty\n{part.sku},{shelf.code},4\n"
    return upload(client, "stock", text, **fields), shelf


def test_checking_a_stock_file_says_what_would_be_booked_and_books_nothing(
    client: FlaskClient, users: dict[str, User], session: Session, added: Callable[[object], int]
) -> None:
    answer, shelf = upload_four_on_a_shelf(client, session, dry_run="y")
    assert answer.status_code == 200
    assert "importing it would book 4 units" in answer.text
    assert f"{shelf.code} 4" in answer.text
    assert added(Move.id) == 0


def test_opening_stock_is_booked_and_the_page_gives_the_reference(
    client: FlaskClient, users: dict[str, User], session: Session, added: Callable[[object], int]
) -> None:
    answer, _ = upload_four_on_a_shelf(client, session)
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"])
    assert "Booked 4 units of opening stock (0 with serials) in 1 moves" in page.text
    assert "(stock.csv)" in page.text
    assert added(Move.id) == 1


def test_sending_no_file_asks_for_one(client: FlaskClient, users: dict[str, User]) -> None:
    login(client, "clerk")
    page = client.get("/desk/imports")
    answer = client.post("/desk/imports/stock", data={"csrf_token": csrf_token(page.text)})
    assert answer.status_code == 422
    assert "Choose the CSV file to import." in answer.text


def test_an_upload_without_the_forms_token_is_refused(
    client: FlaskClient, users: dict[str, User], session: Session, added: Callable[[object], int]
) -> None:
    login(client, "clerk")
    answer = client.post(
        "/desk/imports/parts",
        data={"file": (io.BytesIO(b"sku,name\nCSRF-1,No token\n"), "parts.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 400
    assert added(Part.id) == 0


def test_the_page_takes_a_file_larger_than_other_forms_may_be(
    client: FlaskClient, users: dict[str, User]
) -> None:
    login(client, "clerk")
    rows = "".join(f"BIG-{n:05d},A part with a long name {'x' * 150}\n" for n in range(14_000))
    assert len(rows) > 2 * 1024 * 1024
    token = csrf_token(client.get("/desk/imports").text)
    # Encoded here: the test client would spool a body this big to a file it never closes.
    boundary = "----partsvc-test-boundary"
    body = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in (("csrf_token", token), ("dry_run", "y"))
    )
    body += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        f"Content-Type: text/csv\r\n\r\nsku,name\n{rows}\r\n--{boundary}--\r\n"
    )
    answer = client.post(
        "/desk/imports/parts",
        data=body.encode(),
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert answer.status_code == 200
    assert "importing it would create 14000 parts" in answer.text
