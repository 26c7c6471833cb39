"""Logging out, or a new password, makes a copied login cookie useless."""

from __future__ import annotations

from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from partsvc.auth.models import User
from partsvc.cli import main
from partsvc.platform.db import Database
from tests.conftest import Clock
from tests.web.conftest import csrf_token, login


def _copy(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of ``client``'s login cookie."""
    thief = app.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief.set_cookie("session", cookie.value)
    return thief


def test_a_copied_cookie_works_until_its_owner_logs_out(
    app: Flask, client: FlaskClient, users: dict[str, User]
) -> None:
    login(client, "clerk")
    thief = _copy(app, client)
    assert thief.get("/desk").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/desk").text)})
    answer = thief.get("/desk")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login"


def test_a_new_password_ends_the_logins_made_before(
    app: Flask,
    client: FlaskClient,
    users: dict[str, User],
    database: Database,
    clock: Clock,
) -> None:
    login(client, "dispatcher")
    assert client.get("/board").status_code == 200
    result = CliRunner().invoke(
        main,
        ["users", "password", "dispatcher", "--password", "another long password"],
        obj={"database": database, "clock": clock},
    )
    assert result.exit_code == 0, result.output
    assert client.get("/board").status_code == 302
    assert login(client, "dispatcher", "another long password").status_code == 302
    assert client.get("/board").status_code == 200


def test_logging_in_again_after_a_logout_works(client: FlaskClient, users: dict[str, User]) -> None:
    login(client, "clerk")
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/desk").text)})
    assert login(client, "clerk").status_code == 302
    assert client.get("/desk").status_code == 200
