"""Repair RMAs (R14–R17): requested with the items and their warranty verdicts, then
authorized, received through the ledger, repaired or replaced, shipped back and closed.

Every step is checked against the state machine of ``rules`` first and records who and
when; a step refused (409 or 422) leaves nothing written, since the caller's one
transaction is rolled back. Services flush, never commit.

Decisions:
- A receipt is taken only against an authorized RMA, and only of what is on it. A partial
  receipt is allowed: the first one moves the RMA to ``received`` and starts its
  turnaround clock; what has not come is listed as missing, and may follow in later
  receipts while the RMA is still ``received`` (before diagnosis).
- Accessories: ``accessories_complete`` per received item, true or false; not given means
  no list came with the goods, and the received count is what counts (R14).
- The spare is "in our stock" (R16) when the warehouses together have, available, as many
  of each item's part as the RMA returns.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from partsvc.auth.identity import Caller
from partsvc.calls.calls import get_call
from partsvc.calls.customers import create_equipment, get_customer, get_equipment, get_site
from partsvc.calls.models import Customer, Equipment, Site
from partsvc.core.businesstime import business_time
from partsvc.core.errors import Conflict, InvalidInput, InvalidTransition, UnknownKey
from partsvc.core.worktime import WorkingCalendar
from partsvc.inventory.catalog import get_location, get_part
from partsvc.inventory.ledger import claim_moves, post_move
from partsvc.inventory.models import Location, Move, Part, StockLevel, Unit
from partsvc.inventory.rules import LocationKind
from partsvc.repairs.models import Rma, RmaItem, RmaStep
from partsvc.repairs.rules import (
    DEFAULT_TURNAROUND,
    DEFAULT_WARRANTY_POLICY,
    FINISHED,
    NEXT_STATUSES,
    TURNAROUND_MET,
    RmaStatus,
    Step,
    TurnaroundPolicy,
    Verdict,
    WarrantyPolicy,
    can_move,
    failure_day,
    step_status,
    turnaround_due,
    warranty_verdict,
)

log = logging.getLogger(__name__)

RECEIPT_REASON = "rma receipt"
SHIPMENT_REASON = "rma shipment"
_NUMBER = re.compile(r"RMA-(\d{1,9})\Z")


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


@dataclass(frozen=True)
class StepItem:
    """An item named in a step: what came in (``receive``: a serial, or ``qty`` of a part
    by ``sku``, and whether its accessories and packaging were complete, None meaning no
    list came with it), or what a faulty unit was swapped for (``complete``:
    ``serial`` and ``replacement_serial``)."""

    serial: str | None = None
    sku: str | None = None
    qty: int | None = None
    accessories_complete: bool | None = None
    replacement_serial: str | None = None


@dataclass(frozen=True)
class StepIn:
    """The body of a step; each step takes only the fields it needs (see ``take_step``)."""

    at: datetime | None = None
    note: str | None = None
    location: str | None = None
    items: Sequence[StepItem] | None = None
    place: str | None = None
    outcome: str | None = None
    engineer: str | None = None


@dataclass(frozen=True)
class RmaSerialEvent:
    """One RMA in a serial's history: the serial came back on it (``faulty``) or was sent
    out on it in place of a faulty unit (``replacement``)."""

    rma: str
    status: str
    role: str  # "faulty" or "replacement"
    serial: str
    replacement_serial: str | None
    verdict: str
    verdict_reason: str
    requested_at: datetime
    received_qty: int
    steps: tuple[tuple[str, datetime], ...]


# ---------------------------------------------------------------- look-ups


def get_rma(session: Session, number: str, *, for_update: bool = False) -> Rma:
    """The RMA named by its number, ``RMA-000042``; 404 if there is none."""
    match = _NUMBER.match(number)
    rma = None
    if match:
        query = select(Rma).where(Rma.id == int(match.group(1)))
        if for_update and session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(of=Rma)
        rma = session.scalar(query)
    if rma is None:
        raise UnknownKey(f"No RMA {number!r}.", rma=number)
    return rma


def rma_of_customer(session: Session, number: str, customer_id: int) -> Rma:
    """The RMA a loan covers (R13), by its number; it must be that customer's."""
    rma = get_rma(session, number)
    if rma.customer_id != customer_id:
        raise InvalidInput(
            f"{number} is another customer's RMA.", errors={"rma": ["Another customer's."]}
        )
    return rma


