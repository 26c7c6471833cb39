"""Stored answers to POSTs that carried an ``Idempotency-Key`` (R4).

The answer is stored in the same transaction as the write it answers, so either both
are committed or neither. A request claims its key first by inserting the key's row
(``claim``, one statement that also finds an answer stored before); a concurrent
duplicate waits on that row's unique key (user, key), then replays the stored answer.
A view may keep less than it answered (``Resource.replayable``: a new token is never
kept); keys are forgotten after ``PARTSVC_IDEMPOTENCY_RETENTION_HOURS`` by ``partsvc
sweep`` (``forget_before``).
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Executable,
    Integer,
    LargeBinary,
    Row,
    String,
    UniqueConstraint,
    bindparam,
    delete,
    exists,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from partsvc.auth.identity import CALLER_COLUMNS
from partsvc.auth.models import ApiToken, User
from partsvc.core.errors import Conflict, IdempotencyKeyReused, InvalidInput
from partsvc.platform.db import Base, UTCDateTime, table_of

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


def usable_key(key: str) -> bool:
    return bool(key) and len(key) <= MAX_KEY_LENGTH and key.isprintable()


def check_key(key: str) -> str:
    if not usable_key(key):
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


def claim(
    session: Session, *, user_id: int, key: str, fingerprint: str, now: datetime
) -> StoredAnswer | None:
    """Hold the key for this request, or find the answer already stored for it.

    One statement: the key's row is inserted now, as a placeholder the answer replaces
    (``store_answer``) in the same transaction. A concurrent duplicate's INSERT waits on
    the unique key (user, key) until the first transaction ends: when it committed, the
    duplicate inserts nothing and replays the stored answer; when it rolled back (a 409,
    a worker killed), the duplicate holds the key and does the work itself. Without this
    wait, a retry arriving while the first request still runs would do the work again
    and fail on what the first one changed (the stock it took, the serial it moved) with
    a 409, instead of getting the first answer. SQLite runs one write at a time anyway.
    """
    claimed = (
        session.connection()
        .execute(
            _claim(session.get_bind().dialect.name),
            {"user_id": user_id, "key": key, "fingerprint": fingerprint, "created_at": now},
        )
        .first()
    )
    if claimed is not None:
        return None
    return find_answer(session, user_id=user_id, key=key, fingerprint=fingerprint)


def find_answer(
    session: Session, *, user_id: int, key: str, fingerprint: str
) -> StoredAnswer | None:
    row = session.connection().execute(_FIND, {"b_user": user_id, "b_key": key}).first()
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different request.",
            key=key,
        )
    if row.status_code == PENDING:  # cannot be committed: see ``release``
        raise Conflict("A request with this Idempotency-Key is still being answered.", key=key)
    return StoredAnswer(row.status_code, row.content_type, row.body, row.location)


def store_answer(session: Session, *, user_id: int, key: str, answer: StoredAnswer) -> None:
    """The answer in place of the placeholder this request's ``claim`` inserted."""
    session.connection().execute(
        _STORE,
        {
            "b_user": user_id,
            "b_key": key,
            "status_code": answer.status_code,
            "content_type": answer.content_type,
            "body": answer.body,
            "location": answer.location,
        },
    )


def release(session: Session, *, user_id: int, key: str) -> None:
    """Forget the claim of a request answered without success (and without an error that
    rolls its transaction back): the key may be used again, as if never sent."""
    session.connection().execute(_RELEASE, {"b_user": user_id, "b_key": key})


PENDING = 0
"""The status of a claimed key whose answer is not stored yet."""

_answers = table_of(IdempotentAnswer)
_FIND = select(
    _answers.c.fingerprint,
    _answers.c.status_code,
    _answers.c.content_type,
    _answers.c.body,
    _answers.c.location,
).where(_answers.c.user_id == bindparam("b_user"), _answers.c.key == bindparam("b_key"))
_STORE = (
    update(_answers)
    .where(_answers.c.user_id == bindparam("b_user"), _answers.c.key == bindparam("b_key"))
    .values(
        status_code=bindparam("status_code"),
        content_type=bindparam("content_type"),
        body=bindparam("body"),
        location=bindparam("location"),
    )
)
_RELEASE = delete(_answers).where(
    _answers.c.user_id == bindparam("b_user"), _answers.c.key == bindparam("b_key")
)


def caller_and_claim(
    session: Session, *, token_hash: str, key: str, fingerprint: str, now: datetime
) -> Row[Any] | None:
    """PostgreSQL: who the token names (``identity.CALLER_COLUMNS``) and whether this
    request claimed its key (``claimed``), in one statement: the token check and
    ``claim`` in one round trip. None when no token has this hash.

    The claim is made for the token's user before the token is judged: when the token
    turns out revoked or expired, or the role may not call, the request fails and its
    transaction, the claim with it, is rolled back.
    """
    row = (
        session.connection()
        .execute(
            _CALLER_AND_CLAIM,
            {"b_hash": token_hash, "key": key, "fingerprint": fingerprint, "created_at": now},
        )
        .first()
    )
    return row


def joins_token_check(session: Session) -> bool:
    """Whether ``caller_and_claim`` is available here (one statement: PostgreSQL only)."""
    return bool(session.get_bind().dialect.name == "postgresql")


@functools.cache
def _claim(dialect: str) -> Executable:
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        upsert(_answers)
        .values(
            user_id=bindparam("user_id"),
            key=bindparam("key"),
            fingerprint=bindparam("fingerprint"),
            status_code=PENDING,
            content_type="",
            body=b"",
            location=None,
            created_at=bindparam("created_at"),
        )
        .on_conflict_do_nothing(index_elements=[_answers.c.user_id, _answers.c.key])
        .returning(_answers.c.id)
    )


def _caller_and_claim() -> Executable:
    caller = (
        select(*CALLER_COLUMNS)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == bindparam("b_hash"))
        .cte("caller")
    )
    claimed = (
        pg_insert(_answers)
        .from_select(
            ["user_id", "key", "fingerprint", "status_code", "content_type", "body", "created_at"],
            select(
                caller.c.id,
                bindparam("key", type_=String),
                bindparam("fingerprint", type_=String),
                literal(PENDING, Integer),
                literal("", String),
                literal(b"", LargeBinary),
                bindparam("created_at", type_=UTCDateTime),
            ),
        )
        .on_conflict_do_nothing(index_elements=[_answers.c.user_id, _answers.c.key])
        .returning(_answers.c.id)
        .cte("claimed")
    )
    return select(caller, exists(select(claimed.c.id)).label("claimed"))


_CALLER_AND_CLAIM = _caller_and_claim()


def forget_before(session: Session, moment: datetime) -> int:
    """Delete the keys claimed before ``moment``; how many. A retry after that is a new
    request (clients retry within minutes, not days)."""
    table = table_of(IdempotentAnswer)
    deleted = session.execute(delete(table).where(table.c.created_at < moment))
    return int(deleted.rowcount or 0)  # type: ignore[attr-defined]
