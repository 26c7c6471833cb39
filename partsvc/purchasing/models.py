"""Vendor orders (R8), part requests (R7, R9) and reorder rules (R5)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partsvc.platform.db import Base, UTCDateTime, one_of, utcnow

ORDER_STATUSES = ("draft", "sent", "partially_received", "received", "cancelled")
REQUEST_STATUSES = ("open", "reserved", "backordered", "issued", "cancelled")


class VendorOrder(Base):
    """An order to a vendor (a location of kind vendor) for parts, line by line (R8)."""

    __tablename__ = "vendor_orders"
    __table_args__ = (CheckConstraint(one_of("status", ORDER_STATUSES), name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    deliver_to_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    status: Mapped[str] = mapped_column(String(20), index=True)
    note: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    vendor = relationship("Location", foreign_keys=[vendor_id], lazy="joined")
    deliver_to = relationship("Location", foreign_keys=[deliver_to_id], lazy="joined")
    lines: Mapped[list[VendorOrderLine]] = relationship(
        back_populates="order", lazy="selectin", order_by="VendorOrderLine.id"
    )

    @property
    def number(self) -> str:
        return f"VO-{self.id:06d}"


class VendorOrderLine(Base):
    __tablename__ = "vendor_order_lines"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("received_qty >= 0 AND received_qty <= qty", name="received_within_qty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("vendor_orders.id"), index=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"), index=True)
    qty: Mapped[int] = mapped_column(Integer)
    received_qty: Mapped[int] = mapped_column(Integer, default=0)
    unit_cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    eta: Mapped[date] = mapped_column(Date)

    order: Mapped[VendorOrder] = relationship(back_populates="lines", lazy="joined")
    part = relationship("Part", lazy="joined")
    eta_changes: Mapped[list[EtaChange]] = relationship(lazy="selectin", order_by="EtaChange.id")

    @property
    def open_qty(self) -> int:
        return self.qty - self.received_qty


class EtaChange(Base):
    """Every change of a line's ETA, with who and when (R8)."""

    __tablename__ = "eta_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("vendor_order_lines.id"), index=True)
    old_eta: Mapped[date] = mapped_column(Date)
    new_eta: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Receipt(Base):
    """Goods received against a vendor order, booked in through the ledger (R8)."""

    __tablename__ = "receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("vendor_orders.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reversed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    location = relationship("Location", lazy="joined")
    order: Mapped[VendorOrder] = relationship(lazy="joined")
    lines: Mapped[list[ReceiptLine]] = relationship(lazy="selectin", order_by="ReceiptLine.id")


class ReceiptLine(Base):
    __tablename__ = "receipt_lines"
    __table_args__ = (CheckConstraint("qty > 0", name="qty_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipts.id"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("vendor_order_lines.id"))
    qty: Mapped[int] = mapped_column(Integer)
    move_id: Mapped[int] = mapped_column(ForeignKey("moves.id"))


class PartRequest(Base):
    """A part needed for a call or by an engineer, to be processed in 4 working hours (R7).

    What is on the shelf is reserved at once; the rest waits on a vendor order line
    (backordered) and is reserved when it arrives (R9).
    """

    __tablename__ = "part_requests"
    __table_args__ = (
        CheckConstraint(one_of("status", REQUEST_STATUSES), name="status_known"),
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("reserved_qty >= 0 AND reserved_qty <= qty", name="reserved_within_qty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"), index=True)
    qty: Mapped[int] = mapped_column(Integer)
    reserved_qty: Mapped[int] = mapped_column(Integer, default=0)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("engineers.id"), index=True)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("vendor_order_lines.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issue_move_id: Mapped[int | None] = mapped_column(ForeignKey("moves.id"))
    note: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    part = relationship("Part", lazy="joined")
    warehouse = relationship("Location", lazy="joined")
    call = relationship("Call", lazy="joined")
    engineer = relationship("Engineer", lazy="joined")
    line: Mapped[VendorOrderLine | None] = relationship(lazy="joined")

    @property
    def waiting_qty(self) -> int:
        return self.qty - self.reserved_qty


class ProcessingTarget(Base):
    """Working-time targets that are not per call, e.g. part requests: 4 working hours (R20)."""

    __tablename__ = "processing_targets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    working_minutes: Mapped[int] = mapped_column(Integer)


class ReorderRule(Base):
    """When to reorder a part for a warehouse (R5): a reorder point, and either a fixed
    quantity or a maximum to order up to."""

    __tablename__ = "reorder_rules"
    __table_args__ = (
        UniqueConstraint("part_id", "location_id"),
        CheckConstraint("reorder_point >= 0", name="point_not_negative"),
        CheckConstraint("(reorder_qty IS NULL) <> (max_qty IS NULL)", name="qty_or_max"),
        CheckConstraint("reorder_qty IS NULL OR reorder_qty > 0", name="qty_positive"),
        CheckConstraint("max_qty IS NULL OR max_qty > reorder_point", name="max_above_point"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    reorder_point: Mapped[int] = mapped_column(Integer)
    reorder_qty: Mapped[int | None] = mapped_column(Integer)
    max_qty: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    part = relationship("Part", lazy="joined")
    location = relationship("Location", lazy="joined")
