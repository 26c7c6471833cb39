"""Loan reminders (R12): one per loan, kind and day, recorded in ``reminders`` and
emitted to the outbox (``loan.due_soon`` / ``loan.overdue``), which tells the site's
contact and the service desk. The sweep runs this every few minutes; a day's reminder is
written once."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from partsvc.loans.lending import loan_terms
from partsvc.loans.models import Loan, Reminder
from partsvc.loans.rules import LoanState, LoanStatus, days_overdue, loan_state
from partsvc.platform import outbox


def record_reminders(session: Session, *, now: datetime, zone: ZoneInfo) -> list[Reminder]:
    """A reminder today for each open loan that is due soon or overdue, unless written."""
    terms = loan_terms(session)
    today = now.astimezone(zone).date()
    written = []
    for loan in session.scalars(
        select(Loan).where(Loan.status == LoanStatus.OPEN).order_by(Loan.id)
    ):
        state = loan_state(loan.due_at, False, now, terms)
        if state not in (LoanState.DUE_SOON, LoanState.OVERDUE):
            continue
        exists = select(Reminder.id).where(  # one a day, whichever kind came first
            Reminder.loan_id == loan.id, Reminder.on_day == today
        )
        if session.scalar(exists) is not None:
            continue
        reminder = Reminder(
            loan_id=loan.id,
            kind=state,
            on_day=today,
            recipient=loan.engineer.code if loan.engineer else None,
            message=_message(loan, state, now, zone),
            created_at=now,
        )
        try:
            with session.begin_nested():  # a sweep beside this one may have written it
                session.add(reminder)
                session.flush()
        except IntegrityError:
            continue
        outbox.emit(
            session,
            f"loan.{state}",
            subject=f"loan:{loan.id}",
            now=now,
            loan=loan.id,
            serial=loan.unit.serial,
            site=loan.site.code,
            engineer=loan.engineer.code if loan.engineer else None,
            due_at=loan.due_at,
            days_overdue=days_overdue(loan.due_at, now, zone) if state == LoanState.OVERDUE else 0,
        )
        written.append(reminder)
    return written


def _message(loan: Loan, state: LoanState, now: datetime, zone: ZoneInfo) -> str:
    due = loan.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    where = f"loaner {loan.unit.serial} at {loan.site.code}"
    if state == LoanState.OVERDUE:
        late = days_overdue(loan.due_at, now, zone)
        return f"Loan {loan.id}: {where} was due back {due}, {late} day(s) overdue."
    return f"Loan {loan.id}: {where} is due back {due}."
