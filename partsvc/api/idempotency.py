"""Stored answers to POSTs that carried an ``Idempotency-Key`` (R4).

The answer is stored in the same transaction as the write it answers, so either both
are committed or neither. A concurrent duplicate waits on the key it claims first
(``claim_key``), then finds and replays the stored answer; the unique key on (user, key)
stays as the database's own guarantee.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    bindparam,
    insert,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from partsvc.core.errors import IdempotencyKeyReused, InvalidInput
from partsvc.platform.db import Base, UTCDateTime, advisory_lock, table_of

MAX_KEY_LENGTH = 255


class IdempotentAnswer(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    location: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    content_type: str
    body: bytes
    location: str | None


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(
            "Idempotency-Key must be 1 to 255 printable characters.",
            errors={"Idempotency-Key": ["1 to 255 printable characters."]},
        )
    return key


def fingerprint(method: str, path: str, body: bytes) -> str:
    """The same request, however its JSON is spaced or ordered, has the same fingerprint."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":"))
    except (ValueError, UnicodeDecodeError):
        canonical = body.decode("latin-1")
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def claim_key(session: Session, *, user_id: int, key: str) -> None:
    """Wait until no other transaction is working on the same key, then hold it.

    Without this, a retry arriving while the first request still runs would do the work
    again and fail on what the first one changed (the stock it took, the serial it moved)
    with a 409, instead of getting the first answer. PostgreSQL: a transaction-scoped
    advisory lock. SQLite needs nothing: it runs one write transaction at a time.
    """
    advisory_lock(session, f"{user_id}:{key}")


def find_answer(
    session: Session, *, user_id: int, key: str, fingerprint: str
) -> StoredAnswer | None:
    row = session.scalar(
        select(IdempotentAnswer).where(
            IdempotentAnswer.user_id == user_id, IdempotentAnswer.key == key
        )
    )
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different request.",
            key=key,
        )
    return StoredAnswer(row.status_code, row.content_type, row.body, row.location)


def store_answer(
    session: Session,
    *,
    user_id: int,
    key: str,
    fingerprint: str,
    answer: StoredAnswer,
    now: datetime,
) -> None:
    """Store the answer; a concurrent duplicate raises IntegrityError on the unique key."""
    session.connection().execute(
        insert(IdempotentAnswer),
        {
            "user_id": user_id,
            "key": key,
            "fingerprint": fingerprint,
            "status_code": answer.status_code,
            "content_type": answer.content_type,
            "body": answer.body,
            "location": answer.location,
            "created_at": now,
        },
    )


_answers = table_of(IdempotentAnswer)
_FIND = select(
    _answers.c.fingerprint,
    _answers.c.status_code,
    _answers.c.content_type,
    _answers.c.body,
    _answers.c.location,
).where(_answers.c.user_id == bindparam("b_user"), _answers.c.key == bindparam("b_key"))
