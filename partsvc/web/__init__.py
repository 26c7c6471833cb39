"""The HTML pages: login, the clerk desk, the dispatch board, the engineer's day, the
manager's view. Server-rendered Jinja with a few lines of plain JavaScript."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, g, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from partsvc.http import problems
from partsvc.http.problems import handle_http_exception

csrf = CSRFProtect()

NAV = (
    ("desk.home", _l("Clerk desk"), {"clerk", "admin"}),
    ("board.home", _l("Dispatch board"), {"dispatcher", "admin"}),
    ("rmas.home", _l("RMAs"), {"dispatcher", "clerk", "admin"}),
    ("customer_file.home", _l("Customer file"), {"dispatcher", "admin"}),
    ("myday.home", _l("My day"), {"engineer"}),
    ("manager.home", _l("Manager"), {"admin"}),
)
"""The pages each role works in, in the header of every page."""


class SessionCookies(SecureCookieSessionInterface):
    """The login cookie is Secure whenever the page came over HTTPS (or config says so)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def register(app: Flask, api_blueprints: list[Blueprint]) -> None:
    """Pages, login cookies and CSRF checks; the bearer-token API needs no CSRF token."""
    from partsvc.web import (
        board,
        calls,
        customer,
        customer_file,
        desk,
        downloads,
        holds,
        language,
        login,
        manager,
        myday,
        prints,
        reorder_rules,
        rmas,
        units,
    )

    app.session_interface = SessionCookies()
    csrf.init_app(app)
    for blueprint in api_blueprints:
        csrf.exempt(blueprint)
    app.register_error_handler(CSRFError, _form_expired)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(PoolTimeout, _database_unavailable)
    app.register_error_handler(NotFound, _not_found)
    app.register_error_handler(MethodNotAllowed, _not_found)
    app.context_processor(_navigation)
    language.init(app)
    app.register_blueprint(login.bp)
    app.register_blueprint(desk.bp)
    app.register_blueprint(reorder_rules.bp)
    app.register_blueprint(myday.bp)
    app.register_blueprint(board.bp)
    app.register_blueprint(calls.bp)
    app.register_blueprint(rmas.bp)
    app.register_blueprint(manager.bp)
    app.register_blueprint(prints.bp)
    app.register_blueprint(units.bp)
    app.register_blueprint(customer.bp)
    app.register_blueprint(holds.bp)
    app.register_blueprint(customer_file.bp)
    app.register_blueprint(downloads.bp)


def _form_expired(error: CSRFError) -> tuple[str, int]:
    return render_template("form_expired.html", reason=error.description), 400


def _database_unavailable(error: Exception) -> Any:
    """The API's answer (problem+json, 503 or the busy/other answer); on a page, a page
    in the user's language saying to try again shortly."""
    answer = (
        problems.handle_operational_error(error)
        if isinstance(error, OperationalError)
        else problems.database_unavailable(error)
    )
    if request.path.startswith("/api/") or answer.status_code != 503:
        return answer
    retry = answer.headers.get("Retry-After", str(problems.UNAVAILABLE_RETRY_S))
    return render_template("unavailable.html"), 503, {"Retry-After": retry}


API_PREFIXES = ("/api/", "/static/")
"""Addresses whose errors stay problem+json (or plain): a program reads them, not a person."""


def _not_found(error: HTTPException) -> Any:
    """A mistyped page address: a page that says so, in the user's language; the API's
    addresses keep their problem+json."""
    if request.path.startswith(API_PREFIXES) or not request.accept_mimetypes.accept_html:
        return handle_http_exception(error)
    return render_template("not_found.html", path=request.path), error.code or 404


def _navigation() -> dict[str, Any]:
    user = g.get("user")
    if user is None:
        return {"nav": []}
    return {
        "nav": [
            (endpoint, label)
            for endpoint, label, roles in NAV
            if user.role in roles and endpoint in current_app.view_functions
        ]
    }
