"""Loaner endpoints of API.md, with reservations for planned visits and the loan policy."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_smorest import Blueprint

from partsvc.api import loans_schemas as schemas
from partsvc.api.resource import ALL_ROLES, Resource, allow, listed
from partsvc.http import exports
from partsvc.http.context import current_session, current_user, now
from partsvc.loans import holds, lending
from partsvc.loans.rules import LoanTerms
from partsvc.workflows.loaners import lend_loaner

blp = Blueprint(
    "loans", __name__, url_prefix="/api/v1", description="Loaners on customer sites (R10–R13)"
)

PLANNERS = ("admin", "dispatcher")
ID = "int(max=2147483647)"


@blp.route("/loans")
class Loans(Resource):
    @allow(*ALL_ROLES)
    @blp.arguments(schemas.LoanQuery, location="query")
    @blp.response(200, schemas.LoanPage)
    def get(self, query: dict[str, Any]) -> Any:
        """Loans by state (open, due_soon, overdue, returned), engineer or to_collect, with
        days overdue (R12). An engineer sees the loans they placed."""
        return listed(
            query,
            lending.list_loans,
            name="loans",
            schema=schemas.LoanOut(),
            session=current_session(),
            now=now(),
            state=query.pop("status", None),
            caller=current_user(),
        )

    @allow(*ALL_ROLES)
    @blp.arguments(schemas.LoanIn)
    @blp.response(201, schemas.LoanOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Place a loaner on a customer's site: the unit moves there through the ledger and
        is due back in 15 days (R10, R11). A second loan of the same unit is a 409."""
        loan = lend_loaner(current_session(), now=now(), by=current_user(), **data)
        return loan, 201, {"Location": url_for("loans.LoanById", loan_id=loan.id)}


@blp.route(f"/loans/<{ID}:loan_id>")
class LoanById(Resource):
    @allow(*ALL_ROLES)
    @blp.response(200, schemas.LoanOut)
    def get(self, loan_id: int) -> Any:
        """One loan with its extensions."""
        return lending.get_loan(current_session(), loan_id, caller=current_user())


@blp.route(f"/loans/<{ID}:loan_id>/extensions")
class LoanExtensions(Resource):
    @allow(*PLANNERS)
    @blp.arguments(schemas.ExtensionIn)
    @blp.response(201, schemas.LoanOut)
    def post(self, data: dict[str, Any], loan_id: int) -> Any:
        """Push the due date back, with a reason (R11); past the policy maximum only an
        admin with ``override: true``, and that is recorded too."""
        session = current_session()
        lending.extend(session, loan_id, now=now(), by=current_user(), **data)
        return lending.get_loan(session, loan_id)


@blp.route(f"/loans/<{ID}:loan_id>/return")
class LoanReturn(Resource):
    @allow(*ALL_ROLES)
    @blp.arguments(schemas.ReturnIn)
    @blp.response(200, schemas.LoanOut)
    def post(self, data: dict[str, Any], loan_id: int) -> Any:
        """Book the loaner back with its condition (R13); a damaged one goes to repair."""
        return lending.return_loan(current_session(), loan_id, now=now(), by=current_user(), **data)


@blp.route("/loaner-reservations")
class LoanerReservations(Resource):
    @allow(*ALL_ROLES)
    @blp.arguments(schemas.ReservationQuery, location="query")
    @blp.response(200, schemas.ReservationList)
    def get(self, query: dict[str, Any]) -> Any:
        """Loaners held for planned visits (up to 500); an engineer sees their calls' only.
        ``format=csv|xlsx`` downloads the same list."""
        fmt, caller = query.pop("format"), current_user()
        if fmt != "json":
            return exports.download_as(
                fmt,
                "loaner-reservations",
                schemas.ReservationOut(),
                lambda session: holds.list_reservations(session, caller=caller, **query),
            )
        items = holds.list_reservations(current_session(), caller=caller, **query)
        return {"items": items, "next": None}

    @allow(*PLANNERS)
    @blp.arguments(schemas.ReservationIn)
    @blp.response(201, schemas.ReservationOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Hold a loaner of a model (or a named unit) for a call's visit, so it is not lent
        elsewhere; a lent unit cannot be held."""
        return holds.reserve_loaner(current_session(), now=now(), by=current_user(), **data)


@blp.route(f"/loaner-reservations/<{ID}:reservation_id>/release")
class LoanerReservationRelease(Resource):
    @allow(*PLANNERS)
    @blp.response(200, schemas.ReservationOut)
    def post(self, reservation_id: int) -> Any:
        """Let the held loaner go back to the pool."""
        return holds.release_reservation(current_session(), reservation_id)


@blp.route("/loan-policy")
class LoanPolicyView(Resource):
    @allow(*ALL_ROLES)
    @blp.response(200, schemas.LoanPolicyIO)
    def get(self) -> Any:
        """Loan length, the furthest an extension may go, the due-soon warning (R11, R12)."""
        return lending.loan_terms(current_session())

    @allow("admin")
    @blp.arguments(schemas.LoanPolicyIO)
    @blp.response(200, schemas.LoanPolicyIO)
    def put(self, data: dict[str, Any]) -> Any:
        """Change the loan policy; loans already out keep their due dates."""
        return lending.set_loan_terms(current_session(), LoanTerms(**data))
