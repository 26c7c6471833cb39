"""Customers, their contracts and sites (R18, R19). Services flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from partsvc.audit import trail as audit
from partsvc.calls.engineers import get_engineer
from partsvc.calls.models import (
    Call,
    CallAlert,
    CallStatusChange,
    Contract,
    Customer,
    Equipment,
    Site,
)
from partsvc.calls.rules import (
    DEFAULT_MAINTENANCE_MONTHS,
    DEFAULT_VISIT_EVERY_MONTHS,
    DEFAULT_WARRANTY_MONTHS,
    CallStatus,
    Tier,
    add_months,
)
from partsvc.core.errors import Conflict, DuplicateKey, InvalidInput
from partsvc.inventory.catalog import create_location, get_part
from partsvc.inventory.models import Location
from partsvc.inventory.rules import LocationKind
from partsvc.platform.db import flush_or_conflict, one_by_key

CLOSED_STATUSES = (CallStatus.RESOLVED, CallStatus.CLOSED)


def get_customer(session: Session, code: str) -> Customer:
    return one_by_key(session, Customer, Customer.code, code, what="customer", field="customer")


def get_site(session: Session, code: str) -> Site:
    return one_by_key(session, Site, Site.code, code, what="site", field="site")


def create_customer(
    session: Session,
    *,
    code: str,
    name: str,
    contract_starts_on: date,
    tier: str = Tier.NONE,
    designated_engineer: str | None = None,
    regional_fee: bool = False,
    visit_every_months: int | None = None,
) -> Customer:
    """A customer, and from ``contract_starts_on`` a contract of ``tier`` unless it is none
    (visits as often as the tier says, R19, unless ``visit_every_months`` is given)."""
    if session.scalar(select(Customer.id).where(Customer.code == code)) is not None:
        raise DuplicateKey(f"A customer with code {code!r} already exists.", customer=code)
    customer = Customer(code=code, name=name)
    session.add(customer)
    flush_or_conflict(session, f"A customer with code {code!r} already exists.")
    return change_contract(
        session,
        code,
        tier=tier,
        starts_on=contract_starts_on,
        today=contract_starts_on,
        designated_engineer=designated_engineer,
        regional_fee=regional_fee,
        visit_every_months=visit_every_months,
    )


def change_contract(
    session: Session,
    customer: str,
    *,
    tier: str,
    starts_on: date,
    today: date,
    designated_engineer: str | None = None,
    regional_fee: bool = False,
    visit_every_months: int | None = None,
) -> Customer:
    """A new contract from ``starts_on`` (tier none: no contract); the one in force ends the
    day before. The past is not rewritten: once a customer has a contract, a change starts
    today or later. Calls keep the tier they were reported under (R19); preventive visits
    not yet taken up for periods from ``starts_on`` are dropped for the sweep to make anew
    under the new contract."""
    if designated_engineer is not None and tier != Tier.GOLD:
        raise InvalidInput(
            "Only a gold contract names a designated engineer (R19).",
            errors={"designated_engineer": ["Only with tier gold."]},
        )
    owner = _locked(session, get_customer(session, customer))
    if owner.contracts and starts_on < today:
        raise InvalidInput(
            "A contract change starts today or later; the past stays as it was.",
            errors={"starts_on": ["Before today."]},
        )
    engineer = get_engineer(session, designated_engineer) if designated_engineer else None
    later = [c for c in owner.contracts if c.starts_on > starts_on]
    if later:
        raise Conflict(
            f"Customer {customer} has a contract from {later[-1].starts_on.isoformat()}; "
            "a change cannot start before it.",
            starts_on=later[-1].starts_on.isoformat(),
        )
    for contract in owner.contracts:
        if contract.starts_on == starts_on:
            session.delete(contract)  # replaced on the day it starts
        elif contract.ends_on is None or contract.ends_on >= starts_on:
            contract.ends_on = starts_on - timedelta(days=1)
    session.flush()
    _drop_untouched_visits(session, owner, starts_on)
    if tier != Tier.NONE:
        session.add(
            Contract(
                customer_id=owner.id,
                tier=tier,
                designated_engineer_id=engineer.id if engineer else None,
                visit_every_months=visit_every_months or DEFAULT_VISIT_EVERY_MONTHS[Tier(tier)],
                regional_fee=regional_fee,
                starts_on=starts_on,
            )
        )
        session.flush()
    session.refresh(owner, ["contracts"])
    return owner


def _locked(session: Session, customer: Customer) -> Customer:
    """The customer row locked until commit (PostgreSQL), its contracts read afresh: two
    contract changes for one customer happen one after the other."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Customer.id).where(Customer.id == customer.id).with_for_update())
        session.refresh(customer, ["contracts"])
    return customer


