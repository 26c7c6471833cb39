"""Reorder rules and reorder suggestions (R5).

A rule says, for one part at one warehouse, when to reorder (``reorder_point``) and how
much: a fixed ``reorder_qty`` (in lots of it) or up to a ``max_qty`` (min/max).

For a rule of part P at warehouse W the stock position counts:

- ``on_hand``, ``reserved``, ``available``: P's stock level at W (0 where P has never been);
- ``on_order``: the quantity still to come (``qty - received_qty``) on the lines for P of
  vendor orders that are open (draft, sent or partially received) and deliver to W *or have
  no destination* (only possible while the deployment has a single warehouse: with more,
  every order must name one);
- ``backordered``: what the part requests for P at W still wait for (``qty - reserved_qty``
  of requests open or backordered): stock that is promised before it arrives;
- ``position`` = available + on_order − backordered.

``suggested_qty`` is ``rules.reorder_quantity(position, ...)``; a rule is suggested only
when that is more than 0, i.e. its position is at or below its reorder point.

Drafting turns the suggestions into draft vendor orders, one per (preferred vendor,
warehouse). The drafts are open orders, so they count as on order at once: drafting again
straight after finds nothing more to order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, contains_eager

from partsvc.auth.identity import Caller
from partsvc.core.errors import InvalidInput, UnknownKey
from partsvc.inventory.catalog import get_location, get_part
from partsvc.inventory.models import Location, Part, StockLevel
from partsvc.inventory.rules import LocationKind, reorder_quantity
from partsvc.platform import outbox
from partsvc.platform.db import flush_or_conflict
from partsvc.platform.outbox import OutboxEvent
from partsvc.purchasing.models import PartRequest, ReorderRule, VendorOrder, VendorOrderLine
from partsvc.purchasing.order_book import OPEN_STATUSES, LineIn, OrderStatus, expected_on
from partsvc.purchasing.orders import create_order
from partsvc.purchasing.requests import WAITING

# What a part request still waits for: open (not yet processed) or backordered (R7).
# The lead time of a part that states none: when its drafted line is expected.
DRAFT_NOTE = "Drafted from the reorder suggestions (R5)."
NO_VENDOR = "The part has no preferred vendor; order it by hand or name its vendor."


# ---------------------------------------------------------------- rules


def _warehouse(session: Session, code: str) -> Location:
    """A location by code (404 if unknown) that must be a warehouse (422 if not)."""
    location = get_location(session, code)
    if location.kind != LocationKind.WAREHOUSE:
        raise InvalidInput(
            f"{code} is a {location.kind}; reorder rules are kept for warehouses.",
            errors={"location": ["Not a warehouse."]},
        )
    return location


def check_rule(reorder_point: int, reorder_qty: int | None, max_qty: int | None) -> None:
    """A rule has a reorder point ≥ 0 and exactly one of a quantity > 0 or a maximum above
    the point."""
    errors: dict[str, list[str]] = {}
    if reorder_point < 0:
        errors["reorder_point"] = ["Must be 0 or more."]
    if (reorder_qty is None) == (max_qty is None):
        errors["reorder_qty"] = ["Give either reorder_qty or max_qty, exactly one of them."]
    elif reorder_qty is not None and reorder_qty < 1:
        errors["reorder_qty"] = ["Must be 1 or more."]
    elif max_qty is not None and max_qty <= reorder_point:
        errors["max_qty"] = ["Must be above reorder_point."]
    if errors:
        raise InvalidInput("The reorder rule is not valid; see errors.", errors=errors)


def _find_rule(session: Session, part_id: int, location_id: int) -> ReorderRule | None:
    return session.scalar(
        select(ReorderRule).where(
            ReorderRule.part_id == part_id, ReorderRule.location_id == location_id
        )
    )


def set_reorder_rule(
    session: Session,
    *,
    sku: str,
    location: str,
    reorder_point: int,
    reorder_qty: int | None = None,
    max_qty: int | None = None,
    now: datetime,
) -> ReorderRule:
    """Create or replace the rule of a part at a warehouse (R5).

    Unknown part or location: 404; a location that is not a warehouse, or a rule that is
    not exactly one of a fixed quantity or a maximum: 422.
    """
    part = get_part(session, sku)
    warehouse = _warehouse(session, location)
    check_rule(reorder_point, reorder_qty, max_qty)
    rule = _find_rule(session, part.id, warehouse.id)
    if rule is None:
        rule = ReorderRule(part=part, location=warehouse)
        session.add(rule)
    rule.reorder_point = reorder_point
    rule.reorder_qty = reorder_qty
    rule.max_qty = max_qty
    rule.updated_at = now
    flush_or_conflict(
        session, f"The rule for {sku} at {location} was set at the same moment; try again."
    )
    return rule


def delete_reorder_rule(session: Session, *, sku: str, location: str) -> None:
    """Remove the rule of a part at a location; 404 if there is none."""
    part = get_part(session, sku)
    place = get_location(session, location)
    rule = _find_rule(session, part.id, place.id)
    if rule is None:
        raise UnknownKey(f"No reorder rule for {sku} at {location}.", sku=sku, location=location)
    session.delete(rule)
    session.flush()


def list_reorder_rules(
    session: Session,
    *,
    sku: str | None = None,
    location: str | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[ReorderRule]:
    """Rules in the order they were first set, narrowed to a part or a location."""
    query = select(ReorderRule).order_by(ReorderRule.id).limit(limit)
    if sku is not None:
        query = query.where(ReorderRule.part_id == get_part(session, sku).id)
    if location is not None:
        query = query.where(ReorderRule.location_id == get_location(session, location).id)
    if after_id is not None:
        query = query.where(ReorderRule.id > after_id)
    return list(session.scalars(query))


# ---------------------------------------------------------------- suggestions


@dataclass(frozen=True)
class Suggestion:
    """A rule with its stock position and what to order (``suggested_qty``, maybe 0)."""

    part: Part
    location: Location
    on_hand: int
    reserved: int
    on_order: int
    backordered: int
    reorder_point: int
    reorder_qty: int | None
    max_qty: int | None

    @property
    def sku(self) -> str:
        return self.part.sku

    @property
    def name(self) -> str:
        return self.part.name

    @property
    def vendor(self) -> str | None:
        """The part's preferred vendor, who the drafted order goes to."""
        return self.part.vendor.code if self.part.vendor is not None else None

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def position(self) -> int:
        return self.available + self.on_order - self.backordered

    @property
    def suggested_qty(self) -> int:
        return reorder_quantity(
            self.position, self.reorder_point, reorder_qty=self.reorder_qty, max_qty=self.max_qty
        )


