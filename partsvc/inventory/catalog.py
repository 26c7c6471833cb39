"""Parts and locations: creating them and finding them by their business keys."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ColumnElement, case, func, or_, select, true
from sqlalchemy.orm import Session

from partsvc.core.errors import Conflict, DuplicateKey, InvalidInput, UnknownKey
from partsvc.inventory.models import Location, Move, Part, StockCount, Unit
from partsvc.inventory.rules import LocationKind, only_a_van_has_an_engineer
from partsvc.platform.db import flush_or_conflict, one_by_key

ADJUSTMENT_CODE = "ADJ"

# ---------------------------------------------------------------- look-ups


def get_part(session: Session, sku: str) -> Part:
    return one_by_key(session, Part, Part.sku, sku, what="part with SKU", field="sku")


def get_location(session: Session, code: str) -> Location:
    return one_by_key(session, Location, Location.code, code, what="location", field="location")


def hidden_from(location: Location, only_engineer: int | None) -> bool:
    """Whether the engineer ``only_engineer`` (None: not an engineer) may not see this
    location: a van that is not theirs. Warehouses and the rest are everyone's."""
    return (
        only_engineer is not None
        and location.kind == LocationKind.VAN
        and location.engineer_id != only_engineer
    )


def visible_locations(only_engineer: int | None) -> ColumnElement[bool]:
    """The locations ``only_engineer`` may see, as a condition on ``Location``."""
    if only_engineer is None:
        return true()
    return or_(Location.kind != LocationKind.VAN, Location.engineer_id == only_engineer)


def get_visible_location(session: Session, code: str, *, only_engineer: int | None) -> Location:
    """A location by code; another engineer's van answers as if it did not exist."""
    location = get_location(session, code)
    if hidden_from(location, only_engineer):
        raise UnknownKey(f"No location {code!r}.", location=code)
    return location


def get_unit(session: Session, serial: str) -> Unit:
    return one_by_key(session, Unit, Unit.serial, serial, what="unit with serial", field="serial")


def get_move(session: Session, move_id: int) -> Move:
    return one_by_key(session, Move, Move.id, move_id, what="move", field="move")


def get_count(session: Session, count_id: int) -> StockCount:
    return one_by_key(
        session, StockCount, StockCount.id, count_id, what="stock count", field="count"
    )


def adjustment_location(session: Session) -> Location:
    """Where count differences are booked: the location of kind adjustment (R6)."""
    location = session.scalar(
        select(Location)
        .where(Location.kind == LocationKind.ADJUSTMENT)
        .order_by(Location.code != ADJUSTMENT_CODE, Location.id)
        .limit(1)
    )
    if location is None:
        raise Conflict("There is no location of kind 'adjustment' to book count differences.")
    return location


# ---------------------------------------------------------------- parts and locations


def create_part(
    session: Session,
    *,
    sku: str,
    name: str,
    name_zh: str | None = None,
    barcode: str | None = None,
    serialized: bool = False,
    loaner: bool = False,
    unit_cost: Decimal | None = None,
    vendor: str | None = None,
    lead_time_days: int | None = None,
    warranty_months: int | None = None,
) -> Part:
    if loaner and not serialized:
        raise InvalidInput(
            "A loaner model is serialized: each unit lent is known by its serial.",
            errors={"loaner": ["Only for a serialized part."]},
        )
    if session.scalar(select(Part.id).where(Part.sku == sku)) is not None:
        raise DuplicateKey(f"A part with SKU {sku!r} already exists.", sku=sku)
    if barcode and session.scalar(select(Part.sku).where(Part.barcode == barcode)):
        raise DuplicateKey(f"Barcode {barcode!r} already belongs to another part.")
    vendor_location = None
    if vendor is not None:
        vendor_location = get_location(session, vendor)
        if vendor_location.kind != LocationKind.VENDOR:
            raise InvalidInput(
                f"{vendor!r} is a {vendor_location.kind}, not a vendor.",
                errors={"vendor": ["Must name a location of kind vendor."]},
            )
    part = Part(
        sku=sku,
        name=name,
        name_zh=name_zh,
        barcode=barcode or None,
        serialized=serialized,
        loaner=loaner,
        unit_cost=unit_cost,
        vendor=vendor_location,
        lead_time_days=lead_time_days,
        warranty_months=warranty_months,
    )
    session.add(part)
    flush_or_conflict(session, f"A part with SKU {sku!r} already exists.")
    return part


