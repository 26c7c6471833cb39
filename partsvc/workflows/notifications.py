"""From an outbox event to the messages it causes: who is told (the customer's contact,
the service desk), in which language, in what words (``templates/messages/``, translated
through the pages' catalogue), and the signed deliveries integrators subscribed to.

Run by the delivery (``workflows/outbox_delivery.py``), never inside a request.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.core import Locale
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.calls.contacts import Contact, customer_contact, site_contact, tracking_link
from partsvc.calls.models import Call
from partsvc.loans.models import Loan
from partsvc.platform.config import Settings
from partsvc.platform.notify import Channel, Message
from partsvc.platform.outbox import (
    Notification,
    OutboxEvent,
    WebhookDelivery,
    WebhookSubscription,
    matches,
)
from partsvc.platform.resources import TEMPLATES, TRANSLATIONS
from partsvc.repairs.models import Rma
from partsvc.routing.models import DayPlan, PlanRoute, PlanStop

log = logging.getLogger("partsvc.outbox")

LANGUAGES = ("zh_CN", "en")
BATCH = 200
STALE_AFTER = timedelta(hours=24)
"""People are not told of what happened longer ago than this (an event recorded late, or
a history loaded at once): "the engineer has set off" a week later only confuses.
Integrators still receive every event."""


@dataclass(frozen=True)
class Recipient:
    audience: str  # customer or staff
    contact: Contact
    template: str
    values: dict[str, Any]


def fan_out(
    session: Session, *, now: datetime, settings: Settings, channels: Sequence[Channel]
) -> int:
    """Turn the events not yet fanned out into messages and webhook deliveries; how many
    events. Each event is fanned out once, in the transaction that marks it done."""
    pending = (
        select(OutboxEvent)
        .where(OutboxEvent.fanned_out_at.is_(None))
        .order_by(OutboxEvent.id)
        .limit(BATCH)
    )
    if session.get_bind().dialect.name == "postgresql":
        pending = pending.with_for_update(skip_locked=True)  # two sweeps never fan out twice
    events = list(session.scalars(pending))
    if not events:
        return 0
    subscriptions = list(
        session.scalars(select(WebhookSubscription).where(WebhookSubscription.deleted_at.is_(None)))
    )
    zone = ZoneInfo(settings.timezone)
    for event in events:
        try:
            with session.begin_nested():  # one event's fault never holds up the others
                _fan_out_one(session, event, subscriptions, now, settings, channels, zone)
        except Exception:
            log.exception("outbox event %s (%s) could not be fanned out", event.id, event.type)
        event.fanned_out_at = now
    session.flush()
    return len(events)


def _fan_out_one(
    session: Session,
    event: OutboxEvent,
    subscriptions: list[WebhookSubscription],
    now: datetime,
    settings: Settings,
    channels: Sequence[Channel],
    zone: ZoneInfo,
) -> None:
    for subscription in subscriptions:
        if matches(subscription.event_types, event.type):
            session.add(
                WebhookDelivery(
                    subscription_id=subscription.id,
                    event_id=event.id,
                    event_type=event.type,
                    body=webhook_body(event),
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    if event.occurred_at < now - STALE_AFTER:
        return
    for recipient in recipients(session, event, settings):
        message = render(event.type, recipient, settings=settings, zone=zone)
        for channel in channels:
            if channel.reaches(message):
                session.add(_notification(event, recipient.template, channel.name, message, now))
    session.flush()


def webhook_body(event: OutboxEvent) -> str:
    """What an integrator receives: the same id and body on every attempt."""
    return json.dumps(
        {
            "id": f"evt_{event.id}",
            "type": event.type,
            "occurred_at": event.occurred_at.isoformat(),
            "subject": event.subject,
            "data": event.data,
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def _notification(
    event: OutboxEvent, template: str, channel: str, message: Message, now: datetime
) -> Notification:
    return Notification(
        event_id=event.id,
        event_type=event.type,
        template=template,
        channel=channel,
        audience=message.audience,
        name=message.name,
        phone=message.phone,
        email=message.email,
        language=message.language,
        subject_line=message.subject[:200],
        body=message.body[:4000],
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


def recipients(session: Session, event: OutboxEvent, settings: Settings) -> Iterator[Recipient]:
    """Who is told about ``event``, with the template and values of their message."""
    data = event.data
    staff = _staff(settings)
    ident = event.subject.partition(":")[2]
    if event.type.startswith("call."):
        call = session.get(Call, int(ident))
        if call is None:
            return
        if event.type == "call.received" and call.kind != "corrective":
            return  # a preventive visit is arranged with the customer, not reported
        values = _call_values(session, call, data, settings)
        template = event.type.replace(".", "_")
        contact = customer_contact(call)
        if contact is not None and template in CUSTOMER_TEMPLATES:
            yield Recipient("customer", contact, template, values)
        if staff is not None and event.type == "call.received":
            yield Recipient("staff", staff, "staff_call_received", values)
    elif event.type == "vendor_order.eta_changed":
        for call_id in data.get("calls", []):
            call = session.get(Call, call_id)
            contact = customer_contact(call) if call is not None else None
            if call is not None and contact is not None:
                values = _call_values(session, call, data, settings)
                yield Recipient("customer", contact, "call_part_eta", values)
        if staff is not None:
            yield Recipient("staff", staff, "staff_eta_changed", data)
    elif event.type in ("loan.due_soon", "loan.overdue"):
        loan = session.get(Loan, int(ident))
        if loan is None:
            return
        call = session.get(Call, loan.call_id) if loan.call_id else None
        contact = customer_contact(call) if call else site_contact(loan.site)
        values = {**data, "due_at": loan.due_at}
        template = event.type.replace(".", "_")
        if contact is not None:
            yield Recipient("customer", contact, template, values)
        if staff is not None:
            yield Recipient("staff", staff, "staff_" + template, values)
    elif event.type == "rma.shipped":
        rma = session.get(Rma, int(ident))
        if rma is None or rma.site is None:
            return
        call = session.get(Call, rma.call_id) if rma.call_id else None
        contact = customer_contact(call) if call else site_contact(rma.site)
        if contact is not None:
            yield Recipient("customer", contact, "rma_shipped", {**data, "rma": rma.number})


CUSTOMER_TEMPLATES = {
    "call_received",
    "call_en_route",
    "call_arrived",
    "call_resolved",
    "call_part_eta",
}


def _staff(settings: Settings) -> Contact | None:
    if not (settings.staff_email or settings.staff_phone):
        return None
    return Contact(None, settings.staff_phone, settings.staff_email, settings.default_locale)


def _call_values(
    session: Session, call: Call, data: dict[str, Any], settings: Settings
) -> dict[str, Any]:
    return {
        **data,
        "call": call.id,
        "site_address": call.site.address,
        "equipment": call.equipment.serial if call.equipment else None,
        "engineer_name": call.engineer.name if call.engineer else None,
        "arrival": planned_arrival(session, call),
        "link": tracking_link(call, settings.public_url),
    }


def planned_arrival(session: Session, call: Call) -> datetime | None:
    """When the published plan expects the engineer at the call's site, if it plans it."""
    stop = session.scalar(
        select(PlanStop.arrive_at)
        .join(PlanRoute, PlanRoute.id == PlanStop.route_id)
        .join(DayPlan, DayPlan.id == PlanRoute.plan_id)
        .where(
            PlanStop.call_id == call.id,
            PlanStop.kind == "call",
            DayPlan.status == "published",
        )
        .order_by(DayPlan.published_at.desc())
        .limit(1)
    )
    return stop


