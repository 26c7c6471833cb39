"""A month's service figures for the manager (R20, R22, R25): SLA compliance per priority,
first-time fix, same-day fix, satisfaction, and what is overdue now.

Each rate counts only what is decided: a deadline still ahead is neither met nor missed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from partsvc.calls.models import Call
from partsvc.calls.rules import SATISFIED_FROM, CallStatus, DeadlineState, deadline_state
from partsvc.loans.lending import list_loans
from partsvc.loans.models import Loan
from partsvc.loans.rules import LoanState, days_overdue
from partsvc.repairs.models import Rma
from partsvc.repairs.rmas import list_rmas

PRIORITIES = ("P1", "P2", "P3")
OVERDUE_LISTED = 1000


@dataclass(frozen=True)
class Rate:
    met: int
    total: int
    target: float | None = None

    @property
    def share(self) -> float | None:
        return self.met / self.total if self.total else None

    @property
    def on_target(self) -> bool | None:
        if self.target is None or self.share is None:
            return None
        return self.share >= self.target


@dataclass(frozen=True)
class Elapsed:
    """How long the calls fixed this month took, beside compliance on the paused clock:
    the raw time from reported to resolved, and the working time they spent on hold."""

    calls: int
    raw_hours: float | None
    """Mean wall-clock hours from reported to resolved, pauses included."""
    paused_hours: float | None
    """Mean working hours on hold (the time the deadlines moved by)."""


@dataclass(frozen=True)
class MonthFigures:
    month: date
    responded: dict[str, Rate]
    """Per priority: calls answered (assigned) by their first-response deadline."""
    onsite: dict[str, Rate]
    """Per priority: calls on site by their deadline, of those whose deadline has passed."""
    fixed: dict[str, Rate]
    """Per priority: calls fixed by their deadline, likewise."""
    first_time_fix: Rate
    """Faults fixed on the first visit, of those fixed this month after a visit."""
    same_day_fix: Rate
    """Faults fixed the day they were reported, of those reported this month on a day
    now over (or fixed already): one still open from yesterday counts as missed."""
    satisfaction: Rate
    elapsed: dict[str, Elapsed]
    """Per priority: the raw time to fix and the time on hold, of the calls fixed this month."""
    resolved_per_day: list[tuple[date, int]]
    overdue_loans: list[tuple[Loan, int]]
    late_rmas: list[Rma]


def month_bounds(month: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The month as UTC instants, from its first midnight to the next month's, locally."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return (
        datetime.combine(first, time.min, zone).astimezone(UTC),
        datetime.combine(following, time.min, zone).astimezone(UTC),
    )


def month_figures(
    session: Session,
    month: date,
    *,
    now: datetime,
    zone: ZoneInfo,
    same_day_target: float,
    satisfaction_target: float,
) -> MonthFigures:
    starts, ends = month_bounds(month, zone)
    calls = list(
        session.scalars(
            select(Call).where(
                or_(
                    and_(Call.response_due >= starts, Call.response_due < ends),
                    and_(Call.onsite_due >= starts, Call.onsite_due < ends),
                    and_(Call.reported_at >= starts, Call.reported_at < ends),
                    and_(Call.resolve_due >= starts, Call.resolve_due < ends),
                    and_(Call.resolved_at >= starts, Call.resolved_at < ends),
                    and_(Call.satisfaction_at >= starts, Call.satisfaction_at < ends),
                )
            )
        ).unique()
    )
    in_month = _within(starts, min(ends, now))
    due_in_month = _within(starts, ends)
    resolved = [c for c in calls if c.resolved_at is not None and in_month(c.resolved_at)]
    # First-time fix: of the faults fixed this month after a visit on site.
    visited = [c for c in resolved if c.kind == "corrective" and c.onsite_at is not None]
    # Same-day fix (R20): of the faults reported this month on a day now over, or fixed.
    today = now.astimezone(zone).date()
    faults = [
        c
        for c in calls
        if c.kind == "corrective"
        and in_month(c.reported_at)
        and (c.resolved_at is not None or _local_day(c.reported_at, zone) < today)
    ]
    rated = [
        c
        for c in calls
        if c.satisfaction is not None and c.satisfaction_at and in_month(c.satisfaction_at)
    ]
    return MonthFigures(
        month=month.replace(day=1),
        responded={
            p: _deadline_rate(calls, p, "response_due", "responded_at", due_in_month, now)
            for p in PRIORITIES
        },
        onsite={
            p: _deadline_rate(calls, p, "onsite_due", "onsite_at", due_in_month, now)
            for p in PRIORITIES
        },
        fixed={
            p: _deadline_rate(calls, p, "resolve_due", "resolved_at", due_in_month, now)
            for p in PRIORITIES
        },
        first_time_fix=Rate(sum(_fixed_first_time(c) for c in visited), len(visited)),
        same_day_fix=Rate(sum(_same_day(c, zone) for c in faults), len(faults), same_day_target),
        satisfaction=Rate(
            sum((c.satisfaction or 0) >= SATISFIED_FROM for c in rated),
            len(rated),
            satisfaction_target,
        ),
        elapsed={p: _elapsed([c for c in resolved if c.priority == p]) for p in PRIORITIES},
        resolved_per_day=_per_day(resolved, month, zone),
        overdue_loans=_overdue_loans(session, now, zone),
        late_rmas=list_rmas(session, now=now, overdue=True, limit=200),
    )


def _within(starts: datetime, ends: datetime) -> Callable[[datetime], bool]:
    return lambda moment: starts <= moment < ends


def _deadline_rate(
    calls: Iterable[Call],
    priority: str,
    due: str,
    met_at: str,
    month: Callable[[datetime], bool],
    now: datetime,
) -> Rate:
    """Met in time, of the calls of ``priority`` whose deadline falls in the month and is
    decided (met, met late, or passed): the dispatcher's flags, counted (R22). Deadlines
    count on the paused clock: moved by each pause, and standing still while on hold."""
    states = [
        deadline_state(getattr(c, due), getattr(c, met_at), _clock_of(c, now), timedelta(0))
        for c in calls
        if c.priority == priority and month(getattr(c, due))
    ]
    decided = [state for state in states if state in (DeadlineState.MET, DeadlineState.MISSED)]
    return Rate(decided.count(DeadlineState.MET), len(decided))


def _clock_of(call: Call, now: datetime) -> datetime:
    """Where the call's clock stands: where it stopped, while on hold."""
    return min(now, call.held_since) if call.held_since is not None else now


