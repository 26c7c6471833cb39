"""Planning use cases for the API and the dispatch board alike.

``plan_day`` reads the day in one transaction, solves outside any, and stores the draft in
a new one (DESIGN rule 4), so it takes the database rather than a session. Ranking and
assigning an urgent call load the plan's day as the planner sees it now.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from partsvc.audit import trail as audit
from partsvc.auth.identity import Caller
from partsvc.core.errors import InvalidInput
from partsvc.core.worktime import WorkingCalendar
from partsvc.platform import metrics
from partsvc.platform.db import Database
from partsvc.routing import loading, plans
from partsvc.routing.insertion import Candidate
from partsvc.routing.models import DayPlan
from partsvc.routing.solver import solve
from partsvc.routing.travel import TravelSource
from partsvc.workdays.calendar_days import working_calendar


def plan_day(
    database: Database,
    day: date,
    *,
    now: datetime,
    today: date,
    calendar: WorkingCalendar,
    source: TravelSource,
    time_limit_s: float,
    by: Caller | None,
    on_stage: Callable[[str], None] | None = None,
    client: str | None = None,
    processes: int = 1,
) -> int:
    """Plan ``day`` (R26–R28) and store it as a draft; its id. The planner ``by`` and
    their ``client`` address sign the audit event of the new plan. A queue worker plans
    with up to two ``processes``; a web process with one (it serves requests meanwhile).

    ``on_stage`` hears "loading", "solving" and "saving" as they begin (a queue worker
    reports them as the job's progress).
    """
    stage = on_stage or (lambda _: None)
    check_day(day, today)
    stage("loading")
    with database.unit_of_work(write=False) as session:
        loaded = loading.load_day(
            session, day, now=now, calendar=working_calendar(session, calendar), source=source
        )
    stage("solving")
    began = clock.perf_counter()
    with metrics.planner_run() as run:
        plan = solve(loaded.problem, time_limit_s=time_limit_s, processes=processes)
        run.outcome = "partial" if plan.unassigned else "complete"
    seconds = clock.perf_counter() - began
    stage("saving")
    with database.unit_of_work(write=True) as session:
        audit.begin(session, actor=by, client=client, now=now)
        stored = plans.save_plan(
            session,
            loaded,
            plan,
            time_limit_s=time_limit_s,
            solve_seconds=round(seconds, 3),
            source=type(source).__name__,
            now=now,
            by=by,
        )
        details = {"day": day, "solve_seconds": round(seconds, 3)}
        audit.record(session, "plan.created", kind="plan", key=stored.id, details=details)
        return stored.id


def check_day(day: date, today: date) -> None:
    """Only today or a day ahead can be planned."""
    if day < today:
        raise InvalidInput(
            "That day is over; plan today or a day ahead.", errors={"date": ["In the past."]}
        )


@dataclass(frozen=True)
class Ranked:
    """The engineers for an urgent call, best first, with times as instants."""

    candidates: list[Candidate]
    arrivals: dict[str, datetime | None]


def rank_for_call(
    session: Session,
    plan_id: int,
    call_id: int,
    *,
    now: datetime,
    calendar: WorkingCalendar,
    source: TravelSource,
) -> Ranked:
    """R29: every engineer ranked by when they could be at the call."""
    plan = plans.get_plan(session, plan_id)
    loaded = _plan_with(session, plan, call_id, now=now, calendar=calendar, source=source)
    ranked = plans.candidates_for(loaded, plan, call_id, now=now)
    return Ranked(
        ranked,
        {c.engineer: loaded.instant(c.arrive) if c.arrive is not None else None for c in ranked},
    )


def assign_call(
    session: Session,
    plan_id: int,
    call_id: int,
    engineer: str,
    *,
    now: datetime,
    calendar: WorkingCalendar,
    source: TravelSource,
    by: Caller | None,
    displacing: Sequence[int] | None = None,
) -> DayPlan:
    """Put the call into the engineer's route; the later stops shift (R29), and for a
    P1/P2 the routine calls that no longer fit come off (R28). ``displacing``: the calls
    the dispatcher agreed to move off, checked against what assigning now moves."""
    plan = plans.get_plan(session, plan_id, for_update=True)
    loaded = _plan_with(session, plan, call_id, now=now, calendar=calendar, source=source)
    return plans.assign_into_plan(
        session, loaded, plan, call_id, engineer, now=now, by=by, displacing=displacing
    )


def _plan_with(
    session: Session,
    plan: DayPlan,
    call_id: int,
    *,
    now: datetime,
    calendar: WorkingCalendar,
    source: TravelSource,
) -> loading.Loaded:
    """The plan's day as the planner sees it now, with an urgent call to place."""
    return loading.load_day(
        session,
        plan.day,
        now=now,
        calendar=working_calendar(session, calendar),
        source=source,
        extra_calls=[call_id],
        known_calls=plans.calls_in(plan),
    )
