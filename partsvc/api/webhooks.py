"""Outbound webhooks for integrators (admin only): subscribe, list, delete, deliveries."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_smorest import Blueprint

from partsvc.api import webhooks_schemas as schemas
from partsvc.api.resource import Resource, allow, listed
from partsvc.http.context import current_session, current_user, now, settings
from partsvc.platform import webhooks
from partsvc.platform.schemas import ExportQuery

blp = Blueprint(
    "webhooks", __name__, url_prefix="/api/v1", description="Outbound webhooks for integrators"
)


@blp.route("/webhooks")
class Webhooks(Resource):
    @allow("admin")
    @blp.arguments(ExportQuery, location="query")
    @blp.response(200, schemas.SubscriptionPage)
    def get(self, query: dict[str, Any]) -> Any:
        """The subscriptions (never their secrets); ``format=csv|xlsx`` downloads them all."""
        return listed(
            query,
            webhooks.list_subscriptions,
            name="webhooks",
            schema=schemas.SubscriptionOut(),
            session=current_session(),
        )

    @allow("admin")
    @blp.arguments(schemas.SubscriptionIn)
    @blp.response(201, schemas.NewSubscriptionOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Subscribe a URL to event types. The answer holds the signing secret this once.

        Each event is POSTed as JSON with ``X-Partsvc-Signature: t=<unix>,v1=<hex>``, the
        HMAC-SHA256 of ``<t>.<body>`` with the secret, and retried with back-off until the
        receiver answers 2xx."""
        made = webhooks.subscribe(
            current_session(),
            url=data["url"],
            event_types=data["event_types"],
            description=data["description"],
            allow_private=settings().webhook_allow_private,
            by_user_id=current_user().id,
            now=now(),
        )
        location = url_for("webhooks.WebhookById", subscription_id=made.row.id)
        return made, 201, {"Location": location}


@blp.route("/webhooks/<int(max=2147483647):subscription_id>")
class WebhookById(Resource):
    @allow("admin")
    @blp.response(200, schemas.SubscriptionOut)
    def get(self, subscription_id: int) -> Any:
        """One subscription."""
        return webhooks.get_subscription(current_session(), subscription_id)

    @allow("admin")
    @blp.response(204)
    def delete(self, subscription_id: int) -> None:
        """Unsubscribe: nothing more is sent; the deliveries stay listed."""
        webhooks.unsubscribe(current_session(), subscription_id, now=now())


@blp.route("/webhooks/<int(max=2147483647):subscription_id>/deliveries")
class WebhookDeliveries(Resource):
    @allow("admin")
    @blp.arguments(ExportQuery, location="query")
    @blp.response(200, schemas.DeliveryPage)
    def get(self, query: dict[str, Any], subscription_id: int) -> Any:
        """The subscription's deliveries, oldest first, each with every attempt;
        ``format=csv|xlsx`` downloads them all."""
        return listed(
            query,
            webhooks.deliveries_of,
            name="webhook-deliveries",
            schema=schemas.DeliveryOut(),
            session=current_session(),
            subscription_id=subscription_id,
        )
