"""Webhook subscriptions and their deliveries as the API shows them; the secret once."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from partsvc.platform.outbox import SUBSCRIBABLE
from partsvc.platform.schemas import InputSchema, page_of, text


class SubscriptionIn(InputSchema):
    url = fields.String(
        required=True,
        validate=[validate.Length(min=8, max=2000), validate.Regexp(r"^https?://[^\s/?#]+")],
        metadata={"description": "An http:// or https:// URL; redirects are not followed."},
    )
    event_types = fields.List(
        fields.String(validate=validate.OneOf(SUBSCRIBABLE)),
        required=True,
        validate=validate.Length(min=1, max=len(SUBSCRIBABLE)),
        metadata={"description": "Event types, or a family: call.*, loan.*, rma.*."},
    )
    description = text(200, load_default=None, allow_none=True)


class SubscriptionOut(Schema):
    id = fields.Integer()
    url = fields.String()
    event_types = fields.List(fields.String())
    description = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


class NewSubscriptionOut(Schema):
    """A subscription just made (``platform.webhooks.NewSubscription``) and its secret."""

    id = fields.Integer(attribute="row.id")
    url = fields.String(attribute="row.url")
    event_types = fields.List(fields.String(), attribute="row.event_types")
    description = fields.String(attribute="row.description", allow_none=True)
    created_at = fields.AwareDateTime(attribute="row.created_at")
    secret = fields.String(
        metadata={"description": "Signs every delivery: shown this once, never again."}
    )


class AttemptOut(Schema):
    at = fields.AwareDateTime()
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer()


class DeliveryOut(Schema):
    id = fields.Integer()
    event_type = fields.String()
    status = fields.String(metadata={"description": "pending, sending, delivered or failed."})
    attempts = fields.List(fields.Nested(AttemptOut), attribute="tries")
    next_attempt_at = fields.AwareDateTime()
    created_at = fields.AwareDateTime()
    delivered_at = fields.AwareDateTime(allow_none=True)
    body = fields.String(metadata={"description": "The JSON body POSTed on every attempt."})


SubscriptionPage = page_of(SubscriptionOut, "WebhookSubscriptionPage")
DeliveryPage = page_of(DeliveryOut, "WebhookDeliveryPage")
