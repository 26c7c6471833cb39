"""Outbound webhooks for integrators: subscribe, deliveries signed and retried with
back-off, attempts listed; a receiver that never answers delays no request."""

from __future__ import annotations

import json
import time

import pytest

from partsvc.platform.config import Settings
from partsvc.platform.signing import SIGNATURE_HEADER, verify
from partsvc.workflows.outbox_delivery import deliver
from tests.receivers import http_receiver, silent_receiver

SITE = {"code": "S-WH", "customer": "C-WH", "address": "上海浦东", "lat": 31.2, "lon": 121.5}


@pytest.fixture
def app(make_app):
    return make_app(webhook_allow_private=True)


@pytest.fixture
def site(client, auth):
    customer = {"code": "C-WH", "name": "WH", "tier": "silver"}
    assert client.post("/api/v1/customers", json=customer, headers=auth["admin"]).status_code == 201
    assert client.post("/api/v1/sites", json=SITE, headers=auth["admin"]).status_code == 201


def subscribe(client, auth, url, types=("call.*",)):
    body = {"url": url, "event_types": list(types), "description": "ERP"}
    answer = client.post("/api/v1/webhooks", json=body, headers=auth["admin"])
    assert answer.status_code == 201, answer.json
    return answer.json


def report_call(client, auth):
    body = {"site": "S-WH", "priority": "P2"}
    answer = client.post("/api/v1/calls", json=body, headers=auth["dispatcher"])
    assert answer.status_code == 201, answer.json
    return answer.json


def settings(database_url, **changes):
    values = {"webhook_allow_private": True, "outbound_timeout_s": 2.0, "delivery_backoff_s": 30}
    return Settings(database_url=database_url, **{**values, **changes})


def test_a_delivery_failing_twice_then_accepted_arrives_once_signed_with_its_three_attempts(
    client, auth, site, database, database_url, clock
):
    with http_receiver(500, 503) as receiver:
        hook = subscribe(client, auth, receiver.url)
        call = report_call(client, auth)
        config = settings(database_url)

        first = deliver(database, config, clock=clock)
        # (events: at least the call's; on a worker's shared database others may be due too)
        assert first.events >= 1 and (first.sent, first.retrying) == (0, 1)
        assert deliver(database, config, clock=clock).sent == 0  # not due before its back-off
        clock.advance(seconds=30)
        assert deliver(database, config, clock=clock).retrying == 1
        clock.advance(seconds=59)
        assert deliver(database, config, clock=clock).sent == 0  # 60 s the second time
        clock.advance(seconds=1)
        assert deliver(database, config, clock=clock).sent == 1
        assert deliver(database, config, clock=clock).sent == 0  # and never again

    assert len(receiver.received) == 3
    bodies = {attempt.body for attempt in receiver.received}
    assert len(bodies) == 1  # the same event, the same id, each time
    event = json.loads(bodies.pop())
    assert (event["type"], event["data"]["call"], event["data"]["site"]) == (
        "call.received",
        call["id"],
        "S-WH",
    )
    for attempt in receiver.received:
        assert verify(hook["secret"], attempt.headers[SIGNATURE_HEADER], attempt.body)
        assert not verify("whsec_wrong", attempt.headers[SIGNATURE_HEADER], attempt.body)
        assert attempt.headers["X-Partsvc-Event"] == "call.received"

    listed = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=auth["admin"])
    assert listed.status_code == 200
    (delivery,) = listed.json["items"]
    assert delivery["status"] == "delivered"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 200]
    assert json.loads(delivery["body"])["id"] == event["id"]


def test_a_receiver_that_never_answers_delays_no_request(
    client, auth, site, database, database_url, clock
):
    with silent_receiver() as url:
        subscribe(client, auth, url)
        started = time.monotonic()
        report_call(client, auth)
        took = time.monotonic() - started
        assert took < 1.0  # the request only wrote its event; nothing was sent from it

        started = time.monotonic()
        report = deliver(database, settings(database_url, outbound_timeout_s=0.3), clock=clock)
        waited = time.monotonic() - started
    assert report.retrying == 1
    assert waited < 2.0  # the sender gave up after its short timeout, too
    hooks = client.get("/api/v1/webhooks", headers=auth["admin"]).json["items"]
    (delivery,) = client.get(
        f"/api/v1/webhooks/{hooks[0]['id']}/deliveries", headers=auth["admin"]
    ).json["items"]
    (attempt,) = delivery["attempts"]
    assert attempt["status_code"] is None and "timed out" in attempt["error"]
    assert delivery["status"] == "pending"


def test_the_secret_is_shown_once_and_only_admins_manage_webhooks(client, auth):
    made = subscribe(
        client, auth, "https://erp.example.com/partsvc", ["rma.*", "stock.below_reorder"]
    )
    assert made["secret"].startswith("whsec_") and len(made["secret"]) > 40
    listed = client.get("/api/v1/webhooks", headers=auth["admin"]).json["items"]
    assert [row["id"] for row in listed] == [made["id"]]
    assert "secret" not in listed[0]
    assert listed[0]["event_types"] == ["rma.*", "stock.below_reorder"]
    for role in ("dispatcher", "clerk", "engineer"):
        assert client.get("/api/v1/webhooks", headers=auth[role]).status_code == 403
        body = {"url": "https://x.example.com/", "event_types": ["call.*"]}
        assert client.post("/api/v1/webhooks", json=body, headers=auth[role]).status_code == 403
    gone = client.delete(f"/api/v1/webhooks/{made['id']}", headers=auth["admin"])
    assert gone.status_code == 204
    assert client.get("/api/v1/webhooks", headers=auth["admin"]).json["items"] == []
    after = client.get(f"/api/v1/webhooks/{made['id']}/deliveries", headers=auth["admin"])
    assert after.status_code == 404


@pytest.mark.parametrize(
    ("url", "types"),
    [
        ("ftp://erp.example.com/in", ["call.*"]),
        ("file:///etc/passwd", ["call.*"]),
        ("https://user:pw@erp.example.com/", ["call.*"]),
        ("https://erp.example.com/", ["call.everything"]),
    ],
)
def test_a_subscription_is_refused_for_a_url_that_is_not_http_or_an_unknown_event(
    client, auth, url, types
):
    answer = client.post(
        "/api/v1/webhooks", json={"url": url, "event_types": types}, headers=auth["admin"]
    )
    assert answer.status_code == 422
    assert answer.json["detail"]


def test_addresses_inside_the_network_are_refused_unless_allowed(make_app, auth):
    client = make_app().test_client()  # PARTSVC_WEBHOOK_ALLOW_PRIVATE off: the default
    for url in (
        "http://127.0.0.1:8080/",
        "http://10.0.0.5/",
        "http://169.254.169.254/",
        "http://localhost/",
    ):
        answer = client.post(
            "/api/v1/webhooks", json={"url": url, "event_types": ["call.*"]}, headers=auth["admin"]
        )
        assert answer.status_code == 422, url
        assert "inside the network" in answer.json["detail"]
