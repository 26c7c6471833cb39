"""Locking a username after repeated failed logins, counted from the audit trail.

The failed logins are audit events already (kept even though the login fails), so no
second table is needed. The failures that count are those within the window since the
username's last login, unlock or lock; the ``max_failures``-th locks the username for
one window, during which even the right password is refused. Names that do not exist
are counted and locked the same way, so the answer tells nothing about who exists.
Attempts for one username take turns (``lock_name``): otherwise 30 at once all read "4
failures so far" and check 30 passwords.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partsvc.audit import trail as audit
from partsvc.audit.models import AuditEvent

LOGIN = "login"
LOGOUT = "logout"
FAILED = "login.failed"
LOCKED = "login.locked"
REFUSED = "login.refused_while_locked"
UNLOCKED = "login.unlocked"


@dataclass(frozen=True)
class LockoutRule:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)


def locked_until(
    session: Session, username: str, *, now: datetime, rule: LockoutRule
) -> datetime | None:
    """When the username's lock ends, or None if it may try to log in."""
    username = _name(username)
    last = _last(session, username, (LOCKED, UNLOCKED), since=now - rule.window)
    if last is None or last.action != LOCKED:
        return None
    return last.at + rule.window


def note_failure(
    session: Session, username: str, *, now: datetime, rule: LockoutRule
) -> datetime | None:
    """Record a failed login; when the lock ends if this failure locks the username."""
    username = _name(username)
    audit.record(session, FAILED, kind="user", key=username, username=username)
    reset = _last(session, username, (LOGIN, UNLOCKED, LOCKED), since=now - rule.window)
    failures = session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == FAILED, AuditEvent.username == username)
        .where(AuditEvent.at > now - rule.window)
        .where(AuditEvent.id > (reset.id if reset is not None else 0))
    )
    if (failures or 0) < rule.max_failures:
        return None
    until = now + rule.window
    audit.record(
        session,
        LOCKED,
        kind="user",
        key=username,
        username=username,
        details={"failures": failures, "until": until},
    )
    return until


def note_refusal(session: Session, username: str, *, until: datetime) -> None:
    """Record a login refused because the username is locked."""
    username = _name(username)
    details = {"until": until}
    audit.record(session, REFUSED, kind="user", key=username, username=username, details=details)


def unlock(session: Session, username: str) -> None:
    """An admin lets a locked username try again now (and its failures count afresh)."""
    audit.record(session, UNLOCKED, kind="user", key=username)


def lock_name(username: str) -> str:
    """The name of the lock a username's login attempts take one at a time, so that
    checking the lock, checking the password and counting a failure are one step."""
    return f"login:{_name(username).lower()}"


def _name(username: str) -> str:
    """The name as the audit trail stores it (cut to its length, no NUL)."""
    return username[:64].replace("\x00", "\ufffd")


def _last(
    session: Session, username: str, actions: tuple[str, ...], *, since: datetime
) -> AuditEvent | None:
    """The username's latest event of ``actions`` after ``since``; the subject is the
    username acted on (an admin's unlock names the admin as actor)."""
    return session.scalar(
        select(AuditEvent)
        .where(AuditEvent.action.in_(actions), AuditEvent.subject_kind == "user")
        .where(AuditEvent.subject_key == username, AuditEvent.at > since)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
