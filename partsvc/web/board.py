"""The dispatch board: today's open calls against their deadlines, the day's plan as a
timeline and a map, the calls left out, and an urgent call's ranked candidates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from babel.lists import format_list
from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select

from partsvc.calls import customers
from partsvc.calls.calls import CallFilter, DeadlineView, deadline_views, list_calls
from partsvc.calls.models import Call, Engineer
from partsvc.core.errors import InvalidInput, PartsvcError, UnknownKey
from partsvc.http.context import (
    base_calendar,
    calendar,
    database,
    now,
    plan_order,
    plan_queue,
    settings,
    sla_warning,
    today,
)
from partsvc.routing import plans
from partsvc.routing.models import DayPlan
from partsvc.routing.travel import travel_source
from partsvc.web import plan_picture
from partsvc.web.pages import attempt, current_caller, db, notice, page, refused
from partsvc.workflows import plan_jobs as jobs
from partsvc.workflows import planning

bp = Blueprint("board", __name__, url_prefix="/board")

DISPATCHERS = ("dispatcher", "admin")
MAX_OPEN_CALLS = 500


@dataclass(frozen=True)
class OpenCall:
    """A call on the board with the deadline that comes next (R22)."""

    call: Call
    next: DeadlineView | None


PLANNABLE_DAYS = 10
"""Working days offered in the board's day picker, from the first one still to plan."""


def _plannable_days() -> list[date]:
    """The board's day picker: the first day still to plan (today while its working hours
    last, else the next working day), then the working days after it."""
    working = calendar()
    days = [working.planning_day(now())]
    while len(days) < PLANNABLE_DAYS:
        following = days[-1] + timedelta(days=1)
        while not working.is_working_day(following):
            following += timedelta(days=1)
        days.append(following)
    return days


def _chosen_day(asked: str | None, days: list[date] | None = None) -> date:
    """The day the dispatcher picked, if it is one the picker offers; else the first."""
    days = days or _plannable_days()
    if asked:
        try:
            picked = date.fromisoformat(asked)
        except ValueError:
            picked = None
        if picked in days:
            return picked
        refused(InvalidInput(_("Pick a working day from the list."), day=asked[:10]))
    return days[0]


@bp.get("")
@page(*DISPATCHERS)
def home() -> Any:
    moment = now()
    days = _plannable_days()
    day = _chosen_day(request.args.get("day"), days)
    plan = plans.current_plan(db(), day)
    picture = plan_picture.picture(plan) if plan is not None else None
    return render_template(
        "board/home.html",
        calls=_open_calls(moment),
        day=day,
        days=days,
        today=today(),
        plan=plan,
        picture=picture,
        summary=plan_picture.summary(plan, picture) if plan and picture else "",
        engineers=list(db().scalars(select(Engineer).order_by(Engineer.name))),
        now=moment,
        time_limit=settings().plan_time_limit_s,
        refresh_s=settings().board_refresh_s,
        warn_seconds=int(sla_warning().total_seconds()),
        unplaced_calls=customers.count_unplaced(db())[1],
    )


@bp.get("/open-calls")
@page(*DISPATCHERS)
def open_calls() -> Any:
    """The board's open calls alone, for its script to swap in every few seconds: new
    calls and status changes show without reloading the page (and the plan drawn)."""
    moment = now()
    day = _chosen_day(request.args.get("day"))
    return render_template(
        "board/_calls.html",
        calls=_open_calls(moment),
        plan_id=plans.current_plan_id(db(), day),
        now=moment,
        warn_seconds=int(sla_warning().total_seconds()),
    )


@bp.post("/plans")
@page(*DISPATCHERS, writes=False)
def plan_the_day() -> Any:
    """Plan the day picked on the board (by default today while its working hours last,
    else the next working day). With a planning queue the page's script follows the
    worker's job; otherwise (or without JavaScript) the request lasts as long as the
    search."""
    day = _chosen_day(request.form.get("day"))
    db().rollback()  # the planner reads and writes in its own transactions (rule 4)
    queue = plan_queue()
    order = plan_order(day, by=current_caller())
    try:
        if queue is not None and request.headers.get("X-Requested-With") == "fetch":
            job = queue.submit(order)
            return {"job": url_for("board.plan_job", job_id=job.id)}
        plan_id = jobs.make_plan(
            database(), queue, order, calendar=base_calendar(), source=travel_source(settings())
        )
    except PartsvcError as error:
        refused(error)
        return _back_to_board(day)
    notice("plan_ready", plan=plan_id)
    return _back_to_board(day)


