"""Customers and sites API schemas: input and output separate."""

from __future__ import annotations

from datetime import time
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from partsvc.auth.scope import only_engineer
from partsvc.calls.calls import deadline_views
from partsvc.calls.models import (
    ALERT_LEVELS,
    CALL_KINDS,
    CALL_STATUSES,
    HOLD_REASONS,
    PRIORITIES,
    TIERS,
    Call,
    Contract,
    Customer,
    Equipment,
)
from partsvc.calls.rules import call_flag
from partsvc.http.context import current_session, current_user, now, sla_warning, today
from partsvc.platform.schemas import (
    SANE_DATES,
    ExportQuery,
    InputSchema,
    QuerySchema,
    business_key,
    page_of,
    quantity,
    sane_instant,
    text,
)


class CustomerIn(InputSchema):
    code = business_key(required=True)
    name = text(200, required=True)
    tier = fields.String(load_default="none", validate=validate.OneOf(TIERS))
    designated_engineer = business_key(allow_none=True)
    regional_fee = fields.Boolean(load_default=False)


class ContractOut(Schema):
    tier = fields.String()
    designated_engineer = fields.Function(
        lambda c: c.designated_engineer.code if c.designated_engineer else None,
        metadata={"type": "string"},
    )
    visit_every_months = fields.Integer(allow_none=True)
    regional_fee = fields.Boolean()
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)


class CustomerOut(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    tier = fields.Method("_tier", metadata={"type": "string", "description": "Of today."})
    contract = fields.Method(
        "_contract", metadata={"type": "object", "description": "The contract in force today."}
    )
    contracts = fields.List(
        fields.Nested(ContractOut), metadata={"description": "All, the latest first."}
    )
    created_at = fields.AwareDateTime()

    def _in_force(self, customer: Customer) -> Contract | None:
        return customer.contract_on(today())

    def _tier(self, customer: Customer) -> str:
        contract = self._in_force(customer)
        return contract.tier if contract else "none"

    def _contract(self, customer: Customer) -> dict[str, Any] | None:
        contract = self._in_force(customer)
        return ContractOut().dump(contract) if contract else None


class ContractIn(InputSchema):
    tier = fields.String(required=True, validate=validate.OneOf(TIERS))
    starts_on = fields.Date(
        allow_none=True, validate=SANE_DATES, metadata={"description": "Today if not given."}
    )
    designated_engineer = business_key(allow_none=True)
    regional_fee = fields.Boolean(load_default=False)
    visit_every_months = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=1, max=24),
        metadata={"description": "The tier's default (R19) if not given."},
    )


def _contact_phone(**kwargs: Any) -> fields.String:
    return fields.String(
        allow_none=True,
        validate=[validate.Length(max=40), validate.Regexp(r"^\+?[0-9][0-9 -]{4,38}$")],
        metadata={"description": "The site contact's phone (SMS through the webhook channel)."},
        **kwargs,
    )


def _contact_email(**kwargs: Any) -> fields.Email:
    return fields.Email(allow_none=True, validate=validate.Length(max=254), **kwargs)


def _contact_language(**kwargs: Any) -> fields.String:
    return fields.String(
        allow_none=True,
        validate=validate.OneOf(["zh_CN", "en"]),
        metadata={"description": "The language of the contact's messages; null: the default."},
        **kwargs,
    )


def _degrees(limit: int, **kwargs: Any) -> fields.Float:
    return fields.Float(
        allow_nan=False,
        validate=validate.Range(-limit, limit),
        metadata={"description": "WGS-84 decimal degrees."},
        **kwargs,
    )


def _both_or_neither(data: dict[str, Any]) -> None:
    lat, lon = data.get("lat"), data.get("lon")
    if (lat is None) != (lon is None):
        raise ValidationError("Give both lat and lon, or neither.", "lon" if lon is None else "lat")


class SiteIn(InputSchema):
    code = business_key(required=True)
    customer = business_key(required=True)
    address = text(500, required=True)
    region = text(64, allow_none=True)
    lat = _degrees(90, load_default=None, allow_none=True)
    lon = _degrees(180, load_default=None, allow_none=True)
    contact_name = text(200, load_default=None, allow_none=True)
    contact_phone = _contact_phone(load_default=None)
    contact_email = _contact_email(load_default=None)
    contact_language = _contact_language(load_default=None)

    @validates_schema
    def _placed_whole(self, data: dict[str, Any], **kwargs: Any) -> None:
        _both_or_neither(data)


