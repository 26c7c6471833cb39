"""Stock API schemas: input and output separate."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from partsvc.inventory.models import Move
from partsvc.inventory.rules import LOCATION_KINDS
from partsvc.platform.schemas import (
    MAX_QTY,
    ExportQuery,
    InputSchema,
    business_key,
    money,
    page_of,
    quantity,
    text,
    text_for,
)

# ---------------------------------------------------------------- input


class PartIn(InputSchema):
    sku = business_key(required=True)
    name = text(200, required=True)
    name_zh = text(200, allow_none=True)
    barcode = business_key(allow_none=True)
    serialized = fields.Boolean(load_default=False)
    loaner = fields.Boolean(
        load_default=False, metadata={"description": "A loaner model (serialized)."}
    )
    unit_cost = money(allow_none=True)
    vendor = business_key(allow_none=True)
    lead_time_days = fields.Integer(strict=True, allow_none=True, validate=validate.Range(0, 3650))
    warranty_months = fields.Integer(strict=True, allow_none=True, validate=validate.Range(0, 1200))


class PartQuery(ExportQuery):
    q = fields.String(validate=validate.Length(min=1, max=200))


class LocationIn(InputSchema):
    code = business_key(required=True)
    name = text(200, required=True)
    kind = fields.String(required=True, validate=validate.OneOf(LOCATION_KINDS))
    lat = fields.Float(allow_none=True, allow_nan=False, validate=validate.Range(-90, 90))
    lon = fields.Float(allow_none=True, allow_nan=False, validate=validate.Range(-180, 180))
    engineer = business_key(allow_none=True)


class LocationQuery(ExportQuery):
    kind = fields.String(validate=validate.OneOf(LOCATION_KINDS))


class MoveIn(InputSchema):
    sku = business_key(required=True)
    qty = quantity(required=True)
    from_ = business_key(required=True, data_key="from")
    to = business_key(required=True)
    reason = text_for(Move.__table__.c.reason, required=True)
    reference = text(200, allow_none=True)
    serials = fields.List(business_key(100), load_default=list, validate=validate.Length(max=1000))
    at = fields.AwareDateTime(allow_none=True)


class ReversalIn(InputSchema):
    reason = text_for(Move.__table__.c.reason, allow_none=True)


class MoveQuery(ExportQuery):
    sku = business_key()
    location = business_key()
    serial = business_key(100)


class StockQuery(ExportQuery):
    sku = business_key()
    location = business_key()
    kind = fields.String(validate=validate.OneOf(LOCATION_KINDS))
    include_zero = fields.Boolean(load_default=False)


class CountLineIn(InputSchema):
    sku = business_key(required=True)
    counted = fields.Integer(strict=True, allow_none=True, validate=validate.Range(0, MAX_QTY))
    serials = fields.List(business_key(100), allow_none=True, validate=validate.Length(max=10000))


class CountIn(InputSchema):
    location = business_key(required=True)
    lines = fields.List(
        fields.Nested(CountLineIn), required=True, validate=validate.Length(min=1, max=5000)
    )
    at = fields.AwareDateTime(allow_none=True)
    note = text(500, allow_none=True)


# ---------------------------------------------------------------- output


def _code(attribute: str, **kwargs: Any) -> fields.Function:
    def get(obj: Any) -> str | None:
        for name in attribute.split("."):
            obj = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
            if obj is None:
                return None
        return str(obj)

    return fields.Function(get, metadata={"type": "string"}, **kwargs)


class PartOut(Schema):
    id = fields.Integer()
    sku = fields.String()
    name = fields.String()
    name_zh = fields.String(allow_none=True)
    barcode = fields.String(allow_none=True)
    serialized = fields.Boolean()
    loaner = fields.Boolean()
    unit_cost = fields.Decimal(as_string=True, allow_none=True)
    vendor = _code("vendor.code")
    lead_time_days = fields.Integer(allow_none=True)
    warranty_months = fields.Integer(allow_none=True)
    created_at = fields.AwareDateTime()


class LocationOut(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    engineer = _code("engineer.code")
    created_at = fields.AwareDateTime()


class MoveOut(Schema):
    id = fields.Integer()
    sku = fields.String()
    qty = fields.Integer()
    from_code = fields.String(data_key="from")
    to_code = fields.String(data_key="to")
    reason = fields.String()
    reference = fields.String(allow_none=True)
    serials = fields.List(fields.String())
    at = fields.AwareDateTime()
    recorded_at = fields.AwareDateTime()
    by = fields.String(allow_none=True)
    reverses = fields.Integer(attribute="reverses_id", allow_none=True)
    reversed_by = fields.Integer(attribute="reversed_by_id", allow_none=True)
    document = fields.String(
        allow_none=True, metadata={"description": "What booked it, and where it is undone."}
    )


class StockOut(Schema):
    sku = _code("part.sku")
    location = _code("location.code")
    location_kind = _code("location.kind")
    on_hand = fields.Integer()
    reserved = fields.Integer()
    available = fields.Integer()


class SerialLoanOut(Schema):
    id = fields.Integer()
    site = fields.Function(lambda loan: loan.site.code, metadata={"type": "string"})
    status = fields.String()
    out_at = fields.AwareDateTime()
    due_at = fields.AwareDateTime()
    returned_at = fields.AwareDateTime(allow_none=True)
    condition = fields.String(allow_none=True)


class SerialRmaOut(Schema):
    rma = fields.String()
    status = fields.String()
    role = fields.String(metadata={"description": "faulty: came back on it; replacement"})
    replacement_serial = fields.String(allow_none=True)
    verdict = fields.String()
    verdict_reason = fields.String()
    requested_at = fields.AwareDateTime()


class SerialCallOut(Schema):
    id = fields.Integer()
    priority = fields.String()
    kind = fields.String()
    status = fields.String()
    reported_at = fields.AwareDateTime()
    engineer = fields.Function(
        lambda c: c.engineer.code if c.engineer else None, metadata={"type": "string"}
    )


class UnitOut(Schema):
    """A serial's story (R18); ``location`` is null for a customer's unit never stocked."""

    id = fields.Function(lambda h: h.unit.id if h.unit else None, metadata={"type": "integer"})
    serial = fields.String()
    sku = fields.Function(
        lambda h: (
            (h.unit.part if h.unit else h.equipment.part).sku if (h.unit or h.equipment) else None
        ),
        metadata={"type": "string"},
    )
    location = fields.Function(
        lambda h: h.unit.location.code if h.unit else None, metadata={"type": "string"}
    )
    location_kind = fields.Function(
        lambda h: h.unit.location.kind if h.unit else None, metadata={"type": "string"}
    )
    installed_at = fields.Function(
        lambda h: h.equipment.site.code if h.equipment else None,
        metadata={"type": "string", "description": "The site, if it is installed equipment."},
    )
    history = fields.List(fields.Nested(MoveOut), attribute="moves")
    loans = fields.List(fields.Nested(SerialLoanOut))
    rmas = fields.List(fields.Nested(SerialRmaOut))
    calls = fields.List(fields.Nested(SerialCallOut))
    replaced_by = fields.String(allow_none=True)
    replaces = fields.String(allow_none=True)


class CountLineOut(Schema):
    sku = _code("part.sku")
    expected = fields.Integer()
    counted = fields.Integer()
    difference = fields.Integer()
    move = fields.Integer(attribute="move_id", allow_none=True)


class CountOut(Schema):
    id = fields.Integer()
    location = _code("location.code")
    at = fields.AwareDateTime()
    recorded_at = fields.AwareDateTime()
    by = _code("user.username")
    note = fields.String(allow_none=True)
    lines = fields.List(fields.Nested(CountLineOut))


PartPage = page_of(PartOut, "PartPage")
LocationPage = page_of(LocationOut, "LocationPage")
MovePage = page_of(MoveOut, "MovePage")
StockPage = page_of(StockOut, "StockPage")
