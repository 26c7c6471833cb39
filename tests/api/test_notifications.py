"""Messages that reach people: written to the outbox with the event, sent afterwards by
SMTP and a signed webhook, in the contact's language, retried with back-off."""

from __future__ import annotations

import email
import email.policy
import json

import pytest
from sqlalchemy import select

from partsvc.platform.config import Settings
from partsvc.platform.signing import SIGNATURE_HEADER, verify
from partsvc.workflows.outbox_delivery import deliver
from tests.receivers import http_receiver, smtp_server

CONTACT = {
    "contact_name": "刘经理",
    "contact_phone": "13800138001",
    "contact_email": "liu@example.cn",
    "contact_language": "zh_CN",
}


@pytest.fixture
def desk(client, auth, add_engineers):
    customer = {"code": "C-N", "name": "N", "tier": "silver"}
    assert client.post("/api/v1/customers", json=customer, headers=auth["admin"]).status_code == 201
    site = {
        "code": "S-N",
        "customer": "C-N",
        "address": "上海浦东张江路 1 号",
        "lat": 31.2,
        "lon": 121.5,
    }
    answer = client.post("/api/v1/sites", json={**site, **CONTACT}, headers=auth["admin"])
    assert answer.status_code == 201, answer.json
    assert answer.json["contact_name"] == "刘经理"
    return {"dispatcher": auth["dispatcher"], **add_engineers("E-N")}


def set_off(client, desk):
    """A call reported, assigned to E-N, who sets off: two messages for the customer."""
    call = client.post(
        "/api/v1/calls", json={"site": "S-N", "priority": "P2"}, headers=desk["dispatcher"]
    ).json
    for status, who, extra in (
        ("assigned", "dispatcher", {"engineer": "E-N"}),
        ("en_route", "E-N", {}),
    ):
        answer = client.post(
            f"/api/v1/calls/{call['id']}/status",
            json={"status": status, **extra},
            headers=desk[who],
        )
        assert answer.status_code == 200, answer.json
    return call


def test_a_message_reaches_an_smtp_server_and_a_signed_webhook_in_chinese(
    client, desk, database, database_url, clock
):
    call = set_off(client, desk)
    with smtp_server() as (smtp_url, mails), http_receiver() as bridge:
        config = Settings(
            database_url=database_url,
            notifier="smtp,webhook",
            smtp_url=smtp_url,
            smtp_from="售后服务 <service@example.cn>",
            notify_webhook_url=bridge.url,
            notify_webhook_secret="bridge-secret",
        )
        report = deliver(database, config, clock=clock)
    assert report.sent == 4 and report.failed == report.retrying == 0  # 2 events × 2 channels

    subjects = []
    for raw in mails:
        mail = email.message_from_bytes(raw, policy=email.policy.default)
        assert mail["To"] == "刘经理 <liu@example.cn>"
        subjects.append(str(mail["Subject"]))
        if "已出发" in mail["Subject"]:
            body = mail.get_content()
    assert subjects == [f"工单 {call['id']} 已受理", f"工单 {call['id']}：工程师已出发"]
    assert "工程师 E-N 已出发" in body

    texts = []
    for sent in bridge.received:
        assert verify("bridge-secret", sent.headers[SIGNATURE_HEADER], sent.body)
        message = json.loads(sent.body)
        assert message["to"] == {
            "name": "刘经理",
            "phone": "13800138001",
            "email": "liu@example.cn",
        }
        assert message["language"] == "zh_CN"
        texts.append((message["event"], message["subject"]))
    assert texts == [
        ("call.received", f"工单 {call['id']} 已受理"),
        ("call.en_route", f"工单 {call['id']}：工程师已出发"),
    ]


def test_a_contact_who_reads_english_is_written_to_in_english(
    client, auth, desk, database, database_url, clock
):
    changed = client.patch(
        "/api/v1/sites/S-N", json={"contact_language": "en"}, headers=auth["dispatcher"]
    )
    assert changed.status_code == 200 and changed.json["contact_language"] == "en"
    call = set_off(client, desk)
    with smtp_server() as (smtp_url, mails):
        config = Settings(database_url=database_url, notifier="smtp", smtp_url=smtp_url)
        assert deliver(database, config, clock=clock).sent == 2
    subject = email.message_from_bytes(mails[1], policy=email.policy.default)["Subject"]
    assert subject == f"Engineer on the way for call {call['id']}"


def test_a_mail_server_that_is_down_is_tried_again_with_back_off_then_given_up(
    client, desk, database, database_url, clock
):
    client.post("/api/v1/calls", json={"site": "S-N", "priority": "P3"}, headers=desk["dispatcher"])
    config = Settings(
        database_url=database_url,
        notifier="smtp",
        smtp_url="smtp://127.0.0.1:9",  # discard: nothing listens
        outbound_timeout_s=1,
        delivery_backoff_s=10,
        delivery_max_attempts=3,
    )
    assert deliver(database, config, clock=clock).retrying == 1
    clock.advance(seconds=9)
    assert deliver(database, config, clock=clock).retrying == 0  # not yet: 10 s
    clock.advance(seconds=1)
    assert deliver(database, config, clock=clock).retrying == 1
    clock.advance(seconds=20)
    assert deliver(database, config, clock=clock).failed == 1  # the third try was the last
    clock.advance(days=1)
    assert deliver(database, config, clock=clock).failed == 0