class SiteContactIn(InputSchema):
    """Any of the contact's fields: those left out stay as they are; null clears one.
    ``lat`` and ``lon`` together place the site on the map (or move it)."""

    contact_name = text(200, allow_none=True)
    contact_phone = _contact_phone()
    contact_email = _contact_email()
    contact_language = _contact_language()
    lat = _degrees(90)
    lon = _degrees(180)

    @validates_schema
    def _placed_whole(self, data: dict[str, Any], **kwargs: Any) -> None:
        _both_or_neither(data)


class SiteOut(Schema):
    id = fields.Integer()
    code = fields.String()
    customer = fields.Function(lambda s: s.customer.code, metadata={"type": "string"})
    address = fields.String()
    region = fields.String(allow_none=True)
    lat = fields.Float(
        allow_none=True, metadata={"description": "null while the site is not placed yet."}
    )
    lon = fields.Float(
        allow_none=True, metadata={"description": "null while the site is not placed yet."}
    )
    placed = fields.Boolean(metadata={"description": "Whether the site is on the map."})
    contact_name = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True)
    contact_email = fields.String(allow_none=True)
    contact_language = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


class EngineerIn(InputSchema):
    code = business_key(required=True)
    name = text(200, required=True)
    home_lat = fields.Float(required=True, allow_nan=False, validate=validate.Range(-90, 90))
    home_lon = fields.Float(required=True, allow_nan=False, validate=validate.Range(-180, 180))
    skills = fields.List(business_key(), load_default=list, validate=validate.Length(max=50))
    shift_start = fields.Time(load_default=time(9))
    shift_end = fields.Time(load_default=time(18))
    van = business_key(allow_none=True)