def render(event_type: str, recipient: Recipient, *, settings: Settings, zone: ZoneInfo) -> Message:
    """The message in the recipient's language: the template's first line is the subject."""
    language = recipient.contact.language or settings.default_locale
    if language not in LANGUAGES:
        language = "zh_CN"
    text = (
        _environment(language)
        .get_template(f"messages/{recipient.template}.txt")
        .render(**recipient.values, when=lambda value: _moment(value, language, zone))
    )
    subject, _, body = text.strip().partition("\n")
    return Message(
        event_type=event_type,
        audience=recipient.audience,
        name=recipient.contact.name,
        phone=recipient.contact.phone,
        email=recipient.contact.email,
        language=language,
        subject=subject.strip(),
        body=body.strip(),
    )


@cache
def _environment(language: str) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        extensions=["jinja2.ext.i18n"],
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )
    translations = Translations.load(str(TRANSLATIONS), [Locale.parse(language)])
    environment.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    return environment


def _moment(value: datetime | date | str | None, language: str, zone: ZoneInfo) -> str:
    """A date or time as a Chinese or English reader expects it, in the deployment's zone
    (event data carries them as ISO text)."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        local = value.astimezone(zone)
        if language == "zh_CN":
            return f"{local.month}月{local.day}日 {local:%H:%M}"
        return f"{local.day} {local:%b %H:%M}"
    if language == "zh_CN":
        return f"{value.month}月{value.day}日"
    return f"{value.day} {value:%b %Y}"
