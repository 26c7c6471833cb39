"""Integrators' webhook subscriptions: subscribe a URL to event types, list, delete, and
read each delivery's attempts. Sending is the outbox delivery's (``workflows/``)."""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.core.errors import InvalidInput, UnknownKey
from partsvc.platform.notify import check_url
from partsvc.platform.outbox import SUBSCRIBABLE, WebhookDelivery, WebhookSubscription


@dataclass(frozen=True)
class NewSubscription:
    """A subscription just made, with its secret: shown this once."""

    row: WebhookSubscription
    secret: str


def subscribe(
    session: Session,
    *,
    url: str,
    event_types: list[str],
    description: str | None,
    allow_private: bool,
    by_user_id: int | None,
    now: datetime,
) -> NewSubscription:
    """Subscribe ``url`` to ``event_types`` (names or ``family.*``) with a new secret."""
    try:
        check_url(url)
    except ValueError as error:
        raise InvalidInput(str(error), errors={"url": [str(error)]}) from error
    unknown = sorted(set(event_types) - set(SUBSCRIBABLE))
    if unknown:
        raise InvalidInput(
            f"Unknown event types: {', '.join(unknown)}.",
            errors={"event_types": [f"Not one of {', '.join(SUBSCRIBABLE)}."]},
        )
    host = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[0].strip("[]")
    if not allow_private and _literal_private(host):
        detail = "The URL points inside the network; PARTSVC_WEBHOOK_ALLOW_PRIVATE allows it."
        raise InvalidInput(detail, errors={"url": [detail]})
    secret = "whsec_" + secrets.token_urlsafe(32)
    row = WebhookSubscription(
        url=url,
        event_types=sorted(set(event_types)),
        secret=secret,
        description=description,
        created_at=now,
        created_by_id=by_user_id,
    )
    session.add(row)
    session.flush()
    return NewSubscription(row, secret)


def _literal_private(host: str) -> bool:
    """A host written as an address inside the network (or ``localhost``). Names are not
    looked up here, inside a request: each delivery checks what the name resolves to."""
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False


def list_subscriptions(
    session: Session, *, after_id: int | None = None, limit: int = 100
) -> list[WebhookSubscription]:
    query = (
        select(WebhookSubscription)
        .where(
            WebhookSubscription.deleted_at.is_(None),
            WebhookSubscription.id > (after_id or 0),
        )
        .order_by(WebhookSubscription.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def get_subscription(session: Session, subscription_id: int) -> WebhookSubscription:
    row = session.get(WebhookSubscription, subscription_id)
    if row is None or row.deleted_at is not None:
        raise UnknownKey(
            f"No webhook subscription {subscription_id}.", subscription=subscription_id
        )
    return row


def unsubscribe(session: Session, subscription_id: int, *, now: datetime) -> None:
    """Stop sending to it; its deliveries are kept with their attempts, nothing more goes."""
    get_subscription(session, subscription_id).deleted_at = now
    session.flush()


def deliveries_of(
    session: Session, subscription_id: int, *, after_id: int | None = None, limit: int = 100
) -> list[WebhookDelivery]:
    """The subscription's deliveries, oldest first, each with its attempts."""
    get_subscription(session, subscription_id)
    query = (
        select(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.id > (after_id or 0),
        )
        .order_by(WebhookDelivery.id)
        .limit(limit)
    )
    return list(session.scalars(query))