def create_location(
    session: Session,
    *,
    code: str,
    name: str,
    kind: str,
    lat: float | None = None,
    lon: float | None = None,
    engineer_id: int | None = None,
) -> Location:
    """A location; a van may belong to an engineer (``engineer_id``, the calls domain's)."""
    if session.scalar(select(Location.id).where(Location.code == code)) is not None:
        raise DuplicateKey(f"A location with code {code!r} already exists.", location=code)
    if engineer_id is not None:
        only_a_van_has_an_engineer(kind)
        if session.scalar(select(Location.code).where(Location.engineer_id == engineer_id)):
            raise Conflict("That engineer already has a van.")
    location = Location(code=code, name=name, kind=kind, lat=lat, lon=lon, engineer_id=engineer_id)
    session.add(location)
    flush_or_conflict(session, f"A location with code {code!r} already exists.")
    return location


def search_parts(
    session: Session, *, q: str | None = None, after_id: int | None = None, limit: int = 50
) -> list[Part]:
    """Parts whose SKU, barcode or name (English or Chinese) matches ``q``; by id."""
    query = select(Part).order_by(Part.id).limit(limit)
    if q:
        pattern = f"%{_escape_like(q)}%"
        query = query.where(
            or_(
                Part.sku == q,
                Part.barcode == q,
                Part.sku.ilike(pattern, escape="\\"),
                Part.name.ilike(pattern, escape="\\"),
                Part.name_zh.like(pattern, escape="\\"),
            )
        )
    if after_id is not None:
        query = query.where(Part.id > after_id)
    return list(session.scalars(query))


def list_locations(
    session: Session,
    *,
    kind: str | None = None,
    after_id: int | None = None,
    limit: int = 50,
    only_engineer: int | None = None,
) -> list[Location]:
    """Locations by id; an engineer (``only_engineer``) sees no other engineer's van."""
    query = select(Location).where(visible_locations(only_engineer)).order_by(Location.id)
    query = query.limit(limit)
    if kind:
        query = query.where(Location.kind == kind)
    if after_id is not None:
        query = query.where(Location.id > after_id)
    return list(session.scalars(query))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def resolve_location_code(session: Session, typed: str) -> str:
    """The code of the location a person typed, in any case, by code or by exact name
    (the pages' location fields); what matches nothing is given back as typed, so the
    booking refuses it by the name the person wrote."""
    text = typed.strip()
    if not text:
        return text
    found = session.scalars(
        select(Location.code)
        .where(
            or_(
                func.lower(Location.code) == text.lower(),
                func.lower(Location.name) == text.lower(),
            )
        )
        .order_by(func.lower(Location.code) != text.lower(), Location.id)
        .limit(2)
    ).first()
    return found or text


def location_choices(
    session: Session, *, kind: str | None = None, limit: int = 1000
) -> list[tuple[str, str]]:
    """(code, name) of the active places stock moves between, warehouses and vans first:
    the suggestions of the pages' location fields."""
    first = case(
        (Location.kind == LocationKind.WAREHOUSE, 0),
        (Location.kind == LocationKind.VAN, 1),
        else_=2,
    )
    query = (
        select(Location.code, Location.name)
        .where(Location.active.is_(True))
        .order_by(first, Location.code)
        .limit(limit)
    )
    if kind is not None:
        query = query.where(Location.kind == kind)
    return [(code, name) for code, name in session.execute(query)]


def place_name(session: Session, code: str) -> str:
    """A location as people read it: its name (its code if it has none or is unknown)."""
    name = session.scalar(select(Location.name).where(Location.code == code))
    return name or code