def _drop_untouched_visits(session: Session, customer: Customer, starting: date) -> None:
    """Preventive visits of periods from ``starting`` that nobody has taken up yet."""
    untouched = select(Call.id).where(
        Call.kind == "preventive",
        Call.status == "new",
        Call.engineer_id.is_(None),
        Call.visit_period_start >= starting,
        Call.site_id.in_(select(Site.id).where(Site.customer_id == customer.id)),
    )
    ids = list(session.scalars(untouched))
    if ids:
        session.execute(delete(CallAlert).where(CallAlert.call_id.in_(ids)))
        session.execute(delete(CallStatusChange).where(CallStatusChange.call_id.in_(ids)))
        session.execute(delete(Call).where(Call.id.in_(ids)))


def create_site(
    session: Session,
    *,
    code: str,
    customer: str,
    address: str,
    lat: float | None = None,
    lon: float | None = None,
    region: str | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    contact_email: str | None = None,
    contact_language: str | None = None,
) -> Site:
    """A customer's site, with the stock location of kind site that parts are booked to.
    Without ``lat`` and ``lon`` it is known only by its address and waits to be placed."""
    _both_or_neither(lat, lon)
    owner = get_customer(session, customer)
    if session.scalar(select(Site.id).where(Site.code == code)) is not None:
        raise DuplicateKey(f"A site with code {code!r} already exists.", site=code)
    location = create_location(
        session, code=code, name=address[:200], kind=LocationKind.SITE, lat=lat, lon=lon
    )
    site = Site(
        code=code,
        customer_id=owner.id,
        address=address,
        region=region,
        lat=lat,
        lon=lon,
        location_id=location.id,
        contact_name=contact_name,
        contact_phone=contact_phone,
        contact_email=contact_email,
        contact_language=contact_language,
    )
    session.add(site)
    flush_or_conflict(session, f"A site with code {code!r} already exists.")
    return site


NOT_PLACED_WHOLE = "Give both the latitude and the longitude, or neither."


def _both_or_neither(lat: float | None, lon: float | None) -> None:
    if (lat is None) != (lon is None):
        missing = "lon" if lon is None else "lat"
        raise InvalidInput(NOT_PLACED_WHOLE, errors={missing: [NOT_PLACED_WHOLE]})


def place_site(session: Session, code: str, *, lat: float, lon: float) -> Site:
    """Put the site on the map (WGS-84 degrees), or move it; its stock location follows.
    Audited: what it was and what it is now."""
    for name, value, limit in (("lat", lat, 90.0), ("lon", lon, 180.0)):
        if not -limit <= value <= limit:
            raise InvalidInput(
                f"{value} is out of range: from {-limit:g} to {limit:g} degrees.",
                errors={name: [f"From {-limit:g} to {limit:g}."]},
                field=name,
                low=-limit,
                high=limit,
            )
    site = get_site(session, code)
    before = {"lat": site.lat, "lon": site.lon}
    site.lat, site.lon = lat, lon
    location = session.get(Location, site.location_id)
    if location is not None:
        location.lat, location.lon = lat, lon
    session.flush()
    audit.record(
        session,
        "site.placed",
        kind="site",
        key=code,
        details={"before": before, "after": {"lat": lat, "lon": lon}},
    )
    return site


@dataclass(frozen=True)
class SiteToPlace:
    """A site known only by its address, and how many open calls wait at it."""

    site: Site
    open_calls: int


