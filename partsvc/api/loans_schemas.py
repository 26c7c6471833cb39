"""Loan API schemas."""

from __future__ import annotations

from flask import g
from marshmallow import Schema, fields, validate

from partsvc.http.context import current_session, now, zone
from partsvc.loans.lending import loan_terms
from partsvc.loans.models import CONDITIONS, Loan
from partsvc.loans.rules import LoanState, LoanStatus, LoanTerms, days_overdue, loan_state
from partsvc.platform.schemas import (
    ExportQuery,
    FormatQuery,
    InputSchema,
    business_key,
    page_of,
    sane_instant,
    text,
)

_ID = validate.Range(min=1, max=2**31 - 1)


class LoanIn(InputSchema):
    serial = business_key(100, required=True)
    site = business_key(required=True)
    call = fields.Integer(strict=True, allow_none=True, validate=_ID)
    engineer = business_key(allow_none=True)
    rma = business_key(allow_none=True, metadata={"description": "The RMA the loan covers."})
    out_at = fields.AwareDateTime(allow_none=True, validate=sane_instant)


class ExtensionIn(InputSchema):
    days = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=365))
    reason = text(500, required=True)
    override = fields.Boolean(
        load_default=False, metadata={"description": "Admin only: past the policy maximum."}
    )


class ReturnIn(InputSchema):
    condition = fields.String(required=True, validate=validate.OneOf(CONDITIONS))
    location = business_key(
        allow_none=True,
        load_default=None,
        metadata={"description": "Default: where it came from; a damaged unit: the repair bench."},
    )
    at = fields.AwareDateTime(allow_none=True, load_default=None, validate=sane_instant)
    note = text(1000, allow_none=True, load_default=None)


class LoanQuery(ExportQuery):
    status = fields.String(validate=validate.OneOf([s.value for s in LoanState]))
    engineer = business_key()
    to_collect = fields.Boolean()


class ExtensionOut(Schema):
    days = fields.Integer()
    reason = fields.String()
    old_due_at = fields.AwareDateTime()
    new_due_at = fields.AwareDateTime()
    override = fields.Boolean()
    at = fields.AwareDateTime()


def _terms() -> LoanTerms:
    """The loan policy, read once per request however many loans are listed."""
    if "loan_terms" not in g:
        g.loan_terms = loan_terms(current_session())
    terms: LoanTerms = g.loan_terms
    return terms


class LoanOut(Schema):
    id = fields.Integer()
    serial = fields.Function(lambda loan: loan.unit.serial, metadata={"type": "string"})
    sku = fields.Function(lambda loan: loan.unit.part.sku, metadata={"type": "string"})
    site = fields.Function(lambda loan: loan.site.code, metadata={"type": "string"})
    customer = fields.Function(lambda loan: loan.site.customer.code, metadata={"type": "string"})
    call = fields.Integer(attribute="call_id", allow_none=True)
    rma = fields.Method("_rma", metadata={"type": "string"})
    engineer = fields.Function(
        lambda loan: loan.engineer.code if loan.engineer else None, metadata={"type": "string"}
    )
    out_at = fields.AwareDateTime()
    due_at = fields.AwareDateTime()
    status = fields.Method("_state", metadata={"type": "string"})
    days_overdue = fields.Method("_days_overdue", metadata={"type": "integer"})
    to_collect = fields.Boolean()
    collector = fields.Function(
        lambda loan: loan.collector.code if loan.collector else None,
        metadata={"type": "string", "description": "Who brings it back (R13)."},
    )
    returned_at = fields.AwareDateTime(allow_none=True)
    returned_to = fields.Function(
        lambda loan: loan.return_location.code if loan.return_location else None,
        metadata={"type": "string"},
    )
    condition = fields.String(allow_none=True)
    extensions = fields.List(fields.Nested(ExtensionOut))

    def _rma(self, loan: Loan) -> str | None:
        return f"RMA-{loan.rma_id:06d}" if loan.rma_id else None

    def _state(self, loan: Loan) -> str:
        return loan_state(loan.due_at, loan.status == LoanStatus.RETURNED, now(), _terms()).value

    def _days_overdue(self, loan: Loan) -> int:
        if loan.status == LoanStatus.RETURNED:
            return 0
        return days_overdue(loan.due_at, now(), zone())


class ReservationIn(InputSchema):
    call = fields.Integer(strict=True, required=True, validate=_ID)
    sku = business_key(allow_none=True, load_default=None)
    serial = business_key(100, allow_none=True, load_default=None)


class ReservationQuery(FormatQuery):
    call = fields.Integer(validate=_ID)
    active = fields.Boolean()


class ReservationOut(Schema):
    id = fields.Integer()
    serial = fields.Function(lambda r: r.unit.serial, metadata={"type": "string"})
    sku = fields.Function(lambda r: r.unit.part.sku, metadata={"type": "string"})
    location = fields.Function(lambda r: r.unit.location.code, metadata={"type": "string"})
    call = fields.Integer(attribute="call_id")
    status = fields.String()
    reserved_at = fields.AwareDateTime()
    loan = fields.Integer(attribute="loan_id", allow_none=True)


class LoanPolicyIO(InputSchema):
    loan_days = fields.Integer(strict=True, required=True, validate=validate.Range(1, 365))
    max_days = fields.Integer(strict=True, required=True, validate=validate.Range(1, 3650))
    due_soon_days = fields.Integer(strict=True, required=True, validate=validate.Range(0, 60))


LoanPage = page_of(LoanOut, "LoanPage")
ReservationList = page_of(ReservationOut, "LoanerReservationList")
