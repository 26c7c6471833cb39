"""Repair RMA endpoints of API.md (R14–R17)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_smorest import Blueprint

from partsvc.api import repairs_schemas as schemas
from partsvc.api.resource import ALL_ROLES, Resource, allow, listed
from partsvc.http.context import calendar, current_session, current_user, now
from partsvc.repairs import intake, progress, rmas
from partsvc.repairs.rules import Step
from partsvc.workflows.repair_steps import take_repair_step

blp = Blueprint(
    "repairs",
    __name__,
    url_prefix="/api/v1",
    description="Repair RMAs: authorization first, warranty verdicts, receipt through the "
    "ledger, turnaround targets and every step with who and when (R14–R17)",
)

# Who runs the repair desk: dispatchers authorize and reject, clerks receive and ship.
STAFF = ("admin", "clerk", "dispatcher")


@blp.route("/rmas")
class Rmas(Resource):
    @allow(*ALL_ROLES)
    @blp.arguments(schemas.RmaQuery, location="query")
    @blp.response(200, schemas.RmaPage)
    def get(self, query: dict[str, Any]) -> Any:
        """RMAs oldest first, by status or customer; ``overdue=true``: past their
        turnaround target and not yet shipped back (R16)."""
        return listed(
            query,
            rmas.list_rmas,
            name="rmas",
            schema=schemas.RmaOut(),
            session=current_session(),
            now=now(),
        )

    @allow(*STAFF)
    @blp.arguments(schemas.RmaIn)
    @blp.response(201, schemas.RmaOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Request an RMA for the items to come back (serials, or SKUs and quantities),
        each with its warranty verdict and the reason (R15). It must be authorized before
        anything is received (R14)."""
        items = [intake.ItemIn(**item) for item in data.pop("items")]
        rma = intake.create_rma(
            current_session(),
            items=items,
            now=now(),
            calendar=calendar(),
            by=current_user(),
            **data,
        )
        return rma, 201, {"Location": url_for("repairs.RmaByNumber", rma=rma.number)}


@blp.route("/rmas/<rma>")
class RmaByNumber(Resource):
    @allow(*ALL_ROLES)
    @blp.response(200, schemas.RmaOut)
    def get(self, rma: str) -> Any:
        """One RMA: its items with their verdicts, its target and every step."""
        return rmas.get_rma(current_session(), rma)


STEP_DOCS: dict[Step, str] = {
    Step.AUTHORIZE: "Authorize the RMA: the customer may send the goods (optional `note`).",
    Step.REJECT: "Reject the RMA; `note` says why.",
    Step.RECEIVE: (
        "Receive the goods into a repair `location`: the `items` that came in, each with "
        "`accessories_complete` if a list came with it, booked from the customer's site "
        "through the ledger; 409 for an item not on the RMA or more than it lists. The first "
        "receipt sets `due_at`: 2 working days if the spares are in our stock, else 30 (R16)."
    ),
    Step.DIAGNOSE: "Record the diagnosis; `note` is the finding.",
    Step.REPAIR: "Start the repair: `place` in_house or vendor.",
    Step.COMPLETE: (
        "Finish the repair: `outcome` repaired or replaced; replaced units in `items` with "
        "their `replacement_serial`. A unit dead on arrival is replaced, not repaired."
    ),
    Step.SHIP: (
        "Ship the units back to the customer's site, from `location` (default: where they "
        "were received), delivered by `engineer`, who collects the loaner (R13)."
    ),
    Step.CLOSE: "Close the RMA.",
}


def _step_endpoint(step: Step) -> None:
    """``POST /rmas/<rma>/<step>``, with that step's own input schema."""

    class RmaStep(Resource):
        @allow(*STAFF)
        @blp.arguments(schemas.STEP_SCHEMAS[step])
        @blp.response(200, schemas.RmaOut)
        def post(self, body: progress.StepIn, rma: str) -> Any:
            return take_repair_step(
                current_session(),
                rma,
                step,
                body,
                now=now(),
                calendar=calendar(),
                by=current_user(),
            )

    RmaStep.post.__doc__ = (
        f"{STEP_DOCS[step]}\n\nA step of the RMA's life (R17): requested → authorized (or "
        "rejected) → received → diagnosed → repairing (in house or at the vendor) → repaired "
        "or replaced → shipped → closed. A step out of order is a 409 and writes nothing."
    )
    RmaStep.__name__ = RmaStep.__qualname__ = f"Rma{step.value.title()}"
    blp.route(f"/rmas/<rma>/{step.value}")(RmaStep)


for _step in Step:
    _step_endpoint(_step)
