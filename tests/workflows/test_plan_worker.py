"""Planning on a queue worker: a real ``partsvc worker`` process against the run's
own Redis makes the plans the API and the board ask for.

The worker is another process, so what it reads must be committed: these tests use a
database of their own (a new SQLite file, or a new schema in the PostgreSQL test
database), a queue name of their own, and a test process whose solver refuses to run.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

from partsvc import create_app
from partsvc.auth.identity import create_user, issue_token, set_password
from partsvc.platform.config import Settings
from partsvc.platform.db import Database
from partsvc.routing.models import DayPlan
from partsvc.workflows import planning
from tests.conftest import Clock
from tests.web.conftest import csrf_token
from tests.workers import running_worker, wait_for

DAY = "2026-11-20"  # the test clock's Friday, 10:00 in Shanghai
PASSWORD = "correct horse battery"


@dataclass
class Planners:
    url: str
    database: Database
    queue: str
    worker: str
    redis: Redis
    redis_url: str


@pytest.fixture(scope="module")
def planners(
    own_database: str, tmp_path_factory: pytest.TempPathFactory, redis_url: str
) -> Iterator[Planners]:
    """A ``partsvc worker`` process on a queue of this run's own."""
    database = Database(own_database)
    try:
        instance = tmp_path_factory.mktemp("instance")
        with running_worker(own_database, instance, redis_url) as worker:
            yield Planners(
                own_database, database, worker.queue, worker.name, worker.redis, redis_url
            )
    finally:
        database.dispose()


@pytest.fixture(autouse=True)
def nothing_is_solved_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test process cannot plan: a plan that comes back was made by the worker."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the web process tried to solve")

    monkeypatch.setattr(planning, "solve", refuse)


@pytest.fixture
def client(planners: Planners) -> FlaskClient:
    settings = Settings(
        database_url=planners.url,
        secret_key="test",
        redis_url=planners.redis_url,
        plan_queue=planners.queue,
        plan_wait_margin_s=30,
        plan_time_limit_s=1,
        default_locale="en",  # the board's notices are read in English here
    )
    clock = Clock(datetime(2026, 11, 20, 2, 0, tzinfo=UTC))
    app = create_app(settings, clock=clock, database=planners.database, TESTING=True)
    return app.test_client()


@pytest.fixture(scope="module")
def dispatcher(planners: Planners) -> dict[str, str]:
    """A dispatcher's headers, in a town of two engineers with calls to plan; committed."""
    with planners.database.unit_of_work() as session:
        user = create_user(session, username="dispatch", role="dispatcher")
        set_password(user, PASSWORD)
        headers = {"Authorization": f"Bearer {issue_token(session, user)}"}
        boss = create_user(session, username="boss", role="admin")
        admin = {"Authorization": f"Bearer {issue_token(session, boss)}"}
    app = create_app(
        Settings(database_url=planners.url, secret_key="test"),
        clock=Clock(datetime(2026, 11, 20, 1, 0, tzinfo=UTC)),
        database=planners.database,
        TESTING=True,
    )
    client = app.test_client()

    def post(path: str, body: dict) -> dict:
        answer = client.post(path, json=body, headers=admin)
        assert answer.status_code == 201, answer.json
        return answer.json

    post("/api/v1/customers", {"code": "ACME", "name": "Acme"})
    for code, lat, lon in [("EAST", 31.22, 121.50), ("WEST", 31.20, 121.38)]:
        post(
            "/api/v1/sites",
            {"code": code, "customer": "ACME", "address": code, "lat": lat, "lon": lon},
        )
        post(
            "/api/v1/engineers",
            {
                "code": f"E-{code}",
                "name": code.title(),
                "home_lat": lat,
                "home_lon": lon - 0.01,
                "skills": ["print"],
            },
        )
        post("/api/v1/calls", {"site": code, "priority": "P2"})
    return headers


def test_a_plan_asked_for_through_the_api_is_made_by_the_worker_process(
    client: FlaskClient, planners: Planners, dispatcher: dict[str, str]
) -> None:
    answer = client.post("/api/v1/plans", json={"date": DAY, "time_limit_s": 1}, headers=dispatcher)
    assert answer.status_code == 201, answer.json
    plan_id = answer.json["id"]
    assert answer.headers["Location"].endswith(f"/api/v1/plans/{plan_id}")
    assert sorted(s["call"] for r in answer.json["routes"] for s in r["stops"])  # calls planned
    job = _job_that_made(planners, plan_id)
    assert job.worker_name == planners.worker
    assert job.meta["pid"] != os.getpid()
    shown = client.get(f"/api/v1/plan-jobs/{job.id}", headers=dispatcher)
    assert shown.status_code == 200, shown.json
    assert (shown.json["status"], shown.json["plan"], shown.json["progress"]) == (
        "done",
        plan_id,
        1.0,
    )
    assert shown.json["worker"] == planners.worker


