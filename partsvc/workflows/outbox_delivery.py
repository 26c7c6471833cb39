"""Sending what the outbox holds: fan the events out, then send each due message and
webhook delivery outside any transaction, and record how it went.

Each item is claimed in a short transaction (``sending``, with a lease: a sender that
dies leaves it to be tried again when the lease ends), sent with short timeouts, then
marked delivered, or due again after an exponential back-off (``PARTSVC_DELIVERY_BACKOFF_S``
× 2^(attempts − 1)), or failed after ``PARTSVC_DELIVERY_MAX_ATTEMPTS``. ``partsvc sweep``
runs it, and with Redis a queue worker runs it as soon as a request that emitted an
event has committed (``OutboxQueue.wake``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from partsvc.platform.config import Settings
from partsvc.platform.db import Database, utcnow
from partsvc.platform.notify import Channel, DeliveryFailed, Message, channels_from, post_signed
from partsvc.platform.outbox import Notification, WebhookAttempt, WebhookDelivery
from partsvc.workflows.notifications import fan_out

log = logging.getLogger("partsvc.outbox")

BATCH = 100
MAX_BATCHES = 20
"""One run sends at most this many batches of each kind; the next run sends the rest."""
Row = TypeVar("Row", Notification, WebhookDelivery)


@dataclass
class DeliveryReport:
    events: int = 0  # events fanned out
    sent: int = 0  # messages and webhook deliveries that went out
    retrying: int = 0  # failed this time, due again later
    failed: int = 0  # failed for good

    def summary(self) -> str:
        return (
            f"outbox: {self.events} event(s), {self.sent} sent, {self.retrying} to retry, "
            f"{self.failed} failed"
        )


def deliver(
    database: Database,
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    channels: Sequence[Channel] | None = None,
) -> DeliveryReport:
    """Fan out the new events, then send everything that is due."""
    channels = list(channels) if channels is not None else channels_from(settings)
    report = DeliveryReport()
    for _ in range(MAX_BATCHES):
        with database.unit_of_work() as session:
            fanned = fan_out(session, now=clock(), settings=settings, channels=channels)
        report.events += fanned
        if not fanned:
            break
    for _ in range(MAX_BATCHES):
        before = report.sent + report.retrying + report.failed
        _send_notifications(database, settings, clock, channels, report)
        _send_webhooks(database, settings, clock, report)
        if report.sent + report.retrying + report.failed == before:
            break
    return report


def _send_notifications(
    database: Database,
    settings: Settings,
    clock: Callable[[], datetime],
    channels: Sequence[Channel],
    report: DeliveryReport,
) -> None:
    by_name = {channel.name: channel for channel in channels}
    for note_id, message, channel_name in _claim_notifications(database, settings, clock()):
        channel = by_name.get(channel_name)
        error: DeliveryFailed | None = None
        try:
            if channel is None:
                raise DeliveryFailed(f"channel {channel_name} is not configured", final=True)
            channel.send(message)
        except DeliveryFailed as failed:
            error = failed
        except Exception as unexpected:  # a broken adapter must not stop the others
            log.exception("message %s: the %s channel broke", note_id, channel_name)
            error = DeliveryFailed(f"{type(unexpected).__name__}: {unexpected}"[:500])
        with database.unit_of_work() as session:
            note = session.get(Notification, note_id)
            assert note is not None
            _settle(note, error, clock(), settings, report)
            if error is None:
                note.sent_at = clock()


def _send_webhooks(
    database: Database,
    settings: Settings,
    clock: Callable[[], datetime],
    report: DeliveryReport,
) -> None:
    for delivery_id, url, secret, body, event_type in _claim_deliveries(
        database, settings, clock()
    ):
        started = time.monotonic()
        status: int | None = None
        error = None
        try:
            answer = post_signed(
                url,
                secret,
                body.encode(),
                timeout_s=settings.outbound_timeout_s,
                allow_private=settings.webhook_allow_private,
                headers={"X-Partsvc-Event": event_type, "X-Partsvc-Delivery": str(delivery_id)},
            )
            status = answer.status
            answer.raise_unless_ok()
        except DeliveryFailed as failed:
            error = failed
        took = int((time.monotonic() - started) * 1000)
        with database.unit_of_work() as session:
            delivery = session.get(WebhookDelivery, delivery_id)
            assert delivery is not None
            session.add(
                WebhookAttempt(
                    delivery_id=delivery_id,
                    at=clock(),
                    status_code=status,
                    error=str(error)[:500] if error else None,
                    duration_ms=took,
                )
            )
            _settle(delivery, error, clock(), settings, report)
            if error is None:
                delivery.delivered_at = clock()


def _settle(
    row: Notification | WebhookDelivery,
    error: DeliveryFailed | None,
    now: datetime,
    settings: Settings,
    report: DeliveryReport,
) -> None:
    if error is None:
        row.status = "delivered"
        report.sent += 1
        return
    if isinstance(row, Notification):
        row.last_error = str(error)[:500]
    if error.final or row.attempts >= settings.delivery_max_attempts:
        row.status = "failed"
        report.failed += 1
        log.warning("%s %s failed for good: %s", type(row).__name__, row.id, error)
        return
    row.status = "pending"
    row.next_attempt_at = now + backoff(row.attempts, settings.delivery_backoff_s)
    report.retrying += 1


def backoff(attempts: int, base_s: float) -> timedelta:
    """How long after its ``attempts``-th failure an item is tried again."""
    return timedelta(seconds=base_s * 2 ** max(attempts - 1, 0))


def _due(session: Session, model: type[Row], now: datetime) -> list[Row]:
    query = (
        select(model)
        .where(
            or_(model.status == "pending", model.status == "sending"),
            model.next_attempt_at <= now,
        )
        .order_by(model.next_attempt_at, model.id)
        .limit(BATCH)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=model)  # two senders never take one
    return list(session.scalars(query))


def _lease(settings: Settings) -> timedelta:
    """How long a claimed item is left to its sender before another may try it."""
    return timedelta(seconds=settings.outbound_timeout_s * 4 + 60)


def _claim_notifications(
    database: Database, settings: Settings, now: datetime
) -> list[tuple[int, Message, str]]:
    claimed = []
    with database.unit_of_work() as session:
        for note in _due(session, Notification, now):
            note.status, note.attempts = "sending", note.attempts + 1
            note.next_attempt_at = now + _lease(settings)
            message = Message(
                event_type=note.event_type,
                audience=note.audience,
                name=note.name,
                phone=note.phone,
                email=note.email,
                language=note.language,
                subject=note.subject_line,
                body=note.body,
            )
            claimed.append((note.id, message, note.channel))
    return claimed


def _claim_deliveries(
    database: Database, settings: Settings, now: datetime
) -> list[tuple[int, str, str, str, str]]:
    claimed = []
    with database.unit_of_work() as session:
        for delivery in _due(session, WebhookDelivery, now):
            subscription = delivery.subscription
            if subscription.deleted_at is not None:
                delivery.status = "failed"  # unsubscribed meanwhile: nobody wants it
                continue
            delivery.status, delivery.attempts = "sending", delivery.attempts + 1
            delivery.next_attempt_at = now + _lease(settings)
            claimed.append(
                (
                    delivery.id,
                    subscription.url,
                    subscription.secret,
                    delivery.body,
                    delivery.event_type,
                )
            )
    return claimed


class OutboxQueue:
    """Wakes a queue worker to deliver (``partsvc worker``) when an event has committed."""

    def __init__(self, redis_url: str, name: str) -> None:
        redis = Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)
        self.queue = Queue(name, connection=redis, serializer=JSONSerializer)  # as the worker

    def wake(self) -> None:
        """Queue one delivery run; Redis unreachable only delays it to the next sweep."""
        try:
            self.queue.enqueue(run_delivery_job, job_timeout=600, result_ttl=60, failure_ttl=3600)
        except RedisError:
            log.warning("outbox: the queue is unreachable; the sweep will deliver", exc_info=True)


def run_delivery_job() -> dict[str, Any]:
    """The queue job: deliver with this process's settings and database."""
    settings = Settings.from_env()
    database = Database(
        settings.database_url, busy_timeout_s=settings.sqlite_busy_timeout_s, pool_size=1
    )
    try:
        report = deliver(database, settings)
    finally:
        database.dispose()
    log.info(report.summary())
    return report.__dict__
