"""The pages' lists as downloads, for those logged in with a password (the API's lists
take ``?format=`` with a token). Each list downloads whole, with the filters the page
shows it with, in the columns of the API's list of the same things (their JSON names, as
every download has them), read a batch at a time; each is open to the roles of the pages
that show it, and an engineer gets only what the engineer may see."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from datetime import date
from typing import Any

from flask import Blueprint, Response, request
from flask_babel import gettext as _
from marshmallow import Schema
from sqlalchemy.orm import Session

from partsvc.api.calls_schemas import CallOut
from partsvc.api.inventory_schemas import PartOut, StockOut
from partsvc.api.loans_schemas import LoanOut
from partsvc.api.purchasing_schemas import VendorOrderOut
from partsvc.api.reorder_schemas import ReorderRuleOut, SuggestionOut
from partsvc.api.repairs_schemas import RmaOut
from partsvc.auth.scope import only_engineer
from partsvc.calls.calls import CallFilter, list_calls
from partsvc.core.errors import InvalidInput
from partsvc.http import exports
from partsvc.http.context import now, sla_warning, today
from partsvc.inventory import catalog, ledger_reads
from partsvc.loans import lending
from partsvc.loans.rules import LoanState
from partsvc.purchasing import order_book, reorder
from partsvc.repairs.rmas import list_rmas
from partsvc.repairs.rules import RmaStatus
from partsvc.web.pages import current_caller, db, page

bp = Blueprint("downloads", __name__, url_prefix="/downloads")

FORMAT = "<any(csv, xlsx):fmt>"
CLERKS = ("clerk", "admin")  # the clerk desk, a part's page, the reorder rules
RMA_STAFF = ("dispatcher", "clerk", "admin")  # the RMA list, the desk, the manager
DAY_VIEWERS = ("engineer", "dispatcher", "admin")  # an engineer's day, the manager
STOCK_VIEWERS = ("clerk", "admin", "dispatcher", "engineer")  # a part's page, a van
ORDER_STATUSES = (*order_book.OPEN_STATUSES, order_book.OrderStatus.RECEIVED,
                  order_book.OrderStatus.CANCELLED)  # fmt: skip


def _text(name: str, longest: int = 200) -> str | None:
    """A filter of the query string, trimmed; none when empty."""
    value = (request.args.get(name) or "").strip()
    if len(value) > longest:
        raise InvalidInput(_("The filter %(name)s is too long.", name=name), errors={name: []})
    return value or None


def _choice(name: str, allowed: Collection[str]) -> str | None:
    """A filter that must be one of ``allowed``: anything else is refused, not ignored."""
    value = _text(name)
    if value is not None:
        _one_of(name, value, allowed)
    return value


def _one_of(name: str, value: str, allowed: Collection[str]) -> None:
    if value not in allowed:
        raise InvalidInput(
            _("%(value)s is not a value the filter %(name)s takes.", value=value, name=name),
            errors={name: [f"One of: {', '.join(allowed)}."]},
        )


def _flag(name: str) -> bool | None:
    """A ticked box of the page's filters: true, or no filter."""
    return True if request.args.get(name) else None


def _listed(
    fmt: str, name: str, schema: Schema, fetch: Callable[..., list[Any]], **filters: Any
) -> Response:
    """``fetch``'s items (called with a session, ``after_id`` and ``limit``) every one, a
    batch at a time, as a download. Asked once now, so an unknown customer or place is
    refused with the page's error before any byte is sent."""
    fetch(db(), after_id=None, limit=1, **filters)

    def items(session: Session) -> Iterator[Any]:
        return exports.keyset(
            lambda after, size: fetch(session, after_id=after, limit=size, **filters)
        )

    return exports.download_as(fmt, name, schema, items)


@bp.get(f"/ledger.{FORMAT}")
@page("clerk", "admin", "dispatcher")
def ledger(fmt: str) -> Any:
    """Every move of the part (``sku``) or place (``location``) asked, newest first."""
    moves = ledger_reads.moves_query(
        db(),
        sku=request.args.get("sku") or None,
        location=request.args.get("location") or None,
    )
    return exports.download(
        fmt, "ledger", ledger_reads.MOVE_COLUMNS, lambda s: ledger_reads.move_rows(s, moves)
    )


