"""The dispatcher takes a phone call: the new-call form, with pickers that search as the
dispatcher types and the deadlines previewed before saving; and one call as the board
sees it (its deadlines, its history, who has it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from partsvc.calls.calls import PartNeeded, deadline_views, deadlines_at, get_call, report_call
from partsvc.calls.customers import equipment_at, find_sites
from partsvc.calls.models import Engineer, Site
from partsvc.calls.rules import Priority
from partsvc.core.errors import InvalidInput, PartsvcError, UnknownKey
from partsvc.http.context import calendar, now, sla_warning, today
from partsvc.routing import plans
from partsvc.web.language import local
from partsvc.web.pages import attempt, current_caller, db, notice, page

bp = Blueprint("calls", __name__, url_prefix="/board")

DISPATCHERS = ("dispatcher", "admin")
MAX_PART_LINES = 20
SUGGESTIONS = 10


@dataclass
class NewCall:
    """What the dispatcher typed, kept as typed so a refused form comes back filled in."""

    site: str = ""
    equipment: str = ""
    priority: str = "P2"
    skills: list[str] = field(default_factory=list)
    parts: str = ""
    duration: str = "60"
    description: str = ""

    @classmethod
    def from_form(cls) -> NewCall:
        form = request.form
        return cls(
            site=form.get("site", "").strip()[:64],
            equipment=form.get("equipment", "").strip()[:100],
            priority=form.get("priority", "P2"),
            skills=[s[:64] for s in form.getlist("skills")][:20],
            parts=form.get("parts", "")[:2000],
            duration=form.get("duration", "60").strip()[:4],
            description=form.get("description", "")[:2000],
        )


@bp.get("/calls/new")
@page(*DISPATCHERS)
def new_call() -> Any:
    return _form(NewCall(site=request.args.get("site", "")[:64]))


@bp.post("/calls/new")
@page(*DISPATCHERS)
def log_call() -> Any:
    typed = NewCall.from_form()
    errors = _check(typed)
    if errors:
        return _form(typed, errors), 422
    if request.form.get("action") == "preview":
        return _form(typed)
    made = attempt(
        lambda session: report_call(
            session,
            site=typed.site,
            priority=typed.priority,
            equipment=typed.equipment or None,
            skills=typed.skills,
            parts=_parts(typed.parts),
            duration_min=int(typed.duration),
            description=typed.description.strip() or None,
            calendar=calendar(),
            now=now(),
            by=current_caller(),
        )
    )
    if isinstance(made, PartsvcError):
        return _form(typed, _field_errors(made)), made.status
    notice("call_logged", call=made.id, priority=made.priority)
    return redirect(url_for("calls.call", call_id=made.id))


def _check(typed: NewCall) -> dict[str, str]:
    """The form's own checks, in the page's language, before anything is booked."""
    errors: dict[str, str] = {}
    if not typed.site:
        errors["site"] = _("Choose the customer's site.")
    if typed.priority not in set(Priority):
        errors["priority"] = _("Choose P1, P2 or P3.")
    if not typed.duration.isdigit() or not 15 <= int(typed.duration) <= 600:
        errors["duration"] = _("Between 15 and 600 minutes.")
    try:
        _parts(typed.parts)
    except InvalidInput as error:
        errors["parts"] = error.detail
    return errors


def _parts(text: str) -> list[PartNeeded]:
    """``SKU qty`` per line (the quantity may be left out for one)."""
    needed = []
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.replace(",", " ").split()
        if not words:
            continue
        qty = words[1] if len(words) > 1 else "1"
        if len(words) > 2 or not qty.isdigit() or not 1 <= int(qty) <= 1000:
            raise InvalidInput(
                _("Line %(number)s: write the SKU, then how many (e.g. FU-100 2).", number=number)
            )
        needed.append(PartNeeded(sku=words[0], qty=int(qty)))
    if len(needed) > MAX_PART_LINES:
        raise InvalidInput(_("At most %(lines)s parts per call.", lines=MAX_PART_LINES))
    return needed


def _field_errors(error: PartsvcError) -> dict[str, str]:
    """A refusal of the booking put next to the field it is about, in the page's language."""
    if isinstance(error, UnknownKey):
        if "site" in error.extra:
            return {"site": _("No site has that code: pick one from the suggestions.")}
        if "serial" in error.extra:
            return {"equipment": _("No equipment has that serial.")}
        return {"parts": _("No part has the SKU %(sku)s.", sku=error.extra.get("sku", "?"))}
    if error.errors and "equipment" in error.errors:
        return {"equipment": _("That equipment is installed at another site.")}
    return {"form": error.detail}


def _form(typed: NewCall, errors: dict[str, str] | None = None) -> str:
    return render_template(
        "board/new_call.html",
        typed=typed,
        errors=errors or {},
        priorities=list(Priority),
        skills=_known_skills(),
        preview=_preview(typed.site, typed.priority),
    )


def _known_skills() -> list[str]:
    """The skills some engineer has: the ones a call can ask for and be planned."""
    return sorted({s for skills in db().scalars(select(Engineer.skills)) for s in skills or ()})


def _preview(site_code: str, priority: str) -> dict[str, str] | None:
    """The deadlines the call would get if saved now (R20), by the rules saving uses."""
    if not site_code or priority not in set(Priority):
        return None
    place = db().scalar(select(Site).where(Site.code == site_code))
    if place is None:
        return None
    tier, due = deadlines_at(db(), place, priority, now(), calendar())
    return {
        "site": place.code,
        "customer": place.customer.name,
        "tier": tier,
        "response": local(due.response_due),
        "onsite": local(due.onsite_due),
        "resolve": local(due.resolve_due),
    }


@bp.get("/calls/deadlines")
@page(*DISPATCHERS)
def deadlines() -> Any:
    """The new-call form's preview, for its script: the deadlines as the page shows them."""
    preview = _preview(request.args.get("site", "")[:64], request.args.get("priority", ""))
    return {"deadlines": preview}


@bp.get("/suggest/sites")
@page(*DISPATCHERS)
def suggest_sites() -> Any:
    """Sites matching what was typed (customer name in Chinese, a code, an address)."""
    found = find_sites(db(), request.args.get("q", "")[:100], limit=SUGGESTIONS)
    return {"sites": [{"code": s.code, "label": f"{s.customer.name} · {s.address}"} for s in found]}


@bp.get("/suggest/equipment")
@page(*DISPATCHERS)
def suggest_equipment() -> Any:
    """The installed units at the chosen site."""
    units = equipment_at(db(), request.args.get("site", "")[:64], request.args.get("q", "")[:100])
    return {
        "equipment": [{"code": u.serial, "label": u.part.name_zh or u.part.name} for u in units]
    }


@bp.get("/calls/<int:call_id>")
@page(*DISPATCHERS)
def call(call_id: int) -> Any:
    """One call as the dispatcher follows it: deadlines, history, engineer."""
    the_call = get_call(db(), call_id)
    moment = now()
    return render_template(
        "board/call.html",
        call=the_call,
        deadlines=deadline_views(the_call, moment, sla_warning()),
        plan_id=plans.current_plan_id(db(), today()),
        now=moment,
    )
