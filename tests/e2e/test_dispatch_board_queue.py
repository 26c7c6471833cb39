"""The board with a planning queue: the page follows the worker's job to the plan."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer

from partsvc import create_app
from partsvc.platform.config import Settings
from tests.e2e.conftest import PLAN_SECONDS, LiveServer, demo_database, log_in, screenshot, serving
from tests.workers import RunningWorker, running_worker


@pytest.fixture(scope="module")
def queued(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str
) -> Iterator[tuple[LiveServer, RunningWorker]]:
    """A live server on its own demo database whose plans a ``partsvc worker`` makes."""
    folder = tmp_path_factory.mktemp("e2e-queue")
    url = f"sqlite:///{folder / 'partsvc.db'}"
    database, clock = demo_database(url)
    with running_worker(url, folder, redis_url) as worker:
        settings = Settings(
            database_url=url,
            secret_key="e2e-secret",
            plan_time_limit_s=PLAN_SECONDS,
            redis_url=redis_url,
            plan_queue=worker.queue,
        )
        app = create_app(settings, database=database, clock=clock)
        with serving(app, database, clock) as server:
            yield server, worker


def test_the_board_shows_the_worker_s_progress_and_opens_with_its_plan(
    page: Page, queued: tuple[LiveServer, RunningWorker]
) -> None:
    server, worker = queued
    log_in(page, server, "dispatch", start="/board")
    page.get_by_role("button", name=re.compile("Plan the day")).click(no_wait_after=True)
    expect(page.locator("#plan-status")).to_contain_text(re.compile("Planning…|Waiting"))
    expect(page.locator("#plan-progress")).not_to_have_attribute("value", "0")
    screenshot(page, "dispatch-planning-on-a-worker")
    expect(page.get_by_role("status").first).to_contain_text("is ready as a draft", timeout=60_000)
    expect(page.locator("#timeline rect").first).to_be_visible()

    finished = Queue(worker.queue, connection=worker.redis).finished_job_registry
    [job_id] = finished.get_job_ids()
    job = Job.fetch(job_id, connection=worker.redis, serializer=JSONSerializer)
    assert job.worker_name == worker.name
    expect(page.get_by_role("status").first).to_contain_text(f"Plan {job.return_value()} ")
