"""An engineer's day: the calls assigned to them that the day holds, their van's stock,
and the loans they placed that are still out (those to collect first).

The calls come in the order of their on-site deadlines; once the day's plan is published,
`route` gives the order the planner chose, with pick-ups and times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from partsvc.auth.identity import Caller
from partsvc.calls.calls import get_visible_engineer
from partsvc.calls.models import Call, Engineer
from partsvc.calls.rules import CallStatus
from partsvc.core.worktime import WorkingCalendar
from partsvc.inventory.ledger_reads import list_stock
from partsvc.inventory.models import StockLevel
from partsvc.loans.models import Loan
from partsvc.loans.rules import LoanStatus
from partsvc.routing.models import DayPlan, PlanRoute, PlanStatus

VAN_LINES = 5000  # a van carries tens to hundreds of part numbers, never this many


@dataclass(frozen=True)
class EngineerDay:
    engineer: Engineer
    date: date
    calls: list[Call]
    van_stock: list[StockLevel]
    loans: list[Loan]
    route: PlanRoute | None = None
    """The engineer's route in the day's published plan, if there is one (R26)."""


def engineer_day(
    session: Session, code: str, day: date, *, calendar: WorkingCalendar, caller: Caller
) -> EngineerDay:
    """What ``code`` has on ``day``: open calls due by its end or resolved on it, and van stock.

    An engineer sees their own day only: another's is unknown (404).
    """
    engineer = get_visible_engineer(session, code, caller=caller)
    starts = datetime.combine(day, time.min, calendar.zone).astimezone(UTC)
    ends = datetime.combine(day + timedelta(days=1), time.min, calendar.zone).astimezone(UTC)
    finished = Call.status.in_([CallStatus.RESOLVED, CallStatus.CLOSED])
    calls = session.scalars(
        select(Call)
        .where(
            Call.engineer_id == engineer.id,
            or_(
                and_(
                    ~finished,
                    or_(Call.onsite_due < ends, Call.window_start < ends),
                ),
                and_(Call.resolved_at >= starts, Call.resolved_at < ends),
            ),
        )
        .order_by(Call.onsite_due, Call.id)
    ).unique()
    van = list_stock(session, location=engineer.van.code, limit=VAN_LINES) if engineer.van else []
    loans = session.scalars(
        select(Loan)
        .where(
            or_(Loan.engineer_id == engineer.id, Loan.collector_id == engineer.id),
            Loan.status == LoanStatus.OPEN,
        )
        .order_by(Loan.to_collect.desc(), Loan.due_at, Loan.id)
    ).unique()
    route = session.scalars(
        select(PlanRoute)
        .join(DayPlan, PlanRoute.plan_id == DayPlan.id)
        .where(
            DayPlan.day == day,
            DayPlan.status == PlanStatus.PUBLISHED,
            PlanRoute.engineer_id == engineer.id,
        )
    ).first()
    return EngineerDay(
        engineer=engineer,
        date=day,
        calls=list(calls),
        van_stock=van,
        loans=list(loans),
        route=route,
    )
