"""The request pipeline of the HTML pages: the logged-in user, their role, one unit of work.

A page view is wrapped by ``page(*roles)``. Nobody logged in: off to the login page. A
role the page is not for: a 403 page. Then the view runs in one unit of work (a writing one
for POST), and a form's service call goes through ``attempt``: inside a savepoint, so a
refused booking writes nothing and the view can show the form again, filled in, with why.
A form whose service call succeeds leaves an audit event, like a write through the API.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import flash, g, redirect, render_template, request, session, url_for
from sqlalchemy.orm import Session

from partsvc.audit import trail as audit
from partsvc.auth.identity import Caller, caller_by_id
from partsvc.core.errors import InvalidRows, PartsvcError
from partsvc.http.context import audit_request, database, now

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

USER_KEY = "user_id"
GENERATION_KEY = "generation"
"""The user's session generation at login: logging out or a new password makes it stale."""


def page(*roles: str, writes: bool | None = None) -> Callable[[F], F]:
    """Limit a page to ``roles`` and run it in a unit of work, a writing one for POST
    unless ``writes=False`` (a view that runs its own transactions, like planning)."""
    allowed = frozenset(roles)

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(**kwargs: Any) -> Any:
            user_id = session.get(USER_KEY)
            if not isinstance(user_id, int):
                wanted = request.full_path.rstrip("?")
                return redirect(url_for("web.login", next=wanted if wanted != "/" else None))
            write = request.method == "POST" if writes is None else writes
            try:
                with database().unit_of_work(write=write) as db_session:
                    caller = caller_by_id(db_session, user_id)
                    if caller is None or caller.generation != session.get(GENERATION_KEY, 0):
                        session.clear()
                        return redirect(url_for("web.login"))
                    g.session, g.user = db_session, caller
                    if write:
                        audit.begin(db_session, actor=caller, client=request.remote_addr, now=now())
                    if caller.role not in allowed:
                        return forbidden(caller)
                    return view(**kwargs)
            except PartsvcError as error:
                return render_template("error.html", error=error), error.status
            finally:
                g.pop("session", None)

        wrapper.page_roles = allowed  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def forbidden(caller: Caller) -> tuple[str, int]:
    return render_template("forbidden.html", caller=caller), 403


def attempt(action: Callable[[Session], T], *, audited: bool = True) -> T | PartsvcError:
    """Run a form's booking in a savepoint: its result, or the refusal with nothing written.

    A success leaves an audit event unless the services recorded their own, or the
    booking is a move of the ledger (``audited=False``), which is its own audit.
    """
    db_session: Session = g.session
    try:
        with db_session.begin_nested():
            before = audit.recorded(db_session)
            result = action(db_session)
            if audited and audit.recorded(db_session) == before:
                audit_request(db_session)
            return result
    except PartsvcError as error:
        return error


def notice(key: str, **values: object) -> None:
    """Tell the user on the next page what was done; its words are in templates/_notices.html."""
    # Flask stores flashed messages through the session's JSON tagger: a dict keeps its keys.
    flash({"key": key, **values}, "done")  # type: ignore[arg-type]


def refused(error: PartsvcError) -> None:
    """Tell the user on the next page what was refused, and why."""
    # Its code and parameters too, so the next page says it in the user's language.
    extra = {k: v for k, v in error.extra.items() if isinstance(v, str | int | float)}
    refusal = {"slug": error.slug, "title": error.title, "detail": error.detail, "extra": extra}
    flash({"key": "refused", **refusal}, "refused")  # type: ignore[arg-type]


def current_caller() -> Caller:
    caller: Caller = g.user
    return caller


def db() -> Session:
    db_session: Session = g.session
    return db_session


def row_problems(refusal: PartsvcError | None) -> list[tuple[int, str, str]]:
    """An import's refusal as (row, column, message) lines for a page; none for another."""
    if not isinstance(refusal, InvalidRows):
        return []
    return [
        (int(row), column, message)
        for row, columns in (refusal.errors or {}).items()
        for column, messages in columns.items()
        for message in messages
    ]
