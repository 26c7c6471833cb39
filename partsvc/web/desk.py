"""The clerk desk: find a part (typed or scanned), see its stock, book it in and out."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from partsvc.api.imports import MAX_FILE_BYTES
from partsvc.core.errors import PartsvcError
from partsvc.http.context import larger_body, now, today, zone
from partsvc.inventory import catalog, counts, ledger_reads
from partsvc.purchasing import order_book as orders
from partsvc.purchasing import orders as purchasing
from partsvc.purchasing import reorder
from partsvc.purchasing import requests as part_requests
from partsvc.repairs.rmas import list_rmas
from partsvc.web.pages import attempt, current_caller, db, notice, page, refused, row_problems
from partsvc.workflows import bookings
from partsvc.workflows.imports import importer as imports
from partsvc.workflows.imports.rules import PART_COLUMNS, STOCK_COLUMNS

bp = Blueprint("desk", __name__, url_prefix="/desk")

CLERKS = ("clerk", "admin")
MAX_QTY = 1_000_000


class MoveForm(FlaskForm):  # type: ignore[misc]
    """Book out (to a van, to a call's site), transfer, or book in: one move of the ledger."""

    qty = IntegerField(_l("Quantity"), validators=[DataRequired(), NumberRange(1, MAX_QTY)])
    from_code = StringField(_l("From"), validators=[DataRequired(), Length(max=64)])
    to_code = StringField(_l("To"), validators=[DataRequired(), Length(max=64)])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=64)])
    reference = StringField(_l("Reference (call, job)"), validators=[Optional(), Length(max=200)])
    serials = StringField(_l("Serials (one per line or comma)"), validators=[Length(max=4000)])


class CountForm(FlaskForm):  # type: ignore[misc]
    location = StringField(_l("Location"), validators=[DataRequired(), Length(max=64)])
    counted = IntegerField(_l("Counted"), validators=[NumberRange(0, MAX_QTY)])


class ReceiptForm(FlaskForm):  # type: ignore[misc]
    location = StringField(_l("Into warehouse"), validators=[DataRequired(), Length(max=64)])


class ImportForm(FlaskForm):  # type: ignore[misc]
    file = FileField(
        _l("CSV file"), validators=[FileRequired(_l("Choose the CSV file to import."))]
    )
    dry_run = BooleanField(_l("Only check the file; import nothing"))


IMPORT_COLUMNS = {"parts": PART_COLUMNS, "stock": STOCK_COLUMNS}
MAX_REPORTED = 1000  # problems listed on the page; the API and the command list them all


@bp.get("")
@page(*CLERKS)
def home() -> Any:
    """Search, and what needs the clerk today: reorders, late orders, RMAs to receive."""
    q = request.args.get("q", "").strip()[:200]
    found = catalog.search_parts(db(), q=q, limit=50) if q else []
    exact = [part for part in found if q in (part.sku, part.barcode)]
    if len(exact) == 1:  # a scanned barcode or a typed SKU goes straight to the part
        return redirect(url_for("desk.part", sku=exact[0].sku))
    return render_template(
        "desk/home.html",
        q=q,
        found=found,
        reorders=reorder.reorder_suggestions(db()),
        any_rule=bool(reorder.list_reorder_rules(db(), limit=1)),
        late=orders.list_orders(db(), today=today(), late=True, limit=100),
        open_orders=[
            order
            for status in orders.WITH_VENDOR
            for order in orders.list_orders(db(), today=today(), status=status, limit=200)
        ],
        rmas=list_rmas(db(), now=now(), status="authorized", limit=100),
        today=today(),
        with_vendor=list(orders.WITH_VENDOR),
    )


@bp.get("/parts/<path:sku>")
@page(*CLERKS)
def part(sku: str) -> Any:
    return _part_page(sku, MoveForm(formdata=None), CountForm(formdata=None))


@bp.post("/parts/<path:sku>/moves")
@page(*CLERKS)
def book_move(sku: str) -> Any:
    form = MoveForm()
    if not form.validate():
        return _part_page(sku, form, CountForm(formdata=None)), 422
    booked = attempt(
        lambda session: bookings.book_move(
            session,
            sku=sku,
            qty=form.qty.data,
            from_code=catalog.resolve_location_code(session, form.from_code.data),
            to_code=catalog.resolve_location_code(session, form.to_code.data),
            reason=form.reason.data.strip(),
            reference=(form.reference.data or "").strip() or None,
            serials=_serials(form.serials.data, request.form.getlist("serial")),
            now=now(),
            today=today(),
            by=current_caller(),
        ),
        audited=False,  # a move of the ledger is its own audit
    )
    if isinstance(booked, PartsvcError):
        return _part_page(sku, form, CountForm(formdata=None), refusal=booked), booked.status
    notice(
        "booked",
        qty=booked.qty,
        sku=sku,
        source=_place_name(booked.from_code),
        to=_place_name(booked.to_code),
    )
    return redirect(url_for("desk.part", sku=sku))


