"""SLA targets and deadlines (R20, R21): pure, no database, no Flask.

A call's three deadlines come from its priority and its contract's tier, counted on the
deployment's working-time calendar, or round the clock where the policy says so (gold P1).
The policy is data: these are the defaults an admin starts from.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from partsvc.worktime import WorkingCalendar


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


# R19: a preventive visit every month (gold), every 2 months (silver), every quarter (bronze).
DEFAULT_VISIT_EVERY_MONTHS: Mapping[Tier, int | None] = {
    Tier.GOLD: 1,
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
