"""Repair RMAs in the pages (R14–R17): the list with its filters, one RMA's story with who
took each step and when, and a form for each step its status allows now. The steps are
the API's (``repairs.steps`` through ``workflows.repair_steps``); a step the RMA may not
take now is neither offered nor taken."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from partsvc.calls.models import Customer, Engineer
from partsvc.core.errors import InvalidInput, InvalidTransition, PartsvcError
from partsvc.http.context import calendar, now
from partsvc.inventory.models import Location
from partsvc.inventory.rules import LocationKind
from partsvc.repairs.models import Rma
from partsvc.repairs.progress import (
    CompleteStepIn,
    ReasonedStepIn,
    ReceiveStepIn,
    RepairStepIn,
    ShipStepIn,
    StepIn,
    StepItem,
)
from partsvc.repairs.rmas import get_rma, list_rmas, received_into
from partsvc.repairs.rules import NEXT_STATUSES, OUTCOMES, STEP_STATUS, RmaStatus, Step, is_overdue
from partsvc.web.language import refusal_detail, status_text
from partsvc.web.pages import attempt, current_caller, db, notice, page
from partsvc.workflows.repair_steps import take_repair_step

bp = Blueprint("rmas", __name__, url_prefix="/rmas")

STAFF = ("dispatcher", "clerk", "admin")
PAGE_SIZE = 50


def steps_allowed(status: str) -> list[Step]:
    """The steps an RMA in ``status`` may take now (R17), in the order of its life."""
    following = NEXT_STATUSES[RmaStatus(status)]
    return [
        step
        for step in Step
        if (step == Step.COMPLETE and following & set(OUTCOMES))
        or (step in STEP_STATUS and STEP_STATUS[step] in following)
    ]


@bp.get("")
@page(*STAFF)
def home() -> Any:
    status = request.args.get("status") or None
    if status is not None and status not in set(RmaStatus):
        status = None
    customer = (request.args.get("customer") or "").strip()[:64] or None
    overdue = True if request.args.get("overdue") else None
    after = request.args.get("after", "")
    moment = now()
    found: list[Rma] = []
    refusal = None
    try:
        found = list_rmas(
            db(),
            now=moment,
            status=status,
            overdue=overdue,
            customer=customer,
            after_id=int(after) if after.isdigit() else None,
            limit=PAGE_SIZE + 1,
        )
    except PartsvcError:
        refusal = _("No customer has the code %(code)s.", code=customer)
    customers = db().scalars(
        select(Customer).where(Customer.id.in_(select(Rma.customer_id))).order_by(Customer.name)
    )
    return render_template(
        "rmas/list.html",
        rmas=found[:PAGE_SIZE],
        more=found[PAGE_SIZE - 1].id if len(found) > PAGE_SIZE else None,
        statuses=list(RmaStatus),
        customers=list(customers),
        chosen={"status": status or "", "customer": customer or "", "overdue": bool(overdue)},
        refusal=refusal,
        overdue=lambda rma: is_overdue(rma.status, rma.due_at, moment),
    )


@bp.get("/<number>")
@page(*STAFF)
def rma(number: str) -> Any:
    return _story(number)


@bp.post("/<number>/<step>")
@page(*STAFF)
def take(number: str, step: str) -> Any:
    if step not in set(Step):
        abort(404)
    kind = Step(step)
    try:
        body = READERS[kind](request.form)
    except InvalidInput as error:
        return _story(number, typed=request.form, refused=(kind, error.detail)), 422
    taken = attempt(
        lambda session: take_repair_step(
            session, number, kind, body, now=now(), calendar=calendar(), by=current_caller()
        )
    )
    if isinstance(taken, PartsvcError):
        return _story(number, typed=request.form, refused=(kind, _why(taken))), taken.status
    notice("rma_step", rma=taken.number, status=taken.status)
    return redirect(url_for("rmas.rma", number=taken.number))


def _why(error: PartsvcError) -> str:
    """A refused step in the page's language where its code says enough."""
    if isinstance(error, InvalidTransition) and "current_status" in error.extra:
        return str(
            _(
                "The RMA is %(status)s now: that step cannot be taken.",
                status=status_text(str(error.extra["current_status"]), "rma"),
            )
        )
    return refusal_detail(error)