def _rules_wanted(
    session: Session, location: str | None, skus: Collection[str] | None
) -> Select[int]:
    """The ids of the rules asked for: at one warehouse, of some parts, or all of them."""
    query = select(ReorderRule.id)
    if location is not None:
        query = query.where(ReorderRule.location_id == _warehouse(session, location).id)
    if skus is not None:
        wanted = set(skus)
        found = dict(session.execute(select(Part.sku, Part.id).where(Part.sku.in_(wanted))).all())
        missing = sorted(wanted - found.keys())
        if missing:
            raise UnknownKey(f"No part with SKU {', '.join(missing)}.", skus=missing)
        query = query.where(ReorderRule.part_id.in_(found.values()))
    return query


def check_suggestion_filters(
    session: Session, *, location: str | None = None, skus: Collection[str] | None = None
) -> None:
    """Refuse now what ``reorder_suggestions`` would refuse (an unknown warehouse or part):
    a download checks its filters before it sends its first byte."""
    _rules_wanted(session, location, skus)


def stock_positions(
    session: Session,
    *,
    location: str | None = None,
    skus: Collection[str] | None = None,
    lock: bool = False,
) -> list[Suggestion]:
    """Every rule asked for with its stock position, by warehouse code then SKU.

    ``lock`` (PostgreSQL) takes the rules' rows for update, in id order, before anything is
    counted: two clerks drafting at once then count one after the other, so the second
    sees the first one's drafts as on order and does not order the same parts again.
    """
    wanted = _rules_wanted(session, location, skus)
    if lock and session.get_bind().dialect.name == "postgresql":
        session.execute(wanted.order_by(ReorderRule.id).with_for_update())
    rows = session.execute(
        select(ReorderRule, StockLevel.on_hand, StockLevel.reserved)
        .join(ReorderRule.part)
        .join(ReorderRule.location)
        .outerjoin(
            StockLevel,
            and_(
                StockLevel.part_id == ReorderRule.part_id,
                StockLevel.location_id == ReorderRule.location_id,
            ),
        )
        .options(contains_eager(ReorderRule.part), contains_eager(ReorderRule.location))
        .where(ReorderRule.id.in_(wanted))
        .order_by(Location.code, Part.sku)
    ).all()
    if not rows:
        return []
    part_ids = select(ReorderRule.part_id).where(ReorderRule.id.in_(wanted))
    location_ids = select(ReorderRule.location_id).where(ReorderRule.id.in_(wanted))

    # Lines still to come, per part and destination (None: no destination given).
    on_order: dict[tuple[int, int | None], int] = defaultdict(int)
    for part_id, deliver_to_id, qty in session.execute(
        select(
            VendorOrderLine.part_id,
            VendorOrder.deliver_to_id,
            func.sum(VendorOrderLine.qty - VendorOrderLine.received_qty),
        )
        .join(VendorOrder, VendorOrder.id == VendorOrderLine.order_id)
        .where(
            VendorOrder.status.in_(OPEN_STATUSES),
            VendorOrderLine.part_id.in_(part_ids),
            or_(VendorOrder.deliver_to_id.is_(None), VendorOrder.deliver_to_id.in_(location_ids)),
        )
        .group_by(VendorOrderLine.part_id, VendorOrder.deliver_to_id)
    ):
        on_order[(part_id, deliver_to_id)] += int(qty or 0)

    backordered: dict[tuple[int, int], int] = defaultdict(int)
    for part_id, warehouse_id, qty in session.execute(
        select(
            PartRequest.part_id,
            PartRequest.warehouse_id,
            func.sum(PartRequest.qty - PartRequest.reserved_qty),
        )
        .where(
            PartRequest.status.in_(WAITING),
            PartRequest.part_id.in_(part_ids),
            PartRequest.warehouse_id.in_(location_ids),
        )
        .group_by(PartRequest.part_id, PartRequest.warehouse_id)
    ):
        backordered[(part_id, warehouse_id)] += int(qty or 0)

    return [
        Suggestion(
            part=rule.part,
            location=rule.location,
            on_hand=on_hand or 0,
            reserved=reserved or 0,
            on_order=on_order[(rule.part_id, rule.location_id)] + on_order[(rule.part_id, None)],
            backordered=backordered[(rule.part_id, rule.location_id)],
            reorder_point=rule.reorder_point,
            reorder_qty=rule.reorder_qty,
            max_qty=rule.max_qty,
        )
        for rule, on_hand, reserved in rows
    ]


