"""What a planning job carries and how its outcome is told (no Redis, no database)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from partsvc.auth.identity import Caller
from partsvc.core.errors import PartsvcError, PlannerUnavailable
from partsvc.workflows import plan_jobs
from partsvc.workflows.plan_jobs import DONE, FAILED, RUNNING, PlanJob, PlanOrder, plan_of


def job(status: str, **fields: object) -> PlanJob:
    values: dict[str, object] = {
        "id": "plan-1",
        "day": date(2026, 11, 20),
        "status": status,
        "progress": None,
        "plan_id": None,
        "problem": None,
        "worker": None,
        "queued_at": None,
        "started_at": None,
        "ended_at": None,
    }
    return PlanJob(**{**values, **fields})  # type: ignore[arg-type]


def test_an_order_travels_as_json_and_comes_back_the_same() -> None:
    order = PlanOrder(
        day=date(2026, 11, 20),
        now=datetime(2026, 11, 20, 2, 0, tzinfo=UTC),
        sent_at=datetime(2026, 12, 2, 5, 0, 1, tzinfo=UTC),
        time_limit_s=2.5,
        by=Caller(7, "dispatch", "dispatcher"),
    )
    assert PlanOrder.from_values(json.loads(json.dumps(order.values()))) == order


def test_a_done_job_gives_its_plan() -> None:
    assert plan_of(job(DONE, plan_id=42, progress=1.0)) == 42


def test_a_plan_refused_in_the_worker_is_told_as_the_same_problem() -> None:
    problem = {
        "status": 422,
        "slug": "invalid-input",
        "title": "Invalid input",
        "detail": "That day is over; plan today or a day ahead.",
        "errors": {"date": ["In the past."]},
    }
    with pytest.raises(PartsvcError) as raised:
        plan_of(job(FAILED, problem=problem))
    error = raised.value
    assert (error.status, error.type, error.detail, error.errors) == (
        422,
        "/problems/invalid-input",
        problem["detail"],
        {"date": ["In the past."]},
    )


def test_a_job_that_failed_or_has_not_finished_is_a_503_naming_the_job() -> None:
    with pytest.raises(PlannerUnavailable, match="nothing was saved") as failed:
        plan_of(job(FAILED))
    with pytest.raises(PlannerUnavailable, match="not made yet") as late:
        plan_of(job(RUNNING, progress=0.5))
    assert failed.value.status == late.value.status == 503
    assert failed.value.extra == late.value.extra == {"job": "plan-1"}


@pytest.mark.parametrize(("setting", "processes"), [("2", 2), ("1", 1)])
def test_a_worker_plans_with_the_processes_its_setting_gives(
    monkeypatch: pytest.MonkeyPatch, setting: str, processes: int
) -> None:
    given: dict[str, object] = {}

    def plan_day(database: object, day: date, **options: object) -> int:
        given.update(options)
        return 42

    monkeypatch.setattr(plan_jobs.planning, "plan_day", plan_day)
    monkeypatch.setenv("PARTSVC_DATABASE_URL", "sqlite://")
    monkeypatch.setenv("PARTSVC_PLAN_PROCESSES", setting)
    order = PlanOrder(
        day=date(2026, 11, 20),
        now=datetime(2026, 11, 20, 2, 0, tzinfo=UTC),
        sent_at=datetime(2026, 11, 20, 2, 0, tzinfo=UTC),
        time_limit_s=2.5,
        by=None,
    )
    assert plan_jobs.run_plan_order(order.values()) == 42
    assert given["processes"] == processes
