"""Logging in and out of the pages with a username and password.

Logins, logouts and failed logins are audited; a username that failed too often is
locked for a while (``partsvc.auth.lockout``), whether or not it exists.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from partsvc.audit import trail as audit
from partsvc.auth import lockout
from partsvc.auth.identity import (
    Caller,
    caller_by_id,
    check_password,
    end_sessions,
    hash_is_weak,
    renew_hash,
)
from partsvc.auth.models import Role
from partsvc.http.context import database, now, settings
from partsvc.http.throttle import count_login
from partsvc.web.language import CHOICE_KEY
from partsvc.web.pages import GENERATION_KEY, USER_KEY, current_caller, page

bp = Blueprint("web", __name__)

HOME = {
    Role.CLERK: "desk.home",
    Role.DISPATCHER: "board.home",
    Role.ENGINEER: "myday.home",
    Role.ADMIN: "manager.home",
}
"""Where each role lands after logging in: the page of their daily work."""


class LoginForm(FlaskForm):  # type: ignore[misc]
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    failed = False
    locked: datetime | None = None
    if form.validate_on_submit():
        if (wait := count_login(form.username.data)) is not None:
            refused = render_template("login.html", form=form, wait_s=wait)
            return refused, 429, {"Retry-After": str(wait)}
        with database().named_lock(lockout.lock_name(form.username.data)):
            # One attempt per username at a time, from the lock check to the failure's
            # record: 30 at once check at most 5 passwords. The check itself only reads:
            # a login never holds SQLite's write lock while Argon2 works.
            with database().unit_of_work(write=False) as db_session:
                name, password = form.username.data, form.password.data
                locked = lockout.locked_until(db_session, name, now=now(), rule=_rule())
                caller = check_password(db_session, name, password) if locked is None else None
                weak = caller is not None and hash_is_weak(db_session, caller.id)
            if caller is None:
                locked = _refused(form.username.data, locked)
        if caller is not None:
            with database().unit_of_work(write=True) as db_session:
                _begin(db_session, caller)
                audit.record(db_session, lockout.LOGIN, kind="user", key=caller.username)
                if weak:
                    renew_hash(db_session, caller.id, form.password.data)
            chosen = session.get(CHOICE_KEY)  # the language picked on the login page
            session.clear()
            if chosen is not None:
                session[CHOICE_KEY] = chosen
            session.permanent = True
            session[USER_KEY] = caller.id
            session[GENERATION_KEY] = caller.generation
            return redirect(
                _safe_next(request.args.get("next")) or url_for(HOME[Role(caller.role)])
            )
        failed = True
    if locked is not None:
        wait = max(1, math.ceil((locked - now()) / timedelta(minutes=1)))
        shown = render_template("login.html", form=form, locked_minutes=wait)
        return shown, 429, {"Retry-After": str(wait * 60)}
    status = 401 if failed else 200
    return render_template("login.html", form=form, failed=failed), status


@bp.post("/logout")
def logout() -> Any:
    user_id = session.get(USER_KEY)
    if isinstance(user_id, int):
        with database().unit_of_work(write=True) as db_session:
            caller = caller_by_id(db_session, user_id)
            if caller is not None and caller.generation == session.get(GENERATION_KEY, 0):
                _begin(db_session, caller)
                audit.record(db_session, lockout.LOGOUT, kind="user", key=caller.username)
                end_sessions(db_session, caller.id)
    chosen = session.get(CHOICE_KEY)
    session.clear()
    if chosen is not None:
        session[CHOICE_KEY] = chosen
    return redirect(url_for("web.login"))


@bp.get("/")
@page(*Role)
def home() -> Any:
    return redirect(url_for(HOME[Role(current_caller().role)]))


def _rule() -> lockout.LockoutRule:
    configured = settings()
    window = timedelta(minutes=configured.login_lockout_minutes)
    return lockout.LockoutRule(max_failures=configured.login_max_failures, window=window)


def _begin(db_session: Session, caller: Caller | None) -> None:
    """The audit events of this unit of work are ``caller``'s (None: nobody logged in)."""
    audit.begin(db_session, actor=caller, client=request.remote_addr, now=now())


def _refused(username: str, locked: datetime | None) -> datetime | None:
    """Keep the failed (or, while locked, refused) login in the audit trail, in its own
    transaction since the login itself writes nothing; when the lock ends, if locked."""
    with database().unit_of_work(write=True) as db_session:
        _begin(db_session, None)
        if locked is not None:
            lockout.note_refusal(db_session, username, until=locked)
            return locked
        return lockout.note_failure(db_session, username, now=now(), rule=_rule())


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
