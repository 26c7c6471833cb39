"""The engineer's day, phone first: my route, my van, my loans, and completing a call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from partsvc.calls.calls import change_call_status, engineer_of, get_call
from partsvc.calls.rules import CallStatus
from partsvc.core.errors import Forbidden, InvalidInput, PartsvcError
from partsvc.http.context import calendar, now, today, zone
from partsvc.inventory.ledger_reads import loaner_serials_at
from partsvc.loans.lending import loan_terms, return_loan
from partsvc.loans.models import Loan
from partsvc.loans.rules import days_overdue, loan_state
from partsvc.purchasing.orders import request_part
from partsvc.web.language import local
from partsvc.web.pages import attempt, current_caller, db, notice, page, refused
from partsvc.workflows.completion import PartUsed, complete_call
from partsvc.workflows.engineer_day import engineer_day
from partsvc.workflows.waiting import wait_for_parts

bp = Blueprint("myday", __name__)

VIEWERS = ("engineer", "dispatcher", "admin")
STEPS = {CallStatus.EN_ROUTE: _l("Set off"), CallStatus.ON_SITE: _l("Arrived on site")}
"""The visit's steps an engineer takes from the page, by the status they lead to."""
MAX_PART_LINES = 20
LOANER_CONDITIONS = ("ok", "damaged", "missing_accessories")
"""How a loaner comes back (``loans.models.CONDITIONS``); damaged goes to the repair bench."""


@dataclass(frozen=True)
class LoanRow:
    """A loan as the engineer's list shows it: most days overdue first (R12)."""

    loan: Loan
    state: str
    days_overdue: int


class PartForm(FlaskForm):  # type: ignore[misc]
    """A part asked for from the serving warehouse; on site, the call may wait for it."""

    sku = StringField(_l("Part (SKU)"), validators=[DataRequired(), Length(max=64)])
    qty = IntegerField(_l("Quantity"), default=1, validators=[DataRequired(), NumberRange(1, 100)])
    note = StringField(_l("Note for the clerk"), validators=[Optional(), Length(max=500)])


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
    van = the_day.engineer.van
    return render_template(
        "myday/day.html",
        day=the_day,
        loans=loans,
        now=moment,
        loaners=loaner_serials_at(db(), van.id) if van is not None else [],
    )


@bp.get("/my/calls/<int:call_id>")
@page("engineer")
def call(call_id: int) -> Any:
    return _call_page(call_id, CompletionForm(formdata=None))


@bp.post("/my/calls/<int:call_id>/parts")
@page("engineer")
def ask_for_part(call_id: int) -> Any:
    """Request a part for the call; with ``wait``, the call waits for it, in one step."""
    form = PartForm()
    waits = "wait" in request.form
    if not form.validate():
        return _call_page(call_id, CompletionForm(formdata=None), part_form=form), 422
    moment = now()
    sku, qty, note = form.sku.data.strip(), form.qty.data, form.note.data or None
    if waits:
        asked = attempt(
            lambda session: wait_for_parts(
                session,
                call_id,
                sku=sku,
                qty=qty,
                note=note,
                calendar=calendar(),
                now=moment,
                by=current_caller(),
            )
        )
    else:
        asked = attempt(
            lambda session: request_part(
                session,
                sku=sku,
                qty=qty,
                call=call_id,
                note=note,
                calendar=calendar(),
                now=moment,
                by=current_caller(),
            )
        )
    if isinstance(asked, PartsvcError):
        page_ = _call_page(call_id, CompletionForm(formdata=None), part_form=form, refusal=asked)
        return page_, asked.status
    at = local(moment, "time")
    if waits:
        notice("waiting", call=call_id, qty=qty, sku=sku, at=at)
    else:
        notice("requested", qty=qty, sku=sku, at=at, state=_request_state(asked))
    return redirect(url_for("myday.call", call_id=call_id))


@bp.post("/my/loans/<int:loan_id>/return")
@page("engineer")
def return_loaner(loan_id: int) -> Any:
    """The engineer collects a loaner from the customer: good, back on the van; damaged,
    to the repair bench."""
    condition = request.form.get("condition", "ok")
    if condition not in LOANER_CONDITIONS:
        condition = "ok"
    engineer = engineer_of(db(), current_caller())
    van = engineer.van.code if engineer is not None and engineer.van is not None else None
    moment = now()
    loan = attempt(
        lambda session: return_loan(
            session,
            loan_id,
            condition=condition,
            location=None if condition == "damaged" else van,
            now=moment,
            by=current_caller(),
        )
    )
    if isinstance(loan, PartsvcError):
        refused(loan)
    else:
        place = loan.return_location.name or loan.return_location.code
        notice("loan_returned", serial=loan.unit.serial, location=place, at=local(moment, "time"))
    return redirect(url_for("myday.home"))


@bp.post("/my/calls/<int:call_id>/status")
@page("engineer")
def step(call_id: int) -> Any:
    status = request.form.get("status", "")
    if status not in STEPS:
        abort(400)
    moment = now()
    outcome = attempt(
        lambda session: change_call_status(
            session, call_id, status, now=moment, by=current_caller()
        )
    )
    if isinstance(outcome, PartsvcError):
        refused(outcome)
    else:
        notice("step", call=call_id, status=status, at=local(moment, "time"))
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
    notice("completed", call=call_id, signed_by=record.signed_by, at=local(now(), "time"))
    return redirect(url_for("myday.home"))


def _call_page(
    call_id: int,
    form: CompletionForm,
    refusal: PartsvcError | None = None,
    part_form: PartForm | None = None,
) -> str:
    the_call = get_call(db(), call_id, caller=current_caller())
    engineer = engineer_of(db(), current_caller())
    van = engineer.van if engineer is not None else None
    return render_template(
        "myday/call.html",
        call=the_call,
        form=form,
        part_form=part_form or PartForm(formdata=None),
        part_refusal=refusal if part_form is not None else None,
        loaners=loaner_serials_at(db(), van.id) if van is not None else [],
        refusal=refusal if part_form is None else None,
        steps=STEPS,
        on_site=the_call.status == CallStatus.ON_SITE,
        now=now(),
    )


def _request_state(asked: Any) -> str:
    """What became of a part request, in the engineer's words."""
    if asked.status == "reserved":
        return str(_("reserved at %(warehouse)s.", warehouse=asked.warehouse.name))
    return str(_("the warehouse orders it; the clerk will tell you when it is in."))


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
