"""Calendar API schemas."""

from __future__ import annotations

from marshmallow import Schema, fields

from partsvc.platform.schemas import SANE_DATES, FormatQuery, InputSchema, text


class RangeQuery(FormatQuery):
    start = fields.Date(required=True, data_key="from", validate=SANE_DATES)
    end = fields.Date(required=True, data_key="to", validate=SANE_DATES)


class DayIn(InputSchema):
    working = fields.Boolean(required=True)
    note = text(200, allow_none=True, load_default=None)


class DayOut(Schema):
    date = fields.Date(attribute="day")
    working = fields.Boolean()
    opens = fields.Time(allow_none=True)
    closes = fields.Time(allow_none=True)
    reason = fields.String()
    note = fields.String(allow_none=True)


class SetDayOut(Schema):
    date = fields.Date(attribute="day")
    working = fields.Boolean()
    note = fields.String(allow_none=True)
    updated_at = fields.AwareDateTime()


CalendarOut = Schema.from_dict(
    {"items": fields.List(fields.Nested(DayOut)), "next": fields.String(allow_none=True)},
    name="Calendar",
)