def sites_to_place(session: Session, *, limit: int = 500) -> list[SiteToPlace]:
    """Sites not yet on the map: those with open calls first, then by customer and code."""
    still_open = Call.status.not_in(CLOSED_STATUSES)
    counts = (
        select(Call.site_id, func.count(Call.id).label("open_calls"))
        .where(still_open)
        .group_by(Call.site_id)
        .subquery()
    )
    open_calls = func.coalesce(counts.c.open_calls, 0)
    query = (
        select(Site, open_calls)
        .join(Customer, Customer.id == Site.customer_id)
        .outerjoin(counts, counts.c.site_id == Site.id)
        .where(Site.lat.is_(None))
        .order_by(open_calls.desc(), Customer.name, Site.code)
        .limit(limit)
    )
    return [SiteToPlace(site, int(count)) for site, count in session.execute(query).unique()]


def count_unplaced(session: Session) -> tuple[int, int]:
    """How many sites wait to be placed, and how many open calls sit at them."""
    sites = session.scalar(select(func.count(Site.id)).where(Site.lat.is_(None))) or 0
    calls = (
        session.scalar(
            select(func.count(Call.id))
            .join(Site, Site.id == Call.site_id)
            .where(Site.lat.is_(None), Call.status.not_in(CLOSED_STATUSES))
        )
        or 0
    )
    return int(sites), int(calls)


CONTACT_FIELDS = ("contact_name", "contact_phone", "contact_email", "contact_language")


def change_site_contact(session: Session, code: str, **changes: str | None) -> Site:
    """Set the site's contact (the fields given; None clears one)."""
    site = get_site(session, code)
    for name, value in changes.items():
        assert name in CONTACT_FIELDS, name
        setattr(site, name, value)
    session.flush()
    return site


def create_equipment(
    session: Session, *, serial: str, sku: str, site: str, installed_on: date
) -> Equipment:
    """A unit of a customer's installed base, with its warranty and maintenance cover (R15)."""
    if session.scalar(select(Equipment.id).where(Equipment.serial == serial)) is not None:
        raise DuplicateKey(f"Equipment with serial {serial!r} already exists.", serial=serial)
    model = get_part(session, sku)
    place = get_site(session, site)
    warranty_months = model.warranty_months or DEFAULT_WARRANTY_MONTHS
    equipment = Equipment(
        serial=serial,
        part_id=model.id,
        site_id=place.id,
        installed_on=installed_on,
        warranty_until=add_months(installed_on, warranty_months),
        maintenance_until=add_months(installed_on, DEFAULT_MAINTENANCE_MONTHS),
    )
    session.add(equipment)
    flush_or_conflict(session, f"Equipment with serial {serial!r} already exists.")
    return equipment


def get_equipment(session: Session, serial: str) -> Equipment:
    return one_by_key(
        session, Equipment, Equipment.serial, serial, what="equipment with serial", field="serial"
    )


def find_sites(session: Session, text: str, *, limit: int = 10) -> list[Site]:
    """Sites whose customer's name or code, own code or address contains ``text`` (any
    case): what a dispatcher types while the customer is on the phone."""
    words = text.strip()
    query = select(Site).join(Customer, Customer.id == Site.customer_id)
    if words:
        like = f"%{_escape_like(words)}%"
        query = query.where(
            Customer.name.ilike(like, escape="\\")
            | Customer.code.ilike(like, escape="\\")
            | Site.code.ilike(like, escape="\\")
            | Site.address.ilike(like, escape="\\")
        )
    return list(session.scalars(query.order_by(Customer.name, Site.code).limit(limit)))


def equipment_at(
    session: Session, site: str, text: str = "", *, limit: int = 20
) -> list[Equipment]:
    """The installed units at a site (by code), those whose serial contains ``text``."""
    query = select(Equipment).join(Site, Site.id == Equipment.site_id).where(Site.code == site)
    if text.strip():
        query = query.where(Equipment.serial.ilike(f"%{_escape_like(text.strip())}%", escape="\\"))
    return list(session.scalars(query.order_by(Equipment.serial).limit(limit)))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
