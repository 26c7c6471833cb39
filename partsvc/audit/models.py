"""Audit events. Append-only: the database refuses UPDATE and DELETE (see migration 0015)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from partsvc.platform.db import Base, UTCDateTime


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_action_username_at", "action", "username", "at"),
        Index("ix_audit_events_subject_kind_subject_key", "subject_kind", "subject_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    username: Mapped[str | None] = mapped_column(String(64))
    """Who acted; for a failed login, the username tried (which may not exist)."""
    action: Mapped[str] = mapped_column(String(120))
    subject_kind: Mapped[str | None] = mapped_column(String(40))
    subject_key: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    client: Mapped[str | None] = mapped_column(String(64))
    """The client's address as the app saw it."""
