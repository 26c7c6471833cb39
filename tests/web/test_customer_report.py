"""A customer scans a unit's QR label, reports a fault, follows the call and rates it
(issue 26), through the test client: no login, CSRF tokens from the anonymous session."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from typing import NamedTuple

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from partsvc.calls.customers import create_customer, create_equipment, create_site
from partsvc.calls.labels import issue_label, label_token, revoke_label
from partsvc.calls.models import Call
from partsvc.calls.report_models import CallPhoto, FaultReport
from partsvc.calls.reports import china_phone
from partsvc.platform.config import Settings
from partsvc.platform.db import Database
from partsvc.workflows.outbox_delivery import deliver
from tests.conftest import Clock
from tests.factories import make_part, unique
from tests.receivers import http_receiver
from tests.web.conftest import csrf_token

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # the tests' clock (tests/conftest.py)
SECRET = "test"  # the tests' apps' secret key (tests/conftest.py make_app)


class Labelled(NamedTuple):
    serial: str
    token: str
    customer: str


def a_labelled_unit(session: Session, tier: str = "silver", name: str = "华东医院") -> Labelled:
    """A customer's unit on a site, with a label issued (committed)."""
    customer = unique("C")
    site = unique("S")
    create_customer(
        session, code=customer, name=name, tier=tier, contract_starts_on=date(2026, 1, 1)
    )
    create_site(
        session, code=site, customer=customer, address="上海市浦东新区", lat=31.2, lon=121.5
    )
    model = make_part(session, name="Label printer LP-9", name_zh="标签打印机 LP-9")
    serial = unique("SN")
    create_equipment(
        session, serial=serial, sku=model.sku, site=site, installed_on=date(2026, 6, 1)
    )
    label = issue_label(session, serial, secret=SECRET, now=NOW, by=None)
    session.commit()
    return Labelled(serial, label_token(SECRET, label.nonce), customer)


@pytest.fixture
def app(make_app, tmp_path) -> Flask:  # type: ignore[no-untyped-def]
    """The tests' app, keeping the customers' photos in a folder of the test's own."""
    return make_app(files_dir=str(tmp_path))


@pytest.fixture
def unit(session: Session) -> Labelled:
    return a_labelled_unit(session)


