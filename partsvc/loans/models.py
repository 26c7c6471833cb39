"""Loans of loaner units (R10–R13), their extensions, reservations and reminders."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partsvc.loans.rules import HoldStatus, LoanStatus
from partsvc.platform.db import Base, UTCDateTime, one_of, unique_while, utcnow

CONDITIONS = ("ok", "damaged", "missing_accessories")
LOAN_STATUSES = tuple(LoanStatus)
RESERVATION_STATUSES = tuple(HoldStatus)
REMINDER_KINDS = ("due_soon", "overdue")


class Loan(Base):
    """A loaner unit placed on a customer's site (R10), due back 15 days later (R11)."""

    __tablename__ = "loans"
    __table_args__ = (
        CheckConstraint(one_of("status", LOAN_STATUSES), name="status_known"),
        CheckConstraint(
            "condition IS NULL OR " + one_of("condition", CONDITIONS), name="condition_known"
        ),
        # A unit is out on one loan at a time, whatever races the ledger lets through.
        unique_while("uq_loans_one_open_loan_per_unit", "unit_id", status="open"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    rma_id: Mapped[int | None] = mapped_column(ForeignKey("rmas.id"), index=True)
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("engineers.id"), index=True)
    from_location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    status: Mapped[str] = mapped_column(String(16), index=True)
    out_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    to_collect: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Who brings it back (R13): the engineer delivering the repaired unit, if named.
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("engineers.id"), index=True)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    condition: Mapped[str | None] = mapped_column(String(32))
    return_note: Mapped[str | None] = mapped_column(String(1000))
    out_move_id: Mapped[int] = mapped_column(ForeignKey("moves.id"))
    return_move_id: Mapped[int | None] = mapped_column(ForeignKey("moves.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    unit = relationship("Unit", lazy="joined")
    site = relationship("Site", lazy="joined")
    call = relationship("Call", lazy="joined")
    engineer = relationship("Engineer", foreign_keys=[engineer_id], lazy="joined")
    collector = relationship("Engineer", foreign_keys=[collector_id], lazy="joined")
    from_location = relationship("Location", foreign_keys=[from_location_id], lazy="joined")
    return_location = relationship("Location", foreign_keys=[return_location_id], lazy="joined")
    extensions: Mapped[list[LoanExtension]] = relationship(
        lazy="selectin", order_by="LoanExtension.id"
    )


class LoanExtension(Base):
    """A loan's due date pushed back (R11): the reason, and whether an admin overrode the
    policy maximum."""

    __tablename__ = "loan_extensions"
    __table_args__ = (CheckConstraint("days > 0", name="days_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    old_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    new_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    override: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class LoanerReservation(Base):
    """A loaner unit held for a planned visit, so it is not lent elsewhere."""

    __tablename__ = "loaner_reservations"
    __table_args__ = (
        CheckConstraint(one_of("status", RESERVATION_STATUSES), name="status_known"),
        unique_while("uq_loaner_reservations_one_active_per_unit", "unit_id", status="active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    reserved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"))

    unit = relationship("Unit", lazy="joined")
    call = relationship("Call", lazy="joined")


class LoanPolicy(Base):
    """R11/R12 as data: loan length, the furthest an extension may reach, the warning."""

    __tablename__ = "loan_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_days: Mapped[int] = mapped_column(Integer)
    max_days: Mapped[int] = mapped_column(Integer)
    due_soon_days: Mapped[int] = mapped_column(Integer)


class Reminder(Base):
    """One reminder per loan, kind and day (R12): the record that it was written; its
    messages go out through the one outbox (``platform/outbox.py``)."""

    __tablename__ = "reminders"
    __table_args__ = (
        CheckConstraint(one_of("kind", REMINDER_KINDS), name="kind_known"),
        UniqueConstraint("loan_id", "kind", "on_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    on_day: Mapped[date] = mapped_column(Date)
    recipient: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