@bp.post("/parts/<path:sku>/counts")
@page(*CLERKS)
def count(sku: str) -> Any:
    form = CountForm()
    if not form.validate():
        return _part_page(sku, MoveForm(formdata=None), form), 422
    counted = attempt(
        lambda session: bookings.book_count(
            session,
            location_code=catalog.resolve_location_code(session, form.location.data),
            lines=[counts.CountedLine(sku=sku, counted=form.counted.data)],
            now=now(),
            today=today(),
            by=current_caller(),
        )
    )
    if isinstance(counted, PartsvcError):
        return _part_page(sku, MoveForm(formdata=None), form, refusal=counted), counted.status
    place = _place_name(catalog.resolve_location_code(db(), form.location.data))
    notice("counted", location=place, counted=form.counted.data, sku=sku)
    return redirect(url_for("desk.part", sku=sku))


@bp.post("/moves/<int:move_id>/reversal")
@page(*CLERKS)
def reverse(move_id: int) -> Any:
    original = catalog.get_move(db(), move_id)
    sku = original.part.sku
    reversal = attempt(
        lambda session: bookings.book_reversal(
            session, move_id, reason="reversal", now=now(), today=today(), by=current_caller()
        ),
        audited=False,
    )
    if isinstance(reversal, PartsvcError):
        refused(reversal)
    else:
        notice("reversed", move=move_id, reversal=reversal.id)
    return redirect(url_for("desk.part", sku=sku))


@bp.get("/orders/<number>")
@page(*CLERKS)
def order(number: str) -> Any:
    return _order_page(number, ReceiptForm(formdata=None), {})


@bp.post("/orders/<number>/receipts")
@page(*CLERKS)
def receive(number: str) -> Any:
    """A receipt of what came, line by line; an empty or 0 quantity line is not received."""
    form = ReceiptForm()
    wanted, problems = _received_quantities()
    if not form.validate() or problems or not wanted:
        if not wanted and not problems:
            problems = {0: _("Enter the quantity received on at least one line.")}
        return _order_page(number, form, problems), 422
    receipt = attempt(
        lambda session: purchasing.receive(
            session,
            number,
            location=catalog.resolve_location_code(session, form.location.data),
            lines=[orders.ReceivedLine(line=line, qty=qty) for line, qty in wanted.items()],
            now=now(),
            today=today(),
            by=current_caller(),
        )
    )
    if isinstance(receipt, PartsvcError):
        return _order_page(number, form, {}, refusal=receipt), receipt.status
    received = sum(line.qty for line in receipt.lines)
    place = _place_name(catalog.resolve_location_code(db(), form.location.data))
    notice("received", qty=received, order=number, location=place)
    return redirect(url_for("desk.order", number=number))


@bp.post("/orders/<number>/receipts/<int:receipt_id>/reversal")
@page(*CLERKS)
def undo_receipt(number: str, receipt_id: int) -> Any:
    """Undo a receipt booked by mistake: its moves reversed through the ledger (R1)."""
    undone = attempt(
        lambda session: purchasing.reverse_receipt(
            session, number, receipt_id, now=now(), today=today(), by=current_caller()
        )
    )
    if isinstance(undone, PartsvcError):
        refused(undone)
    else:
        units = sum(line.qty for line in undone.lines)
        notice("receipt_undone", receipt=receipt_id, order=number, qty=units)
    return redirect(url_for("desk.order", number=number))


@bp.get("/imports")
@page(*CLERKS)
def imports_home() -> Any:
    """Import the parts, then the opening stock, from CSV files (a first day's work)."""
    return _imports_page()


@bp.post("/imports/parts")
@larger_body(MAX_FILE_BYTES)
@page(*CLERKS)
def import_parts() -> Any:
    return _import(
        "parts",
        lambda session, data, _, dry_run: imports.import_parts(
            session, data, dry_run=dry_run, now=now()
        ),
    )


@bp.post("/imports/stock")
@larger_body(MAX_FILE_BYTES)
@page(*CLERKS)
def import_stock() -> Any:
    return _import(
        "stock",
        lambda session, data, name, dry_run: imports.import_stock(
            session,
            data,
            dry_run=dry_run,
            now=now(),
            today=today(),
            by=current_caller(),
            source=name,
            zone=zone(),
        ),
    )


