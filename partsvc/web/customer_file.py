"""The customer file on a first day, from the pages: the office imports engineers,
customers with their contracts, sites and installed equipment from CSV files, and
downloads them in the same columns (to check them, or to move to another instance)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, url_for

from partsvc.api.imports import MAX_FILE_BYTES
from partsvc.core.errors import PartsvcError
from partsvc.http import exports
from partsvc.http.context import larger_body, today
from partsvc.web.desk import ImportForm, import_page
from partsvc.web.pages import attempt, notice, page
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
    notice("imported_customer_file", kind=kind, created=result.created)
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
    return import_page("desk/customer_file.html", FILES, **shown)
