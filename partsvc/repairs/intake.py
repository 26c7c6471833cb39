"""Opening an RMA (R14, R15): what comes back, from which site, each item's warranty
verdict with its reason; a unit already on an open RMA is refused."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.auth.identity import Caller
from partsvc.calls.calls import get_call
from partsvc.calls.customers import get_customer, get_equipment, get_site
from partsvc.calls.models import Customer, Equipment, Site
from partsvc.core.errors import Conflict, InvalidInput
from partsvc.core.worktime import WorkingCalendar
from partsvc.inventory.catalog import get_part
from partsvc.inventory.models import Location, Part, Unit
from partsvc.repairs.models import Rma, RmaItem, RmaStep
from partsvc.repairs.rmas import item_label
from partsvc.repairs.rules import (
    DEFAULT_WARRANTY_POLICY,
    FINISHED,
    RmaStatus,
    WarrantyPolicy,
    failure_day,
    warranty_verdict,
)


@dataclass(frozen=True)
class ItemIn:
    """A returned item: a unit by ``serial``, or ``qty`` of a part by ``sku``.

    ``equipment`` names the installed unit a component came out of; ``delivered_on`` the
    day it reached the customer (default: that equipment's install date).
    """

    serial: str | None = None
    sku: str | None = None
    qty: int | None = None
    equipment: str | None = None
    delivered_on: date | None = None


def create_rma(
    session: Session,
    *,
    customer: str,
    items: Sequence[ItemIn],
    fault: str,
    now: datetime,
    calendar: WorkingCalendar,
    site: str | None = None,
    call: int | None = None,
    requested_at: datetime | None = None,
    by: Caller | None = None,
    policy: WarrantyPolicy = DEFAULT_WARRANTY_POLICY,
) -> Rma:
    """A requested RMA listing what is to come back, each item with its verdict (R14, R15).

    The failure date the warranty is judged on is the request date, in the deployment's
    zone. The site the goods come from is ``site``, else the call's, else the one site of
    the equipment named, else the customer's only site.
    """
    if not items:
        raise InvalidInput("An RMA lists at least one item.", errors={"items": ["Empty."]})
    when = (requested_at or now).astimezone(UTC)
    if when > now:
        raise InvalidInput(
            "An RMA cannot be requested in the future.",
            errors={"requested_at": ["Must not be later than now."]},
        )
    owner = get_customer(session, customer)
    place = _own_site(owner, get_site(session, site), "site") if site else None
    call_row = get_call(session, call) if call is not None else None
    if call_row is not None:
        call_site = session.get(Site, call_row.site_id)
        assert call_site is not None
        _own_site(owner, call_site, "call")
        place = place or call_site
    failed_on = failure_day(when, calendar)
    _no_serial_twice(items)
    rows = [_item_row(session, owner, item, failed_on, policy) for item in items]
    if place is None:
        place = _default_site(session, owner, rows)
    for row in rows:
        if _source_site(place, row) is None:
            raise InvalidInput(
                f"Name the site {item_label(row)} comes back from: {owner.code} has several.",
                errors={"site": ["Required: the customer has more than one site."]},
            )
    rma = Rma(
        customer_id=owner.id,
        site_id=place.id if place else None,
        call_id=call_row.id if call_row else None,
        status=RmaStatus.REQUESTED,
        fault=fault,
        requested_at=when,
        created_by_id=by.id if by else None,
    )
    session.add(rma)
    session.flush()
    for row in rows:
        row.rma_id = rma.id
        session.add(row)
    rma.steps.append(
        RmaStep(status=RmaStatus.REQUESTED, at=when, user_id=by.id if by else None, note=None)
    )
    session.flush()
    session.refresh(rma, ["items", "steps"])
    return rma


def _no_serial_twice(items: Sequence[ItemIn]) -> None:
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.serial is not None:
            if item.serial in seen:
                raise InvalidInput(
                    f"Serial {item.serial} is listed twice.",
                    errors={"items": {str(index): {"serial": ["Listed twice."]}}},
                )
            seen.add(item.serial)


def _own_site(owner: Customer, site: Site, field: str) -> Site:
    if site.customer_id != owner.id:
        raise InvalidInput(
            f"Site {site.code} is not one of {owner.code}'s sites.",
            errors={field: [f"Not a site of {owner.code}."]},
        )
    return site


def _item_row(
    session: Session, owner: Customer, item: ItemIn, failed_on: date, policy: WarrantyPolicy
) -> RmaItem:
    """The item as stored, its part and equipment found and its verdict given (R15)."""
    equipment: Equipment | None = None
    if item.serial is not None:
        if item.qty not in (None, 1):
            raise InvalidInput(
                "A unit returned by serial is one unit.", errors={"qty": ["Must be 1."]}
            )
        equipment = session.scalar(select(Equipment).where(Equipment.serial == item.serial))
        part = _serial_part(session, item, equipment)
        _not_on_an_open_rma(session, item.serial)
        qty = 1
    else:
        if item.sku is None or item.qty is None:
            raise InvalidInput(
                "An item is a serial, or a SKU and a quantity.",
                errors={"items": ["Give serial, or sku and qty."]},
            )
        part = get_part(session, item.sku)
        if part.serialized:
            raise InvalidInput(
                f"{part.sku} is serialized: list each unit returned by its serial.",
                errors={"sku": ["Serialized: give serials."]},
            )
        qty = item.qty
    if item.equipment is not None:
        if equipment is not None:
            raise InvalidInput(
                f"{item.serial} is itself installed equipment.",
                errors={"equipment": ["Only for a component of equipment."]},
            )
        equipment = get_equipment(session, item.equipment)
    if equipment is not None and equipment.site.customer_id != owner.id:
        raise InvalidInput(
            f"Equipment {equipment.serial} is installed at {equipment.site.code}, which is not "
            f"a site of {owner.code}.",
            errors={"items": [f"{equipment.serial} belongs to another customer."]},
        )
    delivered_on = item.delivered_on or (equipment.installed_on if equipment else None)
    if delivered_on is not None and delivered_on > failed_on:
        raise InvalidInput(
            f"{item.serial or part.sku} was delivered on {delivered_on.isoformat()}, after the "
            f"failure reported on {failed_on.isoformat()}.",
            errors={"delivered_on": ["Must not be after the request date."]},
        )
    # The equipment model's own warranty is already its equipment warranty; any other
    # part with a warranty of its own (a print head's 3 months) is judged by that.
    is_the_model = equipment is not None and equipment.part_id == part.id
    verdict = warranty_verdict(
        failed_on=failed_on,
        delivered_on=delivered_on,
        equipment_warranty_until=equipment.warranty_until if equipment else None,
        component_warranty_months=None if is_the_model else part.warranty_months,
        policy=policy,
    )
    row = RmaItem(
        part_id=part.id,
        serial=item.serial,
        equipment_id=equipment.id if equipment else None,
        qty=qty,
        delivered_on=item.delivered_on,
        verdict=verdict.verdict,
        verdict_reason=verdict.reason,
        received_qty=0,
        accessories_complete=None,
    )
    row.part = part
    row.equipment = equipment
    return row


def _serial_part(session: Session, item: ItemIn, equipment: Equipment | None) -> Part:
    """The part of a returned serial: the equipment's model, the unit's part, or ``sku``."""
    assert item.serial is not None
    known: Part | None = None
    if equipment is not None:
        known = equipment.part
    else:
        unit = session.scalar(select(Unit).where(Unit.serial == item.serial))
        known = unit.part if unit else None
    if known is None:
        if item.sku is None:
            raise InvalidInput(
                f"Serial {item.serial} is neither installed equipment nor a unit we know: "
                "give its SKU.",
                errors={"sku": ["Required for an unknown serial."]},
            )
        return get_part(session, item.sku)
    if item.sku is not None and item.sku != known.sku:
        raise InvalidInput(
            f"Serial {item.serial} is a {known.sku}, not a {item.sku}.",
            errors={"sku": [f"{item.serial} is a {known.sku}."]},
        )
    return known


def _not_on_an_open_rma(session: Session, serial: str) -> None:
    """A unit is on one open RMA at a time; once shipped back it may fail again."""
    other = session.scalar(
        select(Rma)
        .join(RmaItem, RmaItem.rma_id == Rma.id)
        .where(RmaItem.serial == serial, Rma.status.not_in([str(s) for s in FINISHED]))
        .limit(1)
    )
    if other is not None:
        raise Conflict(
            f"Serial {serial} is already on {other.number} ({other.status}).",
            serial=serial,
            rma=other.number,
        )


def _default_site(session: Session, owner: Customer, rows: Sequence[RmaItem]) -> Site | None:
    """The one site of the equipment named, else the customer's only site."""
    sites = {row.equipment.site_id for row in rows if row.equipment is not None}
    if len(sites) == 1:
        return session.get(Site, sites.pop())
    if sites:
        return None
    found = session.scalars(select(Site).where(Site.customer_id == owner.id).limit(2)).all()
    return found[0] if len(found) == 1 else None


def _source_site(place: Site | None, item: RmaItem) -> Site | None:
    """Where an item is: installed equipment at its own site; anything else at the RMA's
    site, or else at the site of the equipment it came out of."""
    equipment: Equipment | None = item.equipment
    if equipment is not None and equipment.serial == item.serial:
        return equipment.site
    if place is not None:
        return place
    return equipment.site if equipment is not None else None


def site_code(session: Session, rma: Rma, item: RmaItem) -> str:
    site = _source_site(rma.site, item)
    if site is None:  # create_rma makes sure every item has one
        raise Conflict(f"{rma.number} names no site for {item_label(item)}.")
    location = session.get(Location, site.location_id)
    assert location is not None
    return location.code
