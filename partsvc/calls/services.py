"""Customers, their contracts and sites (R18, R19). Services flush, never commit."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.calls.models import Contract, Customer, Engineer, Site
from partsvc.calls.rules import DEFAULT_VISIT_EVERY_MONTHS, Tier
from partsvc.db import flush_or_conflict
from partsvc.errors import DuplicateKey, InvalidInput, UnknownKey
from partsvc.inventory.catalog import create_location
from partsvc.inventory.rules import LocationKind


def get_customer(session: Session, code: str) -> Customer:
    customer = session.scalar(select(Customer).where(Customer.code == code))
    if customer is None:
        raise UnknownKey(f"No customer with code {code!r}.", customer=code)
    return customer


def get_engineer(session: Session, code: str) -> Engineer:
    engineer = session.scalar(select(Engineer).where(Engineer.code == code))
    if engineer is None:
        raise UnknownKey(f"No engineer with code {code!r}.", engineer=code)
    return engineer


def get_site(session: Session, code: str) -> Site:
    site = session.scalar(select(Site).where(Site.code == code))
    if site is None:
        raise UnknownKey(f"No site with code {code!r}.", site=code)
    return site


def create_customer(
    session: Session,
    *,
    code: str,
    name: str,
    today: date,
    tier: str = Tier.NONE,
    designated_engineer: str | None = None,
    regional_fee: bool = False,
) -> Customer:
    """A customer, and from ``today`` a contract of ``tier`` unless the tier is none."""
    if session.scalar(select(Customer.id).where(Customer.code == code)) is not None:
        raise DuplicateKey(f"A customer with code {code!r} already exists.", customer=code)
    if designated_engineer is not None and tier != Tier.GOLD:
        raise InvalidInput(
            "Only a gold contract names a designated engineer (R19).",
            errors={"designated_engineer": ["Only with tier gold."]},
        )
    engineer = get_engineer(session, designated_engineer) if designated_engineer else None
    customer = Customer(code=code, name=name)
    session.add(customer)
    flush_or_conflict(session, f"A customer with code {code!r} already exists.")
    if tier != Tier.NONE:
        session.add(
            Contract(
                customer_id=customer.id,
                tier=tier,
                designated_engineer_id=engineer.id if engineer else None,
                visit_every_months=DEFAULT_VISIT_EVERY_MONTHS[Tier(tier)],
                regional_fee=regional_fee,
                starts_on=today,
            )
        )
        session.flush()
        session.refresh(customer, ["contracts"])
    return customer


def create_site(
    session: Session,
    *,
    code: str,
    customer: str,
    address: str,
    lat: float,
    lon: float,
    region: str | None = None,
) -> Site:
    """A customer's site, with the stock location of kind site that parts are booked to."""
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
    )
    session.add(site)
    flush_or_conflict(session, f"A site with code {code!r} already exists.")
    return site
