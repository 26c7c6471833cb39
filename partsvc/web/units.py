"""Staff's side of the customers' reports (issue 26): a unit's QR label (issue it again,
revoke it, print it or a site's sheet), the dispatcher's confirmation of the priority a
customer's report proposed, and the photos customers sent, shown on the call."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, send_file, url_for

from partsvc.calls.calls import get_call
from partsvc.calls.customers import get_equipment
from partsvc.calls.labels import (
    issue_label,
    issue_missing_labels,
    label_of,
    labels_in_force,
    revoke_label,
    units_of,
)
from partsvc.calls.models import PRIORITIES
from partsvc.calls.photos import photo_path
from partsvc.calls.report_models import CallPhoto
from partsvc.calls.reports import confirm_priority, photos_of, reports_of
from partsvc.core.errors import PartsvcError, UnknownKey
from partsvc.documents.labels import unit_labels
from partsvc.http.context import calendar, now, pdf_response, settings
from partsvc.web.pages import attempt, current_caller, db, notice, page, refused

bp = Blueprint("units", __name__)

LABELLERS = ("admin", "dispatcher")


def secret() -> str:
    from flask import current_app

    key: str = current_app.config["SECRET_KEY"]
    return key


@bp.app_context_processor
def _call_photos() -> dict[str, Any]:
    """``call_photos(call_id)`` for the call pages that show the customer's photos."""
    return {"call_photos": lambda call_id: photos_of(db(), call_id)}


@bp.get("/units")
@page(*LABELLERS)
def find() -> Any:
    serial = (request.args.get("serial") or "").strip()
    if serial:
        return redirect(url_for("units.unit", serial=serial))
    return render_template("units/unit.html", unit=None, label=None)


@bp.get("/units/<serial>")
@page(*LABELLERS)
def unit(serial: str) -> Any:
    """A unit and its label: print it, issue it again, revoke it."""
    the_unit = get_equipment(db(), serial)
    return render_template("units/unit.html", unit=the_unit, label=label_of(db(), the_unit))


@bp.post("/units/<serial>/label")
@page(*LABELLERS)
def issue(serial: str) -> Any:
    outcome = attempt(
        lambda session: issue_label(
            session, serial, secret=secret(), now=now(), by=current_caller()
        )
    )
    if isinstance(outcome, PartsvcError):
        refused(outcome)
    else:
        notice("label_issued", serial=serial)
    return redirect(url_for("units.unit", serial=serial))


@bp.post("/units/<serial>/label/revoke")
@page(*LABELLERS)
def revoke(serial: str) -> Any:
    outcome = attempt(lambda session: revoke_label(session, serial, now=now()))
    if isinstance(outcome, PartsvcError):
        refused(outcome)
    else:
        notice("label_revoked", serial=serial)
    return redirect(url_for("units.unit", serial=serial))


@bp.post("/sites/<code>/labels")
@page(*LABELLERS)
def issue_site(code: str) -> Any:
    """Issue a label to each unit of the site that has none in force, then print the sheet."""
    outcome = attempt(
        lambda session: issue_missing_labels(
            session,
            units_of(session, site=code),
            secret=secret(),
            now=now(),
            by=current_caller(),
        )
    )
    if isinstance(outcome, PartsvcError):
        refused(outcome)
        return redirect(url_for("units.find"))
    return redirect(url_for("units.site_sheet", code=code))


@bp.get("/print/units/<serial>/label.pdf")
@page(*LABELLERS)
def label_pdf(serial: str) -> Any:
    labelled = labels_in_force(db(), [get_equipment(db(), serial)], secret=secret())
    if not labelled:
        raise UnknownKey(f"Unit {serial} has no label in force.", serial=serial)
    return pdf_response(_labels(labelled, sheet=False), f"label-{serial}")


@bp.get("/print/sites/<code>/labels.pdf")
@page(*LABELLERS)
def site_sheet(code: str) -> Any:
    labelled = labels_in_force(db(), units_of(db(), site=code), secret=secret())
    if not labelled:
        raise UnknownKey(f"No unit of site {code} has a label in force.", site=code)
    return pdf_response(_labels(labelled, sheet=True), f"labels-{code}")


def _labels(labelled: list[Any], *, sheet: bool) -> bytes:
    config = settings()
    return unit_labels(
        labelled, public_url=config.public_url, hotline=config.service_hotline, sheet=sheet
    )


@bp.post("/board/calls/<int:call_id>/priority")
@page("admin", "dispatcher")
def confirm(call_id: int) -> Any:
    """The dispatcher confirms the priority a customer's report proposed, or changes it."""
    priority = request.form.get("priority", "")
    if priority not in PRIORITIES:
        abort(400)
    outcome = attempt(
        lambda session: confirm_priority(
            session, call_id, priority, calendar=calendar(), now=now(), by=current_caller()
        )
    )
    if isinstance(outcome, PartsvcError):
        refused(outcome)
    else:
        notice("priority_confirmed", call=call_id, priority=priority)
    return redirect(url_for("board.home"))


@bp.get("/calls/<int:call_id>/reports")
@page("admin", "dispatcher", "engineer")
def reports(call_id: int) -> Any:
    """What the customer reported on a call, with their photos."""
    call = get_call(db(), call_id, caller=current_caller())
    return render_template(
        "units/reports.html",
        call=call,
        reports=reports_of(db(), call.id),
        photos=photos_of(db(), call.id),
    )


@bp.get("/calls/<int:call_id>/photos/<int:photo_id>")
@page("admin", "dispatcher", "engineer")
def photo(call_id: int, photo_id: int) -> Any:
    """A customer's photo of the call; an engineer sees only their own calls'."""
    call = get_call(db(), call_id, caller=current_caller())
    found = db().get(CallPhoto, photo_id)
    if found is None or found.call_id != call.id:
        abort(404)
    path = photo_path(settings().files_path / "photos", found.stored_as)
    if path is None:
        abort(404)
    answer = send_file(path, mimetype=found.content_type, max_age=3600)
    answer.headers["Cache-Control"] = "private, max-age=3600"
    return answer
