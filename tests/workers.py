"""A real ``partsvc worker`` process on a queue of its own, for the tests that need one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from redis import Redis
from rq import Queue, Worker
from rq.serializers import JSONSerializer

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class RunningWorker:
    queue: str
    name: str
    redis: Redis
    url: str


@contextmanager
def running_worker(
    database_url: str, instance_dir: Path, redis_url: str
) -> Iterator[RunningWorker]:
    """Start ``partsvc worker`` on ``database_url`` and the Redis at ``redis_url``; stop it
    and forget its queue after."""
    redis = Redis.from_url(redis_url)
    redis.ping()
    queue, name = f"test-plans-{uuid.uuid4().hex[:10]}", f"test-worker-{uuid.uuid4().hex[:8]}"
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PARTSVC_DATABASE_URL": database_url,
        "PARTSVC_REDIS_URL": redis_url,
        "PARTSVC_PLAN_QUEUE": queue,
        "PARTSVC_INSTANCE_DIR": str(instance_dir),
        "PARTSVC_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "partsvc", "worker", "--name", name], env=environment, cwd=ROOT
    )
    try:
        wait_for(lambda: name in {w.name for w in Worker.all(connection=redis)}, "the worker")
        yield RunningWorker(queue, name, redis, redis_url)
    finally:
        stop(process)
        forget(redis, queue)


def stop(process: subprocess.Popen[bytes]) -> None:
    """A warm shutdown; if a job is still being worked on after 5 s, a second SIGTERM
    (rq's cold shutdown ends the job's work-horse), and SIGKILL as a last resort."""
    for signal_, seconds in ((signal.SIGTERM, 5), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        process.send_signal(signal_)
        try:
            process.wait(timeout=seconds)
            return
        except subprocess.TimeoutExpired:
            continue


def forget(redis: Redis, queue: str) -> None:
    """Delete a test queue from the shared Redis: its jobs, their results, its registries."""
    rq_queue = Queue(queue, connection=redis, serializer=JSONSerializer)
    registries = [rq_queue.finished_job_registry, rq_queue.failed_job_registry]
    for job_id in {job_id for registry in registries for job_id in registry.get_job_ids()}:
        for key in redis.scan_iter(f"rq:*{job_id}*"):
            redis.delete(key)
    rq_queue.delete(delete_jobs=True)
    for pattern in (f"{queue}:*", f"rq:*:{queue}*"):
        for key in redis.scan_iter(pattern):
            redis.delete(key)


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.1)
