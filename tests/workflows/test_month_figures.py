"""The manager's month figures from hand-made calls whose outcomes are known."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from partsvc.calls.calls import change_call_status, record_satisfaction, report_call
from partsvc.calls.customers import create_customer, create_site
from partsvc.calls.engineers import create_engineer
from partsvc.core.worktime import WorkingCalendar
from partsvc.workflows.completion import complete_call
from partsvc.workflows.month_figures import month_figures

SHANGHAI = ZoneInfo("Asia/Shanghai")
TUESDAY_10 = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


@pytest.fixture
def place(session: Session) -> None:
    create_customer(session, code="C-M", name="明远科技", contract_starts_on=date(2026, 1, 1))
    create_site(session, code="S-M", customer="C-M", address="上海", lat=31.2, lon=121.5)
    create_engineer(
        session, code="E-M", name="M", home_lat=31.2, home_lon=121.5, skills=[], username="em"
    )


def visit(
    session: Session,
    priority: str,
    *,
    on_site_after: timedelta,
    fixed_after: timedelta,
    waited_for_parts: bool = False,
    score: int | None = None,
) -> int:
    """A call reported on Tuesday 10:00, visited and fixed after the given times."""
    call = report_call(
        session,
        site="S-M",
        priority=priority,
        calendar=WorkingCalendar(),
        now=NOW,
        reported_at=TUESDAY_10,
    )
    steps = [("assigned", timedelta(minutes=5)), ("en_route", timedelta(minutes=10))]
    steps.append(("on_site", on_site_after))
    if waited_for_parts:
        steps += [("waiting_for_parts", on_site_after + timedelta(minutes=30))]
        steps += [("on_site", fixed_after - timedelta(minutes=30))]
    steps += [("resolved", fixed_after), ("closed", fixed_after + timedelta(hours=1))]
    for status, after in steps:
        step(session, call.id, status, TUESDAY_10 + after)
    if score is not None:
        record_satisfaction(
            session,
            call.id,
            score=score,
            note=None,
            now=TUESDAY_10 + fixed_after + timedelta(hours=2),
        )
    return call.id


def step(session: Session, call_id: int, status: str, at: datetime) -> None:
    """One status of a visit; resolved through the completion, with its service record."""
    if status == "resolved":
        complete_call(
            session,
            call_id,
            work_done="Fixed",
            signed_by="客户",
            now=NOW,
            at=at,
            calendar=WorkingCalendar(),
        )
        return
    engineer = "E-M" if status == "assigned" else None
    change_call_status(session, call_id, status, engineer=engineer, now=NOW, at=at)


def figures(session: Session):  # type: ignore[no-untyped-def]
    return month_figures(
        session,
        date(2026, 11, 1),
        now=NOW,
        zone=SHANGHAI,
        same_day_target=0.9,
        satisfaction_target=0.9,
    )


def test_on_site_compliance_counts_calls_reached_by_their_deadline(
    session: Session, place: None
) -> None:
    visit(session, "P1", on_site_after=timedelta(minutes=90), fixed_after=timedelta(hours=3))
    visit(session, "P1", on_site_after=timedelta(hours=3), fixed_after=timedelta(hours=5))
    month = figures(session)
    assert (month.onsite["P1"].met, month.onsite["P1"].total) == (1, 2)
    assert month.onsite["P1"].share == 0.5
    assert month.onsite["P2"].total == 0 and month.onsite["P2"].share is None


def test_a_deadline_still_ahead_is_not_counted_yet(session: Session, place: None) -> None:
    report_call(
        session, site="S-M", priority="P3", calendar=WorkingCalendar(), now=NOW, reported_at=NOW
    )
    month = figures(session)
    assert month.onsite["P3"].total == 0


def test_same_day_fix_and_first_time_fix(session: Session, place: None) -> None:
    visit(session, "P3", on_site_after=timedelta(hours=1), fixed_after=timedelta(hours=2))
    visit(
        session,
        "P3",
        on_site_after=timedelta(hours=1),
        fixed_after=timedelta(days=1, hours=2),
        waited_for_parts=True,
    )
    month = figures(session)
    assert (month.same_day_fix.met, month.same_day_fix.total) == (1, 2)
    assert month.same_day_fix.on_target is False
    assert (month.first_time_fix.met, month.first_time_fix.total) == (1, 2)


def test_satisfaction_counts_fours_and_fives_of_the_rated(session: Session, place: None) -> None:
    for score in (5, 4, 3):
        visit(
            session,
            "P3",
            on_site_after=timedelta(hours=1),
            fixed_after=timedelta(hours=2),
            score=score,
        )
    visit(session, "P3", on_site_after=timedelta(hours=1), fixed_after=timedelta(hours=2))
    month = figures(session)
    assert (month.satisfaction.met, month.satisfaction.total) == (2, 3)
    assert month.satisfaction.on_target is False


def test_calls_fixed_per_day_are_counted_on_the_local_day(session: Session, place: None) -> None:
    visit(session, "P3", on_site_after=timedelta(hours=1), fixed_after=timedelta(hours=2))
    per_day = dict(figures(session).resolved_per_day)
    assert len(per_day) == 30
    assert per_day[date(2026, 11, 10)] == 1
    assert sum(per_day.values()) == 1


def test_same_day_is_the_local_day_and_a_fault_left_open_counts_as_missed(
    session: Session, place: None
) -> None:
    # Reported 16:00 on Tuesday in Shanghai, fixed 00:30 on Wednesday there: the same day
    # in UTC (08:00 and 16:30), not the same working day for the customer.
    late = report_call(
        session,
        site="S-M",
        priority="P3",
        calendar=WorkingCalendar(),
        now=NOW,
        reported_at=datetime(2026, 11, 10, 8, 0, tzinfo=UTC),
    )
    steps = (
        ("assigned", (8, 10)),
        ("en_route", (8, 20)),
        ("on_site", (9, 0)),
        ("resolved", (16, 30)),
    )
    for status, (hour, minute) in steps:
        step(session, late.id, status, datetime(2026, 11, 10, hour, minute, tzinfo=UTC))
    # Reported on Monday the 16th and still open on the 20th.
    report_call(
        session,
        site="S-M",
        priority="P3",
        calendar=WorkingCalendar(),
        now=NOW,
        reported_at=datetime(2026, 11, 16, 3, 0, tzinfo=UTC),
    )
    month = figures(session)
    assert (month.same_day_fix.met, month.same_day_fix.total) == (0, 2)
    assert dict(month.resolved_per_day)[date(2026, 11, 11)] == 1
