"""Every page against every role: a role a page is not for gets the 403 page, GET or POST,
and nobody logged in is sent to the login page. The pages are found from the app itself,
so a new page is covered the day it is added."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from partsvc.auth.models import User
from tests.web.conftest import csrf_token, login

ROLES = ("admin", "clerk", "dispatcher", "engineer")


def pages(app: Flask) -> list[tuple[str, str, frozenset[str]]]:
    """(method, path with made-up keys, roles) of every page view."""
    found = []
    for rule in app.url_map.iter_rules():
        roles = getattr(app.view_functions[rule.endpoint], "page_roles", None)
        if roles is None:
            continue
        path = re.sub(r"<int:[^>]+>", "999999", rule.rule)
        path = re.sub(r"<any\(([^,)]+)[^>]*>", r"\1", path)  # the first of the choices
        path = re.sub(r"<[^>]+>", "NO-SUCH-KEY", path)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, path, roles))
    return found


def test_the_app_has_the_pages_of_each_area(app: Flask) -> None:
    paths = {path for _, path, _ in pages(app)}
    assert {"/desk", "/board", "/my/day", "/manager"} <= paths


OPEN_TO_ALL = {
    "web.login",
    "web.logout",
    "language.choose",
    "static",
    "swagger_ui_static",
    "favicon",
    "healthz",
    "readyz",
    "metrics",
    "customer.report",
    "customer.tracking",
    "customer.rate",
    "customer.service_record",
}
"""Views anyone may reach: logging in and out, choosing the pages' language, static files,
the API's docs, health, readiness and metrics (closed by PARTSVC_METRICS_TOKEN when set, see
test_operations), and the customer's pages behind a unit's label token or a call's
tracking id (tests/web/test_customer_report.py)."""


def test_every_view_outside_the_api_is_a_page_with_roles(app: Flask) -> None:
    """Whatever is served outside /api/ (tests/api/test_roles.py holds the API's policy)
    is a page that declares its roles, or one of the few views open to anyone."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.endpoint in OPEN_TO_ALL:
            continue
        assert hasattr(app.view_functions[rule.endpoint], "page_roles"), rule.rule


def test_a_view_outside_the_api_without_roles_is_caught(app: Flask) -> None:
    app.add_url_rule("/reports/secret", "secret", lambda: "secret")
    with pytest.raises(AssertionError, match="/reports/secret"):
        test_every_view_outside_the_api_is_a_page_with_roles(app)


@pytest.mark.parametrize("role", ROLES)
def test_each_page_is_open_only_to_its_roles(
    app: Flask, client: FlaskClient, users: dict[str, User], role: str
) -> None:
    login(client, role)
    token = csrf_token(client.get("/manager").text)  # any page carries the logout form
    for method, path, roles in pages(app):
        data = {"csrf_token": token} if method == "POST" else None
        answer = client.open(path, method=method, data=data)
        if role in roles:  # the page may still refuse the key, but not the role
            assert b"Not for your role" not in answer.get_data(), (method, path, role)
            assert answer.status_code < 500, (method, path, role)
        else:
            assert answer.status_code == 403, (method, path, role, answer.status_code)
            assert "Not for your role" in answer.text


def test_nobody_logged_in_is_sent_to_log_in(app: Flask, client: FlaskClient) -> None:
    token = csrf_token(client.get("/login").text)
    for method, path, _ in pages(app):
        data = {"csrf_token": token} if method == "POST" else None
        answer = client.open(path, method=method, data=data)
        assert answer.status_code == 302, (method, path)
        assert answer.headers["Location"].startswith("/login"), (method, path)


def test_a_month_that_is_not_one_is_refused_in_words(
    client: FlaskClient, users: dict[str, User]
) -> None:
    login(client, "admin")
    answer = client.get("/manager?month=2026-13")
    assert answer.status_code == 422
    assert "write it as YYYY-MM" in answer.text