def test_with_a_queue_a_committed_event_wakes_a_worker_that_sends_it(
    make_app, auth, redis_url, database, database_url, session, monkeypatch, clock
):
    from uuid import uuid4

    from redis import Redis
    from rq import Queue, SimpleWorker
    from rq.serializers import JSONSerializer

    from partsvc.platform.db import utcnow

    clock.now = utcnow()  # the worker's job reads the real clock
    name = f"test-outbox-{uuid4().hex[:8]}"
    queue = Queue(name, connection=Redis.from_url(redis_url), serializer=JSONSerializer)
    client = make_app(redis_url=redis_url, outbox_queue=name).test_client()
    customer = {"code": "C-Q", "name": "Q", "tier": "bronze"}
    assert client.post("/api/v1/customers", json=customer, headers=auth["admin"]).status_code == 201
    assert queue.count == 0  # a customer is no event
    site = {"code": "S-Q", "customer": "C-Q", "address": "苏州", "lat": 31.3, "lon": 120.6}
    site |= {"contact_name": "王女士", "contact_phone": "13900000000"}
    assert client.post("/api/v1/sites", json=site, headers=auth["admin"]).status_code == 201
    call = client.post(
        "/api/v1/calls", json={"site": "S-Q", "priority": "P3"}, headers=auth["admin"]
    )
    assert call.status_code == 201
    (job,) = queue.jobs
    assert job.func_name == "partsvc.workflows.outbox_delivery.run_delivery_job"

    from partsvc.platform.outbox import Notification
    from partsvc.workflows import outbox_delivery

    # The worker's job opens the database of its settings: here, the test's own.
    monkeypatch.setattr(outbox_delivery, "Database", lambda *args, **kwargs: database)
    monkeypatch.setattr(database, "dispose", lambda: None)
    worker = SimpleWorker([queue], connection=queue.connection, serializer=JSONSerializer)
    # No command channel: rq's listener thread waits up to 60 s on it before a burst ends.
    monkeypatch.setattr(worker, "subscribe", lambda: None)
    assert worker.work(burst=True)
    session.expire_all()
    (sent,) = session.scalars(select(Notification).where(Notification.name == "王女士")).all()
    assert (sent.status, sent.channel, sent.template) == ("delivered", "log", "call_received")


def test_a_queue_that_is_down_does_not_fail_or_hold_up_the_request(make_app, auth):
    import socket
    import time

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_app(redis_url=f"redis://127.0.0.1:{port}/0").test_client()
    customer = {"code": "C-D", "name": "D", "tier": "bronze"}
    assert client.post("/api/v1/customers", json=customer, headers=auth["admin"]).status_code == 201
    site = {"code": "S-D", "customer": "C-D", "address": "苏州", "lat": 31.3, "lon": 120.6}
    assert client.post("/api/v1/sites", json=site, headers=auth["admin"]).status_code == 201
    started = time.monotonic()
    call = client.post(
        "/api/v1/calls", json={"site": "S-D", "priority": "P3"}, headers=auth["admin"]
    )
    assert call.status_code == 201  # the event waits in the outbox for the sweep
    assert time.monotonic() - started < 1.5


def test_the_engineer_en_route_message_gives_the_published_plans_arrival_time(
    client, desk, session, database, database_url, clock
):
    from datetime import timedelta

    from sqlalchemy import select

    from partsvc.calls.models import Engineer
    from partsvc.platform.outbox import Notification
    from partsvc.routing.models import DayPlan, PlanRoute, PlanStop

    call = set_off(client, desk)
    engineer = session.scalar(select(Engineer).where(Engineer.code == "E-N"))
    plan = DayPlan(
        day=clock.now.date(),
        status="published",
        published_at=clock.now,
        time_limit_s=1,
        solve_seconds=1,
        travel_source="haversine",
    )
    arrive = clock.now + timedelta(minutes=40)  # 10:40 in Shanghai
    plan.routes.append(
        PlanRoute(
            engineer_id=engineer.id,
            leave_at=clock.now,
            back_at=clock.now + timedelta(hours=3),
            driving_seconds=2400,
            driving_metres=20000,
            stops=[
                PlanStop(
                    position=0,
                    kind="call",
                    call_id=call["id"],
                    arrive_at=arrive,
                    start_at=arrive,
                    depart_at=arrive + timedelta(hours=1),
                )
            ],
        )
    )
    session.add(plan)
    session.commit()
    config = Settings(database_url=database_url, notifier="log")
    assert deliver(database, config, clock=clock).sent == 2
    body = session.scalar(select(Notification.body).where(Notification.template == "call_en_route"))
    assert "工程师 E-N 已出发，预计 11月20日 10:40 左右到达。" in body