def photo(kind: str = "JPEG", size: tuple[int, int] = (64, 48)) -> bytes:
    """A small photo with EXIF metadata (a camera and a GPS position) to be stripped."""
    image = Image.new("RGB", size, (200, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (31.0, 12.0, 0.0)}  # GPS
    out = io.BytesIO()
    image.save(out, kind, exif=exif.tobytes())
    return out.getvalue()


def report(client: FlaskClient, token: str, *, files: list[tuple[bytes, str]] = (), **fields: str):  # type: ignore[no-untyped-def,assignment]
    page = client.get(f"/r/{token}")
    data: dict[str, object] = {
        "contact_name": "王女士",
        "contact_phone": "139 1234 5678",
        "description": "打印机卡纸，无法出标签",
        "urgency": "down",
        "csrf_token": csrf_token(page.text) if page.status_code == 200 else "",
        **fields,
    }
    fields_ = MultiDict(data)
    for raw, name in files:
        fields_.add("photos", FileStorage(io.BytesIO(raw), name))
    # Encoded here, in memory: the test client would spool a large body to a temp file.
    boundary, body = encode_multipart(fields_)
    return client.post(
        f"/r/{token}", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def calls_of(session: Session, serial: str) -> list[Call]:
    session.expire_all()
    return list(
        session.scalars(select(Call).join(Call.equipment).where(Call.equipment.has(serial=serial)))
    )


def count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_the_label_opens_the_units_report_page_and_a_revoked_label_is_404(
    client: FlaskClient, session: Session, unit: Labelled
) -> None:
    page = client.get(f"/r/{unit.token}")
    assert page.status_code == 200
    assert unit.serial in page.text and "Label printer LP-9" not in page.text  # name_zh first
    assert "标签打印机 LP-9" in page.text
    assert "Under warranty until 2027-06-01" in page.text
    assert "华东医院" not in page.text  # not even the customer's own name to a passer-by

    revoke_label(session, unit.serial, now=NOW)
    session.commit()
    gone = client.get(f"/r/{unit.token}")
    assert gone.status_code == 404
    assert unit.serial not in gone.text
    assert client.get("/r/not-a-token").status_code == 404


def test_a_report_opens_a_call_with_its_deadlines_the_contact_and_a_tracking_page(
    client: FlaskClient, session: Session, unit: Labelled, tmp_path_factory: pytest.TempPathFactory
) -> None:
    answer = report(client, unit.token, files=[(photo(), "fault.jpg")])
    assert answer.status_code == 303, answer.text
    assert answer.location.startswith("/t/")
    (call,) = calls_of(session, unit.serial)
    assert (call.priority, call.priority_confirmed, call.tier) == ("P1", False, "silver")
    assert (call.contact_name, call.contact_phone) == ("王女士", "13912345678")
    assert call.onsite_due > call.reported_at  # the contract's SLA deadlines (R20)
    assert len(call.tracking_code or "") >= 32  # 192 random bits
    (stored,) = session.scalars(select(CallPhoto).where(CallPhoto.call_id == call.id))
    assert stored.content_type == "image/jpeg" and (stored.width, stored.height) == (64, 48)

    tracking = client.get(answer.location)
    assert tracking.status_code == 200
    assert "Report received" in tracking.text and unit.serial in tracking.text
    assert "Our dispatcher is reviewing your report." in tracking.text


def test_a_stored_photo_keeps_no_metadata(
    app: Flask, client: FlaskClient, session: Session, unit: Labelled
) -> None:
    assert report(client, unit.token, files=[(photo(), "a.jpg")]).status_code == 303
    (stored,) = session.scalars(select(CallPhoto))
    folder = app.config["PARTSVC_SETTINGS"].files_path / "photos"
    with Image.open(folder / stored.stored_as) as kept:
        assert kept.format == "JPEG"
        assert not kept.getexif()
        assert "exif" not in kept.info


def test_a_second_report_on_the_same_open_unit_joins_the_first(
    client: FlaskClient, session: Session, unit: Labelled
) -> None:
    first = report(client, unit.token)
    second = report(client, unit.token, contact_name="李工", urgency="other")
    assert second.status_code == 303
    assert second.location.split("?")[0] == first.location.split("?")[0]
    (call,) = calls_of(session, unit.serial)
    reports = session.scalars(select(FaultReport).where(FaultReport.call_id == call.id)).all()
    assert [(r.contact_name, r.joined) for r in reports] == [("王女士", False), ("李工", True)]
    assert call.priority == "P1"  # the first report's proposal stands
    joined = client.get(second.location)
    assert "your report was added to it" in joined.text


def test_30_reports_from_one_address_in_a_minute_are_refused_after_the_limit_with_nothing_written(
    client: FlaskClient, session: Session
) -> None:
    units = [a_labelled_unit(session) for _ in range(3)]
    before = count(session, FaultReport)
    statuses = [report(client, units[n % 3].token).status_code for n in range(30)]
    assert statuses[:5] == [303] * 5  # PARTSVC_REPORT_RATE: 5 per 10 minutes per address
    assert set(statuses[5:]) == {429}
    assert count(session, FaultReport) == before + 5
    refused = report(client, units[0].token)
    assert "Too many reports from here just now" in refused.text


def test_one_label_takes_only_so_many_reports_whoever_sends_them(
    app: Flask, session: Session, unit: Labelled
) -> None:
    statuses = []
    for n in range(7):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n + 1}"
        statuses.append(report(client, unit.token).status_code)
    assert statuses == [303] * 5 + [429] * 2


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_20_mb_upload_or_a_file_that_is_no_photo_is_refused_clearly(
    make_app, session: Session, unit: Labelled, language: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    locale = "zh_CN" if language == "zh" else "en"
    client = make_app(default_locale=locale, files_dir=str(tmp_path)).test_client()
    huge = report(client, unit.token, files=[(b"\xff\xd8" + bytes(20 * 1024 * 1024), "big.jpg")])
    not_a_photo = report(client, unit.token, files=[(b"%PDF-1.7 not a photo", "cv.pdf")])
    too_big_for_one = report(client, unit.token, files=[(bytes(6 * 1024 * 1024), "6mb.jpg")])
    assert (huge.status_code, not_a_photo.status_code, too_big_for_one.status_code) == (
        413,
        422,
        422,
    )
    words = {
        "en": ("at most 5 MB", "not a JPEG or PNG photo", "larger than 5 MB"),
        "zh": ("每张照片不超过 5 MB", "不是 JPEG 或 PNG 照片", "超过 5 MB"),
    }[language]
    assert words[0] in huge.text
    assert words[1] in not_a_photo.text
    assert words[2] in too_big_for_one.text
    assert "王女士" in not_a_photo.text  # what was typed is kept
    assert calls_of(session, unit.serial) == []
    assert count(session, CallPhoto) == 0


def test_a_tracking_id_shows_its_own_call_and_nothing_of_another(
    client: FlaskClient, session: Session
) -> None:
    ours = a_labelled_unit(session, name="甲公司")
    theirs = a_labelled_unit(session, name="乙公司")
    mine = report(client, ours.token).location
    other = report(
        client,
        theirs.token,
        contact_name="赵先生",
        contact_phone="021-61234567",
        description="漏油",
    ).location
    page = client.get(mine).text
    for secret in (theirs.serial, "赵先生", "61234567", "漏油", other.split("/t/")[1][:32]):
        assert secret not in page
    assert client.get("/t/" + "A" * 32).status_code == 404
    assert client.get(other[:-1] + ("x" if other[-1] != "x" else "y")).status_code == 404


def test_a_honeypot_filled_in_writes_nothing(
    client: FlaskClient, session: Session, unit: Labelled
) -> None:
    answer = report(client, unit.token, website="http://spam.example")
    assert answer.status_code == 200 and "Thank you" in answer.text
    assert calls_of(session, unit.serial) == []


def test_a_report_without_the_forms_csrf_token_writes_nothing(
    client: FlaskClient, session: Session, unit: Labelled
) -> None:
    client.get(f"/r/{unit.token}")
    answer = client.post(
        f"/r/{unit.token}",
        data={"contact_name": "x", "contact_phone": "13912345678", "description": "x"},
    )
    assert answer.status_code == 400
    assert calls_of(session, unit.serial) == []


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("139 1234 5678", "13912345678"),
        ("+86 13912345678", "+8613912345678"),
        ("021-61234567", "021-61234567"),
        ("0755 8888 6666", "075588886666"),
        ("010-61234567转123", "010-61234567转123"),
        ("400-820-1234", "400-820-1234"),
        ("12345678901", None),
        ("1391234567", None),
        ("+1 415 555 0100", None),
        ("021-123", None),
    ],
)
def test_a_phone_number_is_a_mainland_mobile_or_landline(typed: str, kept: str | None) -> None:
    assert china_phone(typed) == kept


