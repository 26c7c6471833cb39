"""Login attempts limited per client address and per username, across app instances."""

from __future__ import annotations

from partsvc.auth.models import User
from tests.conftest import AppMaker, Clock
from tests.web.conftest import PASSWORD, csrf_token


def _attempt(client, username: str, password: str, address: str = "127.0.0.1"):  # type: ignore[no-untyped-def]
    page = client.get("/login", environ_base={"REMOTE_ADDR": address})
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(page.text)},
        environ_base={"REMOTE_ADDR": address},
    )


def test_logins_from_one_address_are_limited_with_a_clear_message(
    make_app: AppMaker, users: dict[str, User]
) -> None:
    client = make_app(login_rate="3/minute").test_client()
    statuses = [_attempt(client, name, "wrong password").status_code for name in ("a", "b", "c")]
    assert statuses == [401, 401, 401]
    refused = _attempt(client, "clerk", PASSWORD)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert "Too many login attempts: wait 60 seconds" in refused.text
    assert _attempt(client, "clerk", PASSWORD, address="198.51.100.7").status_code == 302


def test_logins_to_one_username_are_limited_from_any_address(
    make_app: AppMaker, users: dict[str, User], clock: Clock
) -> None:
    first, second = (make_app(login_rate="2/minute").test_client() for _ in range(2))
    assert _attempt(first, "clerk", "wrong password", "198.51.100.1").status_code == 401
    assert _attempt(second, "clerk", "wrong password", "198.51.100.2").status_code == 401
    assert _attempt(first, "clerk", PASSWORD, "198.51.100.3").status_code == 429
    clock.advance(minutes=1)
    assert _attempt(second, "clerk", PASSWORD, "198.51.100.4").status_code == 302
