"""A deadline after a pause (R22): pure, on the 2026 calendar."""

from __future__ import annotations

from datetime import datetime

from partsvc.calls.rules import after_pause
from partsvc.core.worktime import WorkingCalendar

CALENDAR = WorkingCalendar()


def local(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+08:00")


PAUSED, RESUMED = local("2026-11-27T16:00"), local("2026-11-27T17:00")  # a Friday


def test_a_running_deadline_moves_by_the_working_time_paused_across_the_weekend() -> None:
    moved = after_pause(local("2026-11-30T18:00"), None, PAUSED, RESUMED, CALENDAR)
    assert moved == local("2026-12-01T10:00")


def test_a_deadline_met_or_missed_before_the_pause_stays() -> None:
    due = local("2026-11-27T17:00")
    assert after_pause(due, local("2026-11-27T15:00"), PAUSED, RESUMED, CALENDAR) == due
    missed = local("2026-11-27T15:30")
    assert after_pause(missed, None, PAUSED, RESUMED, CALENDAR) == missed


def test_a_deadline_met_while_paused_still_moves() -> None:
    due = local("2026-11-27T17:00")
    moved = after_pause(due, local("2026-11-27T16:30"), PAUSED, RESUMED, CALENDAR)
    assert moved == local("2026-11-27T18:00")


def test_a_weekend_pause_moves_a_24x7_clock_but_not_a_working_one() -> None:
    saturday_10, saturday_11 = local("2026-11-28T10:00"), local("2026-11-28T11:00")
    always = WorkingCalendar.always_open()
    due = local("2026-11-28T12:00")
    assert after_pause(due, None, saturday_10, saturday_11, always) == local("2026-11-28T13:00")
    monday = local("2026-11-30T12:00")
    assert after_pause(monday, None, saturday_10, saturday_11, CALENDAR) == monday
