"""Loaner holds: a unit set aside for a planned visit, so that nobody lends it elsewhere
meanwhile; and the row lock that makes a hold and a loan of one unit happen in turn."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from partsvc.auth.identity import Caller
from partsvc.auth.scope import only_engineer
from partsvc.calls.calls import get_call
from partsvc.calls.models import Call
from partsvc.core.errors import Conflict, InvalidInput, UnknownKey
from partsvc.inventory.catalog import get_part, get_unit
from partsvc.inventory.models import Location, Unit
from partsvc.inventory.rules import LocationKind, holds_stock
from partsvc.loans.models import LoanerReservation
from partsvc.loans.rules import HoldStatus


def locked_unit(session: Session, unit: Unit) -> Unit:
    """The unit's row locked until commit (PostgreSQL): a hold and a loan of one unit
    happen one after the other, each seeing the other's outcome."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Unit.id).where(Unit.id == unit.id).with_for_update())
        session.refresh(unit)
    return unit


def active_reservation(session: Session, unit_id: int) -> LoanerReservation | None:
    return session.scalar(
        select(LoanerReservation).where(
            LoanerReservation.unit_id == unit_id, LoanerReservation.status == HoldStatus.ACTIVE
        )
    )


def reserve_loaner(
    session: Session,
    *,
    call: int,
    now: datetime,
    sku: str | None = None,
    serial: str | None = None,
    by: Caller | None = None,
) -> LoanerReservation:
    """Hold a loaner for a planned visit so it is not lent elsewhere: a named unit, or any
    free unit of the model (in a warehouse or a van, neither lent nor held)."""
    if (sku is None) == (serial is None):
        raise InvalidInput(
            "Name the loaner model (sku) or the unit (serial), one of them.",
            errors={"sku": ["Exactly one of sku, serial."]},
        )
    the_call = get_call(session, call)
    unit = _named_unit(session, serial) if serial else _free_unit(session, sku or "")
    reservation = LoanerReservation(
        unit_id=unit.id,
        call_id=the_call.id,
        status=HoldStatus.ACTIVE,
        reserved_at=now,
        user_id=by.id if by else None,
    )
    session.add(reservation)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"Loaner {unit.serial} was just reserved by someone else.") from exc
    return reservation


def _named_unit(session: Session, serial: str) -> Unit:
    unit = locked_unit(session, get_unit(session, serial))
    if not unit.part.loaner:
        raise InvalidInput(f"{serial} is not a loaner.", errors={"serial": ["Not a loaner."]})
    if not holds_stock(unit.location.kind):
        raise Conflict(
            f"Loaner {serial} is at {unit.location.code}: a lent unit cannot be reserved.",
            serial=serial,
            location=unit.location.code,
        )
    if active_reservation(session, unit.id) is not None:
        raise Conflict(f"Loaner {serial} is already reserved.", serial=serial)
    return unit


def _free_unit(session: Session, sku: str) -> Unit:
    part = get_part(session, sku)
    if not part.loaner:
        raise InvalidInput(f"{sku} is not a loaner model.", errors={"sku": ["Not a loaner."]})
    held = select(LoanerReservation.unit_id).where(LoanerReservation.status == HoldStatus.ACTIVE)
    query = (
        select(Unit)
        .join(Location, Location.id == Unit.location_id)
        .where(
            Unit.part_id == part.id,
            Location.kind.in_([LocationKind.WAREHOUSE, LocationKind.VAN]),
            Unit.id.not_in(held),
        )
        .order_by(Unit.id)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        # A unit being lent or held right now is skipped, not waited for.
        query = query.with_for_update(of=Unit, skip_locked=True)
    unit = session.scalars(query).first()
    if unit is None:
        raise Conflict(f"No free loaner of {sku} to reserve.", sku=sku)
    return unit


def release_reservation(session: Session, reservation_id: int) -> LoanerReservation:
    reservation = session.get(LoanerReservation, reservation_id)
    if reservation is None:
        raise UnknownKey(f"No loaner reservation {reservation_id}.")
    if reservation.status != HoldStatus.ACTIVE:
        raise Conflict(f"Reservation {reservation_id} is {reservation.status}.")
    reservation.status = HoldStatus.RELEASED
    session.flush()
    return reservation


def list_reservations(
    session: Session,
    *,
    call: int | None = None,
    active: bool | None = None,
    caller: Caller | None = None,
) -> list[LoanerReservation]:
    """Loaners held for visits; an engineer sees those held for their own calls."""
    query = select(LoanerReservation).order_by(LoanerReservation.id).limit(500)
    mine = only_engineer(session, caller)
    if mine is not None:
        query = query.join(Call, Call.id == LoanerReservation.call_id).where(
            Call.engineer_id == mine
        )
    if call is not None:
        query = query.where(LoanerReservation.call_id == call)
    if active is not None:
        query = query.where(
            LoanerReservation.status == HoldStatus.ACTIVE
            if active
            else LoanerReservation.status != HoldStatus.ACTIVE
        )
    return list(session.scalars(query).unique())
