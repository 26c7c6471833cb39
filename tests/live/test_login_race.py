"""Simultaneous wrong logins for one username check no more passwords than the lockout
allows (issue 23, finding 6), on SQLite and PostgreSQL: a live threaded server, each
request with its own database connection, committed for real."""

from __future__ import annotations

import http.client
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from partsvc import create_app
from partsvc.auth.identity import create_user, set_password
from partsvc.platform.config import Settings
from partsvc.platform.db import Database
from partsvc.web import login as login_page

pytestmark = pytest.mark.concurrency

ATTEMPTS = 30


@pytest.fixture
def server_port(database_url: str) -> Iterator[int]:
    database = Database(database_url, pool_size=ATTEMPTS)
    settings = Settings(database_url=database_url, secret_key="test", login_rate="1000/minute")
    app = create_app(settings, database=database, WTF_CSRF_ENABLED=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with database.unit_of_work() as session:
            set_password(create_user(session, username=USERNAME, role="clerk"), "right password")
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=10)
        database.dispose()


USERNAME = f"racer-{uuid.uuid4().hex[:8]}"


def test_30_simultaneous_wrong_logins_check_at_most_5_passwords(
    server_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real_check = login_page.check_password

    def counting_check(*args: Any) -> Any:
        checked.append(args[1])
        return real_check(*args)

    monkeypatch.setattr(login_page, "check_password", counting_check)
    start = threading.Barrier(ATTEMPTS)
    statuses: list[int] = []

    def attempt() -> None:
        body = urllib.parse.urlencode({"username": USERNAME, "password": "wrong password"})
        connection = http.client.HTTPConnection("127.0.0.1", server_port, timeout=60)
        start.wait()
        connection.request(
            "POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        statuses.append(connection.getresponse().status)
        connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(statuses) == ATTEMPTS
    assert len(checked) == 5
    assert sorted(statuses) == [401] * 4 + [429] * 26
