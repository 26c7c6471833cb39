"""Repair RMA API schemas: input and output separate."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from partsvc.http.context import now
from partsvc.platform.schemas import (
    SANE_DATES,
    ExportQuery,
    InputSchema,
    business_key,
    page_of,
    quantity,
    sane_instant,
    text,
)
from partsvc.repairs import progress
from partsvc.repairs.models import REPAIR_PLACES, RMA_STATUSES, Rma, RmaItem
from partsvc.repairs.rmas import item_label
from partsvc.repairs.rules import (
    MIXED,
    OUTCOMES,
    Step,
    Verdict,
    WarrantyVerdict,
    is_overdue,
    overall_verdict,
)
from partsvc.repairs.steps import STEP_INPUTS

ID = validate.Range(min=1, max=2**31 - 1)


class RmaItemIn(InputSchema):
    serial = business_key(100, metadata={"description": "A unit returned by its serial."})
    sku = business_key(
        metadata={"description": "With qty: a quantity of a part; with serial: a check."}
    )
    qty = quantity(metadata={"description": "With sku; a serial is one unit."})
    equipment = business_key(
        100,
        metadata={"description": "The installed equipment a returned component came out of."},
    )
    delivered_on = fields.Date(
        validate=SANE_DATES,
        metadata={"description": "When it reached the customer; default: the install date."},
    )

    @validates_schema
    def _serial_or_sku_and_qty(self, data: dict[str, Any], **_: Any) -> None:
        if "serial" not in data and ("sku" not in data or "qty" not in data):
            raise ValidationError("Give serial, or sku and qty.", "_schema")


class RmaIn(InputSchema):
    customer = business_key(required=True)
    items = fields.List(
        fields.Nested(RmaItemIn), required=True, validate=validate.Length(min=1, max=200)
    )
    fault = text(2000, required=True)
    site = business_key(
        metadata={
            "description": "Where the goods come back from; default: the call's, the "
            "equipment's, or the customer's only site."
        }
    )
    call = fields.Integer(strict=True, validate=ID)
    requested_at = fields.AwareDateTime(
        validate=sane_instant,
        metadata={"description": "Default now; the failure date the warranty is judged on."},
    )


class StepItemIn(InputSchema):
    serial = business_key(100)
    sku = business_key()
    qty = quantity()
    accessories_complete = fields.Boolean(
        allow_none=True,
        metadata={
            "description": "receive: packaging and accessories complete; absent or null: "
            "no list came with the goods, the received count is what counts."
        },
    )
    replacement_serial = business_key(
        100, metadata={"description": "complete (replaced): the unit sent in its place."}
    )

    @validates_schema
    def _names_an_item(self, data: dict[str, Any], **_: Any) -> None:
        if "serial" not in data and ("sku" not in data or "qty" not in data):
            raise ValidationError("Give serial, or sku and qty.", "_schema")


class StepIn(InputSchema):
    """What every step may carry. Each step has its own schema: anything a step does not
    take is a 422, and it loads into that step's input (``repairs.progress``)."""

    makes: type[progress.StepIn] = progress.StepIn

    at = fields.AwareDateTime(metadata={"description": "When it happened; default now."})
    note = text(2000)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> progress.StepIn:
        if "items" in data:
            data["items"] = [progress.StepItem(**item) for item in data["items"]]
        return self.makes(**data)


class ReasonedStepIn(StepIn):
    makes = progress.ReasonedStepIn
    note = text(
        2000, required=True, metadata={"description": "reject: why; diagnose: the finding."}
    )


def _items(description: str, **kwargs: Any) -> fields.List[Any]:
    return fields.List(
        fields.Nested(StepItemIn),
        validate=validate.Length(min=1, max=200),
        metadata={"description": description},
        **kwargs,
    )


class ReceiveStepIn(StepIn):
    makes = progress.ReceiveStepIn
    location = business_key(
        required=True, metadata={"description": "The repair location the goods go into."}
    )
    items = _items("What came in.", required=True)


class RepairStepIn(StepIn):
    makes = progress.RepairStepIn
    place = fields.String(required=True, validate=validate.OneOf(REPAIR_PLACES))


class CompleteStepIn(StepIn):
    makes = progress.CompleteStepIn
    outcome = fields.String(required=True, validate=validate.OneOf([str(o) for o in OUTCOMES]))
    items = _items("replaced: serial and replacement_serial of each unit replaced.")


