"""The audit trail as the API shows it."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from partsvc.platform.schemas import ExportQuery, page_of, sane_instant


class AuditQuery(ExportQuery):
    actor = fields.String(
        validate=validate.Length(min=1, max=64), metadata={"description": "A username."}
    )
    action = fields.String(
        validate=validate.Length(min=1, max=120),
        metadata={"description": "E.g. login.failed, call.status_changed, POST /api/v1/parts."},
    )
    subject = fields.String(
        validate=validate.Length(min=1, max=241),
        metadata={"description": "A kind (call) or a kind and key (call:12)."},
    )
    since = fields.AwareDateTime(validate=sane_instant, metadata={"description": "From this time."})
    until = fields.AwareDateTime(
        validate=sane_instant, metadata={"description": "Before this time."}
    )


class AuditEventOut(Schema):
    id = fields.Integer()
    at = fields.AwareDateTime()
    user_id = fields.Integer(allow_none=True)
    username = fields.String(allow_none=True)
    action = fields.String()
    subject_kind = fields.String(allow_none=True)
    subject_key = fields.String(allow_none=True)
    details = fields.Dict()
    client = fields.String(allow_none=True)


AuditPage = page_of(AuditEventOut, "AuditPage")
