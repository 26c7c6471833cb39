"""Units' QR labels (issue 26): issue or re-issue, revoke, print one or a sheet; and the
dispatcher's confirmation of the priority a customer's report proposed."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from partsvc.api.calls_schemas import CallOut
from partsvc.api.resource import Resource, allow
from partsvc.calls import labels
from partsvc.calls.customers import get_equipment
from partsvc.calls.models import PRIORITIES
from partsvc.calls.reports import confirm_priority
from partsvc.core.errors import Conflict
from partsvc.documents.labels import unit_labels
from partsvc.http.context import (
    calendar,
    current_session,
    current_user,
    now,
    pdf_response,
    settings,
)
from partsvc.platform.schemas import InputSchema

blp = Blueprint("labels", __name__, url_prefix="/api/v1", description="Units' QR labels")

LABELLERS = ("admin", "dispatcher")
PDF = {"description": "The labels as a PDF."}
AS_PDF = {
    "responses": {
        "200": {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}
    }
}


class LabelOut(Schema):
    serial = fields.Function(lambda label: label.equipment.serial, metadata={"type": "string"})
    issued_at = fields.AwareDateTime()
    revoked_at = fields.AwareDateTime(allow_none=True)


class PriorityIn(InputSchema):
    priority = fields.String(required=True, validate=validate.OneOf(PRIORITIES))


def _secret() -> str:
    key: str = current_app.config["SECRET_KEY"]
    return key


def _pdf(labelled: list[Any], name: str, *, sheet: bool) -> Any:
    if not labelled:
        raise Conflict(
            "No unit here has a label in force: issue one first "
            "(POST /api/v1/equipment/{serial}/label).",
        )
    config = settings()
    body = unit_labels(
        labelled, public_url=config.public_url, hotline=config.service_hotline, sheet=sheet
    )
    return pdf_response(body, name)


@blp.route("/equipment/<equipment>/label")
class UnitLabel(Resource):
    @allow(*LABELLERS)
    @blp.response(201, LabelOut)
    def post(self, equipment: str) -> Any:
        """Issue the unit's label token, or a new one: the old printed label stops working."""
        return labels.issue_label(
            current_session(), equipment, secret=_secret(), now=now(), by=current_user()
        )

    @allow(*LABELLERS)
    @blp.response(204)
    def delete(self, equipment: str) -> None:
        """Revoke the unit's label: its report page becomes a 404 until a new one is issued."""
        labels.revoke_label(current_session(), equipment, now=now())


@blp.route("/equipment/<equipment>/label.pdf")
class UnitLabelPdf(Resource):
    @allow(*LABELLERS)
    @blp.response(200, **PDF)
    @blp.doc(**AS_PDF)
    def get(self, equipment: str) -> Any:
        """The unit's label (90 × 54 mm): model, serial, hotline and the QR of its report page."""
        unit = get_equipment(current_session(), equipment)
        labelled = labels.labels_in_force(current_session(), [unit], secret=_secret())
        return _pdf(labelled, f"label-{unit.serial}", sheet=False)


@blp.route("/sites/<site>/labels.pdf")
class SiteLabelsPdf(Resource):
    @allow(*LABELLERS)
    @blp.response(200, **PDF)
    @blp.doc(**AS_PDF)
    def get(self, site: str) -> Any:
        """A sheet (A4) of the labels of the site's units that have one in force."""
        units = labels.units_of(current_session(), site=site)
        labelled = labels.labels_in_force(current_session(), units, secret=_secret())
        return _pdf(labelled, f"labels-{site}", sheet=True)


@blp.route("/customers/<customer>/labels.pdf")
class CustomerLabelsPdf(Resource):
    @allow(*LABELLERS)
    @blp.response(200, **PDF)
    @blp.doc(**AS_PDF)
    def get(self, customer: str) -> Any:
        """Sheets (A4) of the labels of all the customer's units that have one in force."""
        units = labels.units_of(current_session(), customer=customer)
        labelled = labels.labels_in_force(current_session(), units, secret=_secret())
        return _pdf(labelled, f"labels-{customer}", sheet=True)


@blp.route("/calls/<int(max=2147483647):call_id>/priority")
class CallPriority(Resource):
    @allow(*LABELLERS)
    @blp.arguments(PriorityIn)
    @blp.response(200, CallOut)
    def post(self, data: dict[str, Any], call_id: int) -> Any:
        """Confirm (or change) the priority a customer's report proposed; a change sets the
        deadlines of the new priority from the report (R20)."""
        return confirm_priority(
            current_session(),
            call_id,
            data["priority"],
            calendar=calendar(),
            now=now(),
            by=current_user(),
        )