def reorder_suggestions(
    session: Session,
    *,
    location: str | None = None,
    skus: Collection[str] | None = None,
    lock: bool = False,
) -> list[Suggestion]:
    """What to order (R5): the rules whose position is at or below their reorder point,
    with ``suggested_qty`` > 0, by warehouse code then SKU. See the module for the counts."""
    return [
        suggestion
        for suggestion in stock_positions(session, location=location, skus=skus, lock=lock)
        if suggestion.suggested_qty > 0
    ]


# ---------------------------------------------------------------- drafting vendor orders


@dataclass(frozen=True)
class Skipped:
    sku: str
    location: str
    reason: str


@dataclass(frozen=True)
class Drafts:
    orders: list[VendorOrder]
    skipped: list[Skipped]


def draft_vendor_orders(
    session: Session,
    *,
    today: date,
    now: datetime,
    location: str | None = None,
    skus: Collection[str] | None = None,
    by: Caller | None = None,
) -> Drafts:
    """Turn the current suggestions into draft vendor orders (R5).

    One draft per (preferred vendor, warehouse), delivered to that warehouse, a line per
    suggested part: ``suggested_qty`` at the part's ``unit_cost``, expected ``today`` (in
    the deployment's zone) plus the part's lead time. Parts without a preferred vendor are
    skipped and reported. The drafts count as on order, so a second call drafts nothing.
    """
    groups: dict[tuple[str, str], list[Suggestion]] = defaultdict(list)
    skipped: list[Skipped] = []
    for suggestion in reorder_suggestions(session, location=location, skus=skus, lock=True):
        if suggestion.vendor is None:
            skipped.append(Skipped(suggestion.sku, suggestion.location.code, NO_VENDOR))
        else:
            groups[(suggestion.location.code, suggestion.vendor)].append(suggestion)
    orders = []
    for (warehouse, vendor), suggestions in sorted(groups.items()):
        lines = [
            LineIn(
                sku=suggestion.sku,
                qty=suggestion.suggested_qty,
                eta=expected_on(suggestion.part, today),
                unit_cost=suggestion.part.unit_cost,
            )
            for suggestion in suggestions
        ]
        orders.append(
            create_order(  # requests left open for want of a line take these
                session,
                vendor=vendor,
                lines=lines,
                now=now,
                today=today,
                status=OrderStatus.DRAFT,
                deliver_to=warehouse,
                note=DRAFT_NOTE,
                by=by,
            )
        )
    return Drafts(orders=orders, skipped=skipped)


# ---------------------------------------------------------------- telling integrators


def announce_below_reorder(session: Session, *, now: datetime, zone: ZoneInfo) -> int:
    """A ``stock.below_reorder`` event, once a day, for each rule whose position is at or
    below its reorder point (the sweep runs this); how many were emitted."""
    start = datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)
    emitted = 0
    for suggestion in reorder_suggestions(session):
        subject = f"stock:{suggestion.part.id}:{suggestion.location.id}"
        told = select(OutboxEvent.id).where(
            OutboxEvent.subject == subject, OutboxEvent.occurred_at >= start
        )
        if session.scalar(told.limit(1)) is not None:
            continue
        outbox.emit(
            session,
            "stock.below_reorder",
            subject=subject,
            now=now,
            sku=suggestion.sku,
            location=suggestion.location.code,
            available=suggestion.available,
            on_order=suggestion.on_order,
            position=suggestion.position,
            reorder_point=suggestion.reorder_point,
            suggested_qty=suggestion.suggested_qty,
        )
        emitted += 1
    session.flush()
    return emitted
