"""Plans API schemas: input and output separate."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from partsvc.platform.schemas import SANE_DATES, InputSchema, business_key


class PlanIn(InputSchema):
    date = fields.Date(required=True, validate=SANE_DATES)
    time_limit_s = fields.Float(load_default=None, validate=validate.Range(min=0.5, max=120))


class CandidatesIn(InputSchema):
    call = fields.Integer(required=True, validate=validate.Range(min=1))


class AssignIn(InputSchema):
    call = fields.Integer(required=True, validate=validate.Range(min=1))
    engineer = business_key(required=True)
    displaced = fields.List(
        fields.Integer(validate=validate.Range(min=1)),
        validate=validate.Length(max=500),
        metadata={
            "description": "The routine calls the candidate moves off the day, as ranked: "
            "if assigning now would move others, nothing is done (409). Left out: not checked."
        },
    )


class StopOut(Schema):
    kind = fields.String()
    call = fields.Integer(attribute="call_id")
    pickup = fields.Function(lambda s: s.warehouse.code if s.warehouse else None)
    parts = fields.Function(
        lambda s: [{"sku": sku, "qty": qty} for sku, qty in sorted(s.parts.items())]
    )
    arrive = fields.DateTime(attribute="arrive_at")
    start = fields.DateTime(attribute="start_at")
    depart = fields.DateTime(attribute="depart_at")
    id = fields.Integer()
    frozen = fields.Boolean()
    collected_at = fields.DateTime(allow_none=True)
    late_minutes = fields.Integer(
        metadata={"description": "Minutes past a P1/P2 call's on-site deadline; 0 on time."}
    )


class RouteOut(Schema):
    engineer = fields.Function(lambda r: r.engineer.code)
    leave = fields.DateTime(attribute="leave_at")
    back = fields.DateTime(attribute="back_at")
    driving_minutes = fields.Function(lambda r: round(r.driving_seconds / 60))
    driving_km = fields.Function(lambda r: round(r.driving_metres / 1000, 1))
    stops = fields.List(fields.Nested(StopOut))


class UnassignedOut(Schema):
    call = fields.Integer(attribute="call_id")
    reason = fields.String()


class PlanOut(Schema):
    id = fields.Integer()
    date = fields.Date(attribute="day")
    status = fields.String()
    planned_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)
    time_limit_s = fields.Float()
    solve_seconds = fields.Float()
    travel_source = fields.String()
    routes = fields.List(fields.Nested(RouteOut))
    unassigned = fields.List(fields.Nested(UnassignedOut))


class CandidateOut(Schema):
    engineer = fields.String()
    feasible = fields.Boolean()
    arrive = fields.DateTime(allow_none=True)
    extra_minutes = fields.Integer(allow_none=True)
    late_minutes = fields.Integer(
        metadata={"description": "Minutes past the call's deadline they would start; 0 on time."}
    )
    displaced = fields.List(
        fields.Integer(),
        metadata={
            "description": "Routine (P3, preventive) calls taken off their route to make "
            "room for a P1/P2 call; they go back to the open calls when assigned."
        },
    )
    reason = fields.String(allow_none=True)


class CandidatesOut(Schema):
    call = fields.Integer()
    candidates = fields.List(fields.Nested(CandidateOut))


class PlanJobOut(Schema):
    """A day being planned on a queue worker."""

    id = fields.String()
    date = fields.Date(attribute="day")
    status = fields.String(metadata={"enum": ["queued", "running", "done", "failed"]})
    progress = fields.Float(
        allow_none=True, metadata={"description": "0 queued … 1 done; null when failed"}
    )
    plan = fields.Integer(attribute="plan_id", allow_none=True)
    error = fields.Function(
        lambda job: (
            {k: job.problem[k] for k in ("status", "title", "detail")} if job.problem else None
        ),
        allow_none=True,
        metadata={"description": "Why it failed, when a business rule refused it"},
    )
    worker = fields.String(allow_none=True, metadata={"description": "The worker that ran it"})
    queued_at = fields.DateTime(allow_none=True)
    started_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
