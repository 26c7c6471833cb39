"""The outbox: what happened, written in the transaction that made it happen, and what
is to be sent about it.

A domain calls ``emit`` beside its own writes, so an event exists exactly when its change
was committed. Delivery never happens inside that transaction (nor inside a request): the
sweep, or a queue worker when Redis is configured, fans each event out into messages for
people (``Notification``) and signed POSTs for integrators (``WebhookDelivery``) and sends
them with retries and back-off (``workflows/outbox_delivery.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from partsvc.platform.db import WAKE_AFTER_COMMIT, Base, UTCDateTime, one_of, utcnow

EVENT_TYPES = (
    "call.received",
    "call.assigned",
    "call.en_route",
    "call.arrived",
    "call.waiting_for_parts",
    "call.resolved",
    "call.closed",
    "call.part_eta",
    "loan.lent",
    "loan.returned",
    "loan.due_soon",
    "loan.overdue",
    "rma.requested",
    "rma.authorized",
    "rma.rejected",
    "rma.received",
    "rma.diagnosed",
    "rma.repairing",
    "rma.repaired",
    "rma.replaced",
    "rma.shipped",
    "rma.closed",
    "vendor_order.eta_changed",
    "stock.below_reorder",
)
"""Every event the service emits; webhook subscriptions name these or ``family.*``."""

SUBSCRIBABLE = ("call.*", "loan.*", "rma.*", *EVENT_TYPES)

DELIVERY_STATUSES = ("pending", "sending", "delivered", "failed")


class OutboxEvent(Base):
    """One thing that happened, for people and integrators to be told of."""

    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(40), index=True)
    subject: Mapped[str] = mapped_column(String(40))
    """What it is about, ``call:17`` or ``loan:3``."""
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class Notification(Base):
    """A message to one person on one channel, rendered in their language."""

    __tablename__ = "notifications"
    __table_args__ = (CheckConstraint(one_of("status", DELIVERY_STATUSES), name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id"), index=True)
    event_type: Mapped[str] = mapped_column(String(40))
    template: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(16))
    audience: Mapped[str] = mapped_column(String(16))
    """``customer`` or ``staff``."""
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(16))
    subject_line: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(4000))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookSubscription(Base):
    """An integrator's URL and the event types it wants; the secret signs each POST.

    The secret is kept as given (it must sign), shown to the admin once, never listed."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    """One event for one subscription: the same body (and id) on every attempt."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (CheckConstraint(one_of("status", DELIVERY_STATUSES), name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id"), index=True)
    event_type: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(String(20000))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    subscription: Mapped[WebhookSubscription] = relationship(lazy="joined")
    tries: Mapped[list[WebhookAttempt]] = relationship(
        lazy="selectin", order_by="WebhookAttempt.id"
    )


class WebhookAttempt(Base):
    """One POST of a delivery: when, the receiver's status or the error, how long."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer)


def emit(session: Session, type_: str, *, subject: str, now: datetime, **data: Any) -> OutboxEvent:
    """Record that ``type_`` happened to ``subject`` (in the caller's transaction).

    ``data`` is what integrators receive: plain JSON values, business keys not row ids
    where there is one. The session is flagged so the unit of work, once committed, can
    wake a delivery worker."""
    assert type_ in EVENT_TYPES, type_
    event = OutboxEvent(
        type=type_,
        subject=subject,
        data={key: _plain(value) for key, value in data.items()},
        occurred_at=now,
    )
    session.add(event)
    session.info[WAKE_AFTER_COMMIT] = True
    return event


def _plain(value: Any) -> Any:
    if isinstance(value, datetime) or hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def matches(subscribed: list[str], event_type: str) -> bool:
    """Whether a subscription to ``subscribed`` (types or ``family.*``) wants the event."""
    family = event_type.split(".", 1)[0] + ".*"
    return event_type in subscribed or family in subscribed
