"""When something happened, as a person enters it: now, or a little earlier; never in the
future beyond a clock's drift, never before the business existed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from partsvc.core.errors import InvalidInput

CLOCK_SKEW = timedelta(minutes=5)  # a phone's or a laptop's clock may run a little fast
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def business_time(at: datetime | None, now: datetime, field: str) -> datetime:
    """``at`` (or ``now``) in UTC; a 422 naming ``field`` if it is in the future or before 2000."""
    try:
        when = (at or now).astimezone(UTC)
    except OverflowError as exc:  # year 1 east of Greenwich has no UTC
        raise InvalidInput(
            f"{field} is before 2000.", errors={field: ["Before 2000-01-01."]}
        ) from exc
    if when > now + CLOCK_SKEW:
        raise InvalidInput(
            f"{field} is in the future: {when.isoformat()}.", errors={field: ["In the future."]}
        )
    if when < EARLIEST:
        raise InvalidInput(
            f"{field} is before 2000: {when.isoformat()}.", errors={field: ["Before 2000-01-01."]}
        )
    return when