def list_rmas(
    session: Session,
    *,
    now: datetime,
    status: str | None = None,
    overdue: bool | None = None,
    customer: str | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[Rma]:
    """RMAs oldest first; ``overdue=true``: those past their turnaround target and not yet
    shipped, closed or rejected (R16); ``overdue=false``: all the others."""
    query = select(Rma).order_by(Rma.id).limit(limit)
    if after_id is not None:
        query = query.where(Rma.id > after_id)
    if status is not None:
        query = query.where(Rma.status == status)
    if customer is not None:
        query = query.where(Rma.customer_id == get_customer(session, customer).id)
    if overdue is not None:
        late = _overdue_clause(now)
        query = query.where(late if overdue else ~late)
    return list(session.scalars(query).unique())


def _overdue_clause(now: datetime) -> ColumnElement[bool]:
    return (
        Rma.due_at.is_not(None)
        & (Rma.due_at < now)
        & Rma.status.not_in([str(status) for status in TURNAROUND_MET])
    )


def item_label(item: RmaItem) -> str:
    """How an item is named to a person: its serial, or the quantity and SKU."""
    return item.serial or f"{item.qty} x {item.part.sku}"


def received_into(session: Session, rma: Rma) -> Location | None:
    """The repair location the RMA's goods were last received into (from the ledger)."""
    move = session.scalar(
        select(Move)
        .where(Move.reference == rma.number, Move.reason == RECEIPT_REASON)
        .order_by(Move.id.desc())
        .limit(1)
    )
    return move.to_location if move else None


# ---------------------------------------------------------------- creating an RMA


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


def _site_code(session: Session, rma: Rma, item: RmaItem) -> str:
    site = _source_site(rma.site, item)
    if site is None:  # create_rma makes sure every item has one
        raise Conflict(f"{rma.number} names no site for {item_label(item)}.")
    location = session.get(Location, site.location_id)
    assert location is not None
    return location.code


# ---------------------------------------------------------------- steps (R17)


# What each step takes besides ``at`` and ``note``; anything else is refused (422).
_STEP_FIELDS: dict[Step, frozenset[str]] = {
    Step.RECEIVE: frozenset({"location", "items"}),
    Step.REPAIR: frozenset({"place"}),
    Step.COMPLETE: frozenset({"outcome", "items"}),
    Step.SHIP: frozenset({"location", "engineer"}),
}


def take_step(
    session: Session,
    number: str,
    step: str,
    body: StepIn,
    *,
    now: datetime,
    calendar: WorkingCalendar,
    by: Caller | None = None,
    turnaround: TurnaroundPolicy = DEFAULT_TURNAROUND,
) -> Rma:
    """Take one step of an RMA's life (R17); each step takes only what it needs.

    authorize (``note``), reject (``note``: why, required), receive (``location``,
    ``items``), diagnose (``note``: the finding, required), repair (``place``), complete
    (``outcome``; for replaced the ``items`` with their ``replacement_serial``), ship
    (``location``, default where the goods were received), close.

    A loaner out on the customer's site is not the repairs' business: edges take steps
    through ``workflows.repair_steps.take_repair_step``, which keeps the loans in step.
    """
    kind = Step(step)
    takes = _STEP_FIELDS.get(kind, frozenset())
    given = {
        "location": body.location,
        "items": body.items,
        "place": body.place,
        "outcome": body.outcome,
        "engineer": body.engineer,
    }
    extra = sorted(name for name, value in given.items() if value is not None and name not in takes)
    if extra:
        raise InvalidInput(
            f"The {step} step does not take {', '.join(extra)}.",
            errors={name: [f"Not taken by {step}."] for name in extra},
        )
    rma = get_rma(session, number, for_update=True)
    at, note = body.at, body.note
    if kind == Step.RECEIVE:
        return receive(
            session,
            rma,
            location=_required(body.location, "location", step),
            items=body.items or [],
            now=now,
            calendar=calendar,
            by=by,
            at=at,
            note=note,
            turnaround=turnaround,
        )
    if kind == Step.REPAIR:
        place = _required(body.place, "place", step)
        return start_repair(session, rma, place=place, now=now, by=by, at=at, note=note)
    if kind == Step.COMPLETE:
        outcome = _required(body.outcome, "outcome", step)
        return complete(
            session, rma, outcome=outcome, items=body.items or [], now=now, by=by, at=at, note=note
        )
    if kind == Step.SHIP:
        return ship(
            session,
            rma,
            location=body.location,
            engineer=body.engineer,
            zone=calendar.zone,
            now=now,
            by=by,
            at=at,
            note=note,
        )
    if kind in (Step.REJECT, Step.DIAGNOSE):
        _required(note, "note", step)
    return advance(session, rma, step_status(kind), now=now, by=by, at=at, note=note)


def _required(value: str | None, name: str, step: str) -> str:
    if value is None:
        raise InvalidInput(
            f"The {step} step needs {name}.", errors={name: [f"Required by {step}."]}
        )
    return value


def _check_step(rma: Rma, new: RmaStatus) -> None:
    """409 for a step out of order (R17), naming what may come next."""
    if not can_move(rma.status, new):
        raise InvalidTransition(
            f"{rma.number} is {rma.status}; it cannot become {new} now.",
            current_status=rma.status,
            requested_status=str(new),
            next_statuses=sorted(NEXT_STATUSES[RmaStatus(rma.status)]),
        )


def _step_time(rma: Rma, at: datetime | None, now: datetime) -> datetime:
    """When a step happened: now, or earlier as a clerk enters it, but not before the
    RMA's previous step."""
    when = business_time(at, now, "at")
    last = max((step.at for step in rma.steps), default=rma.requested_at)
    if when < last:
        raise InvalidInput(
            f"{rma.number}'s last step was at {last.isoformat()}; a later step cannot be "
            "dated before it.",
            errors={"at": ["Before the previous step."]},
        )
    return when


def advance(
    session: Session,
    rma: Rma,
    new: RmaStatus,
    *,
    now: datetime,
    by: Caller | None = None,
    at: datetime | None = None,
    note: str | None = None,
) -> Rma:
    """Move the RMA to ``new`` if R17 allows it, recording who and when."""
    _check_step(rma, new)
    when = _step_time(rma, at, now)
    return _record(session, rma, new, when, by, note)


def _record(
    session: Session,
    rma: Rma,
    status: RmaStatus,
    when: datetime,
    by: Caller | None,
    note: str | None,
) -> Rma:
    rma.status = status
    rma.steps.append(
        RmaStep(status=status, at=when, user_id=by.id if by else None, note=note and note[:2000])
    )
    session.flush()
    return rma


def receive(
    session: Session,
    rma: Rma,
    *,
    location: str,
    items: Sequence[StepItem],
    now: datetime,
    calendar: WorkingCalendar,
    by: Caller | None = None,
    at: datetime | None = None,
    note: str | None = None,
    turnaround: TurnaroundPolicy = DEFAULT_TURNAROUND,
) -> Rma:
    """Book returned goods from the customer's site into a repair location (R14).

    Only against an authorized RMA (or, for what was missing, one received and not yet
    diagnosed), and only of the items on it, no more than listed: else 409, nothing
    written. The first receipt sets the turnaround target (R16).
    """
    missing_before = [item for item in rma.items if item.received_qty < item.qty]
    follow_up = rma.status == RmaStatus.RECEIVED and bool(missing_before)
    if not follow_up:
        _check_step(rma, RmaStatus.RECEIVED)
    if not items:
        raise InvalidInput("A receipt lists what came in.", errors={"items": ["Empty."]})
    target = get_location(session, location)
    if target.kind != LocationKind.REPAIR:
        raise InvalidInput(
            f"{target.code} is a {target.kind}; returned goods go to a repair location.",
            errors={"location": ["Not a repair location."]},
        )
    when = _step_time(rma, at, now)
    plan = _match_receipt(rma, items)
    booked = []
    for item, qty, received in plan:
        serials = [item.serial] if item.serial and item.part.serialized else []
        move = post_move(
            session,
            sku=item.part.sku,
            qty=qty,
            from_code=_site_code(session, rma, item),
            to_code=target.code,
            reason=RECEIPT_REASON,
            reference=rma.number,
            serials=serials,
            at=when,
            now=now,
            by=by,
        )
        booked.append(move.id)
        item.received_qty += qty
        if received.accessories_complete is not None:
            # Incomplete once is incomplete: a later complete lot does not undo it.
            item.accessories_complete = item.accessories_complete is not False and (
                received.accessories_complete
            )
    # The RMA counts what it received: a bare reversal would leave it counting wrong.
    claim_moves(session, booked, rma.number)
    if not follow_up:
        rma.spare_in_stock = spares_in_stock(session, rma.items)
        rma.due_at = turnaround_due(
            when, spare_in_stock=rma.spare_in_stock, calendar=calendar, policy=turnaround
        ).astimezone(UTC)
    summary = _receipt_summary(rma, plan, target.code)
    return _record(
        session, rma, RmaStatus.RECEIVED, when, by, f"{note} — {summary}" if note else summary
    )


def _match_receipt(rma: Rma, items: Sequence[StepItem]) -> list[tuple[RmaItem, int, StepItem]]:
    """Each received line matched to an item on the RMA; 409 for one not on it, or more
    than it lists, or a unit already received (R14); 422 for a line that names nothing."""
    plan: list[tuple[RmaItem, int, StepItem]] = []
    taken: dict[int, int] = defaultdict(int)
    for received in items:
        if received.replacement_serial is not None:
            raise InvalidInput(
                "A replacement serial is given when the repair is completed, not on receipt.",
                errors={"replacement_serial": ["Not taken by receive."]},
            )
        if received.serial is not None:
            if received.qty not in (None, 1):
                raise InvalidInput(
                    "A unit received by serial is one unit.", errors={"qty": ["Must be 1."]}
                )
            item = next((i for i in rma.items if i.serial == received.serial), None)
            if item is None:
                raise Conflict(
                    f"Serial {received.serial} is not on {rma.number}: it cannot be received "
                    "against it.",
                    serial=received.serial,
                    rma=rma.number,
                )
            if received.sku is not None and received.sku != item.part.sku:
                raise InvalidInput(
                    f"Serial {received.serial} is a {item.part.sku} on {rma.number}.",
                    errors={"sku": [f"{received.serial} is a {item.part.sku}."]},
                )
            qty = 1
        else:
            if received.sku is None or received.qty is None:
                raise InvalidInput(
                    "A received item is a serial, or a SKU and a quantity.",
                    errors={"items": ["Give serial, or sku and qty."]},
                )
            candidates = [i for i in rma.items if i.serial is None and i.part.sku == received.sku]
            if not candidates:
                raise Conflict(
                    f"{received.sku} is not on {rma.number} (by quantity): it cannot be "
                    "received against it.",
                    sku=received.sku,
                    rma=rma.number,
                )
            item, qty = candidates[0], received.qty
            if len(candidates) > 1:  # the same part listed twice: fill the first with room
                item = next(
                    (i for i in candidates if i.qty - i.received_qty - taken[i.id] >= qty),
                    candidates[0],
                )
        room = item.qty - item.received_qty - taken[item.id]
        if qty > room:
            detail = (
                f"{item.serial} was already received on {rma.number}."
                if item.serial
                else f"{rma.number} lists {item.qty} x {item.part.sku}, {room} of them still "
                f"to come; {qty} is more than that."
            )
            raise Conflict(
                detail, rma=rma.number, item=item_label(item), expected=room, received=qty
            )
        taken[item.id] += qty
        plan.append((item, qty, received))
    return plan


def _receipt_summary(rma: Rma, plan: Sequence[tuple[RmaItem, int, StepItem]], location: str) -> str:
    got = ", ".join(item.serial or f"{qty} x {item.part.sku}" for item, qty, _ in plan)
    parts = [f"Received into {location}: {got}."]
    incomplete = [item_label(item) for item, _, r in plan if r.accessories_complete is False]
    if incomplete:
        parts.append(f"Accessories incomplete: {', '.join(incomplete)}.")
    missing = [
        item.serial or f"{item.qty - item.received_qty} x {item.part.sku}"
        for item in rma.items
        if item.received_qty < item.qty
    ]
    if missing:
        parts.append(f"Missing: {', '.join(missing)}.")
    return " ".join(parts)


def spares_in_stock(session: Session, items: Sequence[RmaItem]) -> bool:
    """Whether our warehouses have, available, a spare for every item (R16)."""
    needed: dict[int, int] = defaultdict(int)
    for item in items:
        needed[item.part_id] += item.qty
    rows = session.execute(
        select(StockLevel.part_id, func.sum(StockLevel.on_hand - StockLevel.reserved))
        .join(Location, Location.id == StockLevel.location_id)
        .where(StockLevel.part_id.in_(list(needed)), Location.kind == LocationKind.WAREHOUSE)
        .group_by(StockLevel.part_id)
    )
    available: dict[int, int] = {part_id: total or 0 for part_id, total in rows}
    return all((available.get(part_id) or 0) >= qty for part_id, qty in needed.items())


def start_repair(
    session: Session,
    rma: Rma,
    *,
    place: str,
    now: datetime,
    by: Caller | None = None,
    at: datetime | None = None,
    note: str | None = None,
) -> Rma:
    """Repair in house or at the vendor (R17). A unit dead on arrival is replaced, not
    repaired: an RMA of such units only is completed as replaced instead."""
    _check_step(rma, RmaStatus.REPAIRING)
    received = [item for item in rma.items if item.received_qty > 0]
    if received and all(item.verdict == Verdict.REPLACEMENT for item in received):
        raise Conflict(
            f"Everything on {rma.number} was dead on arrival: it is replaced, not repaired. "
            "Complete it with outcome replaced.",
            rma=rma.number,
        )
    when = _step_time(rma, at, now)
    rma.repair_place = place
    return _record(session, rma, RmaStatus.REPAIRING, when, by, note)


def complete(
    session: Session,
    rma: Rma,
    *,
    outcome: str,
    items: Sequence[StepItem],
    now: datetime,
    by: Caller | None = None,
    at: datetime | None = None,
    note: str | None = None,
) -> Rma:
    """The repair is done: ``repaired``, or ``replaced`` with the serial each faulty unit
    was swapped for (the faulty → replacement link of its history). A unit dead on
    arrival must be replaced."""
    new = step_status(Step.COMPLETE, outcome)
    _check_step(rma, new)
    received = [item for item in rma.items if item.received_qty > 0]
    dead = [item for item in received if item.verdict == Verdict.REPLACEMENT]
    if new == RmaStatus.REPAIRED:
        if items:
            raise InvalidInput(
                "A repaired RMA swaps nothing; complete it as replaced.",
                errors={"items": ["Only with outcome replaced."]},
            )
        if dead:
            raise Conflict(
                f"{', '.join(item_label(item) for item in dead)} was dead on arrival: it is "
                "replaced, not repaired.",
                rma=rma.number,
            )
    else:
        _swap(session, rma, received, items)
    when = _step_time(rma, at, now)
    return _record(session, rma, new, when, by, note)


def _swap(
    session: Session, rma: Rma, received: Sequence[RmaItem], swaps: Sequence[StepItem]
) -> None:
    """Link each faulty unit to its replacement; every unit dead on arrival needs one."""
    seen: set[str] = set()
    for swap in swaps:
        if swap.serial is None or swap.replacement_serial is None:
            raise InvalidInput(
                "A replaced unit is named by its serial and its replacement_serial.",
                errors={"items": ["Give serial and replacement_serial."]},
            )
        if swap.sku is not None or swap.qty is not None or swap.accessories_complete is not None:
            raise InvalidInput(
                "Completing a repair takes serial and replacement_serial per item.",
                errors={"items": ["Only serial and replacement_serial."]},
            )
        item = next((i for i in received if i.serial == swap.serial), None)
        if item is None:
            raise Conflict(
                f"Serial {swap.serial} was not received on {rma.number}; it cannot be replaced "
                "on it.",
                serial=swap.serial,
                rma=rma.number,
            )
        new_serial = swap.replacement_serial
        if new_serial == swap.serial or new_serial in seen or swap.serial in seen:
            raise InvalidInput(
                f"Replacement {new_serial} for {swap.serial} is listed twice or is the faulty "
                "unit itself.",
                errors={"items": ["Each faulty unit gets its own, different replacement."]},
            )
        seen.update({new_serial, swap.serial})
        unit = session.scalar(select(Unit).where(Unit.serial == new_serial))
        if unit is None or unit.location.kind not in _STOCK_KINDS:
            where = f"at {unit.location.code}" if unit else "unknown to the ledger"
            raise Conflict(
                f"Replacement {new_serial} is {where}: a replacement comes from our stock "
                "(a warehouse, a van or the repair bench).",
                replacement_serial=new_serial,
            )
        if unit.part_id != item.part_id:
            raise InvalidInput(
                f"Replacement {new_serial} is a {unit.part.sku}, not a {item.part.sku}.",
                errors={"replacement_serial": [f"{new_serial} is a {unit.part.sku}."]},
            )
        item.replacement_serial = new_serial
    serial_items = [item for item in received if item.serial is not None]
    unmatched = [item for item in serial_items if item.replacement_serial is None]
    dead = [item for item in unmatched if item.verdict == Verdict.REPLACEMENT]
    if dead or (serial_items and len(unmatched) == len(serial_items)):
        need = dead or unmatched
        raise InvalidInput(
            f"Give the replacement serial of {', '.join(item_label(item) for item in need)}.",
            errors={"items": ["A replaced unit needs its replacement_serial."]},
        )


def _install_replacement(session: Session, item: RmaItem, when: datetime, zone: ZoneInfo) -> None:
    """The installed base follows a swap: the replacement becomes the customer's
    equipment at the same site, its warranty counted from the day it ships (R15), and the
    faulty unit's record points at it."""
    faulty = item.equipment
    assert faulty is not None and item.replacement_serial is not None
    existing = session.scalar(select(Equipment).where(Equipment.serial == item.replacement_serial))
    if existing is None:
        existing = create_equipment(
            session,
            serial=item.replacement_serial,
            sku=item.part.sku,
            site=faulty.site.code,
            installed_on=when.astimezone(zone).date(),
        )
    faulty.replaced_by_id = existing.id
    session.flush()


_STOCK_KINDS = frozenset({LocationKind.WAREHOUSE, LocationKind.VAN, LocationKind.REPAIR})


def ship(
    session: Session,
    rma: Rma,
    *,
    now: datetime,
    location: str | None = None,
    engineer: str | None = None,
    zone: ZoneInfo,
    by: Caller | None = None,
    at: datetime | None = None,
    note: str | None = None,
) -> Rma:
    """Book what was received, repaired or replaced, back to the customer's site through
    the ledger: from ``location``, by default the repair location it came into. The
    ``engineer`` delivering it collects the loaner that stood in for it (R13)."""
    _check_step(rma, RmaStatus.SHIPPED)
    source = get_location(session, location) if location else received_into(session, rma)
    if source is None:
        raise Conflict(f"Nothing was received on {rma.number}; there is nothing to ship.")
    when = _step_time(rma, at, now)
    booked = []
    for item in rma.items:
        if item.received_qty == 0:
            continue
        serial = item.replacement_serial or item.serial
        origin = source
        if item.replacement_serial is not None:
            # The replacement leaves from wherever it is in stock; the faulty unit stays
            # on the bench (for repair and the pool, or scrap).
            replacement = session.scalar(select(Unit).where(Unit.serial == serial))
            if replacement is not None:
                origin = replacement.location
        move = post_move(
            session,
            sku=item.part.sku,
            qty=item.received_qty,
            from_code=origin.code,
            to_code=_site_code(session, rma, item),
            reason=SHIPMENT_REASON,
            reference=rma.number,
            serials=[serial] if serial and item.part.serialized else [],
            at=when,
            now=now,
            by=by,
        )
        booked.append(move.id)
        if item.replacement_serial is not None and item.equipment is not None:
            _install_replacement(session, item, when, zone)
    claim_moves(session, booked, rma.number)
    return _record(session, rma, RmaStatus.SHIPPED, when, by, note)


# ---------------------------------------------------------------- the sweep (R16)


def escalate_overdue_rmas(session: Session, now: datetime) -> list[int]:
    """Escalate each RMA past its turnaround target, once: ``escalated_at`` is set and a
    warning logged. Running it again, or beside another sweep, escalates nothing twice."""
    candidates = session.scalars(
        select(Rma).where(_overdue_clause(now), Rma.escalated_at.is_(None)).order_by(Rma.id)
    ).all()
    escalated = []
    for rma in candidates:
        result = session.execute(
            update(Rma)
            .where(Rma.id == rma.id, Rma.escalated_at.is_(None))
            .values(escalated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            continue
        session.expire(rma, ["escalated_at"])
        escalated.append(rma.id)
        assert rma.due_at is not None
        log.warning(
            "%s (%s, %s) missed its turnaround target %s; escalated",
            rma.number,
            rma.customer.code,
            rma.status,
            rma.due_at.isoformat(),
        )
    return escalated


# ---------------------------------------------------------------- a serial's history


def rma_events_for_serial(session: Session, serial: str) -> list[RmaSerialEvent]:
    """The RMAs a serial came back on, or went out on as a replacement, oldest first."""
    rows = session.execute(
        select(RmaItem, Rma)
        .join(Rma, Rma.id == RmaItem.rma_id)
        .where((RmaItem.serial == serial) | (RmaItem.replacement_serial == serial))
        .order_by(Rma.id, RmaItem.id)
    ).all()
    events = []
    for item, rma in rows:
        faulty = item.serial == serial
        events.append(
            RmaSerialEvent(
                rma=rma.number,
                status=rma.status,
                role="faulty" if faulty else "replacement",
                serial=item.serial or serial,
                replacement_serial=item.replacement_serial,
                verdict=item.verdict,
                verdict_reason=item.verdict_reason,
                requested_at=rma.requested_at,
                received_qty=item.received_qty,
                steps=tuple((step.status, step.at) for step in rma.steps),
            )
        )
    return events
