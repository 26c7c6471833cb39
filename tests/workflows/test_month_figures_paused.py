"""The month's figures count compliance on the paused clock and show the raw time too."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from partsvc.calls.calls import change_call_status, report_call
from partsvc.calls.customers import create_customer, create_site
from partsvc.calls.engineers import create_engineer
from partsvc.calls.holds import pause_call, resume_call
from partsvc.core.worktime import WorkingCalendar
from partsvc.workflows.completion import complete_call
from partsvc.workflows.month_figures import Elapsed, month_figures

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def local(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+08:00")


def test_a_call_fixed_late_on_the_raw_clock_but_in_time_on_the_paused_one(
    session: Session,
) -> None:
    calendar = WorkingCalendar()
    create_customer(session, code="C-P", name="明远科技", contract_starts_on=date(2026, 1, 1))
    create_site(session, code="S-P", customer="C-P", address="上海", lat=31.2, lon=121.5)
    create_engineer(
        session, code="E-P", name="P", home_lat=31.2, home_lon=121.5, skills=[], username="ep"
    )
    call = report_call(
        session,
        site="S-P",
        priority="P2",
        calendar=calendar,
        now=NOW,
        reported_at=local("2026-11-10T10:00"),  # a Tuesday
    )
    # 12 working hours: Tuesday 8 and Wednesday 4.
    assert call.resolve_due == local("2026-11-11T13:00")
    change_call_status(
        session, call.id, "assigned", engineer="E-P", now=NOW, at=local("2026-11-10T10:05")
    )
    pause_call(
        session, call.id, reason="customer_asked_to_wait", now=NOW, at=local("2026-11-10T11:00")
    )
    resume_call(session, call.id, now=NOW, calendar=calendar, at=local("2026-11-10T15:00"))
    assert call.resolve_due == local("2026-11-11T17:00")  # four working hours later
    assert call.onsite_due == local("2026-11-10T16:00")
    for status, time in (("en_route", "15:10"), ("on_site", "15:40")):
        change_call_status(session, call.id, status, now=NOW, at=local(f"2026-11-10T{time}"))
    complete_call(
        session,
        call.id,
        work_done="Fixed",
        signed_by="客户",
        now=NOW,
        at=local("2026-11-11T16:00"),
        calendar=calendar,
    )

    figures = month_figures(
        session,
        date(2026, 11, 1),
        now=NOW,
        zone=SHANGHAI,
        same_day_target=0.9,
        satisfaction_target=0.9,
    )
    assert (figures.onsite["P2"].met, figures.onsite["P2"].total) == (1, 1)
    assert (figures.fixed["P2"].met, figures.fixed["P2"].total) == (1, 1)
    assert figures.elapsed["P2"] == Elapsed(calls=1, raw_hours=30.0, paused_hours=4.0)
    assert figures.elapsed["P1"] == Elapsed(calls=0, raw_hours=None, paused_hours=None)


def test_a_call_on_hold_past_its_deadline_is_not_counted_missed(session: Session) -> None:
    calendar = WorkingCalendar()
    create_customer(session, code="C-Q", name="明远", contract_starts_on=date(2026, 1, 1))
    create_site(session, code="S-Q", customer="C-Q", address="上海", lat=31.2, lon=121.5)
    call = report_call(
        session,
        site="S-Q",
        priority="P2",
        calendar=calendar,
        now=NOW,
        reported_at=local("2026-11-16T10:00"),
    )
    pause_call(
        session, call.id, reason="customer_not_available", now=NOW, at=local("2026-11-16T10:05")
    )
    figures = month_figures(
        session,
        date(2026, 11, 1),
        now=NOW,  # days after every deadline, but the clocks stopped at 10:05 on the 16th
        zone=SHANGHAI,
        same_day_target=0.9,
        satisfaction_target=0.9,
    )
    assert figures.responded["P2"].total == 0
    assert figures.fixed["P2"].total == 0
