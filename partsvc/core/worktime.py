"""Working time (R21): the clock that SLA deadlines and part-request deadlines run on.

Pure: no database, no Flask. A ``WorkingCalendar`` knows the working hours of each
weekday in the deployment's time zone, the public holidays of a country and its official
make-up working days (China moves holidays by making some weekends working days; the
``holidays`` package lists them), and an admin's extra closures and extra working days.
``WorkingCalendar.always_open()`` is the 24×7 clock of gold P1 calls.

All instants given and returned are aware datetimes; durations are ``timedelta``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, cached_property
from zoneinfo import ZoneInfo

import holidays

DEFAULT_HOURS: Mapping[int, tuple[time, time]] = {
    weekday: (time(9), time(18))
    for weekday in range(5)  # Monday–Friday 09:00–18:00
}
# The furthest a search for working time goes before it gives up (a calendar with no
# working hours at all would otherwise loop forever).
MAX_DAYS_AHEAD = 3660


@dataclass(frozen=True)
class WorkingCalendar:
    """Working hours per weekday (0 = Monday), holidays and make-up days, in one zone."""

    timezone: str = "Asia/Shanghai"
    hours: Mapping[int, tuple[time, time]] = field(default_factory=lambda: dict(DEFAULT_HOURS))
    country: str | None = "CN"
    extra_closures: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()
    all_hours: bool = False

    def __post_init__(self) -> None:
        for weekday, (start, end) in self.hours.items():
            if not 0 <= weekday <= 6:
                raise ValueError(f"weekday {weekday} is not 0 (Monday) to 6 (Sunday)")
            if start >= end:
                raise ValueError(f"working hours on weekday {weekday} end before they start")

    @classmethod
    def always_open(cls, timezone: str = "Asia/Shanghai") -> WorkingCalendar:
        """Round the clock, every day: gold contracts' P1 clocks (R21)."""
        return cls(timezone=timezone, hours={}, country=None, all_hours=True)

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def _public_holidays(self) -> holidays.HolidayBase | None:
        return None if self.country is None else _country_holidays(self.country)

    # ------------------------------------------------------------------ days

    def is_working_day(self, day: date) -> bool:
        return self.hours_on(day) is not None

    def hours_on(self, day: date) -> tuple[time, time] | None:
        """The working hours of a day, or None if nobody works that day."""
        if self.all_hours:
            return (time.min, time.max)
        if day in self.extra_closures:
            return None
        if day in self.extra_working_days or self._is_make_up_day(day):
            return self.hours.get(day.weekday()) or self._make_up_hours()
        if self._is_public_holiday(day):
            return None
        return self.hours.get(day.weekday())

    def describe(self, day: date) -> str:
        """Why a day is, or is not, a working day: what a dispatcher reads on the calendar."""
        if self.all_hours:
            return "open round the clock"
        if day in self.extra_closures:
            return "closed by the admin"
        if day in self.extra_working_days:
            return "working day set by the admin"
        if self._is_make_up_day(day):
            return "make-up working day"
        calendar = self._public_holidays
        if calendar is not None and day in calendar:
            return f"public holiday: {calendar.get(day)}"
        return "working day" if day.weekday() in self.hours else "weekend"

    def _is_public_holiday(self, day: date) -> bool:
        calendar = self._public_holidays
        return calendar is not None and day in calendar

    def _is_make_up_day(self, day: date) -> bool:
        calendar = self._public_holidays
        if calendar is None:
            return False
        calendar.get(day)  # loads that year's holidays, and with them its make-up days
        return day in getattr(calendar, "weekend_workdays", ())

    def _make_up_hours(self) -> tuple[time, time]:
        """A weekend made a working day keeps the hours of an ordinary weekday."""
        for weekday in range(7):
            if weekday in self.hours:
                return self.hours[weekday]
        return (time(9), time(18))

    # ------------------------------------------------------------------ instants

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """The instant ``duration`` of working time after ``start`` (R21)."""
        _require_aware(start)
        if duration < timedelta(0):
            raise ValueError("a duration of working time cannot be negative")
        # Arithmetic in UTC: within one zone Python adds wall-clock time, which is wrong
        # on the days the clocks change.
        start = start.astimezone(UTC)
        if self.all_hours:
            return (start + duration).astimezone(self.zone)
        remaining = duration
        for opens, closes in self._periods_from(start):
            begin = max(opens, start)
            available = closes - begin
            if remaining <= available:
                return (begin + remaining).astimezone(self.zone)
            remaining -= available
        raise ValueError("no working time within ten years: check the calendar's hours")

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from ``start`` to ``end``; negative if ``end`` comes first."""
        _require_aware(start)
        _require_aware(end)
        if end < start:
            return -self.working_time_between(end, start)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if self.all_hours:
            return end - start
        total = timedelta(0)
        for opens, closes in self._periods_from(start):
            if opens >= end:
                break
            total += min(closes, end) - max(opens, start)
        return total

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same time of day ``days`` working days later (R20's "5 working days").

        Counting starts at the next working instant; a time outside the later day's
        hours is moved to its opening or closing.
        """
        if days < 0:
            raise ValueError("a number of working days cannot be negative")
        if self.all_hours:
            return (start.astimezone(UTC) + timedelta(days=days)).astimezone(self.zone)
        local = self.next_working_instant(start)
        day = local.date()
        for _ in range(days):
            day = self._next_working_day(day)
        opens, closes = self.hours_on(day) or (time.min, time.max)
        clock = min(max(local.timetz().replace(tzinfo=None), opens), closes)
        return datetime.combine(day, clock, self.zone)

    def end_of_working_day(self, at: datetime) -> datetime:
        """When the working day that ``at`` falls in (or the next one) closes."""
        local = self.next_working_instant(at)
        if self.all_hours:
            return datetime.combine(local.date() + timedelta(days=1), time.min, self.zone)
        hours = self.hours_on(local.date())
        assert hours is not None  # a working instant falls on a working day
        return datetime.combine(local.date(), hours[1], self.zone)

    def planning_day(self, at: datetime) -> date:
        """The day a dispatcher plans at ``at``: today while its working hours last, else
        the next working day (an evening, a weekend or a holiday plans the next one)."""
        return self.next_working_instant(at).date()

    def _next_working_day(self, day: date) -> date:
        for offset in range(1, MAX_DAYS_AHEAD):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError("no working day within ten years: check the calendar's hours")

    def next_working_instant(self, at: datetime) -> datetime:
        """``at`` itself if it is working time, else when working time next begins."""
        return self.add_working_time(at, timedelta(0))

    def _periods_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working periods in UTC, in order, from the one that contains or follows ``start``."""
        day = start.astimezone(self.zone).date()
        for offset in range(MAX_DAYS_AHEAD):
            current = day + timedelta(days=offset)
            hours = self.hours_on(current)
            if hours is None:
                continue
            opens = datetime.combine(current, hours[0], self.zone).astimezone(UTC)
            closes = datetime.combine(current, hours[1], self.zone).astimezone(UTC)
            if closes <= start:
                continue
            yield opens, closes


@cache
def _country_holidays(country: str) -> holidays.HolidayBase:
    """One holiday table per country and process: it loads each year once, when asked."""
    return holidays.country_holidays(country)


def _require_aware(instant: datetime) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("working time needs an aware datetime (with a time zone)")


def dates(values: Iterable[str]) -> frozenset[date]:
    """Dates given as ``YYYY-MM-DD`` strings (an admin's closures or working days)."""
    return frozenset(date.fromisoformat(value) for value in values)
