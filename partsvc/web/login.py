"""Logging in and out of the pages with a username and password."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from partsvc.auth.models import Role
from partsvc.auth.services import check_password, hash_is_weak, renew_hash
from partsvc.http import database
from partsvc.throttle import count_login
from partsvc.web.pages import USER_KEY, current_caller, page

bp = Blueprint("web", __name__)

HOME = {
    Role.CLERK: "desk.home",
    Role.DISPATCHER: "board.home",
    Role.ENGINEER: "myday.home",
    Role.ADMIN: "manager.home",
}
"""Where each role lands after logging in: the page of their daily work."""


class LoginForm(FlaskForm):  # type: ignore[misc]
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        if (wait := count_login(form.username.data)) is not None:
            refused = render_template("login.html", form=form, wait_s=wait)
            return refused, 429, {"Retry-After": str(wait)}
        # Read only: a login attempt never holds SQLite's write lock while Argon2 works.
        with database().unit_of_work(write=False) as db_session:
            caller = check_password(db_session, form.username.data, form.password.data)
            weak = caller is not None and hash_is_weak(db_session, caller.id)
        if caller is not None and weak:
            with database().unit_of_work(write=True) as db_session:
                renew_hash(db_session, caller.id, form.password.data)
        if caller is not None:
            session.clear()
            session.permanent = True
            session[USER_KEY] = caller.id
            return redirect(
                _safe_next(request.args.get("next")) or url_for(HOME[Role(caller.role)])
            )
        failed = True
    status = 401 if failed else 200
    return render_template("login.html", form=form, failed=failed), status


@bp.post("/logout")
def logout() -> Any:
    session.clear()
    return redirect(url_for("web.login"))


@bp.get("/")
@page(*Role)
def home() -> Any:
    return redirect(url_for(HOME[Role(current_caller().role)]))


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: a crafted link must not send a user elsewhere after login."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None  # browsers read "/\\host" as "//host"
    return target
