"""Plans endpoints of API.md (R26–R29): plan a day, publish it, rank and assign urgent calls."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from partsvc.api import routing_schemas as schemas
from partsvc.api.resource import Resource, allow, authorize
from partsvc.core.errors import UnknownKey
from partsvc.http.context import (
    base_calendar,
    current_session,
    current_user,
    database,
    now,
    plan_order,
    plan_queue,
    settings,
    today,
)
from partsvc.routing import pickups, plans
from partsvc.routing.travel import travel_source
from partsvc.workflows import plan_jobs as jobs
from partsvc.workflows import planning

blp = Blueprint("plans", __name__, url_prefix="/api/v1", description="Day plans and dispatch")

PLANNERS = ("admin", "dispatcher")
READERS = PLANNERS  # engineers see their own route in their day


@blp.route("/plans")
class Plans(MethodView):
    """Planning reads in one transaction, solves outside any, stores in another (rule 4)."""

    def dispatch_request(self, **kwargs: Any) -> Any:
        """Who is calling before what they sent is validated: 401/403 before 422."""
        with database().unit_of_work(write=False) as session:
            g.session = session
            g.user = authorize(session, frozenset(PLANNERS))
        g.pop("session", None)
        return super().dispatch_request(**kwargs)

    @allow(*PLANNERS)
    @blp.arguments(schemas.PlanIn)
    @blp.response(201, schemas.PlanOut)
    @blp.alt_response(
        202,
        schema=schemas.PlanJobOut,
        success=True,
        description="With `Prefer: respond-async` and a planning queue configured: the job, "
        "to follow at its Location (`GET /plan-jobs/{id}`).",
    )
    def post(self, data: dict[str, Any]) -> Any:
        """Plan a day: the open calls onto the engineers on shift, with pick-ups (R26–R28).

        With a planning queue (PARTSVC_REDIS_URL) a worker makes the plan while this request
        waits for it; `Prefer: respond-async` answers 202 at once with the job instead.
        """
        db = database()
        user = g.user
        queue = plan_queue()
        order = plan_order(data["date"], by=user, time_limit_s=data["time_limit_s"])
        if queue is not None and _prefers_async():
            planning.check_day(order.day, today())
            job = queue.submit(order)
            answer = jsonify(schemas.PlanJobOut().dump(job))
            answer.status_code = 202
            answer.headers["Location"] = url_for("plans.PlanJobById", job_id=job.id)
            answer.headers["Preference-Applied"] = "respond-async"
            return answer
        plan_id = jobs.make_plan(
            db, queue, order, calendar=base_calendar(), source=travel_source(settings())
        )
        with db.unit_of_work(write=False) as session:
            body = schemas.PlanOut().dump(plans.get_plan(session, plan_id))
        # Dumped inside the transaction; a Response passes through flask-smorest as it is.
        answer = jsonify(body)
        answer.status_code = 201
        answer.headers["Location"] = url_for("plans.PlanById", plan_id=plan_id)
        return answer


def _prefers_async() -> bool:
    """RFC 7240: ``Prefer: respond-async`` among the request's preferences."""
    preferences = ",".join(request.headers.getlist("Prefer"))
    return any(
        item.split(";")[0].split("=")[0].strip().lower() == "respond-async"
        for item in preferences.split(",")
    )


@blp.route("/plan-jobs/<job_id>")
class PlanJobById(Resource):
    @allow(*PLANNERS)
    @blp.response(200, schemas.PlanJobOut)
    def get(self, job_id: str) -> Any:
        """A day being planned on a worker: queued, running, done (with its plan) or failed."""
        queue = plan_queue()
        job = queue.find(job_id) if queue is not None else None
        if job is None:
            raise UnknownKey(f"No planning job {job_id[:80]!r}.", job=job_id[:80])
        return job


@blp.route("/plans/<int:plan_id>")
class PlanById(Resource):
    @allow(*READERS)
    @blp.response(200, schemas.PlanOut)
    def get(self, plan_id: int) -> Any:
        """One plan with its routes and the calls left out."""
        return plans.get_plan(current_session(), plan_id)


@blp.route("/plans/<int:plan_id>/publish")
class PlanPublish(Resource):
    @allow(*PLANNERS)
    @blp.response(200, schemas.PlanOut)
    def post(self, plan_id: int) -> Any:
        """Assign the planned calls and reserve the parts to pick up; replaces the day's plan."""
        return plans.publish_plan(
            current_session(), plan_id, now=now(), today=today(), by=current_user()
        )


@blp.route("/plans/<int:plan_id>/candidates")
class PlanCandidates(Resource):
    @allow(*PLANNERS)
    @blp.arguments(schemas.CandidatesIn)
    @blp.response(200, schemas.CandidatesOut)
    def post(self, data: dict[str, Any], plan_id: int) -> Any:
        """Every engineer ranked by when they could be at the call (R29)."""
        ranked = planning.rank_for_call(
            current_session(),
            plan_id,
            data["call"],
            now=now(),
            calendar=base_calendar(),
            source=travel_source(settings()),
        )
        return {
            "call": data["call"],
            "candidates": [
                {
                    "engineer": c.engineer,
                    "feasible": c.feasible,
                    "arrive": ranked.arrivals[c.engineer],
                    "extra_minutes": round(c.extra_seconds / 60) if c.feasible else None,
                    "late_minutes": c.late_minutes,
                    "displaced": [int(key) for key in c.displaced],
                    "reason": c.reason,
                }
                for c in ranked.candidates
            ],
        }


@blp.route("/plans/<int:plan_id>/assign")
class PlanAssign(Resource):
    @allow(*PLANNERS)
    @blp.arguments(schemas.AssignIn)
    @blp.response(200, schemas.PlanOut)
    def post(self, data: dict[str, Any], plan_id: int) -> Any:
        """Put the call into the engineer's route; the later stops shift (R29). For a P1/P2
        call, the routine calls that no longer fit come off the day (R28)."""
        return planning.assign_call(
            current_session(),
            plan_id,
            data["call"],
            data["engineer"],
            now=now(),
            calendar=base_calendar(),
            source=travel_source(settings()),
            by=current_user(),
            displacing=data.get("displaced"),
        )


@blp.route("/plans/<int:plan_id>/stops/<int:stop_id>/collect")
class PickupCollect(Resource):
    @allow("admin", "clerk", "dispatcher", "engineer")
    @blp.response(200, schemas.StopOut)
    def post(self, plan_id: int, stop_id: int) -> Any:
        """Book a pick-up's reserved parts onto the engineer's van; an engineer their own."""
        return pickups.collect_pickup(
            current_session(), plan_id, stop_id, now=now(), by=current_user()
        )
