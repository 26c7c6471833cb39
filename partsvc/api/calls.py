"""Customers and sites endpoints of API.md (service calls follow)."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import url_for
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from partsvc.api import calls_schemas as schemas
from partsvc.api.resource import ALL_ROLES, Resource, allow, decode_cursor, page
from partsvc.calls import calls, customers, engineers, holds
from partsvc.calls.rules import DeadlineState
from partsvc.http import exports
from partsvc.http.context import calendar, current_session, current_user, now, sla_warning, today
from partsvc.platform.schemas import FormatQuery
from partsvc.repairs.models import Rma
from partsvc.workflows import engineer_day as day
from partsvc.workflows.completion import PartUsed, complete_call

blp = Blueprint(
    "customers", __name__, url_prefix="/api/v1", description="Customers, contracts and sites"
)

WRITERS = ("admin", "dispatcher")


@blp.route("/customers")
class Customers(Resource):
    @allow(*WRITERS)
    @blp.arguments(schemas.CustomerIn)
    @blp.response(201, schemas.CustomerOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a customer, with a contract of its tier from today (R19)."""
        customer = customers.create_customer(current_session(), contract_starts_on=today(), **data)
        return (
            customer,
            201,
            {"Location": url_for("customers.CustomerByCode", customer=customer.code)},
        )


@blp.route("/customers/<customer>")
class CustomerByCode(Resource):
    @allow(*ALL_ROLES)
    @blp.response(200, schemas.CustomerOut)
    def get(self, customer: str) -> Any:
        """One customer with its contract."""
        return customers.get_customer(current_session(), customer)


@blp.route("/customers/<customer>/contract")
class CustomerContract(Resource):
    @allow(*WRITERS)
    @blp.arguments(schemas.ContractIn)
    @blp.response(200, schemas.CustomerOut)
    def put(self, data: dict[str, Any], customer: str) -> Any:
        """Change a customer's contract from ``starts_on`` (today if not given); the one in
        force ends the day before. Tier none ends the contract. Calls keep their tier."""
        day = today()
        starts_on = data.pop("starts_on", None) or day
        return customers.change_contract(
            current_session(), customer, starts_on=starts_on, today=day, **data
        )


