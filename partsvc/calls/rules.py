"""SLA targets and deadlines (R20, R21): pure, no database, no Flask.

A call's three deadlines come from its priority and its contract's tier, counted on the
deployment's working-time calendar, or round the clock where the policy says so (gold P1).
The policy is data: these are the defaults an admin starts from.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from partsvc.core.worktime import WorkingCalendar


class Priority(StrEnum):
    P1 = "P1"  # urgent: system down
    P2 = "P2"  # serious: system badly degraded
    P3 = "P3"  # normal: general fault


class Tier(StrEnum):
    GOLD = "gold"
    SILVER = "silver"
    BRONZE = "bronze"
    NONE = "none"


@dataclass(frozen=True)
class Target:
    """How soon a call must be answered, reached and fixed.

    ``onsite`` None means "within the same working day" (or the customer's window);
    ``resolve_working_days`` counts whole working days instead of hours.
    """

    response: timedelta
    onsite: timedelta | None
    resolve: timedelta | None = None
    resolve_working_days: int | None = None
    round_the_clock: bool = False

    def __post_init__(self) -> None:
        if (self.resolve is None) == (self.resolve_working_days is None):
            raise ValueError("give the time to fix either as a duration or in working days")


_P1 = Target(timedelta(hours=1), timedelta(hours=2), resolve=timedelta(hours=24))
_P2 = Target(timedelta(minutes=10), timedelta(hours=2), resolve=timedelta(hours=12))
_P3 = Target(timedelta(minutes=10), None, resolve_working_days=5)

DEFAULT_POLICY: Mapping[tuple[Tier, Priority], Target] = {
    (tier, priority): target
    for tier in Tier
    for priority, target in ((Priority.P1, _P1), (Priority.P2, _P2), (Priority.P3, _P3))
} | {
    # R21: gold contracts run P1 clocks 24×7.
    (Tier.GOLD, Priority.P1): Target(
        timedelta(hours=1), timedelta(hours=2), resolve=timedelta(hours=24), round_the_clock=True
    ),
}


# R19: a preventive visit every quarter (bronze), every 2 months (silver); gold has what
# silver has plus its own extras, none about visits, so every 2 months too (the service
# commitment; earlier drafts said monthly). A contract may set its own interval.
DEFAULT_VISIT_EVERY_MONTHS: Mapping[Tier, int | None] = {
    Tier.GOLD: 2,
    Tier.SILVER: 2,
    Tier.BRONZE: 3,
    Tier.NONE: None,
}


@dataclass(frozen=True)
class Deadlines:
    response_due: datetime
    onsite_due: datetime
    resolve_due: datetime


def deadlines(
    target: Target,
    reported_at: datetime,
    calendar: WorkingCalendar,
    *,
    window_end: datetime | None = None,
) -> Deadlines:
    """The three deadlines of a call reported at ``reported_at`` (R20).

    ``window_end`` is the end of the time the customer chose for the visit; it replaces
    "the same working day" for a target that has no on-site duration.
    """
    clock = WorkingCalendar.always_open(calendar.timezone) if target.round_the_clock else calendar
    if target.onsite is not None:
        onsite_due = clock.add_working_time(reported_at, target.onsite)
    elif window_end is not None:
        onsite_due = window_end
    else:
        onsite_due = clock.end_of_working_day(reported_at)
    if target.resolve is not None:
        resolve_due = clock.add_working_time(reported_at, target.resolve)
    else:
        assert target.resolve_working_days is not None
        resolve_due = clock.add_working_days(reported_at, target.resolve_working_days)
    return Deadlines(
        response_due=clock.add_working_time(reported_at, target.response),
        onsite_due=onsite_due,
        resolve_due=resolve_due,
    )


# R15: equipment is in warranty 12 months from installation, under maintenance cover 36.
DEFAULT_WARRANTY_MONTHS = 12
DEFAULT_MAINTENANCE_MONTHS = 36


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day if it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class CallStatus(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    WAITING_FOR_PARTS = "waiting_for_parts"
    RESOLVED = "resolved"
    CLOSED = "closed"


# R22: new → assigned → en route → on site → (waiting for parts) → resolved → closed. A
# call can be handed back (assigned → new, en route → assigned), and one waiting for parts
# is visited again.
NEXT_STATUSES: Mapping[CallStatus, frozenset[CallStatus]] = {
    CallStatus.NEW: frozenset({CallStatus.ASSIGNED}),
    CallStatus.ASSIGNED: frozenset({CallStatus.EN_ROUTE, CallStatus.NEW}),
    CallStatus.EN_ROUTE: frozenset({CallStatus.ON_SITE, CallStatus.ASSIGNED}),
    CallStatus.ON_SITE: frozenset({CallStatus.WAITING_FOR_PARTS, CallStatus.RESOLVED}),
    CallStatus.WAITING_FOR_PARTS: frozenset(
        {CallStatus.ASSIGNED, CallStatus.EN_ROUTE, CallStatus.ON_SITE}
    ),
    CallStatus.RESOLVED: frozenset({CallStatus.CLOSED}),
    CallStatus.CLOSED: frozenset(),
}


def can_move(current: str, new: str) -> bool:
    """Whether a call in status ``current`` may go to ``new`` (R22)."""
    return CallStatus(new) in NEXT_STATUSES[CallStatus(current)]


# ---------------------------------------------------------------- deadline flags (R22)


class Deadline(StrEnum):
    """The three clocks of a call, and the status that stops each of them."""

    RESPONSE = "response"  # stopped when the call is first assigned to an engineer
    ONSITE = "onsite"  # stopped when the engineer first arrives on site
    RESOLVE = "resolve"  # stopped when the call is first resolved


STOPPED_BY: Mapping[CallStatus, Deadline] = {
    CallStatus.ASSIGNED: Deadline.RESPONSE,
    CallStatus.ON_SITE: Deadline.ONSITE,
    CallStatus.RESOLVED: Deadline.RESOLVE,
}


class DeadlineState(StrEnum):
    OPEN = "open"  # running, not yet near
    NEAR = "near"  # running, due within the warning time
    MISSED = "missed"  # due and not met, or met late
    MET = "met"  # met in time


DEFAULT_WARNING = timedelta(minutes=30)


def deadline_state(
    due: datetime, met_at: datetime | None, now: datetime, warn_before: timedelta
) -> DeadlineState:
    """Where one deadline stands at ``now``: met, missed, near (within ``warn_before``)."""
    if met_at is not None:
        return DeadlineState.MET if met_at <= due else DeadlineState.MISSED
    if now > due:
        return DeadlineState.MISSED
    if now >= due - warn_before:
        return DeadlineState.NEAR
    return DeadlineState.OPEN


def call_flag(states: Iterable[DeadlineState]) -> DeadlineState | None:
    """A call's flag for the dispatcher: missed if any deadline was, else near, else none."""
    seen = set(states)
    for flag in (DeadlineState.MISSED, DeadlineState.NEAR):
        if flag in seen:
            return flag
    return None


# ---------------------------------------------------------------- pausing the clocks


class HoldReason(StrEnum):
    """Why a call is on hold: the customer's side only. Waiting for parts is ours and
    does not stop the clock."""

    CUSTOMER_NOT_AVAILABLE = "customer_not_available"
    CUSTOMER_ASKED_TO_WAIT = "customer_asked_to_wait"
    AWAITING_CUSTOMER_APPROVAL = "awaiting_customer_approval"


# The visit does not go on while the customer holds it: resume first. Assigning and
# handing back stay open, so the dispatcher can plan the visit for when it resumes.
HELD_STEPS_REFUSED = frozenset(
    {
        CallStatus.EN_ROUTE,
        CallStatus.ON_SITE,
        CallStatus.WAITING_FOR_PARTS,
        CallStatus.RESOLVED,
        CallStatus.CLOSED,
    }
)


def after_pause(
    due: datetime,
    met_at: datetime | None,
    paused_at: datetime,
    resumed_at: datetime,
    clock: WorkingCalendar,
) -> datetime:
    """A deadline after a pause from ``paused_at`` to ``resumed_at``: one still running
    when the clock paused (not yet due, not met before) moves by the working time paused,
    on the call's clock; one met or missed before the pause stays where it was."""
    if due <= paused_at or (met_at is not None and met_at < paused_at):
        return due
    return clock.add_working_time(due, clock.working_time_between(paused_at, resumed_at))


# ---------------------------------------------------------------- who moves a call

# Engineers move their own calls through the visit; dispatchers assign, hand back, close.
ENGINEER_STEPS = frozenset(
    {
        CallStatus.EN_ROUTE,
        CallStatus.ON_SITE,
        CallStatus.WAITING_FOR_PARTS,
        CallStatus.RESOLVED,
    }
)

SATISFIED_FROM = 4  # R25: a score of 4 or 5 out of 5 counts as satisfied


# ---------------------------------------------------------------- preventive visits (R24)


@dataclass(frozen=True)
class VisitPeriod:
    """The days in which one preventive visit is due, first and last included."""

    first_day: date
    last_day: date


def visit_period(contract_start: date, every_months: int, today: date) -> VisitPeriod | None:
    """The visit period of a contract that ``today`` falls in, counted from its start.

    Periods begin on the contract's start day every ``every_months`` months (a start on
    the 31st begins shorter months on their last day); None before the contract starts.
    """
    if every_months < 1:
        raise ValueError("a visit frequency is at least one month")
    if today < contract_start:
        return None
    months = (today.year - contract_start.year) * 12 + today.month - contract_start.month
    index = months // every_months
    if add_months(contract_start, index * every_months) > today:
        index -= 1
    return VisitPeriod(
        first_day=add_months(contract_start, index * every_months),
        last_day=add_months(contract_start, (index + 1) * every_months) - timedelta(days=1),
    )
