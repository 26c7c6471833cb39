"""Repair RMAs (R14–R17): the items returned, their warranty verdict, every step."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partsvc.platform.db import Base, UTCDateTime, one_of

RMA_STATUSES = (
    "requested",
    "authorized",
    "rejected",
    "received",
    "diagnosed",
    "repairing",
    "repaired",
    "replaced",
    "shipped",
    "closed",
)
VERDICTS = ("replacement", "free", "at_cost")
REPAIR_PLACES = ("in_house", "vendor")


class Rma(Base):
    """A return for repair, authorized before anything comes back (R14)."""

    __tablename__ = "rmas"
    __table_args__ = (
        CheckConstraint(one_of("status", RMA_STATUSES), name="status_known"),
        CheckConstraint(
            "repair_place IS NULL OR " + one_of("repair_place", REPAIR_PLACES),
            name="repair_place_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    status: Mapped[str] = mapped_column(String(16), index=True)
    fault: Mapped[str] = mapped_column(String(2000))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # R16: set on receipt, 2 working days with the spare in stock, else 30.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    spare_in_stock: Mapped[bool | None] = mapped_column(Boolean)
    repair_place: Mapped[str | None] = mapped_column(String(16))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    customer = relationship("Customer", lazy="joined")
    site = relationship("Site", lazy="joined")
    items: Mapped[list[RmaItem]] = relationship(lazy="selectin", order_by="RmaItem.id")
    steps: Mapped[list[RmaStep]] = relationship(lazy="selectin", order_by="RmaStep.id")

    @property
    def number(self) -> str:
        return f"RMA-{self.id:06d}"


class RmaItem(Base):
    """One returned unit (by serial) or a quantity of a part, with its verdict (R15)."""

    __tablename__ = "rma_items"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("received_qty >= 0 AND received_qty <= qty", name="received_within_qty"),
        CheckConstraint(one_of("verdict", VERDICTS), name="verdict_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rma_id: Mapped[int] = mapped_column(ForeignKey("rmas.id"), index=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"))
    serial: Mapped[str | None] = mapped_column(String(100), index=True)
    equipment_id: Mapped[int | None] = mapped_column(ForeignKey("equipment.id"))
    qty: Mapped[int] = mapped_column(Integer, default=1)
    delivered_on: Mapped[date | None] = mapped_column(Date)
    verdict: Mapped[str] = mapped_column(String(16))
    verdict_reason: Mapped[str] = mapped_column(String(500))
    received_qty: Mapped[int] = mapped_column(Integer, default=0)
    accessories_complete: Mapped[bool | None] = mapped_column(Boolean)
    replacement_serial: Mapped[str | None] = mapped_column(String(100), index=True)

    part = relationship("Part", lazy="joined")
    equipment = relationship("Equipment", lazy="joined")


class RmaStep(Base):
    """Each step of an RMA's life (R17): who and when."""

    __tablename__ = "rma_steps"
    __table_args__ = (CheckConstraint(one_of("status", RMA_STATUSES), name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rma_id: Mapped[int] = mapped_column(ForeignKey("rmas.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(2000))

    user = relationship("User", lazy="joined")
