"""Planning a day on a queue worker (RQ) when ``PARTSVC_REDIS_URL`` is set.

A web request sends a ``PlanOrder`` (plain values only: a date, instants, a number, who
asks) and waits for the job, or answers at once with where to follow it. A ``partsvc
worker`` process runs ``run_plan_order``: the same ``planning.plan_day`` the web runs when
there is no queue, with a database and settings of its own, read from the environment.

Two requests for the same day while its plan is being made share one job. Everything a
job knows lives in Redis, so any web process can answer for any job.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from partsvc.auth.identity import Caller
from partsvc.core.errors import PartsvcError, PlannerUnavailable, Relayed
from partsvc.core.worktime import WorkingCalendar
from partsvc.platform.config import Settings
from partsvc.platform.db import Database, utcnow
from partsvc.routing.travel import TravelSource, travel_source
from partsvc.workflows import planning

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATES = (QUEUED, RUNNING, DONE, FAILED)
KIND = "plan-day"
KEEP_S = 24 * 3600
"""How long a finished or failed job can still be looked at."""
POLL_S = 0.2
JOB_ID = "plan-"


@dataclass(frozen=True)
class PlanOrder:
    """What a planning job carries: plain values, never rows."""

    day: date
    now: datetime
    """The business clock when the plan was asked for."""
    sent_at: datetime
    """The real clock then: a worker adds the time the order waited to ``now``."""
    time_limit_s: float
    by: Caller | None
    client: str | None = None
    """The planner's address, for the plan's audit event."""

    def values(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "now": self.now.isoformat(),
            "sent_at": self.sent_at.isoformat(),
            "time_limit_s": self.time_limit_s,
            "by": None if self.by is None else [self.by.id, self.by.username, self.by.role],
            "client": self.client,
        }

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> PlanOrder:
        by = values["by"]
        return cls(
            day=date.fromisoformat(values["day"]),
            now=datetime.fromisoformat(values["now"]),
            sent_at=datetime.fromisoformat(values["sent_at"]),
            time_limit_s=float(values["time_limit_s"]),
            by=None if by is None else Caller(int(by[0]), str(by[1]), str(by[2])),
            client=values.get("client"),
        )


@dataclass(frozen=True)
class PlanJob:
    """A planning job as a client sees it."""

    id: str
    day: date
    status: str
    progress: float | None
    """0 queued, rising with the search, 1 done; None when failed."""
    plan_id: int | None
    problem: dict[str, Any] | None
    """Why it failed, when it failed of a business rule (a day over, say)."""
    worker: str | None
    queued_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.status in (DONE, FAILED)


# ---------------------------------------------------------------- in the worker


def run_plan_order(values: dict[str, Any]) -> int:
    """The job: plan the order's day with this process's settings; the plan's id."""
    order = PlanOrder.from_values(values)
    settings = Settings.from_env()
    job = get_current_job()
    report = _reporter(job)
    report("loading", pid=os.getpid())
    now = order.now + max(utcnow() - order.sent_at, timedelta(0))
    calendar = WorkingCalendar(timezone=settings.timezone)
    database = Database(
        settings.database_url,
        busy_timeout_s=settings.sqlite_busy_timeout_s,
        pool_size=1,  # one session at a time: load, then (after the search) store
    )
    try:
        return planning.plan_day(
            database,
            order.day,
            now=now,
            today=now.astimezone(calendar.zone).date(),
            calendar=calendar,
            source=travel_source(settings),
            time_limit_s=order.time_limit_s,
            by=order.by,
            client=order.client,
            on_stage=report,
            processes=settings.plan_processes,
        )
    except PartsvcError as error:
        report(
            "failed",
            problem={
                "status": error.status,
                "slug": error.slug,
                "title": error.title,
                "detail": error.detail,
                "errors": error.errors,
            },
        )
        raise
    finally:
        database.dispose()


def _reporter(job: Job | None) -> Callable[..., None]:
    def report(stage: str, **more: Any) -> None:
        if job is None:
            return
        job.meta.update(stage=stage, stage_at=utcnow().isoformat(), **more)
        job.save_meta()  # type: ignore[no-untyped-call]

    return report


# ---------------------------------------------------------------- in the web


