"""The calendar deadlines are counted on: the settings' calendar plus the admin's days."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.audit import trail as audit
from partsvc.auth.identity import Caller
from partsvc.core.errors import InvalidInput, UnknownKey
from partsvc.core.worktime import WorkingCalendar
from partsvc.workdays.models import CalendarDay

MAX_RANGE_DAYS = 366


def working_calendar(session: Session, base: WorkingCalendar) -> WorkingCalendar:
    """``base`` with the admin's closures and extra working days applied."""
    rows = session.execute(select(CalendarDay.day, CalendarDay.working)).all()
    if not rows:
        return base
    return dataclasses.replace(
        base,
        extra_closures=base.extra_closures | {day for day, working in rows if not working},
        extra_working_days=base.extra_working_days | {day for day, working in rows if working},
    )


def set_day(
    session: Session, day: date, *, working: bool, note: str | None, by: Caller | None
) -> CalendarDay:
    """Close a day or open one; calls already reported keep their deadlines."""
    row = session.get(CalendarDay, day)
    if row is None:
        row = CalendarDay(day=day)
        session.add(row)
    row.working = working
    row.note = note
    row.updated_by_id = by.id if by else None
    session.flush()
    details = {"working": working, "note": note}
    audit.record(session, "calendar_day.set", kind="calendar_day", key=day, details=details)
    return row


def remove_day(session: Session, day: date) -> None:
    """Give a day back to the country's calendar."""
    row = session.get(CalendarDay, day)
    if row is None:
        raise UnknownKey(f"The admin has not set {day.isoformat()}.", day=day.isoformat())
    session.delete(row)
    session.flush()
    audit.record(session, "calendar_day.removed", kind="calendar_day", key=day)


@dataclass(frozen=True)
class DayView:
    """A day as the calendar counts it, and why."""

    day: date
    working: bool
    opens: time | None
    closes: time | None
    reason: str
    note: str | None


def describe_days(
    session: Session, calendar: WorkingCalendar, start: date, end: date
) -> list[DayView]:
    """Every day from ``start`` to ``end`` inclusive, with its hours and the reason."""
    if end < start:
        raise InvalidInput("The range ends before it starts.", errors={"to": ["Before from."]})
    if (end - start).days >= MAX_RANGE_DAYS:
        raise InvalidInput(
            f"Ask for at most {MAX_RANGE_DAYS} days at a time.", errors={"to": ["Too far."]}
        )
    notes = dict(
        session.execute(
            select(CalendarDay.day, CalendarDay.note).where(CalendarDay.day.between(start, end))
        ).all()
    )
    views = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        hours = calendar.hours_on(day)
        views.append(
            DayView(
                day=day,
                working=hours is not None,
                opens=hours[0] if hours else None,
                closes=hours[1] if hours else None,
                reason=calendar.describe(day),
                note=notes.get(day),
            )
        )
    return views
