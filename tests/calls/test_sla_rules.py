"""SLA deadlines from priority, tier and the working-time calendar (R20, R21)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from partsvc.calls.rules import (
    DEFAULT_POLICY,
    DeadlineState,
    Priority,
    Target,
    Tier,
    call_flag,
    deadline_state,
    deadlines,
    visit_period,
)
from partsvc.core.worktime import WorkingCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkingCalendar()


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def due(tier: Tier, priority: Priority, reported: datetime, **kwargs):
    return deadlines(DEFAULT_POLICY[(tier, priority)], reported, CALENDAR, **kwargs)


def test_a_gold_p1_at_23_on_a_sunday_is_due_on_site_at_1_on_monday():
    result = due(Tier.GOLD, Priority.P1, local(2026, 11, 22, 23, 0))
    assert result.onsite_due == local(2026, 11, 23, 1, 0)
    assert result.response_due == local(2026, 11, 23, 0, 0)
    assert result.resolve_due == local(2026, 11, 23, 23, 0)


def test_the_same_p1_without_gold_waits_for_monday_morning():
    result = due(Tier.SILVER, Priority.P1, local(2026, 11, 22, 23, 0))
    assert result.response_due == local(2026, 11, 23, 10, 0)
    assert result.onsite_due == local(2026, 11, 23, 11, 0)
    # 24 working hours of 9-hour days: Monday 09:00 + 24 h = Wednesday 15:00.
    assert result.resolve_due == local(2026, 11, 25, 15, 0)


def test_a_p2_is_answered_in_ten_working_minutes():
    result = due(Tier.NONE, Priority.P2, local(2026, 11, 23, 17, 55))
    assert result.response_due == local(2026, 11, 24, 9, 5)
    assert result.onsite_due == local(2026, 11, 24, 10, 55)


def test_a_p3_is_due_on_site_the_same_working_day_and_fixed_in_five_working_days():
    result = due(Tier.BRONZE, Priority.P3, local(2026, 11, 23, 10, 0))
    assert result.onsite_due == local(2026, 11, 23, 18, 0)
    assert result.resolve_due == local(2026, 11, 30, 10, 0)


def test_a_p3_reported_in_the_evening_is_due_the_next_working_day():
    result = due(Tier.BRONZE, Priority.P3, local(2026, 11, 20, 19, 0))  # a Friday
    assert result.onsite_due == local(2026, 11, 23, 18, 0)
    assert result.resolve_due == local(2026, 11, 30, 9, 0)  # the clock starts Monday 09:00


def test_a_p3_with_a_customer_window_is_due_at_its_end():
    window_end = local(2026, 11, 25, 12, 0)
    result = due(Tier.NONE, Priority.P3, local(2026, 11, 23, 10, 0), window_end=window_end)
    assert result.onsite_due == window_end


def test_five_working_days_skip_the_national_day_week():
    result = due(Tier.NONE, Priority.P3, local(2026, 9, 29, 11, 0))
    # Working days after Tue 29 Sep: Wed 30, (1–7 Oct off), Thu 8, Fri 9, Sat 10 (make-up), Mon 12.
    assert result.resolve_due == local(2026, 10, 12, 11, 0)


def test_every_tier_and_priority_has_a_default_target():
    assert set(DEFAULT_POLICY) == {(tier, priority) for tier in Tier for priority in Priority}
    assert [key for key, target in DEFAULT_POLICY.items() if target.round_the_clock] == [
        (Tier.GOLD, Priority.P1)
    ]


def test_a_target_needs_exactly_one_way_to_count_the_fix():
    with pytest.raises(ValueError, match="either"):
        Target(timedelta(hours=1), None)
    with pytest.raises(ValueError, match="either"):
        Target(timedelta(hours=1), None, resolve=timedelta(hours=1), resolve_working_days=1)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        ((2026, 1, 15), 12, (2027, 1, 15)),
        ((2024, 2, 29), 12, (2025, 2, 28)),
        ((2026, 1, 31), 1, (2026, 2, 28)),
        ((2026, 11, 30), 3, (2027, 2, 28)),
        ((2026, 12, 1), 0, (2026, 12, 1)),
    ],
)
def test_months_are_added_to_the_same_day_or_the_last_of_a_short_month(day, months, expected):
    from datetime import date

    from partsvc.calls.rules import add_months

    assert add_months(date(*day), months) == date(*expected)


# ---------------------------------------------------------------- deadline flags

DUE = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
WARN = timedelta(minutes=30)


@pytest.mark.parametrize(
    "met_at, now, state",
    [
        (None, DUE - timedelta(minutes=31), DeadlineState.OPEN),
        (None, DUE - timedelta(minutes=30), DeadlineState.NEAR),
        (None, DUE, DeadlineState.NEAR),
        (None, DUE + timedelta(seconds=1), DeadlineState.MISSED),
        (DUE, DUE + timedelta(hours=5), DeadlineState.MET),
        (DUE + timedelta(seconds=1), DUE + timedelta(hours=5), DeadlineState.MISSED),
        (DUE - timedelta(hours=1), DUE - timedelta(hours=2), DeadlineState.MET),
    ],
)
def test_a_deadline_is_open_near_missed_or_met(met_at, now, state):
    assert deadline_state(DUE, met_at, now, WARN) == state


def test_a_call_is_flagged_by_its_worst_deadline():
    S = DeadlineState
    assert call_flag([S.MET, S.NEAR, S.MISSED]) == S.MISSED
    assert call_flag([S.OPEN, S.NEAR, S.MET]) == S.NEAR
    assert call_flag([S.OPEN, S.MET, S.MET]) is None


# ---------------------------------------------------------------- preventive visits


@pytest.mark.parametrize(
    "start, every, today, period",
    [
        (date(2026, 1, 15), 1, date(2026, 11, 23), (date(2026, 11, 15), date(2026, 12, 14))),
        (date(2026, 1, 15), 1, date(2026, 11, 14), (date(2026, 10, 15), date(2026, 11, 14))),
        (date(2026, 1, 15), 3, date(2026, 11, 23), (date(2026, 10, 15), date(2027, 1, 14))),
        (date(2026, 11, 23), 2, date(2026, 11, 23), (date(2026, 11, 23), date(2027, 1, 22))),
        (date(2026, 1, 31), 1, date(2026, 2, 28), (date(2026, 2, 28), date(2026, 3, 30))),
        (date(2026, 1, 31), 1, date(2026, 3, 30), (date(2026, 2, 28), date(2026, 3, 30))),
        (date(2026, 1, 31), 1, date(2026, 3, 31), (date(2026, 3, 31), date(2026, 4, 29))),
    ],
)
def test_the_visit_period_that_today_falls_in(start, every, today, period):
    found = visit_period(start, every, today)
    assert found is not None
    assert (found.first_day, found.last_day) == period


def test_no_visit_is_due_before_the_contract_starts():
    assert visit_period(date(2026, 12, 1), 1, date(2026, 11, 30)) is None


@given(
    start=st.dates(date(2000, 1, 1), date(2040, 12, 31)),
    every=st.sampled_from([1, 2, 3, 6, 12]),
    offset=st.integers(0, 3000),
)
def test_periods_hold_today_and_follow_each_other_without_gaps(start, every, offset):
    today = start + timedelta(days=offset)
    period = visit_period(start, every, today)
    assert period is not None
    assert period.first_day <= today <= period.last_day
    following = visit_period(start, every, period.last_day + timedelta(days=1))
    assert following is not None
    assert following.first_day == period.last_day + timedelta(days=1)
    assert following.first_day > period.first_day
