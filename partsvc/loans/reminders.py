"""Loan reminders (R12): one per loan, kind and day in an outbox table, delivered by a
``Notifier``. The sweep runs this every few minutes; a day's reminder is written once."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from partsvc.loans.lending import loan_terms
from partsvc.loans.models import Loan, Reminder
from partsvc.loans.rules import LoanState, LoanStatus, days_overdue, loan_state
from partsvc.platform.notify import Notifier

log = logging.getLogger(__name__)


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
        written.append(reminder)
    return written


def _message(loan: Loan, state: LoanState, now: datetime, zone: ZoneInfo) -> str:
    due = loan.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    where = f"loaner {loan.unit.serial} at {loan.site.code}"
    if state == LoanState.OVERDUE:
        late = days_overdue(loan.due_at, now, zone)
        return f"Loan {loan.id}: {where} was due back {due}, {late} day(s) overdue."
    return f"Loan {loan.id}: {where} is due back {due}."


def deliver_reminders(session: Session, notifier: Notifier, *, now: datetime) -> int:
    """Hand every unsent reminder to the notifier; one that fails stays for the next run."""
    sent = 0
    pending = select(Reminder).where(Reminder.sent_at.is_(None)).order_by(Reminder.id)
    if session.get_bind().dialect.name == "postgresql":
        # A sweep running beside this one sends the ones it holds; none is sent twice.
        pending = pending.with_for_update(skip_locked=True)
    for reminder in session.scalars(pending):
        try:
            notifier.send(recipient=reminder.recipient, message=reminder.message)
        except Exception:  # a broken adapter must not stop the sweep
            log.exception("reminder %s not delivered; it stays in the outbox", reminder.id)
            continue
        reminder.sent_at = now
        sent += 1
    session.flush()
    return sent
