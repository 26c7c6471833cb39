"""Security headers: a strict Content-Security-Policy and frame denial on every page,
nosniff on everything, HSTS only over HTTPS (a proxy's word believed only when configured)."""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from partsvc import create_app
from partsvc.platform.config import Settings
from partsvc.platform.db import Database
from tests.conftest import Clock
from tests.web.conftest import login


def test_a_page_forbids_inline_script_framing_and_outside_sources(client: FlaskClient) -> None:
    answer = client.get("/login")
    assert answer.status_code == 200
    policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "base-uri 'self'" in policy
    assert "form-action 'self'" in policy
    assert "unsafe-inline" not in policy
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["Referrer-Policy"] == "same-origin"


def test_every_page_a_user_sees_carries_the_policy(client: FlaskClient, users) -> None:  # type: ignore[no-untyped-def]
    login(client, "admin")
    for path in ("/desk", "/board", "/manager", "/no-such-page"):
        answer = client.get(path)
        assert answer.mimetype in {"text/html", "application/problem+json"}, path
        if answer.mimetype == "text/html":
            assert "default-src 'self'" in answer.headers["Content-Security-Policy"], path


def test_the_pages_hold_no_inline_script_or_style(client: FlaskClient, users) -> None:  # type: ignore[no-untyped-def]
    login(client, "admin")
    for path in ("/login", "/desk", "/board", "/manager", "/engineers/E-NONE/day"):
        page = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), path
        assert "<style" not in page, path
        assert not re.search(r"\sstyle=", page), path
        assert not re.search(r"\son[a-z]+=", page), path


def test_json_answers_are_not_sniffed_and_carry_no_page_policy(client: FlaskClient) -> None:
    answer = client.get("/api/v1/parts")
    assert answer.status_code == 401
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in answer.headers


def test_plain_http_gets_no_hsts_and_https_does(client: FlaskClient) -> None:
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://partsvc.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_forwarded_proto_is_ignored_unless_a_proxy_is_configured(
    database: Database, database_url: str, connection: object, clock: Clock
) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    for behind_proxy, expected in ((False, False), (True, True)):
        app = create_app(
            Settings(database_url=database_url, secret_key="test", proxy_fix=behind_proxy),
            clock=clock,
            database=database,
            TESTING=True,
        )
        answer = app.test_client().get("/login", headers=forwarded)
        assert ("Strict-Transport-Security" in answer.headers) is expected


def test_the_api_docs_may_run_exactly_their_own_inline_script(
    app: Flask, client: FlaskClient
) -> None:
    answer = client.get("/api/v1/docs")
    assert answer.status_code == 200
    policy = answer.headers["Content-Security-Policy"]
    scripts = re.findall(r"<script>(.*?)</script>", answer.text, re.DOTALL)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}'" in policy
    assert "unsafe-inline" not in policy


def test_other_pages_get_no_script_hash(client: FlaskClient, session: Session) -> None:
    assert "sha256-" not in client.get("/login").headers["Content-Security-Policy"]