class EngineerOut(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    username = fields.Function(
        lambda e: e.user.username if e.user else None, metadata={"type": "string"}
    )
    home_lat = fields.Float(allow_none=True)
    home_lon = fields.Float(allow_none=True)
    skills = fields.List(fields.String())
    shift_start = fields.Time()
    shift_end = fields.Time()
    van = fields.Function(lambda e: e.van.code if e.van else None, metadata={"type": "string"})


class EquipmentIn(InputSchema):
    serial = business_key(100, required=True)
    sku = business_key(required=True)
    site = business_key(required=True)
    installed_on = fields.Date(required=True)


class ServiceHistoryOut(Schema):
    """One call in a unit's technical file (R18)."""

    id = fields.Integer()
    kind = fields.String()
    priority = fields.String()
    status = fields.String()
    reported_at = fields.AwareDateTime()
    resolved_at = fields.AwareDateTime(allow_none=True)
    engineer = fields.Function(
        lambda c: c.engineer.code if c.engineer else None, metadata={"type": "string"}
    )
    description = fields.String(allow_none=True)


class EquipmentOut(Schema):
    id = fields.Integer()
    serial = fields.String()
    sku = fields.Function(lambda e: e.part.sku, metadata={"type": "string"})
    site = fields.Function(lambda e: e.site.code, metadata={"type": "string"})
    installed_on = fields.Date()
    warranty_until = fields.Date()
    maintenance_until = fields.Date()
    replaced_by = fields.Function(
        lambda e: e.replaced_by.serial if e.replaced_by else None,
        metadata={"type": "string", "description": "The unit installed in its place."},
    )
    calls = fields.Method(
        "_calls",
        metadata={
            "type": "array",
            "description": "The unit's calls, newest last; an engineer sees their own only.",
        },
    )

    def _calls(self, unit: Equipment) -> list[dict[str, Any]]:
        mine = only_engineer(current_session(), current_user())
        visible = [c for c in unit.calls if mine is None or c.engineer_id == mine]
        return ServiceHistoryOut(many=True).dump(visible)  # type: ignore[no-any-return]


class PartNeededIn(InputSchema):
    sku = business_key(required=True)
    qty = quantity(required=True)


class WindowIn(InputSchema):
    start = fields.AwareDateTime(required=True)
    end = fields.AwareDateTime(required=True)


class CallIn(InputSchema):
    site = business_key(required=True)
    priority = fields.String(required=True, validate=validate.OneOf(PRIORITIES))
    equipment = business_key(100, allow_none=True)
    reported_at = fields.AwareDateTime(allow_none=True, validate=sane_instant)
    skills = fields.List(business_key(), load_default=list, validate=validate.Length(max=20))
    parts = fields.List(
        fields.Nested(PartNeededIn), load_default=list, validate=validate.Length(max=50)
    )
    duration_min = fields.Integer(
        strict=True, load_default=60, validate=validate.Range(min=5, max=24 * 60)
    )
    window = fields.Nested(WindowIn, allow_none=True)
    description = text(2000, allow_none=True)


class StatusIn(InputSchema):
    status = fields.String(required=True, validate=validate.OneOf(CALL_STATUSES))
    at = fields.AwareDateTime(allow_none=True, validate=sane_instant)
    engineer = business_key(allow_none=True, metadata={"description": "Who, when assigning."})


class PartUsedIn(InputSchema):
    sku = business_key(required=True)
    qty = quantity(required=True)


MAX_PARTS_USED = 20  # as many lines as the engineer's page takes


class CompletionIn(InputSchema):
    work_done = text(4000, required=True, metadata={"description": "What was done."})
    parts = fields.List(
        fields.Nested(PartUsedIn),
        load_default=list,
        validate=validate.Length(max=MAX_PARTS_USED),
        metadata={"description": "Parts used from the engineer's van (R23)."},
    )
    loaner = business_key(
        100,
        allow_none=True,
        load_default=None,
        metadata={"description": "Serial of a loaner placed from the van (R10)."},
    )
    taken_back = business_key(
        100,
        allow_none=True,
        load_default=None,
        metadata={"description": "Serial of the customer's unit taken back: an RMA is made."},
    )
    signed_by = text(200, required=True, metadata={"description": "The customer's name."})
    engineer_signed_by = text(200, required=True, metadata={"description": "The engineer's name."})
    at = fields.AwareDateTime(
        allow_none=True,
        load_default=None,
        validate=sane_instant,
        metadata={"description": "When the work finished; now if not given."},
    )


class CompletionOut(Schema):
    call = fields.Integer()
    status = fields.String()
    engineer = fields.String(allow_none=True)
    work_done = fields.String()
    parts = fields.List(fields.Nested(PartUsedIn))
    loan = fields.Integer(allow_none=True, metadata={"description": "The loan placed."})
    rma = fields.String(allow_none=True, metadata={"description": "The RMA of the unit taken."})
    signed_by = fields.String(metadata={"description": "The customer's name, as signed."})
    engineer_signed_by = fields.String(metadata={"description": "The engineer's, as signed."})
    finished_at = fields.AwareDateTime()


class PauseIn(InputSchema):
    reason = fields.String(
        required=True,
        validate=validate.OneOf(HOLD_REASONS),
        metadata={"description": "The customer's side only; waiting for parts is not one."},
    )
    note = text(500, allow_none=True, load_default=None)
    at = fields.AwareDateTime(
        allow_none=True,
        load_default=None,
        validate=sane_instant,
        metadata={"description": "When the clock stopped; now if not given."},
    )


class ResumeIn(InputSchema):
    note = text(500, allow_none=True, load_default=None)
    at = fields.AwareDateTime(
        allow_none=True,
        load_default=None,
        validate=sane_instant,
        metadata={"description": "When the clock restarted; now if not given."},
    )


class HoldOut(Schema):
    reason = fields.String()
    note = fields.String(allow_none=True)
    paused_at = fields.AwareDateTime()
    resumed_at = fields.AwareDateTime(allow_none=True)
    resume_note = fields.String(allow_none=True)
    paused_working_minutes = fields.Function(
        lambda h: h.paused_seconds // 60 if h.paused_seconds is not None else None,
        metadata={"type": "integer", "description": "Working time the deadlines moved by."},
    )


class CallPatchIn(InputSchema):
    engineer = business_key(required=True, metadata={"description": "Who takes the call over."})


class SatisfactionIn(InputSchema):
    score = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=5))
    note = text(2000, allow_none=True, load_default=None)


class CallQuery(ExportQuery):
    status = fields.List(fields.String(validate=validate.OneOf(CALL_STATUSES)))
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    kind = fields.String(validate=validate.OneOf(CALL_KINDS))
    customer = business_key()
    site = business_key()
    engineer = business_key()
    open = fields.Boolean(metadata={"description": "Not yet resolved (true) or finished."})
    flag = fields.String(
        validate=validate.OneOf(ALERT_LEVELS),
        metadata={"description": "near: a deadline is close; missed: one was missed."},
    )


class DeadlineOut(Schema):
    deadline = fields.String()
    due = fields.AwareDateTime()
    met_at = fields.AwareDateTime(allow_none=True)
    state = fields.String(metadata={"description": "open, near, missed or met"})


class AlertOut(Schema):
    deadline = fields.String()
    level = fields.String()
    at = fields.AwareDateTime()


class StatusChangeOut(Schema):
    status = fields.String()
    at = fields.AwareDateTime()


