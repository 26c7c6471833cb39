"""The working-time calendar: read by everyone, closures and extra days set by an admin."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_smorest import Blueprint

from partsvc.api import workdays_schemas as schemas
from partsvc.api.resource import ALL_ROLES, Resource, allow
from partsvc.http import exports
from partsvc.http.context import calendar, current_session, current_user
from partsvc.workdays import calendar_days

blp = Blueprint(
    "calendar", __name__, url_prefix="/api/v1", description="The working-time calendar (R21)"
)


@blp.route("/calendar")
class Calendar(Resource):
    @allow(*ALL_ROLES)
    @blp.arguments(schemas.RangeQuery, location="query", as_kwargs=True)
    @blp.response(200, schemas.CalendarOut)
    def get(self, start: date, end: date, format: str) -> Any:
        """Each day from ``from`` to ``to``: working or not, its hours, and why;
        ``format=csv|xlsx`` downloads them."""
        days = calendar_days.describe_days(current_session(), calendar(), start, end)
        if format != "json":  # the days are worked out whole, a year at most
            return exports.download_as(format, "calendar", schemas.DayOut(), lambda _: days)
        return {"items": days, "next": None}


@blp.route("/calendar/days/<isodate:day>")
class CalendarDay(Resource):
    @allow("admin")
    @blp.arguments(schemas.DayIn)
    @blp.response(200, schemas.SetDayOut)
    def put(self, data: dict[str, Any], day: date) -> Any:
        """Close a day (``working: false``) or make it a working day; new deadlines follow."""
        return calendar_days.set_day(current_session(), day, by=current_user(), **data)

    @allow("admin")
    @blp.response(204)
    def delete(self, day: date) -> None:
        """Give the day back to the country's calendar."""
        calendar_days.remove_day(current_session(), day)