class ShipStepIn(StepIn):
    makes = progress.ShipStepIn
    location = business_key(
        metadata={"description": "Where it ships from; default: where it was received."}
    )
    engineer = business_key(
        metadata={"description": "Who delivers it, and collects the loaner (R13)."}
    )


_SCHEMA_OF = {
    schema.makes: schema
    for schema in (StepIn, ReasonedStepIn, ReceiveStepIn, RepairStepIn, CompleteStepIn, ShipStepIn)
}
STEP_SCHEMAS: dict[Step, type[StepIn]] = {
    step: _SCHEMA_OF[made] for step, made in STEP_INPUTS.items()
}
"""Each step's schema: the one that loads into the input the step takes."""


class RmaQuery(ExportQuery):
    status = fields.String(validate=validate.OneOf(RMA_STATUSES))
    overdue = fields.Boolean(
        metadata={"description": "true: past the turnaround target, not yet shipped back."}
    )
    customer = business_key()


class RmaItemOut(Schema):
    id = fields.Integer()
    serial = fields.String(allow_none=True)
    sku = fields.Function(lambda item: item.part.sku, metadata={"type": "string"})
    qty = fields.Integer()
    equipment = fields.Function(
        lambda item: item.equipment.serial if item.equipment else None,
        metadata={"type": "string", "nullable": True},
    )
    delivered_on = fields.Date(allow_none=True, metadata={"description": "As given."})
    verdict = fields.String(metadata={"enum": [str(v) for v in Verdict]})
    verdict_reason = fields.String()
    received_qty = fields.Integer()
    missing_qty = fields.Function(
        lambda item: item.qty - item.received_qty, metadata={"type": "integer"}
    )
    accessories_complete = fields.Boolean(
        allow_none=True, metadata={"description": "null: unknown, the count is what counts."}
    )
    replacement_serial = fields.String(allow_none=True)


class RmaStepOut(Schema):
    status = fields.String()
    at = fields.AwareDateTime()
    by = fields.Function(
        lambda step: step.user.username if step.user else None,
        metadata={"type": "string", "nullable": True},
    )
    note = fields.String(allow_none=True)


def _warranty(rma: Rma) -> dict[str, str] | None:
    overall = overall_verdict(
        [
            (item_label(item), WarrantyVerdict(Verdict(item.verdict), item.verdict_reason))
            for item in rma.items
        ]
    )
    return {"verdict": overall.verdict, "reason": overall.reason} if overall else None


def _missing(rma: Rma) -> list[str]:
    if not any(step.status == "received" for step in rma.steps):
        return []
    return [_label_missing(item) for item in rma.items if item.received_qty < item.qty]


def _label_missing(item: RmaItem) -> str:
    return item.serial or f"{item.qty - item.received_qty} x {item.part.sku}"


class RmaOut(Schema):
    id = fields.Integer()
    number = fields.String()
    status = fields.String()
    customer = fields.Function(lambda rma: rma.customer.code, metadata={"type": "string"})
    site = fields.Function(
        lambda rma: rma.site.code if rma.site else None,
        metadata={"type": "string", "nullable": True},
    )
    call = fields.Integer(attribute="call_id", allow_none=True)
    fault = fields.String()
    requested_at = fields.AwareDateTime()
    warranty = fields.Function(
        _warranty,
        metadata={
            "type": "object",
            "properties": {
                "verdict": {"type": "string", "enum": [*(str(v) for v in Verdict), MIXED]},
                "reason": {"type": "string"},
            },
            "description": "R15. One item: its verdict and reason. Several: their common "
            f"verdict, or {MIXED!r} when they differ, and each item's reason after its "
            "serial or SKU. Each item carries its own verdict too.",
        },
    )
    due_at = fields.AwareDateTime(
        allow_none=True,
        metadata={"description": "Turnaround target (R16), set on receipt."},
    )
    spare_in_stock = fields.Boolean(
        allow_none=True, metadata={"description": "2 working days if so, else 30 (R16)."}
    )
    overdue = fields.Function(
        lambda rma: is_overdue(rma.status, rma.due_at, now()), metadata={"type": "boolean"}
    )
    escalated_at = fields.AwareDateTime(allow_none=True)
    repair_place = fields.String(allow_none=True)
    items = fields.List(fields.Nested(RmaItemOut))
    missing = fields.Function(
        _missing,
        metadata={
            "type": "array",
            "items": {"type": "string"},
            "description": "After a receipt: what has not come in.",
        },
    )
    steps = fields.List(fields.Nested(RmaStepOut), metadata={"description": "Who and when."})


RmaPage = page_of(RmaOut, "RmaPage")
