"""Fixtures of the API tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.auth.identity import issue_token
from partsvc.auth.models import User

PostAsAdmin = Callable[[str, dict[str, Any]], Any]
AddEngineers = Callable[..., dict[str, dict[str, str]]]


@pytest.fixture
def post_as_admin(client: FlaskClient, auth: dict[str, dict[str, str]]) -> PostAsAdmin:
    """POST a body as the admin, who must get 201 Created; the answer's JSON."""

    def post(path: str, body: dict[str, Any]) -> Any:
        answer = client.post(path, json=body, headers=auth["admin"])
        assert answer.status_code == 201, answer.json
        return answer.json

    return post


@pytest.fixture
def add_engineers(post_as_admin: PostAsAdmin, session: Session) -> AddEngineers:
    """Add engineers by code, each with the user the API makes for them; code → headers."""

    def add(*codes: str) -> dict[str, dict[str, str]]:
        headers = {}
        for code in codes:
            post_as_admin(
                "/api/v1/engineers",
                {"code": code, "name": code, "home_lat": 31.2, "home_lon": 121.4},
            )
            user = session.scalar(select(User).where(User.username == code.lower()))
            assert user is not None
            headers[code] = {"Authorization": f"Bearer {issue_token(session, user)}"}
        session.commit()
        return headers

    return add


def serial_receipt(sku: str, serials: list[str], source: str, target: str) -> dict[str, Any]:
    """The body of a move receiving the units ``serials`` of ``sku`` from a vendor."""
    body = {"sku": sku, "qty": len(serials), "from": source, "to": target, "reason": "receipt"}
    return {**body, "serials": serials}
