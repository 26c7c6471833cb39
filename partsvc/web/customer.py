"""The customer's pages (issue 26), no login, phone first: report a fault from a unit's QR
label at ``/r/{token}``, follow the call at ``/t/{tracking}``, fetch the service record
and rate the visit once. Their own small layout (templates/customer/), CSRF tokens in the
anonymous session cookie, and nothing of another unit, call or customer on any of them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import IntegerField, StringField, TextAreaField, ValidationError
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

from partsvc.audit import trail as audit
from partsvc.calls.labels import unit_for_token
from partsvc.calls.photos import MAX_PHOTO_BYTES, MAX_PHOTOS, CleanPhoto, PhotoRefused, clean_photo
from partsvc.calls.reports import (
    FaultReportIn,
    call_for_tracking,
    china_phone,
    rate_call,
    report_fault,
    warranty_state,
)
from partsvc.core.errors import PartsvcError
from partsvc.documents import papers
from partsvc.http.context import (
    calendar,
    database,
    larger_body,
    now,
    pdf_response,
    settings,
    today,
    zone,
)
from partsvc.http.throttle import count_report
from partsvc.workflows.tracking import tracking_of

bp = Blueprint("customer", __name__)

URGENCY_CHOICES = [
    ("down", _l("The system is down (停机)")),
    ("partial", _l("Part of it does not work (部分功能)")),
    ("other", _l("Something else")),
]
REPORT_BODY_BYTES = MAX_PHOTOS * MAX_PHOTO_BYTES + 256 * 1024


def _phone(form: FlaskForm, field: StringField) -> None:
    if field.data and china_phone(field.data) is None:
        raise ValidationError(
            _l("Write a mainland China mobile (11 digits) or a landline with its area code.")
        )


class ReportForm(FlaskForm):  # type: ignore[misc]
    contact_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
    contact_phone = StringField(
        _l("Phone number"), validators=[DataRequired(), Length(max=32), _phone]
    )
    description = TextAreaField(_l("What is wrong?"), validators=[DataRequired(), Length(max=2000)])
    urgency = StringField(
        _l("How urgent is it?"),
        default="other",
        validators=[AnyOf([c for c, _ in URGENCY_CHOICES])],
    )
    website = StringField(validators=[Optional()])
    """A honeypot: hidden from people, filled in by bots; a report with it is dropped."""


class RatingForm(FlaskForm):  # type: ignore[misc]
    score = IntegerField(_l("Your rating"), validators=[InputRequired(), NumberRange(1, 5)])
    note = TextAreaField(_l("Anything to tell us? (optional)"), validators=[Length(max=2000)])


@contextmanager
def _unit_of_work(write: bool) -> Iterator[Session]:
    """A unit of work for a page without a login; its writes are audited as anonymous."""
    try:
        with database().unit_of_work(write=write) as db_session:
            g.session = db_session
            if write:
                audit.begin(db_session, actor=None, client=request.remote_addr, now=now())
            yield db_session
    finally:
        g.pop("session", None)
        g.pop("calendar", None)


@bp.errorhandler(404)
def _not_found(error: Exception) -> tuple[str, int]:
    return render_template("customer/not_found.html"), 404


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: Exception) -> tuple[str, int]:
    return render_template("customer/refused.html", reason="too_large"), 413


@bp.route("/r/<token>", methods=["GET", "POST"])
@larger_body(REPORT_BODY_BYTES)
def report(token: str) -> Any:
    """The fault report form of the unit whose label was scanned."""
    if request.method == "POST":
        wait = count_report(token)
        if wait is not None:
            minutes = max(1, (wait + 59) // 60)
            return render_template("customer/refused.html", reason="busy", minutes=minutes), 429
    form = ReportForm()
    with _unit_of_work(write=request.method == "POST") as db_session:
        unit = unit_for_token(db_session, token)
        if unit is None:
            abort(404)
        if request.method == "GET" or not form.validate():
            status = 200 if request.method == "GET" else 422
            return _report_page(unit, form), status
        if form.website.data:
            return render_template("customer/received.html"), 200
        try:
            photos = _photos()
        except PhotoRefused as refusal:
            return _report_page(unit, form, refusal=refusal), refusal.status
        wanted = FaultReportIn(
            contact_name=form.contact_name.data.strip(),
            contact_phone=form.contact_phone.data,
            urgency=form.urgency.data,
            description=form.description.data.strip(),
        )
        try:
            with db_session.begin_nested():
                done = report_fault(
                    db_session,
                    unit,
                    wanted,
                    photos,
                    folder=settings().files_path / "photos",
                    calendar=calendar(),
                    now=now(),
                )
        except PartsvcError as error:
            return _report_page(unit, form, refusal=error), error.status
        tracking = done.call.tracking_code
    where = url_for("customer.tracking", tracking=tracking)
    return redirect(f"{where}?joined=1" if done.joined else where, 303)


def _photos() -> list[CleanPhoto]:
    files = [f for f in request.files.getlist("photos") if f and f.filename]
    if len(files) > MAX_PHOTOS:
        raise PhotoRefused("too_many", f"At most {MAX_PHOTOS} photos.", "")
    return [clean_photo(f.read(MAX_PHOTO_BYTES + 1), f.filename or "") for f in files]


def _report_page(unit: Any, form: ReportForm, refusal: PartsvcError | None = None) -> str:
    state, until = warranty_state(unit, today())
    return render_template(
        "customer/report.html",
        unit=unit,
        form=form,
        refusal=refusal,
        warranty=state,
        covered_until=until,
        max_photos=MAX_PHOTOS,
        urgencies=URGENCY_CHOICES,
    )


@bp.get("/t/<tracking>")
def tracking(tracking: str) -> Any:
    """The call's steps as the customer follows them."""
    with _unit_of_work(write=False) as db_session:
        call = call_for_tracking(db_session, tracking)
        if call is None:
            abort(404)
        return _tracking_page(db_session, call, RatingForm(formdata=None))


def _tracking_page(
    db_session: Session, call: Any, form: RatingForm, refusal: PartsvcError | None = None
) -> str:
    return render_template(
        "customer/tracking.html",
        t=tracking_of(db_session, call),
        form=form,
        refusal=refusal,
        joined=request.args.get("joined") == "1",
        rated=request.args.get("rated") == "1",
    )


@bp.post("/t/<tracking>/rating")
def rate(tracking: str) -> Any:
    """Rate a resolved call once, 1 to 5 with a comment (R25)."""
    form = RatingForm()
    with _unit_of_work(write=True) as db_session:
        call = call_for_tracking(db_session, tracking)
        if call is None:
            abort(404)
        if not form.validate():
            return _tracking_page(db_session, call, form), 422
        try:
            with db_session.begin_nested():
                rate_call(
                    db_session,
                    call,
                    score=form.score.data,
                    note=(form.note.data or "").strip() or None,
                    now=now(),
                )
        except PartsvcError as error:
            return _tracking_page(db_session, call, form, refusal=error), error.status
    return redirect(url_for("customer.tracking", tracking=tracking, rated=1), 303)


@bp.get("/t/<tracking>/service-record.pdf")
def service_record(tracking: str) -> Any:
    with _unit_of_work(write=False) as db_session:
        call = call_for_tracking(db_session, tracking)
        if call is None or not tracking_of(db_session, call).has_record:
            abort(404)
        body = papers.service_record(db_session, call.id, zone=zone(), caller=None)
    return pdf_response(body, f"service-record-{call.id}")