def _story(number: str, typed: Any = None, refused: tuple[Step, str] | None = None) -> str:
    the_rma = get_rma(db(), number)
    repair_places = db().scalars(
        select(Location).where(Location.kind == LocationKind.REPAIR).order_by(Location.code)
    )
    return render_template(
        "rmas/rma.html",
        rma=the_rma,
        steps=steps_allowed(the_rma.status),
        typed=typed or {},
        refused=refused,
        overdue=is_overdue(the_rma.status, the_rma.due_at, now()),
        received_at=received_into(db(), the_rma),
        repair_places=list(repair_places),
        engineers=list(db().scalars(select(Engineer).order_by(Engineer.name))),
    )


# ---------------------------------------------------------------- each step's form


def _note(form: Any) -> str | None:
    return (form.get("note") or "").strip()[:2000] or None


def _at(form: Any) -> datetime | None:
    text = (form.get("at") or "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise InvalidInput(_("Write the time as 2026-12-07 09:30, or leave it empty.")) from error
    return moment.replace(tzinfo=calendar().zone) if moment.tzinfo is None else moment


def _plain(form: Any) -> StepIn:
    return StepIn(at=_at(form), note=_note(form))


def _reasoned(form: Any) -> StepIn:
    note = _note(form)
    if note is None:
        raise InvalidInput(_("Write the reason or the finding."))
    return ReasonedStepIn(at=_at(form), note=note)


def _receive(form: Any) -> StepIn:
    items = []
    for serial in form.getlist("serial"):
        items.append(StepItem(serial=serial[:100], accessories_complete=_complete(form, serial)))
    for sku in form.getlist("sku"):
        qty = (form.get(f"qty-{sku}") or "").strip()
        if qty and qty != "0":
            if not qty.isdigit():
                raise InvalidInput(_("Write how many came in as a whole number."))
            items.append(
                StepItem(sku=sku[:64], qty=int(qty), accessories_complete=_complete(form, sku))
            )
    if not items:
        raise InvalidInput(_("Tick what came in."))
    location = (form.get("location") or "").strip()
    if not location:
        raise InvalidInput(_("Choose the repair location it came into."))
    return ReceiveStepIn(at=_at(form), note=_note(form), location=location[:64], items=items)


def _complete(form: Any, key: str) -> bool | None:
    answer = form.get(f"accessories-{key}", "")
    return {"yes": True, "no": False}.get(answer)


def _repair(form: Any) -> StepIn:
    place = form.get("place", "")
    if place not in ("in_house", "vendor"):
        raise InvalidInput(_("Choose in house or at the vendor."))
    return RepairStepIn(at=_at(form), note=_note(form), place=place)


def _finish(form: Any) -> StepIn:
    outcome = form.get("outcome", "")
    if outcome not in set(OUTCOMES):
        raise InvalidInput(_("Choose repaired or replaced."))
    items = []
    if outcome == RmaStatus.REPLACED:
        for serial in form.getlist("serial"):
            replacement = (form.get(f"replacement-{serial}") or "").strip()
            if replacement:
                items.append(StepItem(serial=serial[:100], replacement_serial=replacement[:100]))
    return CompleteStepIn(at=_at(form), note=_note(form), outcome=outcome, items=items)


def _ship(form: Any) -> StepIn:
    return ShipStepIn(
        at=_at(form),
        note=_note(form),
        location=(form.get("location") or "").strip()[:64] or None,
        engineer=(form.get("engineer") or "").strip()[:64] or None,
    )


READERS: dict[Step, Callable[[Any], StepIn]] = {
    Step.AUTHORIZE: _plain,
    Step.REJECT: _reasoned,
    Step.RECEIVE: _receive,
    Step.DIAGNOSE: _reasoned,
    Step.REPAIR: _repair,
    Step.COMPLETE: _finish,
    Step.SHIP: _ship,
    Step.CLOSE: _plain,
}
"""Each step's form read into that step's typed input (``repairs.steps.STEP_INPUTS``)."""
