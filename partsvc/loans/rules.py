"""Loan rules (R11, R12): pure, no database, no Flask."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class LoanTerms:
    """R11/R12 as the loan policy row holds them."""

    loan_days: int = 15
    max_days: int = 15  # the furthest an extension may push the due date, from the day out
    due_soon_days: int = 2


class LoanStatus(StrEnum):
    """What a loan row records: out on the site, or back."""

    OPEN = "open"
    RETURNED = "returned"


class HoldStatus(StrEnum):
    """A loaner hold: still holding the unit, turned into a loan, or let go."""

    ACTIVE = "active"
    LENT = "lent"
    RELEASED = "released"


class LoanState(StrEnum):
    """How a loan stands today (R12), computed from its status and due date."""

    OPEN = "open"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    RETURNED = "returned"


def due_at(out_at: datetime, terms: LoanTerms) -> datetime:
    """Due date = date out + 15 days (R11): the same time of day, 15 calendar days on."""
    return out_at + timedelta(days=terms.loan_days)


def latest_due(out_at: datetime, terms: LoanTerms) -> datetime:
    """How far extensions may go without an admin's override (R11): 15 days from the day
    out by default, the service commitment's limit (借出部件或設備最長時限為15天)."""
    return out_at + timedelta(days=terms.max_days)


def loan_state(due: datetime, returned: bool, now: datetime, terms: LoanTerms) -> LoanState:
    """Returned, overdue (past due), due soon (within ``due_soon_days``) or just open."""
    if returned:
        return LoanState.RETURNED
    if now > due:
        return LoanState.OVERDUE
    if due - now <= timedelta(days=terms.due_soon_days):
        return LoanState.DUE_SOON
    return LoanState.OPEN


def days_overdue(due: datetime, now: datetime, zone: ZoneInfo) -> int:
    """Calendar days past the due date, in the deployment's time zone: 1 on the day it falls
    due (once past the time), 2 the next day...; 0 if not yet due."""
    if now <= due:
        return 0
    return max((now.astimezone(zone).date() - due.astimezone(zone).date()).days, 1)
