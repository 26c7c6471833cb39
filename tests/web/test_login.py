"""Logging in to the pages: passwords, the session cookie, CSRF, and who may open what."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from partsvc import create_app
from partsvc.auth.identity import check_password
from partsvc.auth.models import User
from partsvc.cli import main
from partsvc.platform import migrate
from partsvc.platform.config import Settings
from partsvc.platform.db import Database
from tests.conftest import Clock
from tests.factories import count_moves
from tests.web.conftest import PASSWORD, Shelf, login


def test_a_page_sends_someone_not_logged_in_to_the_login_page(client: FlaskClient) -> None:
    answer = client.get("/desk?q=fuser")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login?next=/desk?q%3Dfuser"


def test_the_right_password_logs_in_and_lands_on_the_users_page(
    client: FlaskClient, users: dict[str, User]
) -> None:
    answer = login(client, "clerk")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/desk"
    assert client.get("/desk").status_code == 200


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    client: FlaskClient, users: dict[str, User]
) -> None:
    for username, password in (("clerk", "not the password"), ("nobody", PASSWORD)):
        answer = login(client, username, password)
        assert answer.status_code == 401
        assert "Wrong username or password." in answer.text
    assert client.get("/desk").status_code == 302


def test_an_inactive_user_cannot_log_in_and_is_logged_out(
    client: FlaskClient, users: dict[str, User], session: Session
) -> None:
    assert login(client, "clerk").status_code == 302
    users["clerk"].active = False
    session.commit()
    assert client.get("/desk").headers["Location"] == "/login"
    assert login(client, "clerk").status_code == 401


def test_the_password_is_stored_as_an_argon2_hash(users: dict[str, User]) -> None:
    stored = users["clerk"].password_hash
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_the_session_cookie_is_httponly_samesite_lax_and_secure_over_https(
    client: FlaskClient, users: dict[str, User]
) -> None:
    cookie = login(client, "clerk").headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie

    https = client.application.test_client()
    page = https.get("/login", base_url="https://partsvc.example")
    token = page.text.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    answer = https.post(
        "/login",
        base_url="https://partsvc.example",
        data={"username": "clerk", "password": PASSWORD, "csrf_token": token},
        headers={"Referer": "https://partsvc.example/login"},
    )
    assert answer.status_code == 302
    assert "Secure" in answer.headers["Set-Cookie"]


def test_after_login_only_a_path_on_this_site_is_followed(
    client: FlaskClient, users: dict[str, User]
) -> None:
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        page = client.get("/login")
        token = page.text.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        answer = client.post(
            f"/login?next={target}",
            data={"username": "clerk", "password": PASSWORD, "csrf_token": token},
        )
        assert answer.headers["Location"] == "/desk"
    page = client.get("/login")
    token = page.text.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    answer = client.post(
        "/login?next=/desk/parts/PH-1",
        data={"username": "clerk", "password": PASSWORD, "csrf_token": token},
    )
    assert answer.headers["Location"] == "/desk/parts/PH-1"


def test_a_form_posted_without_its_csrf_token_is_refused_and_books_nothing(
    client: FlaskClient, users: dict[str, User], session: Session, five_on_a_shelf: Shelf
) -> None:
    part, shelf, van = five_on_a_shelf
    login(client, "clerk")
    moves = count_moves(session)

    answer = client.post(
        f"/desk/parts/{part.sku}/moves",
        data={"qty": 1, "from_code": shelf.code, "to_code": van.code, "reason": "issue to van"},
    )

    assert answer.status_code == 400
    assert "without a valid security token" in answer.text
    assert count_moves(session) == moves


def test_a_login_posted_without_its_csrf_token_is_refused(
    client: FlaskClient, users: dict[str, User]
) -> None:
    answer = client.post("/login", data={"username": "clerk", "password": PASSWORD})
    assert answer.status_code == 400


def test_the_api_takes_bearer_tokens_without_a_csrf_token(
    client: FlaskClient, auth: dict[str, dict[str, str]]
) -> None:
    answer = client.post(
        "/api/v1/parts", json={"sku": "CSRF-FREE-1", "name": "Fuser"}, headers=auth["clerk"]
    )
    assert answer.status_code == 201


def test_an_engineer_cannot_open_the_clerk_desk(
    client: FlaskClient, users: dict[str, User]
) -> None:
    login(client, "engineer")
    answer = client.get("/desk")
    assert answer.status_code == 403
    assert "Not for your role" in answer.text


def test_logging_out_clears_the_session_cookie(client: FlaskClient, users: dict[str, User]) -> None:
    login(client, "clerk")
    page = client.get("/desk")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/desk").status_code == 302


def test_the_demo_prints_a_fresh_password_every_demo_user_logs_in_with(
    clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"  # the demo loads only into an empty database
    migrate.upgrade(url)
    demo_db = Database(url)
    monkeypatch.setattr("partsvc.cli.INSTANCE_DIR", tmp_path)
    try:
        result = CliRunner().invoke(
            main,
            ["demo", "--parts", "40"],
            obj={"database": demo_db, "clock": clock},
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        password = result.output.split("with the password ")[1].split()[0]
        assert len(password) >= 12
        with demo_db.unit_of_work() as session:
            for username in ("clerk", "dispatch", "admin", "wang"):
                assert check_password(session, username, password) is not None, username
        app = create_app(
            Settings(database_url=url, secret_key="t", default_locale="en"),
            database=demo_db,
            clock=clock,
        )
        assert login(app.test_client(), "clerk", password).headers["Location"] == "/desk"
        assert password in (tmp_path / "demo-tokens.txt").read_text()
    finally:
        demo_db.dispose()


def test_the_start_page_sends_someone_not_logged_in_to_a_plain_login(
    client: FlaskClient,
) -> None:
    answer = client.get("/")
    assert answer.headers["Location"] == "/login"
    assert client.get("/login").status_code == 200
