"""The customer file on a first day, from the pages: the office imports engineers,
customers with their contracts, sites and installed equipment from CSV files, and
downloads them in the same columns (to check them, or to move to another instance).
Sites imported with an address and no coordinates are then placed on the map, one by one,
on the page of the sites to place."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _

from partsvc.api.imports import MAX_FILE_BYTES
from partsvc.calls import customers
from partsvc.core.errors import PartsvcError
from partsvc.http import exports
from partsvc.http.context import larger_body, today
from partsvc.web.desk import ImportForm, import_page
from partsvc.web.pages import attempt, db, notice, page
from partsvc.workflows.imports import customer_file
from partsvc.workflows.imports.customer_rules import FILES

bp = Blueprint("customer_file", __name__, url_prefix="/customer-file")

OFFICE = ("admin", "dispatcher")


@bp.get("")
@page(*OFFICE)
def home() -> Any:
    return _page()


@bp.post("/<any(engineers, customers, sites, equipment):kind>")
@larger_body(MAX_FILE_BYTES)
@page(*OFFICE)
def upload(kind: str) -> Any:
    """Check and import one file: the count, or every bad row and nothing written."""
    form = ImportForm()
    if not form.validate():
        return _page(kind=kind, form=form), 422
    upload = form.file.data
    data, name, dry_run = upload.read(), upload.filename, form.dry_run.data
    day = today()
    result = attempt(
        lambda session: customer_file.import_file(session, kind, data, dry_run=dry_run, today=day)
    )
    if isinstance(result, PartsvcError):
        return _page(kind=kind, form=form, refusal=result, name=name), result.status
    if dry_run:
        return _page(kind=kind, form=form, checked=result, name=name)
    notice("imported_customer_file", kind=kind, created=result.created, to_place=result.to_place)
    return redirect(url_for("customer_file.home"))


@bp.get("/<any(engineers, customers, sites, equipment):kind>.<any(csv, xlsx):fmt>")
@page(*OFFICE)
def download(kind: str, fmt: str) -> Any:
    day = today()
    return exports.download(
        fmt,
        kind,
        customer_file.columns(kind),
        lambda session: customer_file.rows(session, kind, today=day),
    )


def _page(**shown: Any) -> str:
    waiting = customers.count_unplaced(db())
    return import_page("desk/customer_file.html", FILES, waiting=waiting, **shown)


MAP_SEARCH = "https://uri.amap.com/search?keyword={}"
"""Where the operator looks an address up to read its coordinates off the map (Amap)."""


@bp.get("/sites-to-place")
@page(*OFFICE)
def sites_to_place() -> Any:
    """The sites known only by their address, those with open calls first, each with a
    link to find the address on the map and the latitude and longitude to enter."""
    return _sites_page()


@bp.post("/sites-to-place/<site>")
@page(*OFFICE)
def place(site: str) -> Any:
    """Place one site (WGS-84 decimal degrees); a wrong number shows the page again with
    why, beside that site, and changes nothing."""
    typed = {name: request.form.get(name, "").strip() for name in ("lat", "lon")}
    errors = {
        name: message
        for name, message in (
            ("lat", _degrees_error(typed["lat"], 90)),
            ("lon", _degrees_error(typed["lon"], 180)),
        )
        if message
    }
    if errors:
        return _sites_page(site=site, typed=typed, errors=errors), 422
    lat, lon = float(typed["lat"]), float(typed["lon"])
    placed = attempt(lambda session: customers.place_site(session, site, lat=lat, lon=lon))
    if isinstance(placed, PartsvcError):
        return _sites_page(site=site, typed=typed, refusal=placed), placed.status
    notice("site_placed", site=site, lat=f"{lat:.6f}", lon=f"{lon:.6f}")
    return redirect(url_for("customer_file.sites_to_place"))


def _degrees_error(text: str, limit: int) -> str | None:
    """Why ``text`` is not a latitude (``limit`` 90) or longitude (180), in the page's
    language; None when it is one."""
    what = _("The latitude") if limit == 90 else _("The longitude")
    try:
        value = float(text.removesuffix("°"))
    except ValueError:
        value = None
    if value is None or not math.isfinite(value):
        return str(
            _(
                "%(what)s must be a number of degrees, such as %(example)s.",
                what=what,
                example="31.230416" if limit == 90 else "121.473701",
            )
        )
    if not -limit <= value <= limit:
        return str(
            _(
                "%(what)s must be from %(low)s to %(high)s degrees; %(value)s is not.",
                what=what,
                low=-limit,
                high=limit,
                value=text[:20],
            )
        )
    return None


def _sites_page(
    *,
    site: str | None = None,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    refusal: PartsvcError | None = None,
) -> str:
    return render_template(
        "desk/sites_to_place.html",
        waiting=customers.sites_to_place(db()),
        map_search=MAP_SEARCH,
        site=site,
        typed=typed or {},
        errors=errors or {},
        refusal=refusal,
    )
