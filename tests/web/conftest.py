"""Pages through the Flask test client: users with passwords, forms with CSRF tokens."""

from __future__ import annotations

import re
from typing import NamedTuple

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from partsvc.auth.identity import create_user, set_password
from partsvc.auth.models import User
from partsvc.inventory.models import Location, Part
from tests.factories import make_location, make_part, receive

PASSWORD = "correct horse battery"
_TOKEN = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def csrf_token(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1) or match.group(2)


def login(client: FlaskClient, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(page.text)},
    )


def post_form(client: FlaskClient, page_url: str, action: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    """Open the page, take its CSRF token, and send the form to ``action``."""
    page = client.get(page_url)
    assert page.status_code == 200, page.text
    return client.post(action, data={**data, "csrf_token": csrf_token(page.text)})


@pytest.fixture
def users(session: Session) -> dict[str, User]:
    """One user with a password per role, named after it."""
    made = {}
    for role in ("admin", "clerk", "dispatcher", "engineer"):
        user = create_user(session, username=role, role=role)
        set_password(user, PASSWORD)
        made[role] = user
    session.commit()
    return made


class Shelf(NamedTuple):
    """A part on a warehouse shelf, and a van the clerk may issue it to."""

    part: Part
    shelf: Location
    van: Location


@pytest.fixture
def five_on_a_shelf(session: Session) -> Shelf:
    """Five of a new part received onto a new warehouse shelf, and a new van, committed."""
    part = make_part(session)
    shelf = make_location(session)
    van = make_location(session, "van")
    receive(session, part, shelf, 5)
    session.commit()
    return Shelf(part, shelf, van)


@pytest.fixture
def clerk_with_a_part(client: FlaskClient, users: dict[str, User], session: Session) -> Part:
    """A new part, committed, and the clerk logged in to look it up."""
    part = make_part(session)
    session.commit()
    login(client, "clerk")
    return part


def issue_to_van(client: FlaskClient, stock: Shelf, qty: int):  # type: ignore[no-untyped-def]
    """Send the part page's move form: ``qty`` from the shelf to the van."""
    sku = stock.part.sku
    return post_form(
        client,
        f"/desk/parts/{sku}",
        f"/desk/parts/{sku}/moves",
        {
            "qty": qty,
            "from_code": stock.shelf.code,
            "to_code": stock.van.code,
            "reason": "issue to van",
        },
    )
