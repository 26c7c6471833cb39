"""Engineers, customers, their contracts and sites. Service calls join them here."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Time,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partsvc.platform.db import Base, UTCDateTime, one_of, utcnow

TIERS = ("gold", "silver", "bronze", "none")
PRIORITIES = ("P1", "P2", "P3")
CALL_KINDS = ("corrective", "preventive")
DEADLINES = ("response", "onsite", "resolve")
ALERT_LEVELS = ("near", "missed")
# Why a call's SLA clock is paused: the customer's side only. Waiting for parts is ours
# and never stops the clock.
HOLD_REASONS = ("customer_not_available", "customer_asked_to_wait", "awaiting_customer_approval")
CALL_STATUSES = (
    "new",
    "assigned",
    "en_route",
    "on_site",
    "waiting_for_parts",
    "resolved",
    "closed",
)


class Engineer(Base):
    """A field engineer: where their day starts, what they can fix, when they work."""

    __tablename__ = "engineers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    home_lat: Mapped[float | None] = mapped_column(Float)
    home_lon: Mapped[float | None] = mapped_column(Float)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    shift_start: Mapped[time] = mapped_column(Time, default=time(9))
    shift_end: Mapped[time] = mapped_column(Time, default=time(18))

    user = relationship("User", lazy="joined")
    van = relationship("Location", back_populates="engineer", uselist=False, lazy="joined")


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contracts: Mapped[list[Contract]] = relationship(
        back_populates="customer", order_by="Contract.starts_on.desc()", lazy="selectin"
    )

    def contract_on(self, day: date) -> Contract | None:
        """The contract in force on ``day``, if any (R19)."""
        for contract in self.contracts:
            if contract.starts_on <= day and (contract.ends_on is None or day <= contract.ends_on):
                return contract
        return None


class Contract(Base):
    """A service contract (R19): its tier sets priorities, visits and the P1 clock."""

    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint(one_of("tier", TIERS), name="tier_known"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
        UniqueConstraint("customer_id", "starts_on", name="uq_contracts_one_start_per_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    tier: Mapped[str] = mapped_column(String(16))
    designated_engineer_id: Mapped[int | None] = mapped_column(ForeignKey("engineers.id"))
    visit_every_months: Mapped[int | None] = mapped_column(Integer)
    regional_fee: Mapped[bool] = mapped_column(Boolean, default=False)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)

    customer: Mapped[Customer] = relationship(back_populates="contracts")
    designated_engineer: Mapped[Engineer | None] = relationship(lazy="joined")


class Equipment(Base):
    """A unit in a customer's installed base (R18): its serial, model and cover (R15)."""

    __tablename__ = "equipment"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(100), unique=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    installed_on: Mapped[date] = mapped_column(Date)
    warranty_until: Mapped[date] = mapped_column(Date)
    maintenance_until: Mapped[date] = mapped_column(Date)
    # A unit swapped out under an RMA points at the one installed in its place.
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("equipment.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    part = relationship("Part", lazy="joined")
    replaced_by: Mapped[Equipment | None] = relationship(remote_side=[id], lazy="joined")
    site: Mapped[Site] = relationship(lazy="joined")
    calls: Mapped[list[Call]] = relationship(
        back_populates="equipment", lazy="selectin", order_by="Call.id"
    )


class Site(Base):
    """A customer's site (R18). Its stock location, of kind site, has the same code."""

    __tablename__ = "sites"
    __table_args__ = (CheckConstraint("(lat IS NULL) = (lon IS NULL)", name="placed_whole"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    address: Mapped[str] = mapped_column(String(500))
    region: Mapped[str | None] = mapped_column(String(64))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    """WGS-84 degrees; both None while the site is known only by its address (imported
    that way), until an operator places it on the map (``customers.place_site``)."""
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), unique=True)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    # The number the engineer rings before arriving (a tel: link on the visit's page).
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_language: Mapped[str | None] = mapped_column(String(16))
    """The site's contact, told of its calls, loaners and repairs (``zh_CN`` or ``en``;
    the deployment's default language when not set)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship(lazy="joined")

    @property
    def placed(self) -> bool:
        """Whether the site has its place on the map (the planner can route to it)."""
        return self.lat is not None and self.lon is not None


class SlaTarget(Base):
    """One row of the SLA policy (R20, R21), editable by an admin; new calls use it."""

    __tablename__ = "sla_targets"
    __table_args__ = (
        CheckConstraint(one_of("tier", TIERS), name="tier_known"),
        CheckConstraint(one_of("priority", PRIORITIES), name="priority_known"),
        CheckConstraint(
            "(resolve_minutes IS NULL) <> (resolve_working_days IS NULL)", name="one_resolve"
        ),
    )

    tier: Mapped[str] = mapped_column(String(16), primary_key=True)
    priority: Mapped[str] = mapped_column(String(2), primary_key=True)
    response_minutes: Mapped[int] = mapped_column(Integer)
    onsite_minutes: Mapped[int | None] = mapped_column(Integer)
    resolve_minutes: Mapped[int | None] = mapped_column(Integer)
    resolve_working_days: Mapped[int | None] = mapped_column(Integer)
    round_the_clock: Mapped[bool] = mapped_column(Boolean, default=False)


class Call(Base):
    """A service call (R22) with the deadlines computed when it was reported (R20)."""

    __tablename__ = "calls"
    __table_args__ = (
        CheckConstraint(one_of("priority", PRIORITIES), name="priority_known"),
        CheckConstraint(one_of("status", CALL_STATUSES), name="status_known"),
        CheckConstraint(one_of("kind", CALL_KINDS), name="kind_known"),
        CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction_1_to_5"),
        # One preventive visit per site and visit period (R24): the sweep may run twice.
        UniqueConstraint("site_id", "visit_period_start", name="uq_calls_one_visit_per_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    equipment_id: Mapped[int | None] = mapped_column(ForeignKey("equipment.id"))
    priority: Mapped[str] = mapped_column(String(2))
    tier: Mapped[str] = mapped_column(String(16))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    response_due: Mapped[datetime] = mapped_column(UTCDateTime)
    onsite_due: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    resolve_due: Mapped[datetime] = mapped_column(UTCDateTime)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    parts: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    description: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="corrective", server_default="corrective")
    visit_period_start: Mapped[date | None] = mapped_column(Date)
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("engineers.id"), index=True)
    # When each clock of R20 stopped: first assigned, first on site, first resolved.
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    onsite_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    satisfaction_note: Mapped[str | None] = mapped_column(String(2000))
    satisfaction_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Since when the call's clocks are paused (on hold); None while they run.
    held_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Reported by the customer from a unit's label (issue 26): who to call back, the
    # tracking page's random id, and whether a dispatcher has confirmed the priority the
    # customer's words proposed.
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    tracking_code: Mapped[str | None] = mapped_column(String(64), unique=True)
    priority_confirmed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship(lazy="joined")
    equipment: Mapped[Equipment | None] = relationship(back_populates="calls", lazy="joined")
    engineer: Mapped[Engineer | None] = relationship(lazy="joined")
    alerts: Mapped[list[CallAlert]] = relationship(lazy="selectin", order_by="CallAlert.id")
    history: Mapped[list[CallStatusChange]] = relationship(
        lazy="selectin", order_by="CallStatusChange.id"
    )
    holds: Mapped[list[CallHold]] = relationship(lazy="selectin", order_by="CallHold.id")


class CallStatusChange(Base):
    """Every status a call went through, with its time and who set it (R22)."""

    __tablename__ = "call_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CallHold(Base):
    """One pause of a call's SLA clocks: why, who paused it and when, who resumed it and
    when, and how much working time its running deadlines moved by."""

    __tablename__ = "call_holds"
    __table_args__ = (CheckConstraint(one_of("reason", HOLD_REASONS), name="reason_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(500))
    paused_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paused_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resumed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resume_note: Mapped[str | None] = mapped_column(String(500))
    paused_seconds: Mapped[int | None] = mapped_column(Integer)  # working time, on resume


class CallAlert(Base):
    """A deadline found near or missed by the sweep (R22): raised once, kept for the record."""

    __tablename__ = "call_alerts"
    __table_args__ = (
        CheckConstraint(one_of("deadline", DEADLINES), name="deadline_known"),
        CheckConstraint(one_of("level", ALERT_LEVELS), name="level_known"),
        UniqueConstraint("call_id", "deadline", "level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    deadline: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ServiceRecord(Base):
    """What the engineer did on a call, as both sides signed it (R23): one per call.

    The parts consumed are the ledger moves from the van with ``reference`` "call <id>";
    the loaner placed and the unit taken back are the loan and the RMA it names."""

    __tablename__ = "service_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), unique=True)
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("engineers.id"))
    work_done: Mapped[str] = mapped_column(String(4000))
    signed_by: Mapped[str] = mapped_column(String(200))  # the customer's name, as signed
    # the engineer's name, as signed; records from before both sides signed have none
    engineer_signed_by: Mapped[str | None] = mapped_column(String(200))
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"))
    rma_id: Mapped[int | None] = mapped_column(ForeignKey("rmas.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    call: Mapped[Call] = relationship(lazy="joined")