def _import(kind: str, run: Any) -> Any:
    """Check and import the uploaded file: the counts, or every bad row and nothing written."""
    form = ImportForm()
    if not form.validate():
        return _imports_page(kind=kind, form=form), 422
    upload = form.file.data
    data, name, dry_run = upload.read(), upload.filename, form.dry_run.data
    result = attempt(lambda session: run(session, data, name, dry_run))
    if isinstance(result, PartsvcError):
        return _imports_page(kind=kind, form=form, refusal=result, name=name), result.status
    if dry_run:
        return _imports_page(kind=kind, form=form, checked=result, name=name)
    notice(f"imported_{kind}", **{k: v for k, v in vars(result).items() if k != "locations"})
    return redirect(url_for("desk.imports_home"))


def _imports_page(**shown: Any) -> str:
    return import_page("desk/imports.html", IMPORT_COLUMNS, **shown)


def import_page(
    template: str,
    columns: object,
    *,
    kind: str | None = None,
    form: ImportForm | None = None,
    refusal: PartsvcError | None = None,
    checked: object | None = None,
    name: str | None = None,
    **extra: Any,
) -> str:
    """An import's page: the form, a dry run's answer, or the bad rows of a refusal (the
    first ``MAX_REPORTED``, and how many more); ``extra`` for its template alone."""
    problems = row_problems(refusal)
    return render_template(
        template,
        kind=kind,
        form=form,
        refusal=refusal,
        problems=problems[:MAX_REPORTED],
        more_problems=max(len(problems) - MAX_REPORTED, 0),
        checked=checked,
        name=name,
        columns=columns,
        **extra,
    )


def _part_page(
    sku: str, move: MoveForm, count: CountForm, refusal: PartsvcError | None = None
) -> str:
    the_part = catalog.get_part(db(), sku)
    moves = ledger_reads.list_moves(db(), sku=sku, limit=30)
    return render_template(
        "desk/part.html",
        part=the_part,
        levels=ledger_reads.list_stock(db(), sku=sku, limit=200),
        requests=part_requests.list_requests(db(), sku=sku, status="reserved", limit=100),
        lines=orders.open_lines_of_part(db(), the_part.id),
        moves=moves,
        # A reversal is newer than its move: any reversed move listed has its reversal too.
        reversed_moves={move.reverses_id for move in moves if move.reverses_id},
        units=ledger_reads.units_by_location(db(), the_part.id) if the_part.serialized else {},
        chosen=set(request.form.getlist("serial")),
        rules=reorder.list_reorder_rules(db(), sku=sku, limit=100),
        locations=catalog.location_choices(db()),
        warehouses=catalog.location_choices(db(), kind="warehouse"),
        move_form=move,
        count_form=count,
        refusal=refusal,
        today=today(),
    )


def _order_page(
    number: str,
    form: ReceiptForm,
    problems: dict[int, str],
    refusal: PartsvcError | None = None,
) -> str:
    the_order = orders.get_order(db(), number)
    if not form.location.data and the_order.deliver_to_id is not None:
        form.location.data = the_order.deliver_to.code
    return render_template(
        "desk/order.html",
        order=the_order,
        receipts=orders.receipts_of(db(), the_order.id),
        locations=catalog.location_choices(db()),
        form=form,
        problems=problems,
        entered=request.form,
        refusal=refusal,
        today=today(),
        is_late=orders.is_late,
    )


def _received_quantities() -> tuple[dict[int, int], dict[int, str]]:
    """Line id → quantity from the receipt form's ``qty-<line>`` fields, and any problems."""
    wanted: dict[int, int] = {}
    problems: dict[int, str] = {}
    for key, value in request.form.items():
        if not key.startswith("qty-") or not value.strip():
            continue
        line = key.removeprefix("qty-")
        if not line.isdigit():
            continue
        try:
            qty = int(value)
        except ValueError:
            problems[int(line)] = _("A whole number.")
            continue
        if not 0 <= qty <= MAX_QTY:
            problems[int(line)] = _("Between 0 and the quantity still to come.")
        elif qty:
            wanted[int(line)] = qty
    return wanted, problems


def _serials(text: str | None, chosen: list[str]) -> list[str]:
    """The serials ticked in the list, then any typed (one per line or comma)."""
    typed = [s.strip() for s in (text or "").replace(",", "\n").splitlines() if s.strip()]
    return list(dict.fromkeys([*(s.strip() for s in chosen if s.strip()), *typed]))


def _place_name(code: str) -> str:
    """A location as people read it: its name (the code if it has none or is unknown)."""
    return catalog.place_name(db(), code)
