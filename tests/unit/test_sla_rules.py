"""SLA deadlines from priority, tier and the working-time calendar (R20, R21)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from partsvc.calls.rules import DEFAULT_POLICY, Priority, Target, Tier, deadlines
from partsvc.worktime import WorkingCalendar

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
