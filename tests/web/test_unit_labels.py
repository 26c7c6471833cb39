"""Staff's side of the customers' reports (issue 26): a unit's QR label printed, decoded,
re-issued and revoked; the dispatcher confirms the proposed priority; the customer rates
the resolved call once and the month's satisfaction counts it (R25)."""

from __future__ import annotations

from datetime import date, datetime

import pypdfium2
import pytest
import zxingcpp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.auth.models import User
from partsvc.calls.calls import change_call_status, target_for
from partsvc.calls.engineers import create_engineer
from partsvc.calls.models import Call
from partsvc.calls.report_models import CallPhoto
from partsvc.calls.rules import deadlines
from partsvc.core.worktime import WorkingCalendar
from partsvc.workflows.completion import complete_call
from partsvc.workflows.month_figures import month_figures
from tests.factories import unique
from tests.web.conftest import login, post_form
from tests.web.test_customer_report import a_labelled_unit, photo, report


@pytest.fixture
def app(make_app, tmp_path) -> Flask:  # type: ignore[no-untyped-def]
    """The tests' app, keeping the customers' photos in a folder of the test's own."""
    return make_app(files_dir=str(tmp_path))


@pytest.fixture
def unit_reported(client: FlaskClient, session: Session) -> Call:
    """A call a customer reported from a unit's label, with a photo ("system down": P1)."""
    unit = a_labelled_unit(session)
    assert report(client, unit.token, files=[(photo(), "fault.jpg")]).status_code == 303
    session.expire_all()
    return session.scalars(select(Call).where(Call.equipment.has(serial=unit.serial))).one()


def resolve(session: Session, call_id: int, now: datetime) -> None:
    """An engineer is assigned, sets off, arrives and completes the call."""
    engineer = create_engineer(
        session, code=unique("E"), name="张师傅", home_lat=31.2, home_lon=121.5, skills=[]
    )
    change_call_status(session, call_id, "assigned", engineer=engineer.code, now=now)
    for status in ("en_route", "on_site"):
        change_call_status(session, call_id, status, now=now)
    complete_call(
        session,
        call_id,
        work_done="更换进纸辊",
        signed_by="王女士",
        consumed=[],
        now=now,
        calendar=WorkingCalendar(),
    )


def qr_texts(pdf: bytes) -> list[str]:
    """The QR codes on each page of a PDF, rendered at 300 dpi and decoded (zxing-cpp)."""
    document = pypdfium2.PdfDocument(pdf)
    found = []
    for page in document:
        image = page.render(scale=300 / 72).to_pil()
        found += [code.text for code in zxingcpp.read_barcodes(image)]
        page.close()
    document.close()
    return found


def test_a_units_label_prints_a_qr_code_of_its_report_page(
    make_app, session: Session, tokens: dict[str, str]
) -> None:  # type: ignore[no-untyped-def]
    unit = a_labelled_unit(session)
    app = make_app(public_url="https://service.example.cn", service_hotline="400-820-1234")
    client = app.test_client()
    label = client.get(
        f"/api/v1/equipment/{unit.serial}/label.pdf", headers={"Authorization": tokens["admin"]}
    )
    assert label.status_code == 200 and label.mimetype == "application/pdf"
    assert qr_texts(label.data) == [f"https://service.example.cn/r/{unit.token}"]
    assert client.get(f"/r/{unit.token}").status_code == 200


def test_reissuing_a_label_stops_the_old_code_and_revoking_stops_the_new(
    client: FlaskClient, session: Session, tokens: dict[str, str]
) -> None:
    unit = a_labelled_unit(session)
    admin = {"Authorization": tokens["dispatcher"]}
    issued = client.post(f"/api/v1/equipment/{unit.serial}/label", headers=admin)
    assert issued.status_code == 201, issued.json
    assert client.get(f"/r/{unit.token}").status_code == 404
    (new_url,) = qr_texts(
        client.get(f"/api/v1/equipment/{unit.serial}/label.pdf", headers=admin).data
    )
    new_token = new_url.rsplit("/", 1)[1]
    assert new_token != unit.token and client.get(f"/r/{new_token}").status_code == 200

    assert client.delete(f"/api/v1/equipment/{unit.serial}/label", headers=admin).status_code == 204
    assert client.get(f"/r/{new_token}").status_code == 404
    refused = client.get(f"/api/v1/equipment/{unit.serial}/label.pdf", headers=admin)
    assert refused.status_code == 409
    clerk = {"Authorization": tokens["clerk"]}
    assert client.post(f"/api/v1/equipment/{unit.serial}/label", headers=clerk).status_code == 403


