"""The customer's side on a phone (issue 26): scan a unit's label, report the fault with a
photo, follow the call while a dispatcher confirms it and the engineer sets off with an
expected arrival from the published plan, then rate the fixed call; the month's
satisfaction counts the rating (R25)."""

from __future__ import annotations

import email
import email.policy
import io
import json
import re
from datetime import date, datetime, timedelta

from PIL import Image
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from partsvc.calls.calls import change_call_status
from partsvc.calls.customers import create_equipment
from partsvc.calls.labels import issue_label, label_token
from partsvc.calls.models import Call, Engineer, Equipment
from partsvc.core.worktime import WorkingCalendar
from partsvc.documents.labels import report_url
from partsvc.platform.config import Settings
from partsvc.platform.signing import SIGNATURE_HEADER, verify
from partsvc.routing.models import DayPlan, PlanRoute, PlanStatus, PlanStop
from partsvc.workflows.completion import complete_call
from partsvc.workflows.month_figures import month_figures
from partsvc.workflows.outbox_delivery import deliver
from tests.e2e.conftest import DESKTOP, PHONE, LiveServer, browser_page, log_in, screenshot
from tests.receivers import http_receiver, smtp_server

SECRET = "e2e-secret"  # the live server's secret key
SERIAL = "EQ-E2E-LABEL-1"


def a_labelled_unit(server: LiveServer) -> str:
    """A printer newly installed at a demo site, with its label: the label's URL."""
    with server.database.unit_of_work() as session:
        model = session.scalars(select(Equipment).order_by(Equipment.id)).first()
        assert model is not None
        create_equipment(
            session,
            serial=SERIAL,
            sku=model.part.sku,
            site=model.site.code,
            installed_on=date(2026, 9, 1),
        )
        label = issue_label(session, SERIAL, secret=SECRET, now=server.clock(), by=None)
        return report_url(server.url, label_token(SECRET, label.nonce))


def a_photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (180, 60, 50)).save(out, "JPEG")
    return out.getvalue()


def published_with_arrival(server: LiveServer, call_id: int, engineer: Engineer) -> datetime:
    """The call in today's published plan for ``engineer``, arriving in 40 minutes."""
    now = server.clock()
    day = now.astimezone(WorkingCalendar().zone).date()
    with server.database.unit_of_work() as session:
        plan = session.scalars(
            select(DayPlan).where(DayPlan.day == day, DayPlan.status == PlanStatus.PUBLISHED)
        ).first()
        if plan is None:
            plan = DayPlan(
                day=day,
                status=PlanStatus.PUBLISHED,
                published_at=now,
                time_limit_s=1,
                solve_seconds=0,
                travel_source="HaversineSource",
            )
            session.add(plan)
            session.flush()
        route = session.scalars(
            select(PlanRoute).where(
                PlanRoute.plan_id == plan.id, PlanRoute.engineer_id == engineer.id
            )
        ).first()
        if route is None:
            route = PlanRoute(
                plan_id=plan.id,
                engineer_id=engineer.id,
                leave_at=now,
                back_at=now + timedelta(hours=3),
                driving_seconds=2400,
                driving_metres=20_000,
            )
            session.add(route)
            session.flush()
        last = session.scalar(
            select(func.max(PlanStop.position)).where(PlanStop.route_id == route.id)
        )
        arrival = (now + timedelta(minutes=40)).replace(second=0, microsecond=0)
        session.add(
            PlanStop(
                route_id=route.id,
                position=(last or 0) + 1,
                kind="call",
                call_id=call_id,
                arrive_at=arrival,
                start_at=arrival,
                depart_at=arrival + timedelta(hours=1),
            )
        )
        change_call_status(session, call_id, "assigned", engineer=engineer.code, now=now)
    return arrival


def satisfaction(server: LiveServer) -> tuple[int, int]:
    now = server.clock() + timedelta(seconds=1)
    zone = WorkingCalendar().zone
    with server.database.unit_of_work(write=False) as session:
        rate = month_figures(
            session,
            now.astimezone(zone).date().replace(day=1),
            now=now,
            zone=zone,
            same_day_target=0.9,
            satisfaction_target=0.9,
        ).satisfaction
    return rate.met, rate.total


def told_by_mail_and_sms(server: LiveServer, call_id: int, tracking_url: str, local: str) -> None:
    """The outbox sent: the service desk hears of the new call by mail (a local SMTP
    server), the customer who reported it of the engineer on the way, in Chinese, through
    the signed webhook an SMS gateway listens on, with the arrival and the tracking link."""
    with smtp_server() as (smtp_url, mails), http_receiver() as bridge:
        config = Settings(
            database_url=str(server.database.engine.url),
            notifier="smtp,webhook",
            smtp_url=smtp_url,
            notify_webhook_url=bridge.url,
            notify_webhook_secret="bridge-secret",
            staff_email="desk@example.cn",
            public_url=server.url,
        )
        deliver(server.database, config, clock=server.clock)
    subjects = [
        str(email.message_from_bytes(raw, policy=email.policy.default)["Subject"]) for raw in mails
    ]
    assert any(str(call_id) in subject for subject in subjects), subjects
    messages = []
    for received in bridge.received:
        assert verify("bridge-secret", received.headers[SIGNATURE_HEADER], received.body)
        messages.append(json.loads(received.body))
    to_her = {m["event"]: m for m in messages if m["to"]["phone"] == "13912345678"}
    assert set(to_her) >= {"call.received", "call.en_route"}, messages
    en_route = to_her["call.en_route"]
    assert en_route["language"] == "zh_CN" and "工程师已出发" in en_route["subject"]
    assert local in en_route["text"] and tracking_url in en_route["text"], en_route["text"]


