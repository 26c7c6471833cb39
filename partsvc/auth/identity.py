"""Creating users and API tokens, and recognising a token."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from partsvc.audit import trail as audit
from partsvc.auth.models import ROLE_VALUES, ApiToken, Role, User
from partsvc.core.errors import Conflict, DuplicateKey, InvalidInput, UnknownKey

# A visible prefix that marks our tokens, not a secret.
TOKEN_PREFIX = "psv_"  # noqa: S105  # nosec B105


def hash_token(token: str) -> str:
    """Tokens are 256 random bits, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(session: Session, *, username: str, role: str) -> User:
    if role not in ROLE_VALUES:
        raise InvalidInput(
            f"Unknown role {role!r}.", errors={"role": [f"One of {', '.join(ROLE_VALUES)}."]}
        )
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise DuplicateKey(f"A user named {username!r} already exists.")
    user = User(username=username, role=role)
    session.add(user)
    session.flush()
    audit.record(session, "user.created", kind="user", key=username, details={"role": role})
    return user


def user_named(session: Session, username: str) -> User:
    """The user called ``username``, or a 404."""
    clean = "\x00" not in username  # PostgreSQL text cannot hold NUL: no such user
    user = session.scalar(select(User).where(User.username == username)) if clean else None
    if user is None:
        raise UnknownKey(f"No user named {username!r}.", user=username)
    return user


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: its row, and the plain token, shown this once."""

    row: ApiToken
    token: str


def grant_token(
    session: Session,
    user: User,
    *,
    name: str = "",
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> IssuedToken:
    """A new API token for ``user``, valid until ``expires_at`` (for ever if None)."""
    if expires_at is not None and now is not None and expires_at <= now:
        raise InvalidInput(
            "A token must expire in the future.", errors={"expires_at": ["In the past."]}
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=hash_token(token), name=name, expires_at=expires_at)
    if now is not None:
        row.created_at = now
    session.add(row)
    session.flush()
    details = {"user": user.username, "name": name, "expires_at": expires_at}
    audit.record(session, "token.issued", kind="token", key=row.id, details=details)
    return IssuedToken(row, token)


def issue_token(session: Session, user: User, *, name: str = "") -> str:
    """A new API token for ``user``; the plain token is returned once and never stored."""
    return grant_token(session, user, name=name).token


def list_tokens(
    session: Session, *, user_id: int | None, after_id: int | None = None, limit: int = 100
) -> list[ApiToken]:
    """API tokens, oldest first: one user's, or everyone's when ``user_id`` is None."""
    query = select(ApiToken).order_by(ApiToken.id).limit(limit)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    if after_id is not None:
        query = query.where(ApiToken.id > after_id)
    return list(session.scalars(query))


def revoke_token(session: Session, token_id: int, *, by: Caller | None, now: datetime) -> ApiToken:
    """Revoke a token for good: its owner or an admin may (``by`` None: the CLI). Another
    user's token is a 404, as if it did not exist; a token revoked already is a 409."""
    row = session.get(ApiToken, token_id, with_for_update=True)
    if row is None or (by is not None and by.role != Role.ADMIN and row.user_id != by.id):
        raise UnknownKey(f"No API token {token_id}.", token=token_id)
    if row.revoked_at is not None:
        raise Conflict(f"API token {token_id} was revoked already.", token=token_id)
    row.revoked_at = now
    session.flush()
    details = {"user": row.user.username, "name": row.name}
    audit.record(session, "token.revoked", kind="token", key=row.id, details=details)
    return row


MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()  # Argon2id with the library's (RFC 9106) default cost


def set_password(user: User, password: str) -> None:
    """Store a hash of ``password`` for logging in to the pages; the password is not kept."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"A password has at least {MIN_PASSWORD_LENGTH} characters.",
            errors={"password": [f"At least {MIN_PASSWORD_LENGTH} characters."]},
        )
    user.password_hash = _hasher.hash(password)
    user.session_generation = (user.session_generation or 0) + 1  # older logins end


def end_sessions(session: Session, user_id: int) -> None:
    """Log the user out everywhere: the login cookies given out so far stop working."""
    user = session.get(User, user_id)
    if user is not None:
        user.session_generation = (user.session_generation or 0) + 1
        session.flush()


def check_password(session: Session, username: str, password: str) -> Caller | None:
    """The active user with this name and password, or None (which of the two was wrong
    is not told). Reads only: see ``needs_new_hash``."""
    found = "\x00" not in username  # PostgreSQL text cannot hold NUL: no such user
    user = session.scalar(select(User).where(User.username == username)) if found else None
    if user is None or not user.active or not user.password_hash:
        _hasher.hash(password)  # the same work either way, so timing tells nothing
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return Caller.of(user)


def hash_is_weak(session: Session, user_id: int) -> bool:
    """Whether the user's hash was made with weaker settings than today's (read only, so
    a login opens a writing transaction only when ``renew_hash`` must run)."""
    user = session.get(User, user_id)
    return bool(user and user.password_hash and _hasher.check_needs_rehash(user.password_hash))


def renew_hash(session: Session, user_id: int, password: str) -> None:
    """After a good login with a weak hash: the hash made anew from the password just checked."""
    user = session.get(User, user_id)
    if user is not None and hash_is_weak(session, user_id):
        user.password_hash = _hasher.hash(password)


def caller_by_id(session: Session, user_id: int) -> Caller | None:
    """The user a login session names, if they are still active."""
    user = session.get(User, user_id)
    return Caller.of(user) if user is not None and user.active else None


@dataclass(frozen=True)
class Caller:
    """Who is acting: enough to check a role and to sign a ledger line."""

    id: int
    username: str
    role: str
    generation: int = 0
    """The user's session generation: a login cookie of another one is void."""

    @classmethod
    def of(cls, user: User) -> Caller:
        return cls(user.id, user.username, user.role, user.session_generation or 0)


def caller_for_token(session: Session, token: str, *, now: datetime) -> Caller | None:
    """The active user a token belongs to, or None if it is unknown, revoked or expired."""
    row = session.connection().execute(_CALLER_BY_TOKEN, {"b_hash": hash_token(token)}).first()
    return caller_of_token_row(row, now=now)


def caller_of_token_row(row: Any, *, now: datetime) -> Caller | None:
    """The caller a row of ``CALLER_COLUMNS`` names, or None if the token is unknown (no
    row), revoked or expired, or its user inactive."""
    if row is None or not row.active or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    return Caller(row.id, row.username, row.role)


CALLER_COLUMNS = (
    User.id,
    User.username,
    User.role,
    User.active,
    ApiToken.expires_at,
    ApiToken.revoked_at,
)
"""What a token check reads: the user, and whether the token is still good."""

_CALLER_BY_TOKEN = (
    select(*CALLER_COLUMNS)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("b_hash"))
)
