"""Creating users and API tokens, and recognising a token."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from partsvc.auth.models import ROLE_VALUES, ApiToken, User
from partsvc.errors import DuplicateKey, InvalidInput

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
    return user


def issue_token(session: Session, user: User, *, name: str = "") -> str:
    """A new API token for ``user``; the plain token is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), name=name))
    session.flush()
    return token


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


def check_password(session: Session, username: str, password: str) -> Caller | None:
    """The active user with this name and password, or None (which of the two was wrong
    is not told). Reads only: see ``needs_new_hash``."""
    user = session.scalar(select(User).where(User.username == username))
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

    @classmethod
    def of(cls, user: User) -> Caller:
        return cls(user.id, user.username, user.role)


def caller_for_token(session: Session, token: str, *, now: datetime) -> Caller | None:
    """The active user a token belongs to, or None if it is unknown, revoked or expired."""
    row = session.connection().execute(_CALLER_BY_TOKEN, {"b_hash": hash_token(token)}).first()
    if row is None or not row.active or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    return Caller(row.id, row.username, row.role)


_CALLER_BY_TOKEN = (
    select(User.id, User.username, User.role, User.active, ApiToken.expires_at, ApiToken.revoked_at)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("b_hash"))
)
