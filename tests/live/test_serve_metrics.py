"""``partsvc serve`` with two gunicorn workers: /metrics adds up what every worker counted,
those since replaced included, and the server logs one JSON object per line."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.processes import free_port

pytestmark = pytest.mark.concurrency

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = 40


def _get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def _wait_until_up(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server stopped"
        try:
            if _get(port, "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not come up")


def _workers(master: int) -> set[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {int(pid) for pid in children}


def _replace_workers(master: int) -> None:
    """Stop every worker; gunicorn starts new ones in their place."""
    old = _workers(master)
    for pid in old:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = _workers(master)
        if len(now) == len(old) and not now & old:
            return
        time.sleep(0.2)
    raise AssertionError("gunicorn did not replace its workers")


def _ask(port: int, count: int) -> list[int]:
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda _: _get(port, "/readyz")[0], range(count)))


def test_two_workers_share_one_set_of_metrics_and_log_json(
    own_database: str, tmp_path: Path
) -> None:
    port = free_port()
    samples = tmp_path / "metrics"
    log = tmp_path / "serve.log"
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PARTSVC_DATABASE_URL": own_database,
        "PARTSVC_INSTANCE_DIR": str(tmp_path),
        "PARTSVC_SECRET_KEY": "serve-test",
        "PARTSVC_LOG_FORMAT": "json",
        "PROMETHEUS_MULTIPROC_DIR": str(samples),
    }
    command = [sys.executable, "-c", "from partsvc.cli import main; main()"]
    command += ["serve", "--port", str(port), "--workers", "2"]
    with log.open("wb") as output:
        server = subprocess.Popen(command, env=environment, stdout=output, stderr=output)
    try:
        _wait_until_up(port, server)
        assert _ask(port, REQUESTS // 2) == [200] * (REQUESTS // 2)
        _replace_workers(server.pid)
        _wait_until_up(port, server)
        assert _ask(port, REQUESTS // 2) == [200] * (REQUESTS // 2)
        status, body = _get(port, "/metrics")
        assert status == 200
        line = 'partsvc_http_requests_total{endpoint="/readyz",method="GET",status="200"}'
        (counted,) = [row for row in body.decode().splitlines() if row.startswith(line)]
        assert float(counted.split()[-1]) == REQUESTS
        writers = {path.name.rsplit("_", 1)[-1] for path in samples.glob("counter_*.db")}
        assert len(writers) >= 2, writers  # the old workers' and the new ones' samples
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    lines = [json.loads(row) for row in log.read_text().splitlines() if row.strip()]
    served = [row for row in lines if row.get("path") == "/readyz"]
    assert len(served) == REQUESTS
    assert all(row["status"] == 200 and row["request_id"] for row in served)


def test_serve_removes_the_temporary_metrics_folder_it_made_when_it_stops(
    own_database: str, tmp_path: Path
) -> None:
    """Issue 23 (8): no ``partsvc-metrics-*`` folder is left behind by each run."""
    port = free_port()
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    environment = {
        **{k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
        "PYTHONPATH": str(ROOT),
        "TMPDIR": str(temporary),
        "PARTSVC_DATABASE_URL": own_database,
        "PARTSVC_INSTANCE_DIR": str(tmp_path),
        "PARTSVC_SECRET_KEY": "serve-test",
    }
    command = [sys.executable, "-c", "from partsvc.cli import main; main()"]
    command += ["serve", "--port", str(port), "--workers", "1"]
    server = subprocess.Popen(command, env=environment, stderr=subprocess.DEVNULL)
    try:
        _wait_until_up(port, server)
        assert _get(port, "/metrics")[0] == 200
        assert [path.name[:16] for path in temporary.iterdir()] == ["partsvc-metrics-"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert list(temporary.iterdir()) == []