@blp.route("/sites")
class Sites(Resource):
    @allow(*WRITERS)
    @blp.arguments(schemas.SiteIn)
    @blp.response(201, schemas.SiteOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a customer's site; parts booked to it go to the location of its code."""
        site = customers.create_site(current_session(), **data)
        return site, 201, {"Location": url_for("customers.SiteByCode", site=site.code)}


@blp.route("/sites/<site>")
class SiteByCode(Resource):
    @allow(*ALL_ROLES)
    @blp.response(200, schemas.SiteOut)
    def get(self, site: str) -> Any:
        """One site."""
        return customers.get_site(current_session(), site)

    @allow(*WRITERS)
    @blp.arguments(schemas.SiteContactIn)
    @blp.response(200, schemas.SiteOut)
    def patch(self, data: dict[str, Any], site: str) -> Any:
        """Change the site's contact, who is told of its calls, loaners and repairs; with
        ``lat`` and ``lon`` (both), place a site known only by its address on the map, or
        move it. A site not placed yet shows ``lat`` and ``lon`` null."""
        session = current_session()
        lat, lon = data.pop("lat", None), data.pop("lon", None)
        if lat is not None and lon is not None:
            customers.place_site(session, site, lat=lat, lon=lon)
        return customers.change_site_contact(session, site, **data)


@blp.route("/engineers")
class Engineers(Resource):
    @allow(*WRITERS)
    @blp.arguments(schemas.EngineerIn)
    @blp.response(201, schemas.EngineerOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Create an engineer, their user account and their van (unless one is named)."""
        engineer = engineers.create_engineer(current_session(), **data)
        location = url_for("customers.EngineerByCode", engineer=engineer.code)
        return engineer, 201, {"Location": location}


@blp.route("/engineers/<engineer>")
class EngineerByCode(Resource):
    @allow(*ALL_ROLES)
    @blp.response(200, schemas.EngineerOut)
    def get(self, engineer: str) -> Any:
        """One engineer; an engineer sees only themselves (any other is a 404)."""
        return calls.get_visible_engineer(current_session(), engineer, caller=current_user())


@blp.route("/engineers/<engineer>/day")
class EngineerDayView(Resource):
    @allow(*ALL_ROLES)
    @blp.arguments(schemas.DayQuery, location="query")
    @blp.response(200, schemas.EngineerDayOut)
    def get(self, query: dict[str, Any], engineer: str) -> Any:
        """An engineer's day: calls assigned and due by its end, and their van's stock.
        An engineer sees their own day only."""
        return day.engineer_day(
            current_session(), engineer, query["date"], calendar=calendar(), caller=current_user()
        )


@blp.route("/equipment")
class EquipmentList(Resource):
    @allow(*WRITERS)
    @blp.arguments(schemas.EquipmentIn)
    @blp.response(201, schemas.EquipmentOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a unit to a customer's installed base; its cover follows from the install date."""
        unit = customers.create_equipment(current_session(), **data)
        return (
            unit,
            201,
            {"Location": url_for("customers.EquipmentBySerial", equipment=unit.serial)},
        )


@blp.route("/equipment/<equipment>")
class EquipmentBySerial(Resource):
    @allow(*ALL_ROLES)
    @blp.response(200, schemas.EquipmentOut)
    def get(self, equipment: str) -> Any:
        """One unit of the installed base, by serial."""
        return customers.get_equipment(current_session(), equipment)


@blp.route("/calls")
class Calls(Resource):
    @allow(*ALL_ROLES)
    @blp.arguments(schemas.CallQuery, location="query")
    @blp.response(200, schemas.CallPage)
    def get(self, query: dict[str, Any]) -> Any:
        """Calls oldest first, narrowed by status, priority, kind, customer, site, engineer,
        open or flag (near, missed). An engineer sees only the calls assigned to them."""
        limit = query.pop("limit")
        after = decode_cursor(query.pop("cursor", None))
        fmt = query.pop("format")
        flag = query.pop("flag", None)
        wanted = calls.CallFilter(
            statuses=query.pop("status", ()),
            flag=DeadlineState(flag) if flag else None,
            **query,
        )

        caller, instant, warn_before = current_user(), now(), sla_warning()

        def found(session: Session, after_id: int | None, limit: int) -> list[Any]:
            return calls.list_calls(
                session,
                wanted,
                now=instant,
                warn_before=warn_before,
                caller=caller,
                after_id=after_id,
                limit=limit,
            )

        first = found(current_session(), after, limit + 1)
        if fmt != "json":
            return exports.download_as(
                fmt, "calls", schemas.CallOut(), lambda s: exports.keyset(partial(found, s))
            )
        return page(first, limit)

    @allow(*WRITERS)
    @blp.arguments(schemas.CallIn)
    @blp.response(201, schemas.CallOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Report a service call; it answers with its three deadlines (R20)."""
        window = data.pop("window", None)
        parts = [calls.PartNeeded(**p) for p in data.pop("parts")]
        call = calls.report_call(
            current_session(),
            calendar=calendar(),
            now=now(),
            parts=parts,
            window=(window["start"], window["end"]) if window else None,
            by=current_user(),
            **data,
        )
        return call, 201, {"Location": url_for("customers.CallById", call_id=call.id)}


@blp.route("/calls/<int(max=2147483647):call_id>")
class CallById(Resource):
    @allow(*ALL_ROLES)
    @blp.response(200, schemas.CallOut)
    def get(self, call_id: int) -> Any:
        """One call: its deadlines and where they stand, its status history and alerts.
        An engineer sees only calls assigned to them."""
        return calls.get_call(current_session(), call_id, caller=current_user())

    @allow(*WRITERS)
    @blp.arguments(schemas.CallPatchIn)
    @blp.response(200, schemas.CallOut)
    def patch(self, data: dict[str, Any], call_id: int) -> Any:
        """Hand a call in progress to another engineer (kept in its history)."""
        return calls.reassign_call(
            current_session(), call_id, data["engineer"], now=now(), by=current_user()
        )


@blp.route("/calls/<int(max=2147483647):call_id>/status")
class CallStatusView(Resource):
    @allow(*WRITERS, "engineer")
    @blp.arguments(schemas.StatusIn)
    @blp.response(200, schemas.CallOut)
    def post(self, data: dict[str, Any], call_id: int) -> Any:
        """Move a call to its next status; 409 for a step out of order (R22).

        Assigning names the ``engineer``. Engineers move their own calls en route, on site,
        waiting for parts and resolved; dispatchers and admins do the rest. A call becomes
        resolved only with its service record: ``resolved`` here without one is a 409;
        complete the call through ``POST /calls/{id}/completion``."""
        return calls.change_call_status(
            current_session(),
            call_id,
            data["status"],
            at=data.get("at"),
            engineer=data.get("engineer"),
            now=now(),
            by=current_user(),
        )


@blp.route("/calls/<int(max=2147483647):call_id>/pause")
class CallPause(Resource):
    @allow(*WRITERS, "engineer")
    @blp.arguments(schemas.PauseIn)
    @blp.response(200, schemas.CallOut)
    def post(self, data: dict[str, Any], call_id: int) -> Any:
        """Put a running call on hold for a reason on the customer's side (customer not
        available, customer asked to wait, awaiting the customer's approval): its SLA
        clocks stop until it resumes. Recorded and audited; 409 if already on hold or
        finished. Waiting for parts does not stop the clock."""
        return holds.pause_call(current_session(), call_id, now=now(), by=current_user(), **data)


@blp.route("/calls/<int(max=2147483647):call_id>/resume")
class CallResume(Resource):
    @allow(*WRITERS, "engineer")
    @blp.arguments(schemas.ResumeIn)
    @blp.response(200, schemas.CallOut)
    def post(self, data: dict[str, Any], call_id: int) -> Any:
        """Restart a call's clocks: each deadline still running when it was paused moves by
        the working time paused. Recorded and audited; 409 if the call is not on hold."""
        return holds.resume_call(
            current_session(), call_id, now=now(), calendar=calendar(), by=current_user(), **data
        )


@blp.route("/calls/<int(max=2147483647):call_id>/completion")
class CallCompletion(Resource):
    @allow(*WRITERS, "engineer")
    @blp.arguments(schemas.CompletionIn)
    @blp.response(201, schemas.CompletionOut)
    def post(self, data: dict[str, Any], call_id: int) -> Any:
        """Complete a call on site as the engineer's page does (R23), in one transaction:
        the service record with the work done and both signatures' names, the parts used
        booked from the engineer's van, a loaner from the van placed on site, the faulty
        unit taken back under a new RMA, and the call resolved. Any refusal (a part or a
        loaner not on the van, a call not on site) writes nothing. An engineer completes
        their own calls."""
        session = current_session()
        used = [PartUsed(sku=p["sku"], qty=p["qty"]) for p in data.pop("parts")]
        record = complete_call(
            session,
            call_id,
            consumed=used,
            now=now(),
            calendar=calendar(),
            by=current_user(),
            **data,
        )
        call = record.call
        rma = session.get(Rma, record.rma_id) if record.rma_id is not None else None
        body = {
            "call": call.id,
            "status": call.status,
            "engineer": call.engineer.code if call.engineer else None,
            "work_done": record.work_done,
            "parts": [{"sku": p.sku, "qty": p.qty} for p in used],
            "loan": record.loan_id,
            "rma": rma.number if rma is not None else None,
            "signed_by": record.signed_by,
            "engineer_signed_by": record.engineer_signed_by,
            "finished_at": record.finished_at,
        }
        location = url_for("documents.ServiceRecordPdf", call_id=call.id)
        return body, 201, {"Location": location}


@blp.route("/calls/<int(max=2147483647):call_id>/satisfaction")
class CallSatisfaction(Resource):
    @allow(*WRITERS)
    @blp.arguments(schemas.SatisfactionIn)
    @blp.response(200, schemas.CallOut)
    def post(self, data: dict[str, Any], call_id: int) -> Any:
        """The customer's score, 1 to 5, for a closed call (R25); recorded once."""
        return calls.record_satisfaction(current_session(), call_id, now=now(), **data)


@blp.route("/sla-policy")
class SlaPolicy(Resource):
    @allow(*ALL_ROLES)
    @blp.arguments(FormatQuery, location="query")
    @blp.response(200, schemas.SlaPolicyOut)
    def get(self, query: dict[str, Any]) -> Any:
        """The SLA targets per contract tier and priority (R20, R21); ``format=csv|xlsx``
        downloads them."""
        if query["format"] != "json":
            return exports.download_as(
                query["format"], "sla-policy", schemas.SlaTargetOut(), calls.list_sla_policy
            )
        return {"items": calls.list_sla_policy(current_session()), "next": None}


@blp.route("/sla-policy/<any(gold, silver, bronze, none):tier>/<any(P1, P2, P3):priority>")
class SlaPolicyTarget(Resource):
    @allow("admin")
    @blp.arguments(schemas.SlaTargetIn)
    @blp.response(200, schemas.SlaTargetOut)
    def put(self, data: dict[str, Any], tier: str, priority: str) -> Any:
        """Change one target; calls already reported keep their deadlines."""
        return calls.set_sla_target(current_session(), tier=tier, priority=priority, **data)