def _elapsed(resolved: list[Call]) -> Elapsed:
    if not resolved:
        return Elapsed(0, None, None)
    raw = sum(((c.resolved_at or c.reported_at) - c.reported_at for c in resolved), timedelta())
    paused = sum(h.paused_seconds or 0 for c in resolved for h in c.holds)
    count = len(resolved)
    return Elapsed(
        count, round(raw / timedelta(hours=1) / count, 2), round(paused / 3600 / count, 2)
    )


def _fixed_first_time(call: Call) -> bool:
    """Fixed at the first visit: never waiting for parts, on site once."""
    steps = [change.status for change in call.history]
    return CallStatus.WAITING_FOR_PARTS not in steps and steps.count(CallStatus.ON_SITE) <= 1


def _same_day(call: Call, zone: ZoneInfo) -> bool:
    """Fixed the day it was reported, on the deployment's calendar (R20's 90 %)."""
    return call.resolved_at is not None and _local_day(call.resolved_at, zone) == _local_day(
        call.reported_at, zone
    )


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def _per_day(resolved: Iterable[Call], month: date, zone: ZoneInfo) -> list[tuple[date, int]]:
    first = month.replace(day=1)
    days = ((first + timedelta(days=32)).replace(day=1) - first).days
    counts = dict.fromkeys((first + timedelta(days=n) for n in range(days)), 0)
    for call in resolved:
        day = _local_day(call.resolved_at, zone)  # type: ignore[arg-type]
        if day in counts:
            counts[day] += 1
    return sorted(counts.items())


def _overdue_loans(session: Session, now: datetime, zone: ZoneInfo) -> list[tuple[Loan, int]]:
    """Open loans past due, longest overdue first, with their days overdue (R12)."""
    loans = list_loans(session, now=now, state=LoanState.OVERDUE, limit=OVERDUE_LISTED)
    return [
        (loan, days_overdue(loan.due_at, now, zone))
        for loan in sorted(loans, key=lambda loan: loan.due_at)
    ]


FIGURE_COLUMNS = (
    "figure",
    "priority",
    "met",
    "total",
    "share",
    "target",
    "calls_fixed",
    "raw_hours_mean",
    "paused_working_hours_mean",
)
"""The columns of the month's figures as a spreadsheet."""


def figure_rows(figures: MonthFigures) -> list[list[object]]:
    """The month's figures as rows: compliance per priority on the paused clock, the
    rates, then the raw time to fix and the time on hold per priority."""
    rows: list[list[object]] = []
    for name, rates in (
        ("responded_in_time", figures.responded),
        ("onsite_in_time", figures.onsite),
        ("fixed_in_time", figures.fixed),
    ):
        for priority, rate in rates.items():
            rows.append([name, priority, rate.met, rate.total, rate.share, rate.target])
    for name, rate in (
        ("first_time_fix", figures.first_time_fix),
        ("same_day_fix", figures.same_day_fix),
        ("satisfaction", figures.satisfaction),
    ):
        rows.append([name, None, rate.met, rate.total, rate.share, rate.target])
    for priority, elapsed in figures.elapsed.items():
        rows.append(
            [
                "time_to_fix",
                priority,
                None,
                None,
                None,
                None,
                elapsed.calls,
                elapsed.raw_hours,
                elapsed.paused_hours,
            ]
        )
    return rows
