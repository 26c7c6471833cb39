"""What operators watch: health, readiness (database and migrations), request ids and
structured logs, and Prometheus metrics that move with requests, moves and planner runs."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.orm import Session

from partsvc import create_app
from partsvc.cli import main
from partsvc.platform import migrate
from partsvc.platform.config import Settings
from partsvc.platform.db import Database
from partsvc.platform.logs import JsonFormatter, request_id
from tests.conftest import AppMaker, Clock
from tests.factories import NOW, make_location, make_part, receive


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_healthz_answers_while_the_process_runs(client: FlaskClient) -> None:
    assert client.get("/healthz").json == {"status": "ok"}


def test_readyz_is_ready_when_the_database_answers_at_the_newest_migration(
    client: FlaskClient,
) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json == {"status": "ready", "database": "ok", "migrations": "current"}


def test_readyz_says_the_migrations_are_behind_when_the_database_is_at_an_older_one(
    client: FlaskClient, connection: object, session: Session
) -> None:
    (head,) = migrate.revisions(session.connection())[1]
    session.execute(text("UPDATE alembic_version SET version_num = '0013'"))
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.content_type == "application/problem+json"
    assert answer.json["database"] == "ok"
    assert answer.json["migrations"] == "not at head"
    assert answer.json["current"] == ["0013"]
    assert answer.json["head"] == [head]
    assert "partsvc db upgrade" in answer.json["detail"]
    assert answer.headers["Retry-After"]


def test_readyz_says_the_database_does_not_answer(tmp_path: Path, clock: Clock) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'partsvc.db'}"
    database = Database(url)
    app = create_app(Settings(database_url=url, secret_key="test"), clock=clock, database=database)
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.content_type == "application/problem+json"
    assert answer.json["database"] == "unreachable"
    database.dispose()


def test_a_sane_request_id_is_kept_and_echoed_and_others_are_replaced(
    client: FlaskClient,
) -> None:
    kept = client.get("/healthz", headers={"X-Request-Id": "lb-4f2a.9"})
    assert kept.headers["X-Request-Id"] == "lb-4f2a.9"
    for odd in ("", "two words", "x" * 65, "a/b", "<script>"):
        answer = client.get("/healthz", headers={"X-Request-Id": odd})
        made = answer.headers["X-Request-Id"]
        assert made != odd
        assert len(made) == 16
    first, second = client.get("/healthz"), client.get("/healthz")
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]


def test_each_request_is_logged_with_its_id_route_status_time_and_user(
    client: FlaskClient, auth: dict[str, dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="partsvc.request")
    client.get("/api/v1/parts", headers={**auth["clerk"], "X-Request-Id": "req-1"})
    (record,) = [r for r in caplog.records if r.name == "partsvc.request"]
    line = json.loads(_as_json(record, "req-1"))
    assert line["request_id"] == "req-1"
    assert line["method"] == "GET"
    assert line["path"] == "/api/v1/parts"
    assert line["status"] == 200
    assert line["user"] == "test-clerk"
    assert isinstance(line["duration_ms"], float)
    assert {"time", "level", "logger", "message"} <= set(line)


def _as_json(record: logging.LogRecord, rid: str) -> str:
    token = request_id.set(rid)
    try:
        return JsonFormatter().format(record)
    finally:
        request_id.reset(token)


def test_a_json_log_line_is_one_object_even_with_an_exception_and_chinese() -> None:
    try:
        raise ValueError("坏了")
    except ValueError:
        record = logging.LogRecord("partsvc", logging.ERROR, __file__, 1, "出错 %s", ("x",), None)
        import sys

        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "出错 x"
    assert parsed["level"] == "ERROR"
    assert parsed["request_id"] is None
    assert "坏了" in parsed["exception"]


def test_metrics_count_requests_by_route_method_and_status(
    client: FlaskClient, auth: dict[str, dict[str, str]]
) -> None:
    labels = {"endpoint": "/api/v1/parts/<sku>", "method": "GET", "status": "404"}
    before = sample("partsvc_http_requests_total", **labels)
    timed = sample("partsvc_http_request_duration_seconds_count", **labels)
    client.get("/api/v1/parts/NO-SUCH", headers=auth["clerk"])
    client.get("/api/v1/parts/NOR-THIS", headers=auth["clerk"])
    assert sample("partsvc_http_requests_total", **labels) == before + 2
    assert sample("partsvc_http_request_duration_seconds_count", **labels) == timed + 2
    page = client.get("/metrics")
    assert page.status_code == 200
    assert page.mimetype == "text/plain"
    assert 'endpoint="/api/v1/parts/<sku>"' in page.text
    assert "NO-SUCH" not in page.text


def test_metrics_need_the_metrics_token_when_one_is_set(
    database: Database, database_url: str, connection: object, clock: Clock
) -> None:
    settings = Settings(database_url=database_url, secret_key="test", metrics_token="m-secret")
    client = create_app(settings, clock=clock, database=database).test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    answer = client.get("/metrics", headers={"Authorization": "Bearer m-secret"})
    assert answer.status_code == 200


def test_in_production_metrics_are_closed_until_their_token_is_set(make_app: AppMaker) -> None:
    """Issue 23 (8): open by default in development, closed in production without a token."""
    assert make_app().test_client().get("/metrics").status_code == 200
    closed = make_app(env="production").test_client().get("/metrics")
    assert closed.status_code == 401
    assert "PARTSVC_METRICS_TOKEN" in closed.json["detail"]
    assert closed.headers["WWW-Authenticate"].startswith("Bearer")
    client = make_app(env="production", metrics_token="m-secret").test_client()
    assert client.get("/metrics", headers={"Authorization": "Bearer m-secret"}).status_code == 200


def test_a_move_is_counted_when_committed_by_its_kinds_of_locations(
    client: FlaskClient, auth: dict[str, dict[str, str]], session: Session
) -> None:
    part = make_part(session)
    shelf, van = make_location(session), make_location(session, "van")
    receive(session, part, shelf, 5)
    session.commit()
    labels = {"from_kind": "warehouse", "to_kind": "van"}
    before = sample("partsvc_moves_posted_total", **labels)
    body = {"sku": part.sku, "qty": 2, "from": shelf.code, "to": van.code, "reason": "issue"}
    assert client.post("/api/v1/moves", json=body, headers=auth["clerk"]).status_code == 201
    assert sample("partsvc_moves_posted_total", **labels) == before + 1
    refused = client.post("/api/v1/moves", json={**body, "qty": 9}, headers=auth["clerk"])
    assert refused.status_code == 409
    assert sample("partsvc_moves_posted_total", **labels) == before + 1


def test_a_move_rolled_back_with_its_savepoint_or_transaction_is_not_counted(
    session: Session,
) -> None:
    part = make_part(session)
    shelf, van = make_location(session), make_location(session, "van")
    before = sample("partsvc_moves_posted_total", from_kind="vendor", to_kind="warehouse")
    with session.begin_nested() as savepoint:
        receive(session, part, shelf, 1)
        savepoint.rollback()
    receive(session, part, van, 1)
    session.commit()
    assert sample("partsvc_moves_posted_total", from_kind="vendor", to_kind="warehouse") == before
    assert sample("partsvc_moves_posted_total", from_kind="vendor", to_kind="van") >= 1
    receive(session, part, shelf, 1)
    session.rollback()
    assert sample("partsvc_moves_posted_total", from_kind="vendor", to_kind="warehouse") == before


def test_a_planner_run_is_counted_with_its_time_and_outcome(
    client: FlaskClient, auth: dict[str, dict[str, str]]
) -> None:
    runs = sample("partsvc_planner_runs_total", outcome="complete")
    timed = sample("partsvc_planner_duration_seconds_count", outcome="complete")
    answer = client.post(
        "/api/v1/plans",
        json={"date": NOW.date().isoformat(), "time_limit_s": 0.5},
        headers=auth["dispatcher"],
    )
    assert answer.status_code == 201, answer.json
    assert sample("partsvc_planner_runs_total", outcome="complete") == runs + 1
    assert sample("partsvc_planner_duration_seconds_count", outcome="complete") == timed + 1


def test_the_metrics_page_and_readyz_need_no_login(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/metrics").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_the_sweep_logs_its_summary_as_json_with_a_run_id(
    database: Database, session: Session, clock: Clock
) -> None:
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(JsonFormatter())
    sweep_log = logging.getLogger("partsvc.sweep")
    sweep_log.addHandler(handler)
    sweep_log.setLevel(logging.INFO)
    try:
        result = CliRunner().invoke(
            main, ["sweep"], obj={"database": database, "clock": clock}, catch_exceptions=False
        )
    finally:
        sweep_log.removeHandler(handler)
        sweep_log.setLevel(logging.NOTSET)
    assert result.exit_code == 0, result.output
    (line,) = [json.loads(row) for row in written.getvalue().splitlines()]
    assert line["message"].startswith("sweep: ")
    assert line["logger"] == "partsvc.sweep"
    assert line["request_id"].startswith("run-")
    assert request_id.get() is None  # the run's id does not outlive the run
