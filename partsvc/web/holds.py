"""Putting a call on hold and resuming it from the pages (R22): the dispatcher from the
board, the engineer from the call on their phone. The clocks stop while on hold; on
resume the deadlines move by the working time paused (``partsvc.calls.holds``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, request, url_for

from partsvc.calls import holds
from partsvc.calls.rules import HoldReason
from partsvc.core.errors import PartsvcError
from partsvc.http.context import calendar, now
from partsvc.web.pages import attempt, current_caller, notice, page, refused

bp = Blueprint("holds", __name__)

HOLDERS = ("dispatcher", "admin", "engineer")
MAX_NOTE = 500


@bp.post("/calls/<int:call_id>/pause")
@page(*HOLDERS)
def pause(call_id: int) -> Any:
    reason = request.form.get("reason", "")
    if reason not in set(HoldReason):
        abort(400)
    note = request.form.get("note", "").strip()[:MAX_NOTE] or None
    outcome = attempt(
        lambda session: holds.pause_call(
            session, call_id, reason=reason, note=note, now=now(), by=current_caller()
        )
    )
    if isinstance(outcome, PartsvcError):
        refused(outcome)
    else:
        notice("paused", call=call_id)
    return _back(call_id)


@bp.post("/calls/<int:call_id>/resume")
@page(*HOLDERS)
def resume(call_id: int) -> Any:
    outcome = attempt(
        lambda session: holds.resume_call(
            session, call_id, now=now(), calendar=calendar(), by=current_caller()
        )
    )
    if isinstance(outcome, PartsvcError):
        refused(outcome)
    else:
        notice("resumed", call=call_id)
    return _back(call_id)


def _back(call_id: int) -> Any:
    """To the page the control was on: the engineer's call, or the board."""
    if current_caller().role == "engineer":
        return redirect(url_for("myday.call", call_id=call_id))
    return redirect(url_for("board.home"))
