"""The pages' language: Chinese (zh_CN) first, English second.

The language of a page is the user's saved choice, else the browser's Accept-Language, else
the deployment's ``PARTSVC_DEFAULT_LOCALE``. The words live in gettext catalogues under
``partsvc/translations`` (English is the source language); dates, statuses, planner
reasons, countdowns and refusals are put into words here, in the page's language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, g, redirect, request, session, url_for
from flask_babel import Babel, get_locale, lazy_gettext, lazy_pgettext, ngettext
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.orm import Session

from partsvc.auth.models import Role, User
from partsvc.core.errors import PartsvcError
from partsvc.documents.render import local_text
from partsvc.http.context import settings, zone
from partsvc.platform.resources import TRANSLATIONS
from partsvc.web.pages import USER_KEY, attempt, current_caller, page
from partsvc.workflows.imports import customer_rules

_l = lazy_gettext

LANGUAGES = {"zh_CN": "中文", "en": "English"}
"""The languages of the pages, each named in itself for the switch in the header."""
CHOICE_KEY = "locale"
"""A choice made before logging in (or by nobody logged in) is kept in the session."""

babel = Babel()
bp = Blueprint("language", __name__)


def init(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(TRANSLATIONS),
    )
    app.register_blueprint(bp)
    app.context_processor(_language_context)
    for name, words in _FILTERS.items():
        app.add_template_filter(words, name)


def select_locale() -> str:
    """The user's saved choice, else the session's, else the browser's, else the default.

    Babel reads ``zh_CN`` as ``zh_Hans_CN``, and gettext looks for it in ``zh_Hans_CN/``
    (then ``zh/``): that is where the Chinese catalogue is (docs/DECISIONS.md)."""
    return _chosen_language()


def _chosen_language() -> str:
    user = g.get("user")
    db_session: Session | None = g.get("session")
    if user is not None and db_session is not None:
        saved = db_session.get(User, user.id)
        if saved is not None and saved.locale in LANGUAGES:
            return saved.locale
    chosen = session.get(CHOICE_KEY)
    if chosen in LANGUAGES:
        return str(chosen)
    asked = request.accept_languages.best_match(["zh_CN", "zh", "en"])
    if asked is not None:
        return "zh_CN" if asked.startswith("zh") else "en"
    default = settings().default_locale
    return default if default in LANGUAGES else "zh_CN"


def is_chinese() -> bool:
    return str(get_locale() or "").startswith("zh")


def _language_context() -> dict[str, Any]:
    return {
        "page_lang": "zh-CN" if is_chinese() else "en",
        "page_locale": "zh_CN" if is_chinese() else "en",
        "languages": LANGUAGES,
        "countdown_words": countdown_words(),
    }


@bp.post("/language")
def choose() -> Any:
    """The switch in the header: remember the choice, for the user if one is logged in."""
    locale = request.form.get("locale", "")
    if locale not in LANGUAGES:
        abort(400)
    session[CHOICE_KEY] = locale
    back = _safe_back(request.form.get("next"))
    if isinstance(session.get(USER_KEY), int):
        return _save_for_user(locale=locale, back=back)
    return redirect(back)


@page(*Role)
def _save_for_user(*, locale: str, back: str) -> Any:
    user_id = current_caller().id

    def save(db_session: Session) -> None:
        user = db_session.get(User, user_id)
        assert user is not None
        user.locale = locale

    attempt(save)
    return redirect(back)


def _safe_back(target: str | None) -> str:
    """The page the switch was on: a path of this site only."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("web.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return url_for("web.home")
    return target


# ---------------------------------------------------------------- dates and times

_WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")

_EN_STYLES = {
    "datetime": "%Y-%m-%d %H:%M",
    "compact": "%m-%d %H:%M",
    "time": "%H:%M",
    "date": "%Y-%m-%d",
}


def local(moment: datetime | None, style: str = "datetime") -> str:
    """A time as the deployment's clocks show it, the page's language's way.

    ``datetime``: a moment in a list (zh: the compact 12-07 09:30; en: 2026-12-07 09:30);
    ``time``: 09:30; ``date``: its day (zh: 2026年12月7日; en: 2026-12-07); ``day``: its
    day with the weekday (zh: 2026年12月7日 周一; en: Monday 7 December). Any other style is
    a strftime pattern, used as given.
    """
    if moment is None:
        return ""
    if style in ("date", "day"):
        return day_text(moment.astimezone(zone()).date(), style)
    if style == "datetime" and is_chinese():
        style = "compact"
    return local_text(moment, zone(), _EN_STYLES.get(style, style))


