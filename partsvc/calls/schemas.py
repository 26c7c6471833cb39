"""Customers and sites API schemas: input and output separate."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from partsvc.calls.models import TIERS
from partsvc.schemas import business_key, text


class CustomerIn(Schema):
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
    tier = fields.Function(
        lambda c: c.contracts[0].tier if c.contracts else "none", metadata={"type": "string"}
    )
    contract = fields.Function(
        lambda c: ContractOut().dump(c.contracts[0]) if c.contracts else None,
        metadata={"type": "object"},
    )
    created_at = fields.AwareDateTime()


class SiteIn(Schema):
    code = business_key(required=True)
    customer = business_key(required=True)
    address = text(500, required=True)
    region = text(64, allow_none=True)
    lat = fields.Float(required=True, allow_nan=False, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, allow_nan=False, validate=validate.Range(-180, 180))


class SiteOut(Schema):
    id = fields.Integer()
    code = fields.String()
    customer = fields.Function(lambda s: s.customer.code, metadata={"type": "string"})
    address = fields.String()
    region = fields.String(allow_none=True)
    lat = fields.Float()
    lon = fields.Float()
    created_at = fields.AwareDateTime()