@bp.get(f"/open-calls.{FORMAT}")
@page("dispatcher", "admin")
def open_calls(fmt: str) -> Any:
    """The board's open calls, with their deadlines and hold state as the API gives them."""
    caller, moment, warn = current_caller(), now(), sla_warning()

    def calls(session: Any) -> Any:
        return exports.keyset(
            lambda after, size: list_calls(
                session,
                CallFilter(open=True),
                now=moment,
                warn_before=warn,
                caller=caller,
                after_id=after,
                limit=size,
            )
        )

    return exports.download_as(fmt, "open-calls", CallOut(), calls)


@bp.get(f"/parts.{FORMAT}")
@page(*CLERKS)
def parts(fmt: str) -> Any:
    """The parts the desk's search finds (``q``), or every part."""
    return _listed(fmt, "parts", PartOut(), catalog.search_parts, q=_text("q"))


@bp.get(f"/vendor-orders.{FORMAT}")
@page(*CLERKS)
def vendor_orders(fmt: str) -> Any:
    """Vendor orders: of the statuses asked (``status``, repeated: the desk's "to receive"
    is those the vendor has), only the late ones (``late``), or all."""
    asked = request.args.getlist("status")
    for status in asked:
        _one_of("status", status, ORDER_STATUSES)
    statuses: list[str | None] = [*asked] or [None]
    late, day = _flag("late"), today()

    def items(session: Session) -> Iterator[Any]:
        for status in dict.fromkeys(statuses):  # one status after another, as on the desk
            yield from exports.keyset(_orders_of(session, day, status, late))

    return exports.download_as(fmt, "vendor-orders", VendorOrderOut(), items)


def _orders_of(
    session: Session, day: date, status: str | None, late: bool | None
) -> Callable[[int | None, int], list[Any]]:
    def fetch(after: int | None, size: int) -> list[Any]:
        return order_book.list_orders(
            session, today=day, status=status, late=late, after_id=after, limit=size
        )

    return fetch


@bp.get(f"/reorder-suggestions.{FORMAT}")
@page(*CLERKS)
def reorder_suggestions(fmt: str) -> Any:
    """What is below its reorder point, as the desk shows it (worked out whole, as there)."""
    location, sku = _text("location", 64), _text("sku", 64)
    reorder.check_suggestion_filters(db(), location=location, skus=[sku] if sku else None)
    return exports.download_as(
        fmt,
        "reorder-suggestions",
        SuggestionOut(),
        lambda session: reorder.reorder_suggestions(
            session, location=location, skus=[sku] if sku else None
        ),
    )


@bp.get(f"/reorder-rules.{FORMAT}")
@page(*CLERKS)
def reorder_rules(fmt: str) -> Any:
    """The reorder rules, of a part (``sku``) or a warehouse (``location``), or all."""
    return _listed(
        fmt,
        "reorder-rules",
        ReorderRuleOut(),
        reorder.list_reorder_rules,
        sku=_text("sku", 64),
        location=_text("location", 64),
    )


@bp.get(f"/rmas.{FORMAT}")
@page(*RMA_STAFF)
def rmas(fmt: str) -> Any:
    """RMAs with the RMA list's filters: ``status``, ``customer`` and ``overdue``."""
    return _listed(
        fmt,
        "rmas",
        RmaOut(),
        list_rmas,
        now=now(),
        status=_choice("status", list(RmaStatus)),
        customer=_text("customer", 64),
        overdue=_flag("overdue"),
    )


@bp.get(f"/loans.{FORMAT}")
@page(*DAY_VIEWERS)
def loans(fmt: str) -> Any:
    """Loans by ``status`` (open, due_soon, overdue, returned) and ``engineer``; an
    engineer gets the loans they placed or are to collect, no one else's."""
    return _listed(
        fmt,
        "loans",
        LoanOut(),
        lending.list_loans,
        now=now(),
        state=_choice("status", list(LoanState)),
        engineer=_text("engineer", 64),
        caller=current_caller(),
    )


@bp.get(f"/stock.{FORMAT}")
@page(*STOCK_VIEWERS)
def stock(fmt: str) -> Any:
    """Stock levels of a part (``sku``) or a place (``location``): a part's page, a van;
    an engineer gets the warehouses and their own van, no other van."""
    return _listed(
        fmt,
        "stock",
        StockOut(),
        ledger_reads.list_stock,
        sku=_text("sku", 64),
        location=_text("location", 64),
        only_engineer=only_engineer(db(), current_caller()),
    )