class PlanQueue:
    """The planning jobs in Redis: send an order, look a job up, wait for it."""

    def __init__(self, redis_url: str, name: str, *, wait_margin_s: float) -> None:
        self.redis = Redis.from_url(redis_url)
        self.name = name
        self.wait_margin_s = wait_margin_s
        self.queue = Queue(name, connection=self.redis, serializer=JSONSerializer)

    def worker(self, name: str | None = None, *, also: Sequence[Queue] = ()) -> Worker:
        """An RQ worker on this queue, and ``also`` others (``partsvc worker``)."""
        return Worker(
            [self.queue, *also], name=name, connection=self.redis, serializer=JSONSerializer
        )

    def wait_s(self, time_limit_s: float) -> float:
        """How long a request waits for a plan: the search, and a margin to load and store."""
        return time_limit_s + self.wait_margin_s

    def submit(self, order: PlanOrder) -> PlanJob:
        """Queue the order, or join the job already making a plan of the same day."""
        try:
            return self._submit(order)
        except RedisError as error:
            raise _no_queue(error) from error

    def find(self, job_id: str) -> PlanJob | None:
        """The planning job ``job_id`` of this queue, or None if unknown or forgotten."""
        if not job_id.startswith(JOB_ID) or len(job_id) > 80:
            return None
        try:
            job = Job.fetch(job_id, connection=self.redis, serializer=JSONSerializer)
            ours = job.origin == self.name and job.meta.get("kind") == KIND
            return _view(job) if ours else None
        except NoSuchJobError:
            return None
        except RedisError as error:
            raise _no_queue(error) from error

    def wait(self, job_id: str, *, seconds: float) -> PlanJob:
        """The job when it has finished, or as it is when ``seconds`` have passed."""
        deadline = time.monotonic() + seconds
        while True:
            job = self.find(job_id)
            if job is None:
                raise PlannerUnavailable("The planning job was lost; nothing was saved. Try again.")
            if job.finished or time.monotonic() >= deadline:
                return job
            time.sleep(POLL_S)

    def _submit(self, order: PlanOrder) -> PlanJob:
        day_key = f"{self.name}:plan-day:{order.day.isoformat()}"
        timeout = int(self.wait_s(order.time_limit_s)) + 1
        for _ in range(3):
            job_id = f"{JOB_ID}{uuid4().hex}"
            if self.redis.set(day_key, job_id, nx=True, ex=KEEP_S):
                job = self.queue.enqueue_call(
                    run_plan_order,
                    args=(order.values(),),
                    job_id=job_id,
                    timeout=timeout,
                    result_ttl=KEEP_S,
                    failure_ttl=KEEP_S,
                    description=f"plan {order.day.isoformat()}",
                    meta={
                        "kind": KIND,
                        "day": order.day.isoformat(),
                        "time_limit_s": order.time_limit_s,
                    },
                )
                return _view(job)
            holder = self.redis.get(day_key)
            if isinstance(holder, bytes):
                holder = holder.decode()
            running = self.find(holder) if holder else None
            if running is not None and _live(running, timeout):
                return running
            self.redis.eval(_DELETE_IF_EQUAL, 1, day_key, holder or "")
        raise PlannerUnavailable("The planning queue is busy; try again in a moment.")


def make_plan(
    database: Database,
    queue: PlanQueue | None,
    order: PlanOrder,
    *,
    calendar: WorkingCalendar,
    source: TravelSource,
) -> int:
    """The order's plan, made here when there is no queue, else by a worker; its id."""
    if queue is None:
        return planning.plan_day(
            database,
            order.day,
            now=order.now,
            today=order.now.astimezone(calendar.zone).date(),
            calendar=calendar,
            source=source,
            time_limit_s=order.time_limit_s,
            by=order.by,
            client=order.client,
        )
    planning.check_day(order.day, order.now.astimezone(calendar.zone).date())
    job = queue.submit(order)
    return plan_of(queue.wait(job.id, seconds=queue.wait_s(order.time_limit_s)))


def plan_of(job: PlanJob) -> int:
    """The plan a job made; its failure, or its not having finished, as a clear error."""
    if job.status == DONE and job.plan_id is not None:
        return job.plan_id
    if job.problem is not None:
        raise Relayed(
            status=int(job.problem["status"]),
            slug=str(job.problem["slug"]),
            title=str(job.problem["title"]),
            detail=str(job.problem["detail"]),
            errors=job.problem.get("errors"),
        )
    if job.status == FAILED:
        raise PlannerUnavailable(
            "The planner stopped before the plan was made (its worker failed or was "
            "stopped); nothing was saved. Try again.",
            job=job.id,
        )
    raise PlannerUnavailable(
        f"The plan is not made yet (it is {job.status}); it will be saved when it is. "
        "Follow the job, or ask again to wait for the same one.",
        job=job.id,
    )


def _view(job: Job) -> PlanJob:
    status = job.get_status(refresh=False)
    meta = job.meta
    state = {
        JobStatus.FINISHED: DONE,
        JobStatus.STARTED: RUNNING,
        JobStatus.FAILED: FAILED,
        JobStatus.STOPPED: FAILED,
        JobStatus.CANCELED: FAILED,
    }.get(status, QUEUED)
    result = job.return_value() if state == DONE else None
    return PlanJob(
        id=job.id,
        day=date.fromisoformat(meta["day"]),
        status=state,
        progress=_progress(state, meta),
        plan_id=result if isinstance(result, int) else None,
        problem=meta.get("problem") if state == FAILED else None,
        worker=job.worker_name or None,
        queued_at=_aware(job.enqueued_at),
        started_at=_aware(job.started_at),
        ended_at=_aware(job.ended_at),
    )


def _progress(state: str, meta: dict[str, Any]) -> float | None:
    """How far along: the search's share of its time limit while it runs."""
    if state == DONE:
        return 1.0
    if state == FAILED:
        return None
    stage = meta.get("stage")
    if state == QUEUED or stage in (None, "loading"):
        return 0.0
    if stage == "saving":
        return 0.99
    since = datetime.fromisoformat(meta["stage_at"])
    spent = (utcnow() - since).total_seconds()
    return round(min(max(spent / float(meta["time_limit_s"]), 0.0), 0.99), 3)


def _live(job: PlanJob, timeout_s: int) -> bool:
    """Still making its plan: queued, or started no longer ago than it may run."""
    if job.status == QUEUED:
        return True
    started = job.started_at
    return job.status == RUNNING and (
        started is None or utcnow() - started < timedelta(seconds=timeout_s)
    )


def _aware(instant: datetime | None) -> datetime | None:
    if instant is None:
        return None
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def _no_queue(error: RedisError) -> PlannerUnavailable:
    problem = PlannerUnavailable(
        f"The planning queue cannot be reached ({type(error).__name__}); try again shortly."
    )
    return problem


_DELETE_IF_EQUAL = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
