"""``partsvc users …``: a refusal is one ``error:`` line, exit 1, and nothing written."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partsvc.auth.identity import create_user
from partsvc.auth.models import ApiToken
from partsvc.cli import main
from tests.factories import unique


def run(database, clock, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        main, ["users", *args], obj={"database": database, "clock": clock}, catch_exceptions=False
    )


def test_a_token_for_an_unknown_user_is_refused_in_one_line(database, clock) -> None:
    done = run(database, clock, "token", "nobody-at-all")
    assert done.exit_code == 1
    assert done.output == "error: No user named 'nobody-at-all'.\n"


def test_a_second_user_of_one_name_is_refused_and_gets_no_token(
    database, clock, session: Session
) -> None:
    user = create_user(session, username=unique("cli-user"), role="clerk")
    session.commit()
    tokens_before = session.scalar(select(func.count(ApiToken.id)))
    done = run(database, clock, "create", user.username, "--role", "clerk")
    assert done.exit_code == 1
    assert done.output == f"error: A user named '{user.username}' already exists.\n"
    session.expire_all()
    assert session.scalar(select(func.count(ApiToken.id))) == tokens_before


def test_a_new_password_for_an_unknown_user_is_refused(database, clock) -> None:
    done = run(database, clock, "password", "nobody-at-all", "--password", "long-enough-1")
    assert done.exit_code == 1
    assert done.output == "error: No user named 'nobody-at-all'.\n"
