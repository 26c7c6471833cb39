"""A database that accepts connections and never answers (issue 23, finding 2): the
liveness check stays instant, readiness says 503 within seconds, the API answers 503
problem+json with Retry-After and the pages a page saying to try again shortly."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask

from partsvc import create_app
from partsvc.platform.config import Settings


@pytest.fixture
def silent_database() -> Iterator[str]:
    """A PostgreSQL URL whose server completes the TCP handshake and says nothing."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)  # the kernel accepts; nobody ever reads or writes
    try:
        yield f"postgresql+psycopg://partsvc@127.0.0.1:{listener.getsockname()[1]}/partsvc"
    finally:
        listener.close()


@pytest.fixture
def stalled_app(silent_database: str, request: pytest.FixtureRequest) -> Flask:
    """The app on the silent database; with the default connect timeout (3 s) for the
    readiness test, with libpq's shortest (2 s) for the others, to spare the suite's time."""
    timeout = 3 if request.node.name.startswith("test_readyz") else 2
    settings = Settings(
        database_url=silent_database,
        secret_key="test",
        default_locale="en",
        db_connect_timeout_s=timeout,
    )
    return create_app(settings, TESTING=True)


def test_readyz_says_503_within_5_s_while_healthz_answers_at_once(stalled_app: Flask) -> None:
    ready: dict[str, object] = {}

    def ask_ready() -> None:
        started = time.monotonic()
        answer = stalled_app.test_client().get("/readyz")
        ready.update(
            status=answer.status_code, body=answer.json, seconds=time.monotonic() - started
        )

    asking = threading.Thread(target=ask_ready)
    asking.start()
    health_times = []
    while asking.is_alive():
        started = time.monotonic()
        health = stalled_app.test_client().get("/healthz")
        health_times.append(time.monotonic() - started)
        assert health.status_code == 200
        asking.join(timeout=0.2)
    assert ready["status"] == 503
    assert ready["body"]["database"] == "unreachable"  # type: ignore[index]
    assert ready["seconds"] <= 5
    assert len(health_times) >= 3
    assert max(health_times) < 0.1


def test_the_api_answers_503_problem_json_with_retry_after(stalled_app: Flask) -> None:
    started = time.monotonic()
    answer = stalled_app.test_client().get(
        "/api/v1/parts", headers={"Authorization": "Bearer psv_anything"}
    )
    assert time.monotonic() - started <= 5
    assert answer.status_code == 503
    assert answer.content_type == "application/problem+json"
    assert answer.json["type"] == "/problems/database-unavailable"
    assert answer.headers["Retry-After"] == "5"


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "Please try again shortly"), ("zh-CN", "请稍后再试")],
)
def test_a_page_says_to_try_again_shortly_in_the_users_language(
    stalled_app: Flask, language: str, words: str
) -> None:
    client = stalled_app.test_client()
    with client.session_transaction() as cookie:
        cookie["user_id"] = 1
    answer = client.get("/desk", headers={"Accept-Language": language})
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert words in answer.text
    assert "Traceback" not in answer.text