@bp.get("/plan-jobs/<job_id>")
@page(*DISPATCHERS)
def plan_job(job_id: str) -> Any:
    """How far the worker is with the day's plan; once it is done, where to go next."""
    queue = plan_queue()
    job = queue.find(job_id) if queue is not None else None
    if job is None:
        raise UnknownKey(f"No planning job {job_id[:80]!r}.")
    answer: dict[str, Any] = {"status": job.status, "progress": job.progress}
    if job.finished:
        try:
            notice("plan_ready", plan=jobs.plan_of(job))
        except PartsvcError as error:
            refused(error)
        answer["next"] = url_for("board.home")
    return answer


def _back_to_board(day: date | None = None) -> Any:
    """The board again, on that day; the page's script, which sent the form itself, is
    told where to go."""
    where = url_for("board.home", day=day.isoformat()) if day else url_for("board.home")
    if request.headers.get("X-Requested-With") == "fetch":
        return {"next": where}
    return redirect(where)


@bp.post("/plans/<int:plan_id>/publish")
@page(*DISPATCHERS)
def publish(plan_id: int) -> Any:
    published = attempt(
        lambda session: plans.publish_plan(
            session, plan_id, now=now(), today=today(), by=current_caller()
        )
    )
    if isinstance(published, PartsvcError):
        refused(published)
    else:
        notice("plan_published", plan=plan_id)
    return _back_to_board(_day_of(plan_id))


@bp.get("/plans/<int:plan_id>/calls/<int:call_id>")
@page(*DISPATCHERS)
def candidates(plan_id: int, call_id: int) -> Any:
    """Who could be at an urgent call soonest, given where each one is now (R29)."""
    ranked = planning.rank_for_call(
        db(),
        plan_id,
        call_id,
        now=now(),
        calendar=base_calendar(),
        source=travel_source(settings()),
    )
    return render_template(
        "board/candidates.html",
        plan_id=plan_id,
        call=db().get(Call, call_id),
        ranked=ranked,
        names=_engineer_names(),
        moves={c.engineer: _moves_off(c.displaced) for c in ranked.candidates if c.displaced},
    )


def _moves_off(displaced: tuple[str, ...]) -> str:
    """What assigning a candidate moves off the day, said before it happens (R28)."""
    calls = format_list(list(displaced), locale=get_locale() or "en")
    return str(
        ngettext(
            "Moves P3 call %(calls)s off the day: it goes back to the open calls.",
            "Moves P3 calls %(calls)s off the day: they go back to the open calls.",
            len(displaced),
            calls=calls,
        )
    )


@bp.post("/plans/<int:plan_id>/assign")
@page(*DISPATCHERS)
def assign(plan_id: int) -> Any:
    call_text, engineer = request.form.get("call", ""), request.form.get("engineer", "")
    if not call_text.isdigit() or not engineer:
        raise InvalidInput("Choose a call and an engineer.")
    call_id = int(call_text)
    displacing = _displacing(request.form.get("displaced"))
    assigned = attempt(
        lambda session: planning.assign_call(
            session,
            plan_id,
            call_id,
            engineer,
            now=now(),
            calendar=base_calendar(),
            source=travel_source(settings()),
            by=current_caller(),
            displacing=displacing,
        )
    )
    if isinstance(assigned, PartsvcError):
        refused(assigned)
        return redirect(url_for("board.candidates", plan_id=plan_id, call_id=call_id))
    notice("assigned", call=call_id, engineer=_engineer_names().get(engineer, engineer))
    return _back_to_board(_day_of(plan_id))


def _displacing(text: str | None) -> list[int] | None:
    """The calls the candidates page said assigning moves off the day ("12,14"); None
    when the form does not say."""
    if text is None:
        return None
    keys = [key.strip() for key in text.split(",") if key.strip()]
    if not all(key.isdigit() for key in keys):
        raise InvalidInput(_("Choose a call and an engineer."), displaced=text[:80])
    return [int(key) for key in keys]


def _day_of(plan_id: int) -> date | None:
    """The day a plan is for, to show the board on it again."""
    plan = db().get(DayPlan, plan_id)
    return plan.day if plan is not None else None


def _open_calls(moment: datetime) -> list[OpenCall]:
    """Every open call, the one whose next deadline comes soonest first."""
    rows = []
    for call in list_calls(
        db(), CallFilter(open=True), now=moment, warn_before=sla_warning(), limit=MAX_OPEN_CALLS
    ):
        pending = [v for v in deadline_views(call, moment, sla_warning()) if v.met_at is None]
        rows.append(OpenCall(call, min(pending, key=lambda v: v.due) if pending else None))
    return sorted(rows, key=lambda row: (row.next is None, row.next.due if row.next else moment))


def _engineer_names() -> dict[str, str]:
    return {e.code: e.name for e in db().scalars(select(Engineer))}
