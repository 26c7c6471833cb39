"""Vendor order and part request API schemas: input and output separate."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from partsvc.http.context import today
from partsvc.inventory.models import Move
from partsvc.platform.schemas import (
    SANE_DATES,
    ExportQuery,
    InputSchema,
    business_key,
    money,
    page_of,
    quantity,
    sane_instant,
    text,
    text_for,
)
from partsvc.purchasing.models import REQUEST_STATUSES, VendorOrder, VendorOrderLine
from partsvc.purchasing.order_book import is_late


class OrderLineIn(InputSchema):
    sku = business_key(required=True)
    qty = quantity(required=True)
    unit_cost = money(allow_none=True, load_default=None)
    eta = fields.Date(required=True, validate=SANE_DATES)


class VendorOrderIn(InputSchema):
    vendor = business_key(required=True)
    lines = fields.List(
        fields.Nested(OrderLineIn), required=True, validate=validate.Length(min=1, max=200)
    )
    status = fields.String(load_default="sent", validate=validate.OneOf(["sent", "draft"]))
    deliver_to = business_key(
        allow_none=True,
        load_default=None,
        metadata={"description": "The warehouse; the only one if not given."},
    )
    note = text(2000, allow_none=True, load_default=None)


class EtaIn(InputSchema):
    eta = fields.Date(required=True, validate=SANE_DATES)
    reason = text(500, allow_none=True, load_default=None)


class ReceivedLineIn(InputSchema):
    line = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=2**31 - 1))
    qty = quantity(required=True)


class ReceiptIn(InputSchema):
    location = business_key(required=True)
    lines = fields.List(
        fields.Nested(ReceivedLineIn), required=True, validate=validate.Length(min=1, max=200)
    )
    at = fields.AwareDateTime(allow_none=True, load_default=None, validate=sane_instant)


class OrderQuery(ExportQuery):
    late = fields.Boolean()
    vendor = business_key()
    status = fields.String(
        validate=validate.OneOf(["draft", "sent", "partially_received", "received", "cancelled"])
    )


class EtaChangeOut(Schema):
    old_eta = fields.Date()
    new_eta = fields.Date()
    reason = fields.String(allow_none=True)
    at = fields.AwareDateTime()


class OrderLineOut(Schema):
    id = fields.Integer()
    sku = fields.Function(lambda line: line.part.sku, metadata={"type": "string"})
    qty = fields.Integer()
    received_qty = fields.Integer()
    open_qty = fields.Integer()
    unit_cost = fields.Decimal(as_string=True, allow_none=True)
    eta = fields.Date()
    late = fields.Method("_late", metadata={"type": "boolean"})
    eta_changes = fields.List(fields.Nested(EtaChangeOut))

    def _late(self, line: VendorOrderLine) -> bool:
        return is_late(line, today())


class VendorOrderOut(Schema):
    number = fields.String()
    vendor = fields.Function(lambda o: o.vendor.code, metadata={"type": "string"})
    deliver_to = fields.Function(
        lambda o: o.deliver_to.code if o.deliver_to else None, metadata={"type": "string"}
    )
    status = fields.String()
    late = fields.Method("_late", metadata={"type": "boolean"})
    note = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)
    lines = fields.List(fields.Nested(OrderLineOut))

    def _late(self, order: VendorOrder) -> bool:
        day = today()
        return any(is_late(line, day) for line in order.lines)


class ReceiptLineOut(Schema):
    line = fields.Integer(attribute="line_id")
    qty = fields.Integer()
    move = fields.Integer(attribute="move_id")


class ReceiptReversalIn(InputSchema):
    # the reason of each reversing move
    reason = text_for(Move.__table__.c.reason, allow_none=True, load_default=None)


class ReceiptOut(Schema):
    id = fields.Integer()
    reversed_at = fields.AwareDateTime(allow_none=True)
    order = fields.Nested(VendorOrderOut, metadata={"description": "As it stands now."})
    location = fields.Function(lambda r: r.location.code, metadata={"type": "string"})
    at = fields.AwareDateTime()
    lines = fields.List(fields.Nested(ReceiptLineOut))


class PartRequestIn(InputSchema):
    sku = business_key(required=True)
    qty = quantity(required=True)
    call = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1, max=2**31 - 1)
    )
    engineer = business_key(allow_none=True)
    warehouse = business_key(
        allow_none=True,
        metadata={"description": "Default: the warehouse nearest the engineer or the site."},
    )
    requested_at = fields.AwareDateTime(allow_none=True, validate=sane_instant)
    allow_backorder = fields.Boolean(
        load_default=True,
        metadata={"description": "false: reserve all of it now or refuse with 409."},
    )
    note = text(500, allow_none=True, load_default=None)


class IssueIn(InputSchema):
    to = business_key(
        allow_none=True, load_default=None, metadata={"description": "Default: the engineer's van."}
    )


class RequestQuery(ExportQuery):
    status = fields.String(validate=validate.OneOf(REQUEST_STATUSES))
    sku = business_key()
    call = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    engineer = business_key()
    warehouse = business_key()


class PartRequestOut(Schema):
    id = fields.Integer()
    sku = fields.Function(lambda r: r.part.sku, metadata={"type": "string"})
    qty = fields.Integer()
    reserved_qty = fields.Integer()
    status = fields.String()
    warehouse = fields.Function(lambda r: r.warehouse.code, metadata={"type": "string"})
    call = fields.Integer(attribute="call_id", allow_none=True)
    engineer = fields.Function(
        lambda r: r.engineer.code if r.engineer else None, metadata={"type": "string"}
    )
    requested_at = fields.AwareDateTime()
    due_at = fields.AwareDateTime(metadata={"description": "Processing deadline (R7)."})
    processed_at = fields.AwareDateTime(allow_none=True)
    eta = fields.Function(
        lambda r: r.line.eta.isoformat() if r.line else None,
        metadata={"type": "string", "format": "date", "description": "Of the order line."},
    )
    vendor_order = fields.Function(
        lambda r: r.line.order.number if r.line else None, metadata={"type": "string"}
    )
    line = fields.Integer(attribute="line_id", allow_none=True)
    issued_at = fields.AwareDateTime(allow_none=True)
    note = fields.String(allow_none=True)


class ProcessingTargetIn(InputSchema):
    working_minutes = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=60 * 24 * 30)
    )


class ProcessingTargetOut(Schema):
    name = fields.String()
    working_minutes = fields.Integer()


OrderPage = page_of(VendorOrderOut, "VendorOrderPage")
RequestPage = page_of(PartRequestOut, "PartRequestPage")
