"""Creating users and API tokens, and recognising a token."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.auth.models import ROLE_VALUES, ApiToken, User
from partsvc.errors import DuplicateKey, InvalidInput

TOKEN_PREFIX = "psv_"  # noqa: S105 - a visible prefix, not a secret


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


def user_for_token(session: Session, token: str, *, now: datetime) -> User | None:
    """The active user a token belongs to, or None if it is unknown, revoked or expired."""
    row = session.execute(
        select(User, ApiToken.expires_at, ApiToken.revoked_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    user, expires_at, revoked_at = row
    if revoked_at is not None or (expires_at is not None and expires_at <= now):
        return None
    return user if user.active else None
