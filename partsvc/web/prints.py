"""The printed documents for the pages' users (the login cookie, not a bearer token):
the same PDFs as the API's document paths, linked from the pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from partsvc.documents import asked, papers
from partsvc.http.context import (
    pdf_response,
    today,
    zone,
)
from partsvc.web.pages import current_caller, db, page

bp = Blueprint("prints", __name__, url_prefix="/print")


@bp.get("/calls/<int:call_id>/service-record.pdf")
@page("admin", "dispatcher", "engineer")
def service_record(call_id: int) -> Any:
    body = papers.service_record(db(), call_id, zone=zone(), caller=current_caller())
    return pdf_response(body, f"service-record-{call_id}")


@bp.get("/loans/<int:loan_id>/agreement.pdf")
@page("admin", "clerk", "dispatcher", "engineer")
def loaner_agreement(loan_id: int) -> Any:
    body = papers.loaner_agreement(db(), loan_id, zone=zone(), caller=current_caller())
    return pdf_response(body, f"loan-{loan_id}")


@bp.get("/rmas/<number>/authorization.pdf")
@page("admin", "clerk", "dispatcher")
def rma_authorization(number: str) -> Any:
    return pdf_response(papers.rma_authorization(db(), number, zone=zone()), number)


@bp.get("/vendor-orders/<number>.pdf")
@page("admin", "clerk")
def vendor_order(number: str) -> Any:
    return pdf_response(papers.vendor_order(db(), number, today=today(), zone=zone()), number)


@bp.get("/engineers/<code>/day.pdf")
@page("admin", "dispatcher", "engineer")
def day_sheet(code: str) -> Any:
    return asked.day_sheet_pdf(db(), code, current_caller())


@bp.get("/reports/monthly.pdf")
@page("admin")
def monthly_report() -> Any:
    return asked.monthly_report_pdf(db())
