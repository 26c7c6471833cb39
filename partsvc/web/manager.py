"""The manager's view: this month's SLA compliance, fix rates and satisfaction as small
SVG charts, and what is overdue now (admin role, PRODUCT.md "Managers")."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, render_template, request

from partsvc.http import exports
from partsvc.http.context import now, parse_month, settings, today, zone
from partsvc.web.pages import db, page
from partsvc.workflows.month_figures import (
    FIGURE_COLUMNS,
    MonthFigures,
    figure_rows,
    month_figures,
)

bp = Blueprint("manager", __name__, url_prefix="/manager")


@bp.get("")
@page("admin")
def home() -> Any:
    month = _month(request.args.get("month"))
    figures = _figures(month)
    busiest = max((count for _, count in figures.resolved_per_day), default=0)
    return render_template(
        "manager/home.html", figures=figures, busiest=max(busiest, 1), month=month
    )


@bp.get("/figures.<any(csv, xlsx):fmt>")
@page("admin")
def download(fmt: str) -> Any:
    """The month's figures as a spreadsheet: one row per figure and priority."""
    month = _month(request.args.get("month"))
    rows = figure_rows(_figures(month))
    return exports.download(fmt, f"figures-{month:%Y-%m}", FIGURE_COLUMNS, lambda _: rows)


def _figures(month: date) -> MonthFigures:
    return month_figures(
        db(),
        month,
        now=now(),
        zone=zone(),
        same_day_target=settings().same_day_fix_target,
        satisfaction_target=settings().satisfaction_target,
    )


def _month(text: str | None) -> date:
    """``YYYY-MM``, or this month."""
    return parse_month(text) or today().replace(day=1)
