"""Every printed document rendered from the demo data through its API path: a PDF whose
text carries the key values exactly as stored, Chinese included."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from partsvc import create_app
from partsvc.calls.models import Call
from partsvc.core.worktime import WorkingCalendar
from partsvc.demo import load_demo
from partsvc.documents import render_pdf
from partsvc.documents.papers import qr_svg
from partsvc.loans.models import Loan
from partsvc.platform import migrate
from partsvc.platform.config import Settings
from partsvc.platform.db import Database
from partsvc.purchasing.models import VendorOrder
from tests.demo_data import SIGNED_BY, complete_on_site, spare_on_van

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Shanghai


class Demo:
    def __init__(self, client: FlaskClient, tokens: dict[str, tuple[str, str]], db: Database):
        self.client = client
        self.tokens = tokens
        self.db = db

    def get(self, path: str, user: str = "admin"):  # type: ignore[no-untyped-def]
        return self.client.get(path, headers={"Authorization": f"Bearer {self.tokens[user][1]}"})


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    url = f"sqlite:///{tmp_path_factory.mktemp('documents') / 'partsvc.db'}"
    migrate.upgrade(url)
    db = Database(url)
    with db.unit_of_work() as session:
        tokens = load_demo(session, now=NOW, part_count=60)
    assert tokens is not None
    app = create_app(Settings(database_url=url, secret_key="d"), database=db, clock=lambda: NOW)
    yield Demo(app.test_client(), tokens, db)
    db.dispose()


def text_of(answer) -> str:  # type: ignore[no-untyped-def]
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    assert answer.mimetype == "application/pdf"
    body = answer.get_data()
    assert body.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def squeeze(text: str) -> str:
    """Text extraction may break lines anywhere: compare without whitespace."""
    return "".join(text.split())


def test_the_service_record_shows_the_call_the_parts_and_the_signature(demo: Demo) -> None:
    with demo.db.unit_of_work() as session:
        call = session.scalars(
            select(Call).where(Call.status == "assigned").order_by(Call.id)
        ).first()
        assert call is not None and call.engineer is not None
        level = spare_on_van(session, call.engineer.van)
        sku, customer = level.part.sku, call.site.customer.name
        complete_on_site(
            session,
            call.id,
            sku,
            "更换定影组件，测试打印正常",
            now=NOW + timedelta(hours=1),
            calendar=WorkingCalendar(),
        )
        call_id = call.id
    text = squeeze(text_of(demo.get(f"/api/v1/calls/{call_id}/service-record.pdf")))
    for expected in (customer, SIGNED_BY, sku, "更换定影组件，测试打印正常", f"call{call_id}"):
        assert squeeze(expected) in text, expected


def test_the_loaner_agreement_shows_the_due_date(demo: Demo) -> None:
    with demo.db.unit_of_work(write=False) as session:
        loan = session.scalars(select(Loan).order_by(Loan.id)).first()
        assert loan is not None
        due = loan.due_at.astimezone(WorkingCalendar().zone).strftime("%Y-%m-%d")
        serial, customer = loan.unit.serial, loan.site.customer.name
    text = squeeze(text_of(demo.get(f"/api/v1/loans/{loan.id}/agreement.pdf", "clerk")))
    for expected in (due, serial, customer, "Returnconditions"):
        assert squeeze(expected) in text, expected
    for limit in ("never past 15 days from the day out", "自借出日起不超过 15 天"):  # R11
        assert squeeze(limit) in text, limit


def test_the_rma_authorization_carries_its_number_and_a_qr_label(demo: Demo) -> None:
    answer = demo.get("/api/v1/rmas/RMA-000001/authorization.pdf", "clerk")
    text = squeeze(text_of(answer))
    assert text.count("RMA-000001") >= 2  # the heading and the shipping label
    assert "南京华威测绘仪器有限公司" in text


def test_the_qr_code_is_drawn_from_the_rma_number() -> None:
    one, other = qr_svg("RMA-000001"), qr_svg("RMA-000002")
    assert one.lstrip().startswith("<svg") or one.lstrip().startswith("<?xml")
    assert "<path" in one
    assert one != other


def test_the_vendor_order_shows_its_lines_and_total(demo: Demo) -> None:
    with demo.db.unit_of_work(write=False) as session:
        order = session.scalars(select(VendorOrder).order_by(VendorOrder.id)).first()
        assert order is not None
        total = sum((line.unit_cost or 0) * line.qty for line in order.lines)
        number, skus = order.number, [line.part.sku for line in order.lines]
    text = squeeze(text_of(demo.get(f"/api/v1/vendor-orders/{number}.pdf", "clerk")))
    assert number in text
    for sku in skus:
        assert sku in text
    assert f"{total:.2f}" in text


def test_the_day_sheet_lists_the_engineers_calls(demo: Demo) -> None:
    with demo.db.unit_of_work(write=False) as session:
        call = session.scalars(
            select(Call).where(Call.status == "assigned").order_by(Call.id)
        ).first()
        assert call is not None and call.engineer is not None
        code, address = call.engineer.code, call.site.address
    text = squeeze(text_of(demo.get(f"/api/v1/engineers/{code}/day.pdf?date=2026-11-18")))
    assert squeeze(address) in text


def test_the_monthly_report_shows_the_months_figures(demo: Demo) -> None:
    text = squeeze(text_of(demo.get("/api/v1/reports/monthly.pdf?month=2026-11")))
    for expected in ("2026-11", "SLAcompliance", "Partsreplaced", "Repairs", "Loans"):
        assert expected in text, expected
    # The charts' and tables' labels are bilingual, like the rest of the documents.
    for expected in ("P1answered响应", "P1onsite到场", "P1fixed修复", "First-timefix一次修复"):
        assert expected in text, expected
    for expected in ("Same-dayfix当天修复", "Satisfied满意", "Lentthismonth本月借出"):
        assert expected in text, expected


def test_an_engineer_cannot_print_another_engineers_day(demo: Demo) -> None:
    answer = demo.get("/api/v1/engineers/E-WANG/day.pdf", "lina")
    assert answer.status_code == 404  # as if there were no E-WANG


def test_a_document_that_asks_for_local_files_or_outside_urls_renders_without_them(
    tmp_path: Path,
) -> None:
    """Stylesheets that would add words if loaded: one on disk outside the package, one
    from a server on 127.0.0.1. Neither may load; the document still renders."""
    local_css = tmp_path / "leak.css"
    local_css.write_text('h1::after { content: " LOCALLEAK"; }')
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    probe = Path(__file__).resolve().parents[2] / "templates" / "documents" / "_probe_test.html"
    probe.write_text(
        "<h1>probe</h1><p>passwd: <img src='file:///etc/passwd'></p>"
        f"<link rel='stylesheet' href='{local_css.as_uri()}'>"
        f"<link rel='stylesheet' href='http://127.0.0.1:{server.server_port}/leak.css'>"
    )
    try:
        pdf = render_pdf("_probe_test.html")
    finally:
        probe.unlink()
        server.shutdown()
        server.server_close()
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "probe" in text
    assert "LOCALLEAK" not in text
    assert "root:" not in text


def test_the_package_static_files_still_load(tmp_path: Path) -> None:
    """The other side of the fetcher: a stylesheet inside partsvc/static is served."""
    static = Path(__file__).resolve().parents[2] / "partsvc" / "static" / "_probe_test.css"
    static.write_text('h1::after { content: " FROMSTATIC"; }')
    probe = Path(__file__).resolve().parents[2] / "templates" / "documents" / "_probe_test.html"
    probe.write_text("<link rel='stylesheet' href='_probe_test.css'><h1>probe</h1>")
    try:
        pdf = render_pdf("_probe_test.html")
    finally:
        probe.unlink()
        static.unlink()
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "FROMSTATIC" in text
