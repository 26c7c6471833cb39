"""The engineer's day, phone first: my route, my van, my loans, and completing a call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from partsvc.calls.calls import change_call_status, engineer_of, get_call
from partsvc.calls.rules import CallStatus
from partsvc.core.errors import Forbidden, InvalidInput, PartsvcError
from partsvc.http.context import calendar, now, today, zone
from partsvc.loans.lending import loan_terms
from partsvc.loans.models import Loan
from partsvc.loans.rules import days_overdue, loan_state
from partsvc.web.pages import attempt, current_caller, db, notice, page, refused
from partsvc.workflows.completion import PartUsed, complete_call
from partsvc.workflows.engineer_day import engineer_day

bp = Blueprint("myday", __name__)

VIEWERS = ("engineer", "dispatcher", "admin")
STEPS = {CallStatus.EN_ROUTE: _l("Set off"), CallStatus.ON_SITE: _l("Arrived on site")}
"""The visit's steps an engineer takes from the page, by the status they lead to."""
MAX_PART_LINES = 20


@dataclass(frozen=True)
class LoanRow:
    """A loan as the engineer's list shows it: most days overdue first (R12)."""

    loan: Loan
    state: str
    days_overdue: int


class CompletionForm(FlaskForm):  # type: ignore[misc]
    work_done = TextAreaField(_l("Work done"), validators=[DataRequired(), Length(max=4000)])
    parts = TextAreaField(
        _l("Parts used from the van (SKU and quantity, one per line)"),
        validators=[Optional(), Length(max=2000)],
    )
    loaner = StringField(_l("Loaner placed (serial)"), validators=[Optional(), Length(max=100)])
    taken_back = StringField(
        _l("Unit taken back for repair (serial)"), validators=[Optional(), Length(max=100)]
    )
    signed_by = StringField(
        _l("Customer's name (signs)"), validators=[DataRequired(), Length(max=200)]
    )


@bp.get("/my/day")
@page("engineer")
def home() -> Any:
    engineer = engineer_of(db(), current_caller())
    if engineer is None:
        raise Forbidden(_("Your login is not an engineer's."))
    return redirect(url_for("myday.day", code=engineer.code))


@bp.get("/engineers/<code>/day")
@page(*VIEWERS)
def day(code: str) -> Any:
    """An engineer's day: an engineer sees only their own (a 403 page otherwise)."""
    the_day = engineer_day(db(), code, today(), calendar=calendar(), caller=current_caller())
    terms = loan_terms(db())
    moment = now()
    loans = sorted(
        (
            LoanRow(
                loan,
                loan_state(loan.due_at, False, moment, terms).value,
                days_overdue(loan.due_at, moment, zone()),
            )
            for loan in the_day.loans
        ),
        key=lambda row: (-row.days_overdue, row.loan.due_at),
    )
    return render_template("myday/day.html", day=the_day, loans=loans, now=moment)


@bp.get("/my/calls/<int:call_id>")
@page("engineer")
def call(call_id: int) -> Any:
    return _call_page(call_id, CompletionForm(formdata=None))


@bp.post("/my/calls/<int:call_id>/status")
@page("engineer")
def step(call_id: int) -> Any:
    status = request.form.get("status", "")
    if status not in STEPS:
        abort(400)
    outcome = attempt(
        lambda session: change_call_status(session, call_id, status, now=now(), by=current_caller())
    )
    if isinstance(outcome, PartsvcError):
        refused(outcome)
    return redirect(url_for("myday.call", call_id=call_id))


@bp.post("/my/calls/<int:call_id>/complete")
@page("engineer")
def complete(call_id: int) -> Any:
    form = CompletionForm()
    if not form.validate():
        return _call_page(call_id, form), 422
    try:
        used = _parts_used(form.parts.data)
    except InvalidInput as error:
        return _call_page(call_id, form, refusal=error), error.status
    record = attempt(
        lambda session: complete_call(
            session,
            call_id,
            work_done=form.work_done.data,
            signed_by=form.signed_by.data,
            consumed=used,
            loaner=(form.loaner.data or "").strip() or None,
            taken_back=(form.taken_back.data or "").strip() or None,
            now=now(),
            calendar=calendar(),
            by=current_caller(),
        )
    )
    if isinstance(record, PartsvcError):
        return _call_page(call_id, form, refusal=record), record.status
    notice("completed", call=call_id, signed_by=record.signed_by)
    return redirect(url_for("myday.home"))


def _call_page(call_id: int, form: CompletionForm, refusal: PartsvcError | None = None) -> str:
    the_call = get_call(db(), call_id, caller=current_caller())
    return render_template(
        "myday/call.html",
        call=the_call,
        form=form,
        refusal=refusal,
        steps=STEPS,
        on_site=the_call.status == CallStatus.ON_SITE,
        now=now(),
    )


def _parts_used(text: str | None) -> list[PartUsed]:
    """``SKU qty`` per line (the quantity may be left out for one)."""
    used = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        words = line.replace(",", " ").split()
        if not words:
            continue
        sku, qty = words[0], words[1] if len(words) > 1 else "1"
        if len(words) > 2 or not qty.isdigit() or not 1 <= int(qty) <= 10_000:
            raise InvalidInput(
                _(
                    "Line %(number)s of the parts used: write the SKU, then how many "
                    "(e.g. FU-100 2).",
                    number=number,
                ),
                errors={"parts": [_("Line %(number)s.", number=number)]},
            )
        used.append(PartUsed(sku=sku, qty=int(qty)))
    if len(used) > MAX_PART_LINES:
        raise InvalidInput(_("At most %(lines)s parts per completion.", lines=MAX_PART_LINES))
    return used
