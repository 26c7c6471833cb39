"""The customer's side of a call (issue 26): a unit's QR label, the fault reports sent
from it, and the photos that came with them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partsvc.platform.db import Base, UTCDateTime, one_of, utcnow

URGENCIES = ("down", "partial", "other")
"""What the customer says of the fault: the system is down (停机), part of it works
(部分功能), or something else. It proposes P1, P2 or P3; a dispatcher confirms."""


class UnitLabel(Base):
    """A unit's label token, one per unit. The token itself is never stored: only its
    SHA-256 (to find the unit from a scanned code) and the random nonce the server's
    secret turns into the token again when a label is reprinted."""

    __tablename__ = "unit_labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("equipment.id"), unique=True)
    nonce: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    equipment = relationship("Equipment", lazy="joined")


class FaultReport(Base):
    """What a customer sent from a unit's label: the call it opened, or the open call of
    the same unit it joined."""

    __tablename__ = "fault_reports"
    __table_args__ = (CheckConstraint(one_of("urgency", URGENCIES), name="urgency_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("equipment.id"))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str] = mapped_column(String(32))
    urgency: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(2000))
    joined: Mapped[bool] = mapped_column(Boolean, default=False)
    """True when the unit already had an open call and the report was attached to it."""


class CallPhoto(Base):
    """A photo a customer sent with a report, re-encoded without its metadata and kept in
    the instance's files folder under a random name."""

    __tablename__ = "call_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("fault_reports.id"))
    stored_as: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[FaultReport] = relationship(lazy="joined")
