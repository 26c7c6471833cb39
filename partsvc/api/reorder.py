"""Reorder endpoints (R5): rules per part and warehouse, suggestions, drafting orders."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask_smorest import Blueprint

from partsvc.api import reorder_schemas as schemas
from partsvc.api.resource import Resource, allow, listed
from partsvc.http import exports
from partsvc.http.context import current_session, current_user, now, today
from partsvc.purchasing import reorder

blp = Blueprint(
    "reorder",
    __name__,
    url_prefix="/api/v1",
    description="Reorder rules per part and warehouse, what to reorder, draft vendor orders (R5)",
)

WRITERS = ("admin", "clerk")
READERS = ("admin", "clerk", "dispatcher")

# Suggestions are not paged: which rules are suggested is worked out from their counts,
# not read from an index, and they come by warehouse and SKU, not by id. Only what is at or
# below its reorder point is listed, a list a clerk goes through in one go; the cap keeps
# the answer bounded, and ``truncated`` says when to narrow by location.
MAX_SUGGESTIONS = 2000


@blp.route("/reorder-rules")
class ReorderRules(Resource):
    @allow(*READERS)
    @blp.arguments(schemas.ReorderRuleQuery, location="query")
    @blp.response(200, schemas.ReorderRulePage)
    def get(self, query: dict[str, Any]) -> Any:
        """Reorder rules in the order they were set, narrowed by ``sku`` or ``location``;
        ``format=csv|xlsx`` downloads every rule the filters select."""
        return listed(
            query,
            reorder.list_reorder_rules,
            name="reorder-rules",
            schema=schemas.ReorderRuleOut(),
            session=current_session(),
        )


@blp.route("/reorder-rules/<sku>/<location>")
class ReorderRuleByKey(Resource):
    @allow(*WRITERS)
    @blp.arguments(schemas.ReorderRuleIn)
    @blp.response(200, schemas.ReorderRuleOut)
    def put(self, data: dict[str, Any], sku: str, location: str) -> Any:
        """Set (create or replace) when to reorder a part at a warehouse: ``reorder_point``
        and either ``reorder_qty`` (lots of a fixed size) or ``max_qty`` (order up to)."""
        return reorder.set_reorder_rule(
            current_session(), sku=sku, location=location, now=now(), **data
        )

    @allow(*WRITERS)
    @blp.response(204)
    def delete(self, sku: str, location: str) -> None:
        """Stop reordering a part at a warehouse; 404 if it had no rule."""
        reorder.delete_reorder_rule(current_session(), sku=sku, location=location)


@blp.route("/reorder-suggestions")
class ReorderSuggestions(Resource):
    @allow(*READERS)
    @blp.arguments(schemas.SuggestionQuery, location="query")
    @blp.response(200, schemas.SuggestionPage)
    def get(self, query: dict[str, Any]) -> Any:
        """What to reorder: each part at or below its reorder point at a warehouse, counting
        what is on order (open vendor orders to that warehouse or to none) and what waiting
        part requests need. By warehouse code, then SKU; at most 2000, not paged
        (``format=csv|xlsx`` downloads them all)."""
        sku = query.get("sku")
        suggested = partial(
            reorder.reorder_suggestions, location=query.get("location"), skus=[sku] if sku else None
        )
        if query["format"] != "json":  # every suggestion: they are worked out whole anyway
            reorder.check_suggestion_filters(current_session(), **suggested.keywords)  # 404s
            return exports.download_as(
                query["format"], "reorder-suggestions", schemas.SuggestionOut(), suggested
            )
        found = suggested(current_session())
        return {
            "items": found[:MAX_SUGGESTIONS],
            "next": None,
            "truncated": len(found) > MAX_SUGGESTIONS,
        }


@blp.route("/reorder-suggestions/orders")
class ReorderDrafts(Resource):
    @allow(*WRITERS)
    @blp.arguments(schemas.DraftIn)
    @blp.response(201, schemas.DraftOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Draft the vendor orders the suggestions call for: one per preferred vendor and
        warehouse, each line the suggested quantity at the part's cost, expected after its
        lead time (14 days if unset). Parts with no preferred vendor are listed in
        ``skipped``. The drafts count as on order: calling again drafts nothing more."""
        return reorder.draft_vendor_orders(
            current_session(),
            today=today(),
            now=now(),
            location=data["location"],
            skus=data["skus"],
            by=current_user(),
        )
