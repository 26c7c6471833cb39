"""Part requests and vendor orders endpoints of API.md."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_smorest import Blueprint

from partsvc.api import purchasing_schemas as schemas
from partsvc.api.resource import ALL_ROLES, Resource, allow, listed
from partsvc.http.context import calendar, current_session, current_user, now, today
from partsvc.purchasing import orders, requests

blp = Blueprint(
    "purchasing",
    __name__,
    url_prefix="/api/v1",
    description="Part requests (R7, R9) and vendor orders with their ETAs (R8)",
)

BUYERS = ("admin", "clerk")
READERS = ("admin", "clerk", "dispatcher")
ID = "int(max=2147483647)"


@blp.route("/part-requests")
class PartRequests(Resource):
    @allow(*ALL_ROLES)
    @blp.arguments(schemas.RequestQuery, location="query")
    @blp.response(200, schemas.RequestPage)
    def get(self, query: dict[str, Any]) -> Any:
        """Part requests oldest first, by status, SKU, call, engineer or warehouse.
        An engineer sees their own."""
        return listed(
            query,
            orders.list_requests,
            name="part-requests",
            schema=schemas.PartRequestOut(),
            session=current_session(),
            caller=current_user(),
        )

    @allow(*ALL_ROLES)
    @blp.arguments(schemas.PartRequestIn)
    @blp.response(201, schemas.PartRequestOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Request a part: reserved from the serving warehouse at once if it has it, else
        backordered on a vendor order line whose ETA it carries; processed within 4
        working hours (R7). An engineer requests for themselves."""
        request = orders.request_part(
            current_session(), calendar=calendar(), now=now(), by=current_user(), **data
        )
        location = url_for("purchasing.PartRequestById", request_id=request.id)
        return request, 201, {"Location": location}


@blp.route(f"/part-requests/<{ID}:request_id>")
class PartRequestById(Resource):
    @allow(*ALL_ROLES)
    @blp.response(200, schemas.PartRequestOut)
    def get(self, request_id: int) -> Any:
        """One part request, with the ETA of the order line it waits on."""
        return orders.get_request(current_session(), request_id, caller=current_user())


@blp.route(f"/part-requests/<{ID}:request_id>/issue")
class PartRequestIssue(Resource):
    @allow(*BUYERS)
    @blp.arguments(schemas.IssueIn)
    @blp.response(200, schemas.PartRequestOut)
    def post(self, data: dict[str, Any], request_id: int) -> Any:
        """Book the reserved parts out to the engineer's van (or ``to``) through the ledger."""
        return orders.issue_request(
            current_session(), request_id, now=now(), by=current_user(), **data
        )


@blp.route(f"/part-requests/<{ID}:request_id>/cancel")
class PartRequestCancel(Resource):
    @allow(*READERS)
    @blp.response(200, schemas.PartRequestOut)
    def post(self, request_id: int) -> Any:
        """Release what was reserved and leave the order line; others waiting get it."""
        return orders.cancel_request(current_session(), request_id, now=now(), today=today())