def test_a_sites_sheet_carries_every_labelled_unit(
    client: FlaskClient, session: Session, users: dict[str, User]
) -> None:
    unit = a_labelled_unit(session)
    login(client, "dispatcher")
    page = client.get(f"/units/{unit.serial}")
    assert page.status_code == 200 and "Label in force since" in page.text
    code = page.text.split("/print/sites/")[1].split("/labels.pdf")[0]
    sheet = client.get(f"/print/sites/{code}/labels.pdf")
    assert sheet.status_code == 200
    assert [text.rsplit("/", 1)[1] for text in qr_texts(sheet.data)] == [unit.token]
    revoked = post_form(client, f"/units/{unit.serial}", f"/units/{unit.serial}/label/revoke", {})
    assert revoked.status_code == 302
    assert client.get(f"/r/{unit.token}").status_code == 404
    assert "revoked" in client.get(f"/units/{unit.serial}").text


def test_the_dispatcher_confirms_a_proposed_priority_on_the_board(
    client: FlaskClient, session: Session, users: dict[str, User], unit_reported: Call
) -> None:
    login(client, "dispatcher")
    board = client.get("/board")
    assert "priority to confirm" in board.text
    answer = post_form(
        client, "/board", f"/board/calls/{unit_reported.id}/priority", {"priority": "P2"}
    )
    assert answer.status_code == 302
    session.expire_all()
    call = session.get(Call, unit_reported.id)
    assert call is not None and (call.priority, call.priority_confirmed) == ("P2", True)
    p1, p2 = (due(session, call, priority) for priority in ("P1", "P2"))
    assert (call.response_due, call.onsite_due, call.resolve_due) == p2 != p1
    assert "priority to confirm" not in client.get("/board").text


def due(session: Session, call: Call, priority: str) -> tuple[datetime, datetime, datetime]:
    """The deadlines the call's tier gives ``priority`` from the report (R20)."""
    d = deadlines(target_for(session, call.tier, priority), call.reported_at, WorkingCalendar())
    return (d.response_due, d.onsite_due, d.resolve_due)


def test_staff_see_the_customers_photos_on_the_call(
    client: FlaskClient, session: Session, users: dict[str, User], unit_reported: Call
) -> None:
    login(client, "dispatcher")
    page = client.get(f"/calls/{unit_reported.id}/reports")
    assert page.status_code == 200 and "王女士" in page.text
    (stored,) = session.scalars(select(CallPhoto).where(CallPhoto.call_id == unit_reported.id))
    image = client.get(f"/calls/{unit_reported.id}/photos/{stored.id}")
    image.close()
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert client.get(f"/calls/{unit_reported.id + 1}/photos/{stored.id}").status_code == 404


def test_the_customer_rates_the_resolved_call_once_and_the_month_counts_it(
    app: Flask, client: FlaskClient, session: Session, unit_reported: Call, clock
) -> None:  # type: ignore[no-untyped-def]
    tracking = f"/t/{unit_reported.tracking_code}"
    assert "How did we do?" not in client.get(tracking).text
    resolve(session, unit_reported.id, clock.now)
    session.commit()
    page = client.get(tracking)
    assert "How did we do?" in page.text and "Service record (PDF)" in page.text
    record = client.get(f"{tracking}/service-record.pdf")
    assert record.status_code == 200 and record.mimetype == "application/pdf"
    rated = post_form(client, tracking, f"{tracking}/rating", {"score": 5, "note": "很快"})
    assert rated.status_code == 303
    again = post_form(client, tracking, f"{tracking}/rating", {"score": 1, "note": ""})
    assert "How did we do?" not in client.get(tracking).text
    assert again.status_code in (200, 409)
    session.expire_all()
    call = session.get(Call, unit_reported.id)
    assert call is not None and (call.satisfaction, call.satisfaction_note) == (5, "很快")
    figures = month_figures(
        session,
        date(2026, 11, 1),
        now=clock.advance(minutes=1),
        zone=app.extensions["partsvc.calendar"].zone,
        same_day_target=0.9,
        satisfaction_target=0.9,
    )
    assert (figures.satisfaction.met, figures.satisfaction.total) == (1, 1)
