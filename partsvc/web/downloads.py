"""The pages' lists as downloads, for those logged in with a password (the API's lists
take ``?format=`` with a token): the ledger of a part or a place, and the open calls."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from partsvc.api.calls_schemas import CallOut
from partsvc.calls.calls import CallFilter, list_calls
from partsvc.http import exports
from partsvc.http.context import now, sla_warning
from partsvc.inventory import ledger_reads
from partsvc.web.pages import current_caller, db, page

bp = Blueprint("downloads", __name__, url_prefix="/downloads")

FORMAT = "<any(csv, xlsx):fmt>"


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
