"""Reorder rules and suggestions API schemas (R5): input and output separate."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from partsvc.platform.schemas import (
    MAX_QTY,
    ExportQuery,
    FormatQuery,
    InputSchema,
    business_key,
    page_of,
)

# ---------------------------------------------------------------- input


class ReorderRuleIn(InputSchema):
    """A reorder point and exactly one of a fixed quantity or a maximum to order up to.

    The one not used may be sent as null, so a rule read back can be sent again."""

    reorder_point = fields.Integer(strict=True, required=True, validate=validate.Range(0, MAX_QTY))
    reorder_qty = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(1, MAX_QTY)
    )
    max_qty = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(1, MAX_QTY)
    )

    @validates_schema
    def _one_way_to_order(self, data: dict[str, Any], **_: Any) -> None:
        reorder_qty, max_qty = data.get("reorder_qty"), data.get("max_qty")
        if (reorder_qty is None) == (max_qty is None):
            message = "Give either reorder_qty or max_qty, exactly one of them."
            raise ValidationError({"reorder_qty": [message], "max_qty": [message]})
        if max_qty is not None and max_qty <= data["reorder_point"]:
            raise ValidationError("Must be above reorder_point.", field_name="max_qty")


class ReorderRuleQuery(ExportQuery):
    sku = business_key()
    location = business_key()


class SuggestionQuery(FormatQuery):
    location = business_key()
    sku = business_key()


class DraftIn(InputSchema):
    """Which suggestions to draft orders for: all of them, or those of a warehouse and/or
    of some parts."""

    location = business_key(allow_none=True, load_default=None)
    skus = fields.List(
        business_key(), allow_none=True, load_default=None, validate=validate.Length(1, 1000)
    )


# ---------------------------------------------------------------- output


class ReorderRuleOut(Schema):
    id = fields.Integer()
    sku = fields.String(attribute="part.sku")
    location = fields.String(attribute="location.code")
    reorder_point = fields.Integer()
    reorder_qty = fields.Integer(allow_none=True)
    max_qty = fields.Integer(allow_none=True)
    updated_at = fields.AwareDateTime()


class SuggestionOut(Schema):
    sku = fields.String()
    name = fields.String()
    location = fields.String(attribute="location.code")
    vendor = fields.String(allow_none=True, metadata={"description": "Preferred vendor."})
    on_hand = fields.Integer()
    reserved = fields.Integer()
    available = fields.Integer()
    on_order = fields.Integer(
        metadata={"description": "Still to come on open orders to this warehouse or to none."}
    )
    backordered = fields.Integer(
        metadata={"description": "What open and backordered part requests here wait for."}
    )
    position = fields.Integer(metadata={"description": "available + on_order - backordered"})
    reorder_point = fields.Integer()
    reorder_qty = fields.Integer(allow_none=True)
    max_qty = fields.Integer(allow_none=True)
    suggested_qty = fields.Integer()


class DraftLineOut(Schema):
    id = fields.Integer()
    sku = fields.String(attribute="part.sku")
    qty = fields.Integer()
    unit_cost = fields.Decimal(as_string=True, allow_none=True)
    eta = fields.Date()


class DraftOrderOut(Schema):
    id = fields.Integer()
    number = fields.String()
    vendor = fields.String(attribute="vendor.code")
    deliver_to = fields.String(attribute="deliver_to.code")
    status = fields.String()
    lines = fields.List(fields.Nested(DraftLineOut))


class SkippedOut(Schema):
    sku = fields.String()
    location = fields.String()
    reason = fields.String()


class DraftOut(Schema):
    orders = fields.List(fields.Nested(DraftOrderOut))
    skipped = fields.List(fields.Nested(SkippedOut))


ReorderRulePage = page_of(ReorderRuleOut, "ReorderRulePage")
SuggestionPage = Schema.from_dict(
    {
        "items": fields.List(fields.Nested(SuggestionOut)),
        "next": fields.String(allow_none=True, metadata={"description": "Always null."}),
        "truncated": fields.Boolean(
            metadata={"description": "More suggestions than the cap: narrow by location."}
        ),
    },
    name="SuggestionPage",
)
