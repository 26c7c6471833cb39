"""Stock endpoints of API.md: parts, locations, moves, reversals, stock, serials, counts."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from flask import url_for
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from partsvc.api import inventory_schemas as schemas
from partsvc.api.resource import ALL_ROLES, Resource, allow, listed, page
from partsvc.api.resource import decode_cursor as cursor
from partsvc.auth.scope import only_engineer
from partsvc.calls.engineers import get_engineer
from partsvc.core.businesstime import business_time
from partsvc.http import exports
from partsvc.http.context import current_session, current_user, now, today
from partsvc.inventory import catalog, counts, ledger_reads
from partsvc.inventory.rules import only_a_van_has_an_engineer
from partsvc.workflows import bookings
from partsvc.workflows.history import serial_history

blp = Blueprint(
    "stock", __name__, url_prefix="/api/v1", description="Parts, locations and the stock ledger"
)

WRITERS = ("admin", "clerk")
LEDGER_READERS = ("admin", "clerk", "dispatcher")


def _business_time(at: datetime | None) -> datetime | None:
    """A move dated by the clerk: not in the future, not before 2000; else the ledger's now."""
    return business_time(at, now(), "at") if at is not None else None


@blp.route("/parts")
class Parts(Resource):
    @allow(*ALL_ROLES)
    @blp.arguments(schemas.PartQuery, location="query")
    @blp.response(200, schemas.PartPage)
    def get(self, query: dict[str, Any]) -> Any:
        """Search parts by SKU, barcode or name (English or Chinese);
        ``format=csv|xlsx`` downloads every part the search finds."""
        return listed(
            query,
            catalog.search_parts,
            name="parts",
            schema=schemas.PartOut(),
            session=current_session(),
        )

    @allow(*WRITERS)
    @blp.arguments(schemas.PartIn)
    @blp.response(201, schemas.PartOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a part."""
        part = catalog.create_part(current_session(), **data)
        return part, 201, {"Location": url_for("stock.PartBySku", sku=part.sku)}


@blp.route("/parts/<sku>")
class PartBySku(Resource):
    @allow(*ALL_ROLES)
    @blp.response(200, schemas.PartOut)
    def get(self, sku: str) -> Any:
        """One part by SKU."""
        return catalog.get_part(current_session(), sku)


@blp.route("/locations")
class Locations(Resource):
    @allow(*ALL_ROLES)
    @blp.arguments(schemas.LocationQuery, location="query")
    @blp.response(200, schemas.LocationPage)
    def get(self, query: dict[str, Any]) -> Any:
        """List locations, optionally of one kind; an engineer sees no other engineer's van.
        ``format=csv|xlsx`` downloads every location of the kind."""
        session = current_session()
        return listed(
            query,
            catalog.list_locations,
            name="locations",
            schema=schemas.LocationOut(),
            session=session,
            only_engineer=only_engineer(session, current_user()),
        )

    @allow("admin", "clerk")
    @blp.arguments(schemas.LocationIn)
    @blp.response(201, schemas.LocationOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a location: a warehouse, a van, a site, a vendor, ..."""
        session = current_session()
        engineer = data.pop("engineer", None)
        if engineer is not None:  # a van for an engineer: the calls domain knows who that is
            only_a_van_has_an_engineer(data["kind"])
            data["engineer_id"] = get_engineer(session, engineer).id
        location = catalog.create_location(session, **data)
        return location, 201, {"Location": url_for("stock.LocationByCode", code=location.code)}


@blp.route("/locations/<code>")
class LocationByCode(Resource):
    @allow(*ALL_ROLES)
    @blp.response(200, schemas.LocationOut)
    def get(self, code: str) -> Any:
        """One location by code; another engineer's van is unknown to an engineer (404)."""
        session = current_session()
        mine = only_engineer(session, current_user())
        return catalog.get_visible_location(session, code, only_engineer=mine)


@blp.route("/moves")
class Moves(Resource):
    audited = False  # the ledger records who moved what and when

    @allow(*LEDGER_READERS)
    @blp.arguments(schemas.MoveQuery, location="query")
    @blp.response(200, schemas.MovePage)
    def get(self, query: dict[str, Any]) -> Any:
        """The ledger, newest first, by part, location (either side) or serial;
        ``format=csv|xlsx`` downloads every move the filters select."""
        limit = query["limit"]
        if query["format"] != "json":
            moves = ledger_reads.moves_query(
                current_session(),
                sku=query.get("sku"),
                location=query.get("location"),
                serial=query.get("serial"),
            )
            return exports.download(
                query["format"],
                "ledger",
                ledger_reads.MOVE_COLUMNS,
                lambda session: ledger_reads.move_rows(session, moves),
            )
        items = ledger_reads.list_moves(
            current_session(),
            sku=query.get("sku"),
            location=query.get("location"),
            serial=query.get("serial"),
            before_id=cursor(query.get("cursor")),
            limit=limit + 1,
        )
        return page(items, limit)

    @allow(*WRITERS)
    @blp.arguments(schemas.MoveIn)
    @blp.response(201, schemas.MoveOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Book a quantity of a part from one location to another.

        409 if a warehouse or van would go negative, or a serial is not where it is
        said to be; nothing is written then.
        """
        move = bookings.book_move(
            current_session(),
            sku=data["sku"],
            qty=data["qty"],
            from_code=data["from_"],
            to_code=data["to"],
            reason=data["reason"],
            reference=data.get("reference"),
            serials=data["serials"],
            at=_business_time(data.get("at")),
            now=now(),
            today=today(),
            by=current_user(),
        )
        return move, 201, {"Location": url_for("stock.MoveById", move_id=move.id)}


@blp.route("/moves/<int(max=2147483647):move_id>")
class MoveById(Resource):
    @allow(*LEDGER_READERS)
    @blp.response(200, schemas.MoveOut)
    def get(self, move_id: int) -> Any:
        """One move of the ledger."""
        return catalog.get_move(current_session(), move_id)


@blp.route("/moves/<int(max=2147483647):move_id>/reversal")
class MoveReversal(Resource):
    audited = False  # the reversal is a move of the ledger

    @allow(*WRITERS)
    @blp.arguments(schemas.ReversalIn)
    @blp.response(201, schemas.MoveOut)
    def post(self, data: dict[str, Any], move_id: int) -> Any:
        """Post the move that undoes this one. 409 if it was already reversed."""
        move = bookings.book_reversal(
            current_session(),
            move_id,
            reason=data.get("reason"),
            now=now(),
            today=today(),
            by=current_user(),
        )
        return move, 201, {"Location": url_for("stock.MoveById", move_id=move.id)}


@blp.route("/stock")
class Stock(Resource):
    @allow(*ALL_ROLES)
    @blp.arguments(schemas.StockQuery, location="query")
    @blp.response(200, schemas.StockPage)
    def get(self, query: dict[str, Any]) -> Any:
        """Stock levels: on hand, reserved and available per part and location. An engineer
        sees the warehouses and their own van; another engineer's van is unknown (404).
        ``format=csv|xlsx`` downloads every level the filters select."""
        limit = query["limit"]
        engineer = only_engineer(current_session(), current_user())

        def levels(session: Session, after_id: int | None, limit: int) -> list[Any]:
            return ledger_reads.list_stock(
                session,
                only_engineer=engineer,
                sku=query.get("sku"),
                location=query.get("location"),
                kind=query.get("kind"),
                include_zero=query["include_zero"],
                after_id=after_id,
                limit=limit,
            )

        first = levels(current_session(), cursor(query.get("cursor")), limit + 1)
        if query["format"] != "json":
            return exports.download_as(
                query["format"],
                "stock",
                schemas.StockOut(),
                lambda session: exports.keyset(partial(levels, session)),
            )
        return page(first, limit)


@blp.route("/serials/<serial>")
class SerialBySerial(Resource):
    @allow(*ALL_ROLES)
    @blp.response(200, schemas.UnitOut)
    def get(self, serial: str) -> Any:
        """A serial's whole story: where it is now, every move that carried it, its loans,
        RMAs and service calls, and the unit it replaced or that replaced it."""
        session = current_session()
        return serial_history(session, serial, only_engineer=only_engineer(session, current_user()))


@blp.route("/counts")
class Counts(Resource):
    @allow(*WRITERS)
    @blp.arguments(schemas.CountIn)
    @blp.response(201, schemas.CountOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Record a stock count; each difference is booked against adjustment."""
        lines = [
            counts.CountedLine(
                sku=line["sku"],
                counted=line.get("counted"),
                serials=tuple(line["serials"]) if line.get("serials") is not None else None,
            )
            for line in data["lines"]
        ]
        count = bookings.book_count(
            current_session(),
            location_code=data["location"],
            lines=lines,
            at=_business_time(data.get("at")),
            note=data.get("note"),
            now=now(),
            today=today(),
            by=current_user(),
        )
        return count, 201, {"Location": url_for("stock.CountById", count_id=count.id)}


@blp.route("/counts/<int(max=2147483647):count_id>")
class CountById(Resource):
    @allow(*WRITERS)
    @blp.response(200, schemas.CountOut)
    def get(self, count_id: int) -> Any:
        """One stock count with its lines and the moves it booked."""
        return catalog.get_count(current_session(), count_id)
