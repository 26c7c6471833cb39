"""The working-time calendar (R21): pure, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partsvc.core.worktime import WorkingCalendar, dates

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkingCalendar()


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_four_working_hours_asked_friday_at_half_past_four_end_monday_at_half_past_eleven():
    # R21's own example; 2026-11-20 is an ordinary Friday.
    due = CALENDAR.add_working_time(local(2026, 11, 20, 16, 30), timedelta(hours=4))
    assert due == local(2026, 11, 23, 11, 30)


def test_time_asked_before_opening_starts_counting_at_opening():
    assert CALENDAR.add_working_time(local(2026, 11, 23, 7, 0), timedelta(hours=1)) == local(
        2026, 11, 23, 10, 0
    )


def test_a_public_holiday_is_not_working_time():
    # National Day week 2026: 1–7 October are holidays.
    assert not CALENDAR.is_working_day(date(2026, 10, 1))
    due = CALENDAR.add_working_time(local(2026, 9, 30, 17, 0), timedelta(hours=2))
    assert due == local(2026, 10, 8, 10, 0)


def test_an_official_make_up_saturday_is_a_working_day():
    # 2026-10-10 is a Saturday worked in exchange for the National Day holiday.
    assert date(2026, 10, 10).weekday() == 5
    assert CALENDAR.is_working_day(date(2026, 10, 10))
    assert CALENDAR.hours_on(date(2026, 10, 10)) == (time(9), time(18))
    assert not CALENDAR.is_working_day(date(2026, 10, 17))  # an ordinary Saturday


def test_the_spring_festival_closes_the_office():
    assert not CALENDAR.is_working_day(date(2026, 2, 17))


def test_an_admin_can_close_a_day_and_open_another():
    calendar = WorkingCalendar(
        extra_closures=dates(["2026-11-23"]), extra_working_days=dates(["2026-11-22"])
    )
    assert not calendar.is_working_day(date(2026, 11, 23))
    assert calendar.is_working_day(date(2026, 11, 22))  # a Sunday opened by the admin


def test_working_hours_are_configurable_per_weekday():
    calendar = WorkingCalendar(
        hours={0: (time(8), time(12)), 5: (time(10), time(14))}, country=None
    )
    assert calendar.add_working_time(local(2026, 11, 23, 11, 0), timedelta(hours=2)) == local(
        2026, 11, 28, 11, 0
    )


def test_the_24x7_clock_of_gold_p1_calls_never_stops():
    calendar = WorkingCalendar.always_open()
    start = local(2026, 10, 1, 23, 0)  # a holiday, at night
    assert calendar.add_working_time(start, timedelta(hours=2)) == start + timedelta(hours=2)
    assert calendar.working_time_between(start, start + timedelta(days=3)) == timedelta(days=3)


def test_working_time_between_counts_only_working_hours():
    friday_five, monday_ten = local(2026, 11, 20, 17, 0), local(2026, 11, 23, 10, 0)
    assert CALENDAR.working_time_between(friday_five, monday_ten) == timedelta(hours=2)
    assert CALENDAR.working_time_between(monday_ten, friday_five) == -timedelta(hours=2)


def test_the_next_working_instant_of_a_saturday_is_monday_morning():
    assert CALENDAR.next_working_instant(local(2026, 11, 21, 12, 0)) == local(2026, 11, 23, 9, 0)
    assert CALENDAR.next_working_instant(local(2026, 11, 23, 12, 0)) == local(2026, 11, 23, 12, 0)


def test_instants_in_another_zone_are_understood():
    friday_utc = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)  # 16:30 in Shanghai
    due = CALENDAR.add_working_time(friday_utc, timedelta(hours=4))
    assert due == local(2026, 11, 23, 11, 30)


def test_naive_instants_and_negative_durations_are_refused():
    with pytest.raises(ValueError, match="aware"):
        CALENDAR.add_working_time(datetime(2026, 11, 20, 9), timedelta(hours=1))
    with pytest.raises(ValueError, match="negative"):
        CALENDAR.add_working_time(local(2026, 11, 20, 9), -timedelta(hours=1))


def test_hours_that_end_before_they_start_are_refused():
    with pytest.raises(ValueError, match="end before"):
        WorkingCalendar(hours={0: (time(18), time(9))})


def test_a_calendar_with_no_working_days_says_so_instead_of_looping():
    calendar = WorkingCalendar(hours={}, country=None)
    with pytest.raises(ValueError, match="no working time"):
        calendar.add_working_time(local(2026, 1, 1, 9), timedelta(hours=1))


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(SHANGHAI)
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=200))


@settings(max_examples=200)
@given(start=instants, duration=durations)
def test_adding_working_time_then_measuring_it_gives_it_back(start, duration):
    end = CALENDAR.add_working_time(start, duration)
    assert end >= start
    assert CALENDAR.working_time_between(start, end) == duration


@settings(max_examples=200)
@given(start=instants, duration=durations)
def test_a_positive_deadline_falls_inside_working_hours(start, duration):
    end = CALENDAR.add_working_time(start, duration + timedelta(minutes=1)).astimezone(SHANGHAI)
    hours = CALENDAR.hours_on(end.date())
    assert hours is not None
    assert hours[0] < end.time() <= hours[1]


@settings(max_examples=100)
@given(start=instants, first=durations, second=durations)
def test_working_time_adds_up(start, first, second):
    both = CALENDAR.add_working_time(start, first + second)
    assert CALENDAR.add_working_time(CALENDAR.add_working_time(start, first), second) == both


def test_a_request_on_a_make_up_saturday_counts_that_saturday():
    # 2026-02-28 is a Saturday worked for the Spring Festival.
    due = CALENDAR.add_working_time(local(2026, 2, 28, 16, 0), timedelta(hours=4))
    assert due == local(2026, 3, 2, 11, 0)


def test_a_request_on_the_eve_of_national_day_lands_after_the_holiday_week():
    due = CALENDAR.add_working_time(local(2026, 9, 30, 16, 0), timedelta(hours=4))
    assert due == local(2026, 10, 8, 11, 0)


def test_a_gold_p1_at_23_on_a_sunday_is_due_on_site_at_1_on_monday():
    due = WorkingCalendar.always_open().add_working_time(
        local(2026, 11, 22, 23, 0), timedelta(hours=2)
    )
    assert due == local(2026, 11, 23, 1, 0)


BERLIN = ZoneInfo("Europe/Berlin")


def test_hours_across_the_spring_clock_change_are_real_hours():
    # 2026-03-29: Berlin's clocks jump from 02:00 to 03:00, so 00:00–06:00 is 5 hours.
    night = WorkingCalendar(timezone="Europe/Berlin", hours={6: (time(0), time(6))}, country=None)
    midnight = datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN)
    assert night.working_time_between(
        midnight, datetime(2026, 3, 29, 6, 0, tzinfo=BERLIN)
    ) == timedelta(hours=5)
    assert night.add_working_time(midnight, timedelta(hours=4)) == datetime(
        2026, 3, 29, 5, 0, tzinfo=BERLIN
    )


def test_the_24x7_clock_counts_real_hours_across_the_autumn_change():
    calendar = WorkingCalendar.always_open("Europe/Berlin")
    start = datetime(2026, 10, 25, 0, 0, tzinfo=BERLIN)  # 03:00 comes twice this night
    assert calendar.working_time_between(
        start, datetime(2026, 10, 25, 6, 0, tzinfo=BERLIN)
    ) == timedelta(hours=7)


berlin_instants = st.datetimes(
    min_value=datetime(2026, 3, 20), max_value=datetime(2026, 11, 5), timezones=st.just(BERLIN)
)
berlin = WorkingCalendar(
    timezone="Europe/Berlin", hours={d: (time(1), time(4)) for d in range(7)}, country="DE"
)


@settings(max_examples=200)
@given(start=berlin_instants, duration=durations)
def test_across_dst_adding_then_measuring_gives_the_duration_back(start, duration):
    end = berlin.add_working_time(start, duration)
    assert berlin.working_time_between(start, end) == duration


@settings(max_examples=200)
@given(
    start=instants,
    later=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
    duration=durations,
    more=durations,
)
def test_deadlines_are_monotonic_in_the_start_and_the_duration(start, later, duration, more):
    due = CALENDAR.add_working_time(start, duration)
    assert CALENDAR.add_working_time(start + later, duration) >= due
    assert CALENDAR.add_working_time(start, duration + more) >= due


def test_working_days_keep_the_time_of_day_and_skip_closed_days():
    assert CALENDAR.add_working_days(local(2026, 11, 20, 14, 0), 1) == local(2026, 11, 23, 14, 0)
    assert CALENDAR.add_working_days(local(2026, 11, 21, 14, 0), 0) == local(2026, 11, 23, 9, 0)


def test_the_end_of_the_working_day():
    assert CALENDAR.end_of_working_day(local(2026, 11, 23, 10, 0)) == local(2026, 11, 23, 18, 0)
    assert CALENDAR.end_of_working_day(local(2026, 11, 23, 18, 30)) == local(2026, 11, 24, 18, 0)


@pytest.mark.parametrize(
    ("at", "planned"),
    [
        (local(2026, 11, 20, 17, 0), date(2026, 11, 20)),  # a Friday before closing
        (local(2026, 11, 20, 18, 0), date(2026, 11, 23)),  # Friday at closing: Monday
        (local(2026, 11, 22, 20, 0), date(2026, 11, 23)),  # a Sunday evening: Monday
        (local(2026, 11, 23, 6, 30), date(2026, 11, 23)),  # Monday before opening: Monday
        (local(2026, 9, 30, 19, 0), date(2026, 10, 8)),  # the eve of National Day week
        (local(2026, 10, 9, 19, 0), date(2026, 10, 10)),  # a make-up Saturday is worked
    ],
)
def test_the_planning_day_is_today_while_it_lasts_else_the_next_working_day(at, planned):
    assert CALENDAR.planning_day(at) == planned