@blp.route("/vendor-orders")
class VendorOrders(Resource):
    @allow(*READERS)
    @blp.arguments(schemas.OrderQuery, location="query")
    @blp.response(200, schemas.OrderPage)
    def get(self, query: dict[str, Any]) -> Any:
        """Vendor orders oldest first; ``late=true``: those with a line past its ETA."""
        return listed(
            query,
            orders.list_orders,
            name="vendor-orders",
            schema=schemas.VendorOrderOut(),
            session=current_session(),
            today=today(),
        )

    @allow(*BUYERS)
    @blp.arguments(schemas.VendorOrderIn)
    @blp.response(201, schemas.VendorOrderOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Order parts from a vendor, sent (default) or as a draft; requests waiting for
        want of an order line wait on it from now."""
        lines = [orders.LineIn(**line) for line in data.pop("lines")]
        order = orders.create_order(
            current_session(), lines=lines, now=now(), today=today(), by=current_user(), **data
        )
        location = url_for("purchasing.VendorOrderByNumber", number=order.number)
        return order, 201, {"Location": location}


@blp.route("/vendor-orders/<number>")
class VendorOrderByNumber(Resource):
    @allow(*READERS)
    @blp.response(200, schemas.VendorOrderOut)
    def get(self, number: str) -> Any:
        """One vendor order with its lines, their ETAs and ETA history."""
        return orders.get_order(current_session(), number)


@blp.route(f"/vendor-orders/<number>/lines/<{ID}:line_id>")
class VendorOrderLineView(Resource):
    @allow(*BUYERS)
    @blp.arguments(schemas.EtaIn)
    @blp.response(200, schemas.OrderLineOut)
    def patch(self, data: dict[str, Any], number: str, line_id: int) -> Any:
        """A new ETA for a line; the change is kept with who and when, and the requests
        waiting on the line show it."""
        return orders.change_eta(
            current_session(), number, line_id, now=now(), today=today(), by=current_user(), **data
        )


@blp.route("/vendor-orders/<number>/receipts")
class VendorOrderReceipts(Resource):
    @allow(*BUYERS)
    @blp.arguments(schemas.ReceiptIn)
    @blp.response(201, schemas.ReceiptOut)
    def post(self, data: dict[str, Any], number: str) -> Any:
        """Receive goods, partly or wholly: stock is booked in through the ledger and
        reserved for the waiting requests, most urgent first (R8, R9). Over-receipt, or
        receiving a draft or cancelled order, is a 409."""
        lines = [orders.ReceivedLine(**line) for line in data.pop("lines")]
        return orders.receive(
            current_session(),
            number,
            lines=lines,
            now=now(),
            today=today(),
            by=current_user(),
            **data,
        ), 201


@blp.route(f"/vendor-orders/<number>/receipts/<{ID}:receipt_id>/reversal")
class VendorOrderReceiptReversal(Resource):
    @allow(*BUYERS)
    @blp.arguments(schemas.ReceiptReversalIn)
    @blp.response(201, schemas.ReceiptOut)
    def post(self, data: dict[str, Any], number: str, receipt_id: int) -> Any:
        """Undo a receipt booked by mistake: its moves are reversed, the order expects the
        parts again, and what requests had reserved of it is taken back from the least
        urgent first. 409 if some of it was already issued."""
        return orders.reverse_receipt(
            current_session(),
            number,
            receipt_id,
            now=now(),
            today=today(),
            by=current_user(),
            **data,
        ), 201


@blp.route("/vendor-orders/<number>/send")
class VendorOrderSend(Resource):
    @allow(*BUYERS)
    @blp.response(200, schemas.VendorOrderOut)
    def post(self, number: str) -> Any:
        """Send a draft order to its vendor."""
        return orders.send_order(current_session(), number, now=now(), today=today())


@blp.route("/vendor-orders/<number>/cancel")
class VendorOrderCancel(Resource):
    @allow(*BUYERS)
    @blp.response(200, schemas.VendorOrderOut)
    def post(self, number: str) -> Any:
        """Cancel an order nothing was received on; its waiting requests wait on another
        line, a new draft line, or (no vendor) for a clerk."""
        return orders.cancel_order(current_session(), number, now=now(), today=today())


@blp.route("/vendor-orders/<number>/close")
class VendorOrderClose(Resource):
    @allow(*BUYERS)
    @blp.response(200, schemas.VendorOrderOut)
    def post(self, number: str) -> Any:
        """Close a partly received order short: the vendor sends no more; its waiting
        requests move to another line."""
        return orders.close_order(current_session(), number, now=now(), today=today())


@blp.route("/sla-policy/part-requests")
class PartRequestTarget(Resource):
    @allow(*ALL_ROLES)
    @blp.response(200, schemas.ProcessingTargetOut)
    def get(self) -> Any:
        """How much working time a part request has to be processed (R7)."""
        return {
            "name": "part_request",
            "working_minutes": requests.processing_time(current_session()).total_seconds() // 60,
        }

    @allow("admin")
    @blp.arguments(schemas.ProcessingTargetIn)
    @blp.response(200, schemas.ProcessingTargetOut)
    def put(self, data: dict[str, Any]) -> Any:
        """How much working time a part request has to be processed (R7: 240 minutes)."""
        return requests.set_processing_time(current_session(), data["working_minutes"])
