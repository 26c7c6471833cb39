"""The printed documents for the pages' users (the login cookie, not a bearer token):
the same PDFs as the API's document paths, linked from the pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, render_template
from flask_babel import gettext as _

from partsvc.documents import asked, papers
from partsvc.http.context import (
    pdf_response,
    today,
    zone,
)
from partsvc.http.renders import NoRenderTurn, render_turn
from partsvc.web.pages import current_caller, db, page

bp = Blueprint("prints", __name__, url_prefix="/print")


def rendered(view: Callable[..., Any]) -> Callable[..., Any]:
    """The document renders only with a turn (``partsvc.http.renders``); without one, a
    page in the user's language saying to try again in a moment."""

    @wraps(view)
    def with_a_turn(**kwargs: Any) -> Any:
        try:
            with render_turn():
                return view(**kwargs)
        except NoRenderTurn as refused:
            shown = render_template(
                "unavailable.html",
                title=_("Too many documents at once"),
                message=_(
                    "Other documents you asked for are still being prepared. "
                    "Wait a moment, then reload the page."
                ),
            )
            return shown, refused.status, {"Retry-After": str(refused.extra["retry_after"])}

    return with_a_turn


@bp.get("/calls/<int:call_id>/service-record.pdf")
@page("admin", "dispatcher", "engineer")
@rendered
def service_record(call_id: int) -> Any:
    body = papers.service_record(db(), call_id, zone=zone(), caller=current_caller())
    return pdf_response(body, f"service-record-{call_id}")


@bp.get("/loans/<int:loan_id>/agreement.pdf")
@page("admin", "clerk", "dispatcher", "engineer")
@rendered
def loaner_agreement(loan_id: int) -> Any:
    body = papers.loaner_agreement(db(), loan_id, zone=zone(), caller=current_caller())
    return pdf_response(body, f"loan-{loan_id}")


@bp.get("/rmas/<number>/authorization.pdf")
@page("admin", "clerk", "dispatcher")
@rendered
def rma_authorization(number: str) -> Any:
    return pdf_response(papers.rma_authorization(db(), number, zone=zone()), number)


@bp.get("/vendor-orders/<number>.pdf")
@page("admin", "clerk")
@rendered
def vendor_order(number: str) -> Any:
    return pdf_response(papers.vendor_order(db(), number, today=today(), zone=zone()), number)


@bp.get("/engineers/<code>/day.pdf")
@page("admin", "dispatcher", "engineer")
@rendered
def day_sheet(code: str) -> Any:
    return asked.day_sheet_pdf(db(), code, current_caller())


@bp.get("/reports/monthly.pdf")
@page("admin")
@rendered
def monthly_report() -> Any:
    return asked.monthly_report_pdf(db())