def test_a_report_on_a_call_staff_opened_joins_it_and_gives_it_a_tracking_page(
    client: FlaskClient, session: Session, unit: Labelled
) -> None:
    from partsvc.calls.calls import report_call
    from partsvc.calls.models import Equipment
    from partsvc.core.worktime import WorkingCalendar

    equipment = session.scalars(select(Equipment).where(Equipment.serial == unit.serial)).one()
    staff = report_call(
        session,
        site=equipment.site.code,
        equipment=unit.serial,
        priority="P3",
        calendar=WorkingCalendar(),
        now=NOW,
    )
    session.commit()
    answer = report(client, unit.token)
    assert answer.status_code == 303
    (call,) = calls_of(session, unit.serial)
    assert call.id == staff.id and answer.location == f"/t/{call.tracking_code}?joined=1"
    assert (call.priority, call.priority_confirmed, call.contact_name) == ("P3", True, "王女士")


def test_the_customer_who_reported_is_told_on_their_phone_with_the_tracking_link(
    client: FlaskClient, unit: Labelled, database: Database, database_url: str, clock: Clock
) -> None:
    """The person who scanned the label is the call's contact (the site here has none):
    the bridge to SMS gets their name and number and the tracking page's address."""
    sent = report(client, unit.token)
    assert sent.status_code == 303, sent.text
    tracking = sent.headers["Location"].split("/t/")[1].split("?")[0]
    with http_receiver() as bridge:
        config = Settings(
            database_url=database_url,
            notifier="webhook",
            notify_webhook_url=bridge.url,
            notify_webhook_secret="bridge-secret",
            public_url="https://service.example.cn",
        )
        assert deliver(database, config, clock=clock).sent == 1
    (message,) = [json.loads(received.body) for received in bridge.received]
    assert message["audience"] == "customer" and message["event"] == "call.received"
    assert message["to"]["name"] == "王女士"
    assert (message["to"]["phone"] or "").replace(" ", "") == "13912345678"
    assert f"https://service.example.cn/t/{tracking}" in message["text"]
