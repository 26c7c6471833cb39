"""The audit trail is append-only in the database itself, and the CLI's user and token
commands leave their events in it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from partsvc.audit import trail as audit
from partsvc.audit.models import AuditEvent
from partsvc.auth.models import ApiToken, User
from partsvc.cli import main


@pytest.fixture
def event(session, clock):
    audit.begin(session, actor=None, client="test", now=clock.now)
    recorded = audit.record(session, "test.event", kind="thing", key="1", details={"a": 1})
    session.commit()
    return recorded


@pytest.mark.parametrize(
    "statement",
    [
        update(AuditEvent).values(action="changed"),
        update(AuditEvent).values(details={"a": 2}),
        delete(AuditEvent),
    ],
    ids=["update the action", "update the details", "delete"],
)
def test_the_database_refuses_to_change_or_delete_an_audit_event(session, event, statement):
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(statement.where(AuditEvent.id == event.id))
    session.expire_all()
    kept = session.get(AuditEvent, event.id)
    assert (kept.action, kept.details) == ("test.event", {"a": 1})


def test_the_database_refuses_even_raw_sql_against_the_audit_trail(session, event):
    for sql in ("UPDATE audit_events SET username = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
            session.execute(text(sql))
    assert session.scalar(select(func.count()).select_from(AuditEvent)) >= 1


def test_a_service_called_outside_a_request_or_command_records_nothing(session, clock):
    assert audit.record(session, "test.event") is None
    audit.begin(session, actor=None, client=None, now=clock.now)
    assert audit.record(session, "test.event") is not None
    assert audit.recorded(session) == 1


def _cli(database, clock, *args):
    result = CliRunner().invoke(
        main, list(args), obj={"database": database, "clock": clock}, catch_exceptions=False
    )
    return result


def _token_actions(session, key):
    """The audit actions on one token (other tests' committed rows may share its key)."""
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.subject_kind == "token", AuditEvent.subject_key == key)
            .order_by(AuditEvent.id)
        )
    )


def test_creating_a_user_on_the_command_line_is_audited(database, session, clock):
    result = _cli(database, clock, "users", "create", "li.na", "--role", "clerk")
    assert result.exit_code == 0, result.output
    (created,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.created"))
    assert (created.subject_key, created.details, created.client) == (
        "li.na",
        {"role": "clerk"},
        "cli",
    )
    token = session.scalar(select(ApiToken).join(User).where(User.username == "li.na"))
    assert _token_actions(session, str(token.id)) == ["token.issued"]


def test_the_command_line_lists_and_revokes_a_users_tokens(database, session, clock):
    _cli(database, clock, "users", "create", "zhao", "--role", "engineer")
    token = session.scalar(select(ApiToken).join(User).where(User.username == "zhao"))
    listed = _cli(database, clock, "users", "tokens", "zhao")
    assert listed.exit_code == 0
    assert f"{token.id:>6}  cli" in listed.output
    assert token.token_hash not in listed.output
    revoked = _cli(database, clock, "users", "revoke", str(token.id))
    assert revoked.exit_code == 0, revoked.output
    again = _cli(database, clock, "users", "revoke", str(token.id))
    assert again.exit_code == 1
    assert "revoked already" in again.output
    session.expire_all()
    assert session.get(ApiToken, token.id).revoked_at == clock.now
    assert _token_actions(session, str(token.id)) == ["token.issued", "token.revoked"]
    assert "revoked 2026-11-20" in _cli(database, clock, "users", "tokens", "zhao").output
