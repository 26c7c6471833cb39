"""Logins lock after repeated failures; logins, logouts, failures and the pages' forms
are audited."""

from __future__ import annotations

from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.audit.models import AuditEvent
from partsvc.auth.models import User
from partsvc.cli import main
from partsvc.platform.db import Database
from tests.conftest import Clock
from tests.web.conftest import Shelf, csrf_token, issue_to_van, login, post_form

WRONG = "not the password at all"


def _actions(session: Session, **where: object) -> list[tuple[str | None, str]]:
    session.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    for column, value in where.items():
        query = query.where(getattr(AuditEvent, column) == value)
    return [(event.username, event.action) for event in session.scalars(query)]


def _fail(client: FlaskClient, username: str, times: int) -> None:
    for _ in range(times):
        assert login(client, username, WRONG).status_code in (401, 429)


def test_the_sixth_login_within_the_window_is_refused_even_with_the_right_password(
    client: FlaskClient, users: dict[str, User], clock: Clock
) -> None:
    _fail(client, "clerk", 4)
    clock.advance(minutes=10)
    fifth = login(client, "clerk", WRONG)
    assert fifth.status_code == 429
    sixth = login(client, "clerk")
    assert sixth.status_code == 429
    assert "it is locked. Try again in 15 minutes." in sixth.text
    assert sixth.headers["Retry-After"] == "900"
    clock.advance(minutes=14, seconds=1)
    assert "Try again in 1 minute." in login(client, "clerk").text
    clock.advance(seconds=59)
    assert login(client, "clerk").headers["Location"] == "/desk"


def test_failures_spread_wider_than_the_window_do_not_lock(
    client: FlaskClient, users: dict[str, User], clock: Clock
) -> None:
    for _ in range(6):
        assert login(client, "clerk", WRONG).status_code == 401
        clock.advance(minutes=4)
    assert login(client, "clerk").status_code == 302


def test_a_good_login_starts_the_count_afresh(client: FlaskClient, users: dict[str, User]) -> None:
    _fail(client, "clerk", 4)
    assert login(client, "clerk").status_code == 302
    _fail(client, "clerk", 4)
    assert login(client, "clerk").status_code == 302


def test_a_username_that_does_not_exist_locks_the_same_way(
    client: FlaskClient, users: dict[str, User]
) -> None:
    for name in ("clerk", "nobody"):
        answers = [login(client, name, WRONG) for _ in range(6)]
        assert [a.status_code for a in answers] == [401] * 4 + [429] * 2
    unknown, known = login(client, "nobody").text, login(client, "clerk").text
    # The same page but for the form's CSRF token, which is signed with the second it was made.
    assert unknown.replace(csrf_token(unknown), "TOKEN").replace("nobody", "clerk") == (
        known.replace(csrf_token(known), "TOKEN")
    )


def test_the_lock_is_for_one_username_only(client: FlaskClient, users: dict[str, User]) -> None:
    _fail(client, "clerk", 5)
    assert login(client, "dispatcher").status_code == 302


def test_the_settings_choose_the_failures_and_the_window(
    app, client: FlaskClient, users: dict[str, User], clock: Clock
) -> None:
    configured = app.config["PARTSVC_SETTINGS"]
    app.config["PARTSVC_SETTINGS"] = configured.replace(
        login_max_failures=2, login_lockout_minutes=1
    )
    _fail(client, "clerk", 2)
    assert login(client, "clerk").status_code == 429
    clock.advance(minutes=1)
    assert login(client, "clerk").status_code == 302


def test_an_admin_unlocks_a_username_on_the_command_line(
    client: FlaskClient, users: dict[str, User], database: Database, clock: Clock, session: Session
) -> None:
    _fail(client, "clerk", 5)
    assert login(client, "clerk").status_code == 429
    result = CliRunner().invoke(
        main, ["users", "unlock", "clerk"], obj={"database": database, "clock": clock}
    )
    assert result.exit_code == 0, result.output
    assert login(client, "clerk").status_code == 302
    assert (None, "login.unlocked") in _actions(session, subject_key="clerk")


def test_logins_failures_the_lock_and_logouts_are_audited(
    client: FlaskClient, users: dict[str, User], session: Session
) -> None:
    assert login(client, "clerk").status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/desk").text)})
    _fail(client, "ghost", 6)
    assert _actions(session, subject_key="clerk") == [("clerk", "login"), ("clerk", "logout")]
    assert _actions(session, subject_key="ghost") == [("ghost", "login.failed")] * 5 + [
        ("ghost", "login.locked"),
        ("ghost", "login.refused_while_locked"),
    ]
    (failure, *_) = session.scalars(select(AuditEvent).where(AuditEvent.action == "login.failed"))
    assert (failure.user_id, failure.client) == (None, "127.0.0.1")


def test_a_pages_form_leaves_one_event_a_refused_one_none_and_a_move_none(
    client: FlaskClient, users: dict[str, User], session: Session, five_on_a_shelf: Shelf
) -> None:
    part, shelf, _ = five_on_a_shelf
    login(client, "clerk")
    page, action = f"/desk/parts/{part.sku}", f"/desk/parts/{part.sku}/counts"
    refused = post_form(client, page, action, {"location": "NO-SUCH", "counted": 4})
    assert refused.status_code == 404
    assert (
        post_form(client, page, action, {"location": shelf.code, "counted": 4}).status_code == 302
    )
    route = "POST /desk/parts/<path:sku>/counts"
    assert _actions(session, action=route) == [("clerk", route)]
    booked = issue_to_van(client, five_on_a_shelf, 1)
    assert booked.status_code == 302  # a move of the ledger is its own audit
    assert [a for _, a in _actions(session, username="clerk") if a != "login"] == [route]