class CallOut(Schema):
    id = fields.Integer()
    site = fields.Function(lambda c: c.site.code, metadata={"type": "string"})
    customer = fields.Function(lambda c: c.site.customer.code, metadata={"type": "string"})
    equipment = fields.Function(
        lambda c: c.equipment.serial if c.equipment else None, metadata={"type": "string"}
    )
    priority = fields.String()
    tier = fields.String()
    status = fields.String()
    reported_at = fields.AwareDateTime()
    response_due = fields.AwareDateTime()
    onsite_due = fields.AwareDateTime()
    resolve_due = fields.AwareDateTime()
    skills = fields.List(fields.String())
    parts = fields.List(fields.Dict())
    duration_min = fields.Integer(attribute="duration_minutes")
    window_start = fields.AwareDateTime(allow_none=True)
    window_end = fields.AwareDateTime(allow_none=True)
    description = fields.String(allow_none=True)
    kind = fields.String()
    visit_period_start = fields.Date(allow_none=True)
    engineer = fields.Function(
        lambda c: c.engineer.code if c.engineer else None, metadata={"type": "string"}
    )
    deadlines = fields.Method("_deadlines", metadata={"type": "array"})
    flag = fields.Method(
        "_flag", metadata={"type": "string", "description": "near, missed or null"}
    )
    satisfaction = fields.Integer(allow_none=True)
    satisfaction_note = fields.String(allow_none=True)
    priority_confirmed = fields.Boolean(
        metadata={"description": "False while a customer's proposed priority awaits a dispatcher."}
    )
    contact_name = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True)
    satisfaction_at = fields.AwareDateTime(allow_none=True)
    alerts = fields.List(fields.Nested(AlertOut))
    history = fields.List(fields.Nested(StatusChangeOut))
    on_hold = fields.Method(
        "_on_hold",
        metadata={"type": "object", "description": "The pause in force (clocks stopped), or null."},
    )
    holds = fields.List(
        fields.Nested(HoldOut), metadata={"description": "Every pause, oldest first."}
    )

    def _on_hold(self, call: Call) -> dict[str, Any] | None:
        if call.held_since is None or not call.holds:
            return None
        return HoldOut().dump(call.holds[-1])  # type: ignore[no-any-return]

    def _deadlines(self, call: Call) -> list[dict[str, Any]]:
        views = deadline_views(call, now(), sla_warning())
        return DeadlineOut(many=True).dump(views)  # type: ignore[no-any-return]

    def _flag(self, call: Call) -> str | None:
        views = deadline_views(call, now(), sla_warning())
        flag = call_flag(view.state for view in views)
        return flag.value if flag else None


_MINUTES = validate.Range(min=1, max=60 * 24 * 365)


class SlaTargetIn(InputSchema):
    response_minutes = fields.Integer(strict=True, required=True, validate=_MINUTES)
    onsite_minutes = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=_MINUTES
    )
    resolve_minutes = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=_MINUTES
    )
    resolve_working_days = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(min=1, max=365)
    )
    round_the_clock = fields.Boolean(load_default=False)


class SlaTargetOut(Schema):
    tier = fields.String()
    priority = fields.String()
    response_minutes = fields.Integer()
    onsite_minutes = fields.Integer(allow_none=True)
    resolve_minutes = fields.Integer(allow_none=True)
    resolve_working_days = fields.Integer(allow_none=True)
    round_the_clock = fields.Boolean()


SlaPolicyOut = Schema.from_dict(
    {"items": fields.List(fields.Nested(SlaTargetOut)), "next": fields.String(allow_none=True)},
    name="SlaPolicy",
)


CallPage = page_of(CallOut, "CallPage")


class DayQuery(QuerySchema):
    date = fields.Date(required=True, validate=SANE_DATES)


class VanStockOut(Schema):
    sku = fields.Function(lambda level: level.part.sku, metadata={"type": "string"})
    name = fields.Function(lambda level: level.part.name, metadata={"type": "string"})
    name_zh = fields.Function(lambda level: level.part.name_zh, metadata={"type": "string"})
    on_hand = fields.Integer()
    reserved = fields.Integer()
    available = fields.Integer()


class DayLoanOut(Schema):
    """A loaner the engineer placed and is still out; ``to_collect``: bring it back."""

    id = fields.Integer()
    serial = fields.Function(lambda loan: loan.unit.serial, metadata={"type": "string"})
    site = fields.Function(lambda loan: loan.site.code, metadata={"type": "string"})
    due_at = fields.AwareDateTime()
    to_collect = fields.Boolean()


class EngineerDayOut(Schema):
    engineer = fields.Function(lambda d: d.engineer.code, metadata={"type": "string"})
    date = fields.Date()
    van = fields.Function(
        lambda d: d.engineer.van.code if d.engineer.van else None, metadata={"type": "string"}
    )
    calls = fields.List(fields.Nested(CallOut))
    van_stock = fields.List(fields.Nested(VanStockOut))
    loans = fields.List(fields.Nested(DayLoanOut))
    route = fields.Nested("partsvc.api.routing_schemas.RouteOut", allow_none=True)
