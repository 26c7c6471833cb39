"""Pages through the Flask test client: users with passwords, forms with CSRF tokens."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from partsvc.auth.identity import create_user, set_password
from partsvc.auth.models import User

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
