"""The HTML pages: login, the clerk desk, the dispatch board, the engineer's day, the
manager's view. Server-rendered Jinja with a few lines of plain JavaScript."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, g, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError, CSRFProtect

csrf = CSRFProtect()

NAV = (
    ("desk.home", _l("Clerk desk"), {"clerk", "admin"}),
    ("board.home", _l("Dispatch board"), {"dispatcher", "admin"}),
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
        customer_file,
        desk,
        downloads,
        holds,
        language,
        login,
        manager,
        myday,
        prints,
    )

    app.session_interface = SessionCookies()
    csrf.init_app(app)
    for blueprint in api_blueprints:
        csrf.exempt(blueprint)
    app.register_error_handler(CSRFError, _form_expired)
    app.context_processor(_navigation)
    language.init(app)
    app.register_blueprint(login.bp)
    app.register_blueprint(desk.bp)
    app.register_blueprint(myday.bp)
    app.register_blueprint(board.bp)
    app.register_blueprint(manager.bp)
    app.register_blueprint(prints.bp)
    app.register_blueprint(holds.bp)
    app.register_blueprint(customer_file.bp)
    app.register_blueprint(downloads.bp)


def _form_expired(error: CSRFError) -> tuple[str, int]:
    return render_template("form_expired.html", reason=error.description), 400


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
