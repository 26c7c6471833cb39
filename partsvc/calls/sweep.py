"""The calls' part of the sweep: preventive visits due (R24), and deadlines near or
missed raised as alerts (R22). Running it again does no harm: a visit period has one call
per site, and each alert is raised once."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from partsvc.calls.calls import deadline_views, record_status
from partsvc.calls.models import Call, CallAlert, Contract, Site
from partsvc.calls.rules import CallStatus, DeadlineState, Priority, VisitPeriod, visit_period
from partsvc.core.worktime import WorkingCalendar

log = logging.getLogger(__name__)

PREVENTIVE_VISIT_MINUTES = 120


def generate_preventive_visits(
    session: Session, *, now: datetime, calendar: WorkingCalendar
) -> list[int]:
    """A P3 call per site for the visit period that today falls in, where none exists yet.

    Only the current period is generated: a contract entered late does not bring a
    backlog of past visits with it.
    """
    today = now.astimezone(calendar.zone).date()
    contracts = session.scalars(
        select(Contract).where(
            Contract.visit_every_months.is_not(None),
            Contract.starts_on <= today,
            or_(Contract.ends_on.is_(None), Contract.ends_on >= today),
        )
    ).all()
    created = []
    for contract in contracts:
        assert contract.visit_every_months is not None
        period = visit_period(contract.starts_on, contract.visit_every_months, today)
        if period is None:
            continue
        if contract.ends_on is not None and contract.ends_on < period.last_day:
            period = VisitPeriod(period.first_day, contract.ends_on)
        sites = session.scalars(select(Site).where(Site.customer_id == contract.customer_id))
        for site in sites:
            call_id = _visit(session, site, contract, period, now, calendar)
            if call_id is not None:
                created.append(call_id)
    return created


def _visit(
    session: Session,
    site: Site,
    contract: Contract,
    period: VisitPeriod,
    now: datetime,
    calendar: WorkingCalendar,
) -> int | None:
    """The preventive call of one site and period, unless it is there already."""
    exists = select(Call.id).where(
        Call.site_id == site.id, Call.visit_period_start == period.first_day
    )
    if session.scalar(exists) is not None:
        return None
    due = _close_of_last_working_day(calendar, period)
    if due <= now:
        # Made late (a site added at the period's end, the sweep not run over a weekend):
        # give the visit the rest of the working day, or the next one, not a missed deadline.
        due = calendar.end_of_working_day(now).astimezone(UTC)
    call = Call(
        site_id=site.id,
        priority=Priority.P3,
        tier=contract.tier,
        kind="preventive",
        visit_period_start=period.first_day,
        reported_at=now,
        # The visit itself is the work: every clock runs to the end of the period.
        response_due=due,
        onsite_due=due,
        resolve_due=due,
        skills=[],
        parts=[],
        duration_minutes=PREVENTIVE_VISIT_MINUTES,
        window_start=max(now, _start_of(calendar, period.first_day)),
        window_end=due,
        description=(
            f"Preventive visit ({contract.tier}, every {contract.visit_every_months} "
            f"month(s)): {period.first_day.isoformat()} to {period.last_day.isoformat()}"
        ),
        status=CallStatus.NEW,
    )
    try:
        with session.begin_nested():  # a sweep running beside this one may have made it
            session.add(call)
            session.flush()
    except IntegrityError:
        return None
    record_status(session, call, CallStatus.NEW, now, None)
    log.info("preventive visit %s for site %s, period from %s", call.id, site.code, period)
    return call.id


def _start_of(calendar: WorkingCalendar, day: date) -> datetime:
    return datetime.combine(day, time.min, calendar.zone).astimezone(UTC)


def _close_of_last_working_day(calendar: WorkingCalendar, period: VisitPeriod) -> datetime:
    """When the period's last working day closes; midnight after it if none is worked."""
    day = period.last_day
    while day >= period.first_day:
        hours = calendar.hours_on(day)
        if hours is not None:
            return datetime.combine(day, hours[1], calendar.zone).astimezone(UTC)
        day -= timedelta(days=1)
    return _start_of(calendar, period.last_day + timedelta(days=1))


def raise_alerts(
    session: Session, *, now: datetime, warn_before: timedelta
) -> list[tuple[int, str, str]]:
    """An alert for each running deadline that became near or missed since the last sweep.

    A missed deadline is escalated: it is logged as a warning for whoever watches the logs.
    """
    running = select(Call).where(
        Call.status.not_in([CallStatus.RESOLVED, CallStatus.CLOSED]),
        or_(
            Call.responded_at.is_(None) & (Call.response_due <= now + warn_before),
            Call.onsite_at.is_(None) & (Call.onsite_due <= now + warn_before),
            Call.resolved_at.is_(None) & (Call.resolve_due <= now + warn_before),
        ),
    )
    raised = []
    for call in session.scalars(running).unique():
        known = {(alert.deadline, alert.level) for alert in call.alerts}
        for view in deadline_views(call, now, warn_before):
            if view.met_at is not None or view.state not in (
                DeadlineState.NEAR,
                DeadlineState.MISSED,
            ):
                continue
            if (view.deadline, view.state) in known:
                continue
            try:
                with session.begin_nested():
                    session.add(
                        CallAlert(call_id=call.id, deadline=view.deadline, level=view.state, at=now)
                    )
                    session.flush()
            except IntegrityError:
                continue
            raised.append((call.id, str(view.deadline), str(view.state)))
            level = logging.WARNING if view.state == DeadlineState.MISSED else logging.INFO
            log.log(
                level,
                "call %s (%s, %s): %s deadline %s, due %s",
                call.id,
                call.priority,
                call.site.code,
                view.deadline,
                "MISSED" if view.state == DeadlineState.MISSED else "near",
                view.due.isoformat(),
            )
    return raised