def test_a_customer_reports_from_the_label_follows_the_visit_and_rates_it(
    browser: Browser, phone: Page, page: Page, live_server: LiveServer
) -> None:
    label_url = a_labelled_unit(live_server)

    phone.goto(label_url)
    expect(phone.get_by_role("heading", name="Report a fault")).to_be_visible()
    expect(phone.get_by_text(SERIAL)).to_be_visible()
    phone.get_by_label("Your name").fill("王女士")
    phone.get_by_label("Phone number").fill("139 1234 5678")
    phone.get_by_label("What is wrong?").fill("打印机停机，开机报错 E05")
    phone.get_by_label("The system is down").check()
    phone.locator("input[name=photos]").set_input_files(
        [{"name": "fault.jpg", "mimeType": "image/jpeg", "buffer": a_photo()}]
    )
    screenshot(phone, "customer-report-en")
    phone.get_by_role("button", name="Send the report").click()
    expect(phone.get_by_role("heading", name=re.compile("Your service call"))).to_be_visible()
    expect(phone.locator("#call-state")).to_contain_text("Report received")
    tracking_url = phone.url
    screenshot(phone, "customer-tracking-received-en")
    with live_server.database.unit_of_work(write=False) as session:
        call = session.scalars(select(Call).where(Call.equipment.has(serial=SERIAL))).one()
        call_id, engineer = (
            call.id,
            session.scalars(select(Engineer).where(Engineer.code == "E-WANG")).one(),
        )
        assert (call.priority, call.priority_confirmed) == ("P1", False)

    log_in(page, live_server, "dispatch", start="/board")
    row = page.locator(f"#calls tr[data-call='{call_id}']")
    expect(row).to_contain_text("priority to confirm")
    screenshot(page, "customer-board-confirm-en")
    row.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_contain_text(f"Call {call_id} confirmed as P1.")

    arrival = published_with_arrival(live_server, call_id, engineer)
    with browser_page(browser, PHONE, "en") as engineer_phone:
        log_in(engineer_phone, live_server, "wang", start=f"/my/calls/{call_id}")
        expect(engineer_phone.locator("#photos img")).to_have_count(1)
        engineer_phone.get_by_role("button", name="Set off").click()
        expect(engineer_phone.get_by_role("heading", name=re.compile("en route"))).to_be_visible()
        screenshot(engineer_phone, "customer-engineer-call-photos-en")

    phone.goto(tracking_url)
    expect(phone.locator("#engineer")).to_contain_text(f"Your engineer: {engineer.name}")
    local = arrival.astimezone(WorkingCalendar().zone).strftime("%H:%M")
    expect(phone.locator("#engineer")).to_contain_text(f"Expected arrival: {local}")
    screenshot(phone, "customer-tracking-en-route-en")
    told_by_mail_and_sms(live_server, call_id, tracking_url, local)

    with live_server.database.unit_of_work() as session:
        change_call_status(session, call_id, "on_site", now=live_server.clock())
        complete_call(
            session,
            call_id,
            work_done="更换主板",
            signed_by="王女士",
            consumed=[],
            now=live_server.clock(),
            calendar=WorkingCalendar(),
        )
    met, total = satisfaction(live_server)
    phone.goto(tracking_url)
    expect(phone.get_by_role("link", name="Service record (PDF)")).to_be_visible()
    phone.get_by_label("5 ★★★★★").check()
    phone.get_by_label("Anything to tell us?").fill("工程师很专业")
    screenshot(phone, "customer-tracking-rate-en")
    phone.get_by_role("button", name="Send the rating").click()
    expect(phone.get_by_role("status")).to_contain_text("Thank you for your rating.")
    expect(phone.locator("#rated")).to_contain_text("5 of 5")
    assert satisfaction(live_server) == (met + 1, total + 1)

    with browser_page(browser, PHONE, "zh") as chinese:
        chinese.goto(label_url)
        expect(chinese.get_by_role("heading", name="扫码报修")).to_be_visible()
        screenshot(chinese, "customer-report-zh")
        chinese.goto(tracking_url)
        expect(chinese.locator("#rated")).to_contain_text("5 / 5")
        screenshot(chinese, "customer-tracking-zh")
    with browser_page(browser, DESKTOP, "zh") as dispatcher:
        log_in(dispatcher, live_server, "dispatch", start=f"/units/{SERIAL}", language="zh")
        expect(dispatcher.get_by_role("heading", name=re.compile("设备报修标签"))).to_be_visible()
        screenshot(dispatcher, "customer-unit-label-zh")
