"""The printed documents for the pages' users (the login cookie, not a bearer token):
the same PDFs as the API's document paths, linked from the pages."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, request

from partsvc.documents import papers
from partsvc.errors import InvalidInput
from partsvc.http import calendar, now, parse_month, settings, today, zone
from partsvc.web.pages import current_caller, db, page

bp = Blueprint("prints", __name__, url_prefix="/print")


def _pdf(body: bytes, name: str) -> Response:
    answer = Response(body, mimetype="application/pdf")
    answer.headers["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    return answer


@bp.get("/calls/<int:call_id>/service-record.pdf")
@page("admin", "dispatcher", "engineer")
def service_record(call_id: int) -> Any:
    body = papers.service_record(db(), call_id, zone=zone(), caller=current_caller())
    return _pdf(body, f"service-record-{call_id}")


@bp.get("/loans/<int:loan_id>/agreement.pdf")
@page("admin", "clerk", "dispatcher", "engineer")
def loaner_agreement(loan_id: int) -> Any:
    body = papers.loaner_agreement(db(), loan_id, zone=zone(), caller=current_caller())
    return _pdf(body, f"loan-{loan_id}")


@bp.get("/rmas/<number>/authorization.pdf")
@page("admin", "clerk", "dispatcher")
def rma_authorization(number: str) -> Any:
    return _pdf(papers.rma_authorization(db(), number, zone=zone()), number)


@bp.get("/vendor-orders/<number>.pdf")
@page("admin", "clerk")
def vendor_order(number: str) -> Any:
    return _pdf(papers.vendor_order(db(), number, today=today(), zone=zone()), number)


@bp.get("/engineers/<code>/day.pdf")
@page("admin", "dispatcher", "engineer")
def day_sheet(code: str) -> Any:
    day = _day(request.args.get("date"))
    body = papers.day_sheet(db(), code, day, calendar=calendar(), caller=current_caller())
    return _pdf(body, f"day-{code}-{day}")


@bp.get("/reports/monthly.pdf")
@page("admin")
def monthly_report() -> Any:
    month = parse_month(request.args.get("month")) or today().replace(day=1)
    body = papers.monthly_report(
        db(),
        month,
        now=now(),
        zone=zone(),
        targets={
            "same_day": settings().same_day_fix_target,
            "satisfaction": settings().satisfaction_target,
        },
    )
    return _pdf(body, f"report-{month:%Y-%m}")


def _day(text: str | None) -> date:
    if not text:
        return today()
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise InvalidInput(f"{text[:20]!r} is not a date; write it as YYYY-MM-DD.") from error
