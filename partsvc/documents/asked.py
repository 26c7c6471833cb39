"""The documents that take their day or month from the request: one way to ask for each,
whether the API (a bearer token) or the pages (the login cookie) serve it."""

from __future__ import annotations

from flask import Response, request
from sqlalchemy.orm import Session

from partsvc.auth.identity import Caller
from partsvc.documents import papers
from partsvc.http.context import (
    calendar,
    now,
    parse_date,
    parse_month,
    pdf_response,
    settings,
    today,
    zone,
)


def day_sheet_pdf(session: Session, engineer: str, caller: Caller) -> Response:
    """An engineer's day sheet for ``?date=`` (default today); an engineer prints their own."""
    day = parse_date(request.args.get("date")) or today()
    body = papers.day_sheet(session, engineer, day, calendar=calendar(), caller=caller)
    return pdf_response(body, f"day-{engineer}-{day}")


def monthly_report_pdf(session: Session) -> Response:
    """The month's report for ``?month=YYYY-MM`` (default this month)."""
    month = parse_month(request.args.get("month")) or today().replace(day=1)
    body = papers.monthly_report(session, month, now=now(), zone=zone(), settings=settings())
    return pdf_response(body, f"report-{month:%Y-%m}")
