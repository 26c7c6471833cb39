"""Parts, locations, the stock ledger (moves), cached levels, serialized units, counts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partsvc.inventory.rules import LOCATION_KINDS
from partsvc.platform.db import Base, UTCDateTime, one_of, utcnow


class Location(Base):
    __tablename__ = "locations"
    __table_args__ = (CheckConstraint(one_of("kind", LOCATION_KINDS), name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("engineers.id"), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    engineer = relationship("Engineer", back_populates="van", lazy="joined")


class Part(Base):
    __tablename__ = "parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    name_zh: Mapped[str | None] = mapped_column(String(200))
    barcode: Mapped[str | None] = mapped_column(String(64), unique=True)
    serialized: Mapped[bool] = mapped_column(Boolean, default=False)
    # A loaner model (R10): its units are lent to customers while theirs is repaired.
    loaner: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    unit_cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    lead_time_days: Mapped[int | None] = mapped_column(Integer)
    warranty_months: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    vendor: Mapped[Location | None] = relationship(lazy="joined")


class StockLevel(Base):
    """The on-hand cache per (part, location): always equal to the sum of the ledger (R1).

    ``guarded`` copies whether the location holds stock (R2), so the database itself
    refuses a negative level there even if a bug slipped past ``post_move``.
    """

    __tablename__ = "stock_levels"
    __table_args__ = (
        UniqueConstraint("part_id", "location_id"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("NOT guarded OR on_hand >= reserved", name="guarded_not_negative"),
        Index("ix_stock_levels_location_id_part_id", "location_id", "part_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    guarded: Mapped[bool] = mapped_column(Boolean)

    part: Mapped[Part] = relationship(lazy="joined")
    location: Mapped[Location] = relationship(lazy="joined")

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class Unit(Base):
    """One serialized unit: where it is now. Its history is the moves that carried it."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(100), unique=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    part: Mapped[Part] = relationship(lazy="joined")
    location: Mapped[Location] = relationship(lazy="joined")


class MoveUnit(Base):
    __tablename__ = "move_units"

    move_id: Mapped[int] = mapped_column(ForeignKey("moves.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True, index=True)


class Move(Base):
    """One line of the ledger: written once, never edited or deleted (R1)."""

    __tablename__ = "moves"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("from_location_id <> to_location_id", name="from_is_not_to"),
        Index("ix_moves_part_id_id", "part_id", "id"),
        Index("ix_moves_from_location_id_id", "from_location_id", "id"),
        Index("ix_moves_to_location_id_id", "to_location_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"))
    qty: Mapped[int] = mapped_column(Integer)
    from_location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    to_location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    reason: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("moves.id"), unique=True)
    # The document that booked the move (a vendor order, a loan, a part request): undone
    # there, where its own records are undone with it, never by a bare reversal.
    document: Mapped[str | None] = mapped_column(String(40))

    part: Mapped[Part] = relationship(lazy="joined")
    from_location: Mapped[Location] = relationship(foreign_keys=[from_location_id], lazy="joined")
    to_location: Mapped[Location] = relationship(foreign_keys=[to_location_id], lazy="joined")
    units: Mapped[list[Unit]] = relationship(
        secondary="move_units", lazy="selectin", order_by="Unit.serial"
    )
    user = relationship("User", lazy="joined")
    reversed_by: Mapped[Move | None] = relationship(
        "Move",
        primaryjoin="Move.id == remote(foreign(Move.reverses_id))",
        uselist=False,
        viewonly=True,
        lazy="selectin",
    )

    # The same flat view of a move as ``ledger.BookedMove`` gives of one just written.
    @property
    def sku(self) -> str:
        return self.part.sku

    @property
    def from_code(self) -> str:
        return self.from_location.code

    @property
    def to_code(self) -> str:
        return self.to_location.code

    @property
    def serials(self) -> tuple[str, ...]:
        return tuple(unit.serial for unit in self.units)

    @property
    def by(self) -> str | None:
        return self.user.username if self.user else None

    @property
    def reversed_by_id(self) -> int | None:
        return self.reversed_by.id if self.reversed_by else None


class StockCount(Base):
    """A stock count of one location (R6); differences are booked against adjustment."""

    __tablename__ = "stock_counts"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(500))

    location: Mapped[Location] = relationship(lazy="joined")
    user = relationship("User", lazy="joined")
    lines: Mapped[list[StockCountLine]] = relationship(
        lazy="selectin", order_by="StockCountLine.id"
    )


class StockCountLine(Base):
    __tablename__ = "stock_count_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    count_id: Mapped[int] = mapped_column(ForeignKey("stock_counts.id"), index=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"))
    expected: Mapped[int] = mapped_column(Integer)
    counted: Mapped[int] = mapped_column(Integer)
    move_id: Mapped[int | None] = mapped_column(ForeignKey("moves.id"))

    part: Mapped[Part] = relationship(lazy="joined")
    move: Mapped[Move | None] = relationship(lazy="joined")

    @property
    def difference(self) -> int:
        return self.counted - self.expected
