"""Documents of API.md: PDFs served next to their resource (PRODUCT.md section 7)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask_smorest import Blueprint

from partsvc.api.resource import Resource, allow
from partsvc.documents import asked, papers
from partsvc.http.context import (
    current_session,
    current_user,
    pdf_response,
    today,
    zone,
)
from partsvc.http.renders import render_turn


def rendered(view: Callable[..., Any]) -> Callable[..., Any]:
    """The view renders only with a turn (``partsvc.http.renders``): 429 or 503 without."""

    @wraps(view)
    def with_a_turn(*args: Any, **kwargs: Any) -> Any:
        with render_turn():
            return view(*args, **kwargs)

    return with_a_turn


blp = Blueprint("documents", __name__, url_prefix="/api/v1", description="Printable documents")

PDF = {"description": "The document as a PDF."}
AS_PDF = {
    "responses": {
        "200": {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}
    }
}


@blp.route("/calls/<int(max=2147483647):call_id>/service-record.pdf")
class ServiceRecordPdf(Resource):
    @allow("admin", "dispatcher", "engineer")
    @blp.response(200, **PDF)
    @blp.doc(**AS_PDF)
    @rendered
    def get(self, call_id: int) -> Any:
        """The service record of a call (R23); an engineer prints their own calls."""
        body = papers.service_record(current_session(), call_id, zone=zone(), caller=current_user())
        return pdf_response(body, f"service-record-{call_id}")


@blp.route("/loans/<int(max=2147483647):loan_id>/agreement.pdf")
class LoanerAgreementPdf(Resource):
    @allow("admin", "clerk", "dispatcher", "engineer")
    @blp.response(200, **PDF)
    @blp.doc(**AS_PDF)
    @rendered
    def get(self, loan_id: int) -> Any:
        """The loaner agreement with its due date."""
        body = papers.loaner_agreement(
            current_session(), loan_id, zone=zone(), caller=current_user()
        )
        return pdf_response(body, f"loan-{loan_id}")


@blp.route("/rmas/<rma>/authorization.pdf")
class RmaAuthorizationPdf(Resource):
    @allow("admin", "clerk", "dispatcher")
    @blp.response(200, **PDF)
    @blp.doc(**AS_PDF)
    @rendered
    def get(self, rma: str) -> Any:
        """The RMA authorization with a QR-coded shipping label."""
        return pdf_response(papers.rma_authorization(current_session(), rma, zone=zone()), rma)


@blp.route("/vendor-orders/<number>.pdf")
class VendorOrderPdf(Resource):
    @allow("admin", "clerk")
    @blp.response(200, **PDF)
    @blp.doc(**AS_PDF)
    @rendered
    def get(self, number: str) -> Any:
        """The vendor order with its lines, prices, ETAs and total."""
        body = papers.vendor_order(current_session(), number, today=today(), zone=zone())
        return pdf_response(body, number)


@blp.route("/engineers/<engineer>/day.pdf")
class DaySheetPdf(Resource):
    @allow("admin", "dispatcher", "engineer")
    @blp.response(200, **PDF)
    @blp.doc(**AS_PDF)
    @rendered
    def get(self, engineer: str) -> Any:
        """An engineer's day sheet (`date`, default today); an engineer prints their own."""
        return asked.day_sheet_pdf(current_session(), engineer, current_user())


@blp.route("/reports/monthly.pdf")
class MonthlyReportPdf(Resource):
    @allow("admin")
    @blp.response(200, **PDF)
    @blp.doc(**AS_PDF)
    @rendered
    def get(self) -> Any:
        """The month's report (`month=YYYY-MM`, default this month)."""
        return asked.monthly_report_pdf(current_session())