def day_text(day: date | None, style: str = "day") -> str:
    """A day: zh 2026年12月7日 周一 (``day``) or 2026年12月7日 (``date``)."""
    if day is None:
        return ""
    if is_chinese():
        text = f"{day.year}年{day.month}月{day.day}日"
        return f"{text} {_WEEKDAYS[day.weekday()]}" if style == "day" else text
    return day.strftime(f"%A {day.day} %B") if style == "day" else day.isoformat()


def month_text(month: date) -> str:
    return f"{month.year}年{month.month}月" if is_chinese() else month.strftime("%B %Y")


COUNTDOWN: Mapping[str, Any] = {
    "left_days": _l("in %(days)s days"),
    "left_hours": _l("in %(hours)s h %(minutes)s min"),
    "left_minutes": _l("in %(minutes)s min"),
    "missed_days": _l("missed by %(days)s days"),
    "missed_hours": _l("missed by %(hours)s h %(minutes)s min"),
    "missed_minutes": _l("missed by %(minutes)s min"),
}
"""The countdowns to deadlines; the page's script is given the same words (data-words)."""


def countdown_words() -> dict[str, str]:
    return {key: str(words) for key, words in COUNTDOWN.items()}


def countdown(seconds: float) -> str:
    """What is left before a deadline: 还剩 1 小时 33 分 / in 1 h 33 min; 已超时 18 分钟 /
    missed by 18 min (the page's script says the same, second by second)."""
    minutes = int(abs(seconds) // 60)
    side = "left" if seconds >= 0 else "missed"
    if minutes >= 48 * 60:
        return str(COUNTDOWN[f"{side}_days"]) % {"days": minutes // 1440}
    if minutes >= 60:
        words = COUNTDOWN[f"{side}_hours"]
        return str(words) % {"hours": minutes // 60, "minutes": f"{minutes % 60:02d}"}
    return str(COUNTDOWN[f"{side}_minutes"]) % {"minutes": minutes}


def percent(share: float | None) -> str:
    if share is None:
        return "—"
    value = round(share * 100)
    return f"{value}%" if is_chinese() else f"{value} %"


# ---------------------------------------------------------------- the words of codes

STATUSES: Mapping[str, Mapping[str, Any]] = {
    "call": {
        "new": _l("new"),
        "assigned": _l("assigned"),
        "en_route": _l("en route"),
        "on_site": _l("on site"),
        "waiting_for_parts": _l("waiting for parts"),
        "resolved": _l("resolved"),
        "closed": _l("closed"),
    },
    "plan": {
        "draft": lazy_pgettext("plan", "draft"),
        "published": _l("published"),
        "replaced": _l("replaced"),
    },
    "order": {
        "draft": lazy_pgettext("vendor order", "draft"),
        "sent": _l("sent"),
        "partially_received": _l("partially received"),
        "received": _l("received"),
        "cancelled": _l("cancelled"),
    },
    "rma": {
        "requested": _l("requested"),
        "authorized": _l("authorized"),
        "rejected": _l("rejected"),
        "received": _l("received"),
        "diagnosed": _l("diagnosed"),
        "repairing": _l("repairing"),
        "repaired": _l("repaired"),
        "replaced": _l("unit replaced"),
        "shipped": _l("shipped back"),
        "closed": _l("closed"),
    },
    "skill": {
        "printer": _l("printers"),
        "plotter": _l("plotters"),
        "survey": _l("survey instruments"),
        "power": _l("power supplies"),
    },
    "verdict": {
        "replacement": _l("replaced free (dead on arrival)"),
        "free": _l("in warranty: free"),
        "at_cost": _l("out of warranty: at cost"),
    },
    "hold": {
        "customer_not_available": _l("customer not available"),
        "customer_asked_to_wait": _l("customer asked to wait"),
        "awaiting_customer_approval": _l("awaiting the customer's approval"),
    },
    "deadline": {
        "response": _l("answer"),
        "onsite": _l("on site"),
        "resolve": _l("fix"),
    },
    "stop": {
        "call": _l("call"),
        "pickup": _l("pick-up"),
    },
    "travel": {
        "OsrmSource": _l("road network (OSRM)"),
        "HaversineSource": _l("straight-line estimate"),
    },
}
"""The words of each kind of status code, in docs/GLOSSARY.md."""

REASONS: Mapping[str, Any] = {
    "no engineer works that day": _l("no engineer works that day"),
    "no engineer has the skills": _l("no engineer has the skills"),
    "parts nowhere in stock": _l("parts nowhere in stock"),
    "cannot be reached in time": _l("cannot be reached in time"),
    "out of shift time": _l("out of shift time"),
    "its parts go to calls as or more urgent": _l("its parts go to calls as or more urgent"),
    "fits only by dropping work as or more urgent": _l(
        "fits only by dropping work as or more urgent"
    ),
    "no room left in any route": _l("no room left in any route"),
    "the search found no plan in its time": _l("the search found no plan in its time"),
    "lacks the skills": _l("lacks the skills"),
    "cannot fit it in time": _l("cannot fit it in time"),
    "cannot": _l("cannot"),
    "on hold": _l("on hold: the customer has stopped the clock"),
    "the site has no place on the map yet": _l("the site has no place on the map yet — place it"),
    "cannot reach within the shift": _l("cannot reach within the shift"),
    "moved off the day for an urgent call": _l("moved off the day for an urgent call"),
}
"""Why the planner left a call out, or an engineer cannot take it."""

MOVE_REASONS: Mapping[str, Any] = {
    "receipt": _l("receipt"),
    "reversal": _l("reversal"),
    "count": _l("count"),
    "issue": _l("issue"),
    "issue to van": _l("issue to van"),
    "loan": _l("loan"),
    "loan return": _l("loan return"),
    "consumed on call": _l("consumed on call"),
    "opening stock": _l("opening stock"),
    "rma receipt": _l("RMA receipt"),
    "rma shipment": _l("RMA shipment"),
    "adjustment": _l("adjustment"),
}
"""The reasons partsvc itself books moves for; a reason a clerk typed is shown as typed."""

CSRF_REASONS: Mapping[str, Any] = {
    "The CSRF token is missing.": _l("The CSRF token is missing."),
    "The CSRF session token is missing.": _l("The CSRF session token is missing."),
    "The CSRF token has expired.": _l("The CSRF token has expired."),
    "The CSRF token is invalid.": _l("The CSRF token is invalid."),
    "The CSRF tokens do not match.": _l("The CSRF tokens do not match."),
    "The referrer header is missing.": _l("The referrer header is missing."),
    "The referrer does not match the host.": _l("The referrer does not match the host."),
}
"""Why Flask-WTF refused a form (its own English words)."""

ROLES: Mapping[str, Any] = {
    "admin": _l("admin"),
    "clerk": _l("clerk"),
    "dispatcher": _l("dispatcher"),
    "engineer": _l("engineer"),
}


ROW_PROBLEMS: Mapping[str, Any] = {
    customer_rules.NOT_PLACED_WHOLE: _l(
        "Give both lat and lon, or leave both empty for the site to be placed later."
    ),
}
"""A file's row problems that have words here; the others are shown as the import says."""


def row_problem(value: str) -> str:
    word = ROW_PROBLEMS.get(value)
    return str(word) if word is not None else value


def status_text(value: str | None, kind: str = "call") -> str:
    if value is None:
        return ""
    word = STATUSES.get(kind, {}).get(str(value))
    return str(word) if word is not None else str(value).replace("_", " ")


def reason_text(value: str | None) -> str:
    if not value:
        return ""
    word = REASONS.get(str(value))
    return str(word) if word is not None else str(value).replace("_", " ")


def move_reason(value: str) -> Markup:
    word = MOVE_REASONS.get(value)
    if word is not None:
        return Markup.escape(str(word))
    return Markup('<span translate="no">%s</span>') % value


def csrf_reason(value: str) -> str:
    word = CSRF_REASONS.get(value)
    return str(word) if word is not None else value


def role_text(value: str) -> str:
    word = ROLES.get(value)
    return str(word) if word is not None else value


# ---------------------------------------------------------------- refusals

TITLES: Mapping[str, Any] = {
    "bad-request": _l("Bad request"),
    "invalid-input": _l("Invalid input"),
    "unauthenticated": _l("Authentication required"),
    "forbidden": _l("Not allowed for your role"),
    "unknown-key": _l("Not found"),
    "conflict": _l("Conflict with the current state"),
    "insufficient-stock": _l("Not enough stock"),
    "serial-not-here": _l("Serial is not at that location"),
    "already-reversed": _l("Move already reversed"),
    "invalid-transition": _l("Step out of order"),
    "duplicate-key": _l("Already exists"),
    "stale-version": _l("The resource has changed"),
    "planner-unavailable": _l("The planner could not make the plan"),
    "invalid-rows": _l("The file has errors; nothing was imported"),
}
"""The title of each problem type (the error's stable code, its ``slug``)."""


def refusal_title(error: PartsvcError | Mapping[str, Any]) -> str:
    slug, title = _slug_and(error, "title")
    word = TITLES.get(slug)
    return str(word) if word is not None else title


def refusal_detail(error: PartsvcError | Mapping[str, Any]) -> str:
    """Why, in the page's language, from the error's code and parameters (``extra``);
    English is the source: an error whose code has no words here keeps its detail."""
    slug, detail = _slug_and(error, "detail")
    extra = error.extra if isinstance(error, PartsvcError) else error.get("extra") or {}
    words: str = detail
    if slug == "insufficient-stock" and {"sku", "location", "available", "requested"} <= set(extra):
        words = _(
            "Only %(available)s of %(sku)s available at %(location)s; "
            "cannot book out %(requested)s.",
            **{k: extra[k] for k in ("sku", "location", "available", "requested")},
        )
    elif slug == "serial-not-here" and {"serial", "location"} <= set(extra):
        words = _(
            "Serial %(serial)s is not at %(location)s.",
            serial=extra["serial"],
            location=extra["location"],
        )
    elif slug == "invalid-transition" and {"call", "current_status"} <= set(extra):
        words = _(
            "Call %(call)s is %(status)s: that step cannot be taken now.",
            call=extra["call"],
            status=status_text(extra["current_status"]),
        )
    elif slug == "conflict" and extra.get("why") == "beyond the shift":
        words = _(
            "%(engineer)s cannot take call %(call)s within the shift, even late.",
            engineer=extra.get("engineer", ""),
            call=extra.get("call", ""),
        )
    elif slug == "conflict" and extra.get("why") == "moves other calls":
        words = _(
            "The day has changed: giving call %(call)s to %(engineer)s would now move other "
            "calls off the day than the ones shown. Look at the candidates again.",
            engineer=extra.get("engineer", ""),
            call=extra.get("call", ""),
        )
    elif slug == "invalid-rows" and isinstance(error, PartsvcError) and error.errors:
        words = ngettext(
            "%(num)d row with errors (listed below, by row and column); nothing was imported.",
            "%(num)d rows with errors (listed below, by row and column); nothing was imported.",
            len(error.errors),
        )
    elif "see errors" in detail:
        # The API's words point to its ``errors`` field; a page shows the messages instead.
        errors = error.errors if isinstance(error, PartsvcError) else None
        messages = [str(m) for ms in (errors or {}).values() if isinstance(ms, list) for m in ms]
        words = detail.split(";")[0].rstrip(".") + (": " + " ".join(messages) if messages else ".")
    return str(words)


def _slug_and(error: PartsvcError | Mapping[str, Any], what: str) -> tuple[str, str]:
    if isinstance(error, PartsvcError):
        return error.slug, str(getattr(error, what))
    return str(error.get("slug", "")), str(error.get(what, ""))


_FILTERS: Mapping[str, Callable[..., Any]] = {
    "local": local,
    "day": day_text,
    "month": month_text,
    "status": status_text,
    "reason": reason_text,
    "countdown": countdown,
    "percent": percent,
    "role": role_text,
    "move_reason": move_reason,
    "csrf_reason": csrf_reason,
    "row_problem": row_problem,
    "refusal_title": refusal_title,
    "refusal_detail": refusal_detail,
}
"""The templates' filters that put values in the page's language, by their name there."""