def test_asked_to_respond_async_the_api_answers_202_and_the_job_reports_until_done(
    client: FlaskClient, planners: Planners, dispatcher: dict[str, str]
) -> None:
    # 5 s of search, so a poll lands while it runs even when the test process waits for a
    # core (with 2 s, CI on a slow machine's first poll found the job already done).
    answer = client.post(
        "/api/v1/plans",
        json={"date": DAY, "time_limit_s": 5},
        headers={**dispatcher, "Prefer": "respond-async"},
    )
    assert answer.status_code == 202, answer.json
    assert answer.headers["Preference-Applied"] == "respond-async"
    location = answer.headers["Location"]
    assert location == f"/api/v1/plan-jobs/{answer.json['id']}"
    assert answer.json["status"] in ("queued", "running")
    assert answer.json["plan"] is None
    seen = []

    def done() -> bool:
        job = client.get(location, headers=dispatcher)
        assert job.status_code == 200, job.json
        seen.append(job.json)
        return job.json["status"] == "done"

    wait_for(done, "the plan")
    assert "running" in {j["status"] for j in seen}
    progress = [j["progress"] for j in seen]
    assert progress == sorted(progress) and progress[-1] == 1.0
    plan = client.get(f"/api/v1/plans/{seen[-1]['plan']}", headers=dispatcher)
    assert plan.status_code == 200
    assert plan.json["date"] == DAY


def test_two_requests_for_the_same_day_at_once_share_one_job(
    client: FlaskClient, planners: Planners, dispatcher: dict[str, str]
) -> None:
    headers = {**dispatcher, "Prefer": "respond-async"}
    first = client.post("/api/v1/plans", json={"date": DAY, "time_limit_s": 2}, headers=headers)
    second = client.post("/api/v1/plans", json={"date": DAY, "time_limit_s": 2}, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json["id"] == second.json["id"]
    waited = client.post("/api/v1/plans", json={"date": DAY, "time_limit_s": 2}, headers=dispatcher)
    assert waited.status_code == 201, waited.json
    job = client.get(first.headers["Location"], headers=dispatcher).json
    assert job["plan"] == waited.json["id"]


def test_a_day_that_is_over_is_refused_before_anything_is_queued(
    client: FlaskClient, planners: Planners, dispatcher: dict[str, str]
) -> None:
    queued = Queue(planners.queue, connection=planners.redis).count
    answer = client.post(
        "/api/v1/plans",
        json={"date": "2026-11-19"},
        headers={**dispatcher, "Prefer": "respond-async"},
    )
    assert answer.status_code == 422
    assert answer.content_type == "application/problem+json"
    assert Queue(planners.queue, connection=planners.redis).count == queued
    assert client.get("/api/v1/plan-jobs/not-a-job", headers=dispatcher).status_code == 404


def test_when_the_worker_dies_mid_plan_the_request_gets_a_clear_problem_and_nothing_is_saved(
    client: FlaskClient, planners: Planners, dispatcher: dict[str, str]
) -> None:
    before = _plans(planners)
    killed: list[int] = []

    def kill_the_planner() -> None:
        def solving() -> bool:
            job_id = planners.redis.get(f"{planners.queue}:plan-day:{DAY}")
            if job_id is None:
                return False
            job = Job.fetch(job_id.decode(), connection=planners.redis, serializer=JSONSerializer)
            if job.meta.get("stage") != "solving":
                return False
            killed.append(job.meta["pid"])
            return True

        wait_for(solving, "the search to begin")
        os.kill(killed[0], signal.SIGKILL)

    killer = threading.Thread(target=kill_the_planner)
    killer.start()
    answer = client.post("/api/v1/plans", json={"date": DAY, "time_limit_s": 8}, headers=dispatcher)
    killer.join()
    assert killed and killed[0] != os.getpid()
    assert answer.status_code == 503, answer.json
    assert answer.content_type == "application/problem+json"
    assert answer.json["type"] == "/problems/planner-unavailable"
    assert "nothing was saved" in answer.json["detail"]
    job = client.get(f"/api/v1/plan-jobs/{answer.json['job']}", headers=dispatcher).json
    assert (job["status"], job["plan"], job["progress"]) == ("failed", None, None)
    assert _plans(planners) == before
    again = client.post("/api/v1/plans", json={"date": DAY, "time_limit_s": 1}, headers=dispatcher)
    assert again.status_code == 201, again.json  # the worker carries on with the next job


def test_the_board_follows_the_worker_s_job_and_opens_with_the_plan(
    client: FlaskClient, planners: Planners, dispatcher: dict[str, str]
) -> None:
    page = client.get("/login")
    client.post(
        "/login",
        data={"username": "dispatch", "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    board = client.get("/board")
    assert board.status_code == 200
    sent = client.post(
        "/board/plans",
        data={"csrf_token": csrf_token(board.text)},
        headers={"X-Requested-With": "fetch"},
    )
    assert sent.status_code == 200
    follow = sent.json["job"]
    answers = []

    def finished() -> bool:
        answers.append(client.get(follow).json)
        return "next" in answers[-1]

    wait_for(finished, "the board's plan")
    assert answers[-1]["status"] == "done"
    assert answers[-1]["next"] == "/board"
    plan_id = Job.fetch(
        follow.rsplit("/", 1)[1], connection=planners.redis, serializer=JSONSerializer
    ).return_value()
    assert f"Plan {plan_id} is ready" in client.get("/board").text


def _job_that_made(planners: Planners, plan_id: int) -> Job:
    queue = Queue(planners.queue, connection=planners.redis, serializer=JSONSerializer)
    jobs = [
        Job.fetch(job_id, connection=planners.redis, serializer=JSONSerializer)
        for job_id in queue.finished_job_registry.get_job_ids()
    ]
    made = [job for job in jobs if job.return_value() == plan_id]
    assert len(made) == 1, [job.id for job in jobs]
    return made[0]


def _plans(planners: Planners) -> int:
    with planners.database.unit_of_work(write=False) as session:
        return session.scalar(select(func.count()).select_from(DayPlan)) or 0
