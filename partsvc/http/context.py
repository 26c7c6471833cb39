"""What a request needs to know, for API views and pages alike: the database and this
request's session, who is asking, the clock, settings and calendar, the planning queue;
and small helpers every edge shares (dates and months from a query, a PDF answer, a page's
own body limit)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from flask import Response, current_app, g, request
from sqlalchemy.orm import Session

from partsvc.audit import trail as audit
from partsvc.auth.identity import Caller
from partsvc.core.errors import InvalidInput
from partsvc.core.worktime import WorkingCalendar
from partsvc.platform.config import Settings
from partsvc.platform.db import Database, utcnow
from partsvc.workdays.calendar_days import working_calendar
from partsvc.workflows.plan_jobs import PlanOrder

if TYPE_CHECKING:
    from partsvc.workflows.plan_jobs import PlanQueue


F = TypeVar("F", bound=Callable[..., Any])


def database() -> Database:
    db: Database = current_app.extensions["partsvc.db"]
    return db


def current_session() -> Session:
    session: Session = g.session
    return session


def current_user() -> Caller:
    caller: Caller = g.user
    return caller


def calendar() -> WorkingCalendar:
    """The working-time calendar: the deployment's settings plus the admin's days (R21)."""
    if "calendar" not in g:
        g.calendar = working_calendar(current_session(), current_app.extensions["partsvc.calendar"])
    working: WorkingCalendar = g.calendar
    return working


def base_calendar() -> WorkingCalendar:
    """The deployment's calendar before the admin's days (use cases apply those themselves)."""
    working: WorkingCalendar = current_app.extensions["partsvc.calendar"]
    return working


def plan_queue() -> PlanQueue | None:
    """Where days are planned when a queue is configured; None to plan in process."""
    queue: PlanQueue | None = current_app.extensions.get("partsvc.plan_queue")
    return queue


def settings() -> Settings:
    configured: Settings = current_app.config["PARTSVC_SETTINGS"]
    return configured


def sla_warning() -> timedelta:
    """How long before a deadline a call is flagged as near (R22)."""
    return timedelta(minutes=settings().sla_warning_minutes)


def zone() -> ZoneInfo:
    """The deployment's time zone, where days begin and end."""
    return ZoneInfo(settings().timezone)


def today() -> date:
    """Today in the deployment's time zone."""
    return now().astimezone(zone()).date()


def now() -> datetime:
    clock: Callable[[], datetime] = current_app.extensions["partsvc.clock"]
    return clock()


def larger_body(max_bytes: int) -> Callable[[F], F]:
    """Let a page view take a body up to ``max_bytes`` (an uploaded file) instead of the
    app's MAX_CONTENT_LENGTH; an API ``Resource`` sets ``max_content_length`` instead."""

    def decorate(func: F) -> F:
        func.max_content_length = max_bytes  # type: ignore[attr-defined]
        return func

    return decorate


def raise_body_limit() -> None:
    """Before the request (and the CSRF check, which reads the form): the view's own
    body limit, if it declares one."""
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, "max_content_length", None) or getattr(
        getattr(view, "view_class", None), "max_content_length", None
    )
    if limit:
        request.max_content_length = limit


def parse_month(text: str | None) -> date | None:
    """``YYYY-MM`` as its first day; None when not given; a clear 422 when not a month."""
    if not text:
        return None
    try:
        year, month = (int(part) for part in text.split("-"))
        if not 2000 <= year <= 2999:
            raise ValueError(year)
        return date(year, month, 1)
    except ValueError as error:
        raise InvalidInput(
            f"{text[:20]!r} is not a month; write it as YYYY-MM.", errors={"month": ["YYYY-MM."]}
        ) from error


def parse_date(text: str | None) -> date | None:
    """``YYYY-MM-DD`` from a query string; None when not given; a clear 422 otherwise."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise InvalidInput(
            f"{text[:20]!r} is not a date; write it as YYYY-MM-DD.",
            errors={"date": ["YYYY-MM-DD."]},
        ) from error


def pdf_response(body: bytes, name: str) -> Response:
    """A printed document, shown in the browser, saved as ``name``.pdf."""
    answer = Response(body, mimetype="application/pdf")
    answer.headers["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    return answer


def audit_request(session: Session, *, created: str | None = None) -> None:
    """The general audit event of this write request (method, route, the route's values)."""
    rule = request.url_rule
    audit.record_request(
        session,
        method=request.method,
        route=rule.rule if rule is not None else request.path,
        args=dict(request.view_args or {}),
        created=created,
    )


def plan_order(day: date, *, by: Caller, time_limit_s: float | None = None) -> PlanOrder:
    """An order to plan ``day`` as this request asks it, for the board and the API alike:
    the business clock and the real one, the time limit (the deployment's unless given),
    who asks and from where."""
    return PlanOrder(
        day=day,
        now=now(),
        sent_at=utcnow(),
        time_limit_s=time_limit_s or settings().plan_time_limit_s,
        by=by,
        client=request.remote_addr,
    )
