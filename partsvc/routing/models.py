"""Stored day plans (R26): per engineer a route of stops, and the calls left out with why."""

from __future__ import annotations

import math
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partsvc.platform.db import Base, UTCDateTime, one_of, unique_while, utcnow


class PlanStatus(StrEnum):
    """A plan is a draft until published; a newer published plan of its day replaces it."""

    DRAFT = "draft"
    PUBLISHED = "published"
    REPLACED = "replaced"


PLAN_STATUSES = tuple(PlanStatus)
STOP_KINDS = ("call", "pickup")


class DayPlan(Base):
    """One planning run for a day. Publishing assigns its calls; a later one replaces it."""

    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint(one_of("status", PLAN_STATUSES), name="status_known"),
        # One published plan per day, whatever two dispatchers publishing at once do.
        unique_while("uq_plans_one_published_per_day", "day", status="published"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16), default=PlanStatus.DRAFT)
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    time_limit_s: Mapped[float] = mapped_column(Float)
    solve_seconds: Mapped[float] = mapped_column(Float)
    travel_source: Mapped[str] = mapped_column(String(32))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    routes: Mapped[list[PlanRoute]] = relationship(
        lazy="selectin", order_by="PlanRoute.id", cascade="all, delete-orphan"
    )
    unassigned: Mapped[list[PlanUnassigned]] = relationship(
        lazy="selectin", order_by="PlanUnassigned.id", cascade="all, delete-orphan"
    )


class PlanRoute(Base):
    __tablename__ = "plan_routes"
    __table_args__ = (UniqueConstraint("plan_id", "engineer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    engineer_id: Mapped[int] = mapped_column(ForeignKey("engineers.id"))
    leave_at: Mapped[datetime] = mapped_column(UTCDateTime)
    back_at: Mapped[datetime] = mapped_column(UTCDateTime)
    driving_seconds: Mapped[int] = mapped_column(Integer)
    driving_metres: Mapped[int] = mapped_column(Integer)

    engineer = relationship("Engineer", lazy="joined")
    stops: Mapped[list[PlanStop]] = relationship(
        lazy="selectin", order_by="PlanStop.position", cascade="all, delete-orphan"
    )


class PlanStop(Base):
    """A call to serve or a pick-up at a warehouse (for a call), with its times."""

    __tablename__ = "plan_stops"
    __table_args__ = (
        CheckConstraint(one_of("kind", STOP_KINDS), name="kind_known"),
        CheckConstraint(
            "(kind = 'pickup') = (warehouse_id IS NOT NULL)", name="pickup_has_warehouse"
        ),
        UniqueConstraint("route_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("plan_routes.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    """The call served, or the call a pick-up is made for."""
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    arrive_at: Mapped[datetime] = mapped_column(UTCDateTime)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    depart_at: Mapped[datetime] = mapped_column(UTCDateTime)
    parts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    """Pick-ups: units per SKU taken (and reserved at the warehouse once published)."""
    frozen: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Done or under way when the plan was made: kept as it was."""
    collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Pick-ups: when the parts were booked onto the van (and the reservation ended)."""
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Pick-ups: when the reservation was given back uncollected (plan replaced, day over)."""

    call = relationship("Call", lazy="joined")
    warehouse = relationship("Location", lazy="joined")

    @property
    def late_minutes(self) -> int:
        """How late the work begins past a P1/P2 call's on-site deadline (R28: served late
        rather than not at all); 0 when on time, for a pick-up, and for routine work."""
        if self.kind != "call" or self.call.priority not in ("P1", "P2"):
            return 0
        late: float = (self.start_at - self.call.onsite_due).total_seconds()
        return max(0, math.ceil(late / 60))


class PlanUnassigned(Base):
    __tablename__ = "plan_unassigned"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    reason: Mapped[str] = mapped_column(String(64))

    call = relationship("Call", lazy="joined")
