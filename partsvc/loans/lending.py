"""Loans (R10–R13): a loaner placed on site through the ledger, due back in 15 days,
extended with a reason, returned with its condition."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from partsvc.audit import trail as audit
from partsvc.auth.identity import Caller
from partsvc.auth.models import Role
from partsvc.auth.scope import get_scoped, only_engineer
from partsvc.calls.calls import engineer_of, get_call
from partsvc.calls.customers import get_site
from partsvc.calls.engineers import get_engineer
from partsvc.calls.models import Call, Engineer
from partsvc.core.businesstime import business_time
from partsvc.core.errors import Conflict, Forbidden, InvalidInput, UnknownKey
from partsvc.inventory.catalog import get_location, get_unit
from partsvc.inventory.ledger import claim_moves, post_move
from partsvc.inventory.models import Location, Unit
from partsvc.inventory.rules import LocationKind, holds_stock
from partsvc.loans.holds import active_reservation, locked_unit
from partsvc.loans.models import Loan, LoanExtension, LoanPolicy
from partsvc.loans.rules import HoldStatus, LoanState, LoanStatus, LoanTerms, due_at, latest_due
from partsvc.platform import outbox

log = logging.getLogger(__name__)


def loan_terms(session: Session) -> LoanTerms:
    row = session.scalar(select(LoanPolicy).order_by(LoanPolicy.id).limit(1))
    if row is None:
        return LoanTerms()
    return LoanTerms(
        loan_days=row.loan_days, max_days=row.max_days, due_soon_days=row.due_soon_days
    )


def set_loan_terms(session: Session, terms: LoanTerms) -> LoanTerms:
    """Change the loan policy; loans already out keep their due dates."""
    if terms.max_days < terms.loan_days:
        raise InvalidInput(
            "The furthest due date cannot come before the normal one.",
            errors={"max_days": ["At least loan_days."]},
        )
    row = session.scalar(select(LoanPolicy).order_by(LoanPolicy.id).limit(1))
    if row is None:
        row = LoanPolicy(id=1)
        session.add(row)
    row.loan_days, row.max_days, row.due_soon_days = (
        terms.loan_days,
        terms.max_days,
        terms.due_soon_days,
    )
    session.flush()
    audit.record(session, "loan_policy.changed", kind="loan_policy", details=asdict(terms))
    return terms


def lend(
    session: Session,
    *,
    serial: str,
    site: str,
    now: datetime,
    call: int | None = None,
    engineer: str | None = None,
    rma_id: int | None = None,
    out_at: datetime | None = None,
    by: Caller | None = None,
) -> Loan:
    """Place a loaner on a customer's site (R10): its serial moves there through the ledger
    and the loan is due back in 15 days (R11). A unit held for a visit is lent only for it;
    two people lending one unit at once get one loan and one 409. ``rma_id`` is the RMA
    the loan covers, already checked to be the site's customer's
    (``workflows.loaners.lend_loaner`` looks it up by number)."""
    unit = locked_unit(session, get_unit(session, serial))
    if not unit.part.loaner:
        raise InvalidInput(
            f"{serial} is a {unit.part.sku}, which is not a loaner model.",
            errors={"serial": ["Not a loaner."]},
        )
    _engineer_may_use(session, unit.location, by, "lend from")
    if not holds_stock(unit.location.kind):
        raise Conflict(
            f"Loaner {serial} is at {unit.location.code} ({unit.location.kind}), not in a "
            "warehouse or a van: it cannot be lent.",
            serial=serial,
            location=unit.location.code,
        )
    the_call = get_call(session, call, caller=by) if call is not None else None
    held = active_reservation(session, unit.id)
    if held is not None and (the_call is None or held.call_id != the_call.id):
        raise Conflict(
            f"Loaner {serial} is reserved for call {held.call_id}.",
            serial=serial,
            reserved_for_call=held.call_id,
        )
    place = get_site(session, site)
    if the_call is not None and the_call.site_id != place.id:
        raise InvalidInput(
            f"Call {the_call.id} is at {the_call.site.code}, not at {site}.",
            errors={"call": ["Not at this site."]},
        )
    person = _placed_by(session, engineer, the_call, by)
    out = business_time(out_at, now, "out_at")
    source = unit.location
    move = post_move(
        session,
        sku=unit.part.sku,
        qty=1,
        from_code=source.code,
        to_code=place.code,
        reason="loan",
        reference=f"call {the_call.id}" if the_call else None,
        serials=[serial],
        at=out,
        now=now,
        by=by,
    )
    loan = Loan(
        unit_id=unit.id,
        site_id=place.id,
        call_id=the_call.id if the_call else None,
        rma_id=rma_id,
        engineer_id=person.id if person else None,
        from_location_id=source.id,
        status=LoanStatus.OPEN,
        out_at=out,
        due_at=due_at(out, loan_terms(session)),
        out_move_id=move.id,
        created_by_id=by.id if by else None,
    )
    session.add(loan)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"Loaner {serial} was just lent by someone else.", serial=serial) from exc
    claim_moves(session, [move.id], f"LOAN-{loan.id}")
    if held is not None:
        held.status = HoldStatus.LENT
        held.loan_id = loan.id
    session.flush()
    _emit(session, "loan.lent", loan, now)
    return loan


def _emit(session: Session, event: str, loan: Loan, now: datetime) -> None:
    outbox.emit(
        session,
        event,
        subject=f"loan:{loan.id}",
        now=now,
        loan=loan.id,
        serial=loan.unit.serial,
        site=loan.site.code,
        call=loan.call_id,
        due_at=loan.due_at,
        returned_at=loan.returned_at,
    )


def _engineer_may_use(session: Session, location: Location, by: Caller | None, verb: str) -> None:
    """An engineer lends from, and returns to, a warehouse, the repair bench or their own
    van; another engineer's van is not theirs to empty or fill."""
    if by is None or by.role != Role.ENGINEER or location.kind != LocationKind.VAN:
        return
    mine = engineer_of(session, by)
    if mine is None or location.engineer_id != mine.id:
        raise Forbidden(
            f"{location.code} is another engineer's van; an engineer may {verb} their own.",
            location=location.code,
        )


def _placed_by(
    session: Session, code: str | None, call: Call | None, by: Caller | None
) -> Engineer | None:
    """The engineer who placed the loan: the caller if an engineer, else named, else the
    call's engineer (R12 lists overdue loans for them)."""
    if by is not None and by.role == Role.ENGINEER:
        mine = engineer_of(session, by)
        if mine is None or (code is not None and code != mine.code):
            raise Forbidden("An engineer records the loans they place.", engineer=code)
        return mine
    if code is not None:
        return get_engineer(session, code)
    return call.engineer if call is not None else None


def extend(
    session: Session,
    loan_id: int,
    *,
    days: int,
    reason: str,
    now: datetime,
    override: bool = False,
    by: Caller | None = None,
) -> LoanExtension:
    """Push the due date back (R11), always with a reason. The policy's furthest date is 15
    days from the day out by default; past it only an admin with ``override`` may, and the
    override is recorded with the reason."""
    if not reason.strip():
        raise InvalidInput(
            "An extension needs a reason.", errors={"reason": ["Say why the loan runs longer."]}
        )
    loan = get_loan(session, loan_id, for_update=True, caller=by)
    if loan.status != LoanStatus.OPEN:
        raise Conflict(f"Loan {loan_id} is {loan.status}; it cannot be extended.")
    if override and (by is None or by.role != Role.ADMIN):
        raise Forbidden("Only an admin overrides the loan policy.", allowed_roles=["admin"])
    new_due = loan.due_at + timedelta(days=days)
    furthest = latest_due(loan.out_at, loan_terms(session))
    if new_due > furthest and not override:
        raise Conflict(
            f"Loan {loan_id} may run until {furthest.isoformat()} at the most; an extension "
            f"to {new_due.isoformat()} needs an admin's override.",
            latest_due_at=furthest.isoformat(),
            requested_due_at=new_due.isoformat(),
        )
    extension = LoanExtension(
        loan_id=loan.id,
        days=days,
        reason=reason,
        old_due_at=loan.due_at,
        new_due_at=new_due,
        override=new_due > furthest,
        at=now,
        user_id=by.id if by else None,
    )
    session.add(extension)
    loan.due_at = new_due
    session.flush()
    audit.record(
        session,
        "loan.extension_overridden" if extension.override else "loan.extended",
        kind="loan",
        key=loan.id,
        details={
            "days": days,
            "reason": reason,
            "old_due_at": extension.old_due_at,
            "new_due_at": new_due,
            "override": extension.override,
        },
    )
    session.refresh(loan, ["extensions"])
    return extension


def return_loan(
    session: Session,
    loan_id: int,
    *,
    condition: str,
    now: datetime,
    location: str | None = None,
    at: datetime | None = None,
    note: str | None = None,
    by: Caller | None = None,
) -> Loan:
    """Book the loaner back (R13) with its condition. A damaged unit goes to a repair
    location, never to free stock: named, or the repair bench if there is one."""
    loan = get_loan(session, loan_id, for_update=True, caller=by)
    if loan.status != LoanStatus.OPEN:
        raise Conflict(f"Loan {loan_id} was returned on {loan.returned_at}.", loan=loan_id)
    target = _return_location(session, loan, condition, location)
    _engineer_may_use(session, target, by, "return to")
    when = business_time(at, now, "at")
    if when < loan.out_at:
        raise InvalidInput("A loan comes back after it went out.", errors={"at": ["Too early."]})
    move = post_move(
        session,
        sku=loan.unit.part.sku,
        qty=1,
        from_code=loan.site.code,
        to_code=target.code,
        reason="loan return",
        reference=f"loan {loan.id}",
        serials=[loan.unit.serial],
        at=when,
        now=now,
        by=by,
    )
    claim_moves(session, [move.id], f"LOAN-{loan.id}")
    loan.status = LoanStatus.RETURNED
    loan.returned_at = when
    loan.return_location_id = target.id
    loan.condition = condition
    loan.return_note = note
    loan.return_move_id = move.id
    loan.to_collect = False
    session.flush()
    session.refresh(loan, ["return_location"])
    _emit(session, "loan.returned", loan, now)
    return loan


def _return_location(session: Session, loan: Loan, condition: str, code: str | None) -> Location:
    if condition == "damaged":
        if code is None:
            bench = session.scalars(
                select(Location).where(Location.kind == LocationKind.REPAIR).order_by(Location.id)
            ).first()
            if bench is None:
                raise InvalidInput(
                    "A damaged loaner goes to a repair location; none exists.",
                    errors={"location": ["Name a repair location."]},
                )
            return bench
        target = get_location(session, code)
        if target.kind != LocationKind.REPAIR:
            raise InvalidInput(
                f"A damaged loaner goes to a repair location, not to {code} ({target.kind}).",
                errors={"location": ["Must be a repair location for a damaged unit."]},
            )
        return target
    if code is None:
        return loan.from_location  # type: ignore[no-any-return]
    target = get_location(session, code)
    if target.kind not in (LocationKind.WAREHOUSE, LocationKind.VAN, LocationKind.REPAIR):
        raise InvalidInput(
            f"A loaner comes back to a warehouse, a van or the repair bench, not {code}.",
            errors={"location": ["Warehouse, van or repair."]},
        )
    return target


def refuse_if_on_loan(session: Session, serials: Sequence[str]) -> None:
    """A unit out on loan moves only through its loan (lent, returned): a 409 otherwise,
    so it cannot end up somewhere its open loan does not know of."""
    if not serials:
        return
    loan = session.scalar(
        select(Loan)
        .join(Unit, Unit.id == Loan.unit_id)
        .where(Unit.serial.in_(list(serials)), Loan.status == LoanStatus.OPEN)
        .limit(1)
    )
    if loan is not None:
        raise Conflict(
            f"{loan.unit.serial} is out on loan {loan.id} at {loan.site.code}; book it back "
            "through the loan's return first.",
            serial=loan.unit.serial,
            loan=loan.id,
        )


def mark_to_collect(session: Session, rma_id: int, collector: str | None = None) -> list[Loan]:
    """The customer's repaired unit is on its way back (R13): their loaner is to collect,
    by the engineer delivering it when one is named (they see it in their day)."""
    by_whom = get_engineer(session, collector) if collector else None
    loans = list(
        session.scalars(select(Loan).where(Loan.rma_id == rma_id, Loan.status == LoanStatus.OPEN))
    )
    for loan in loans:
        loan.to_collect = True
        if by_whom is not None:
            loan.collector_id = by_whom.id
    session.flush()
    return loans


def get_loan(
    session: Session, loan_id: int, *, for_update: bool = False, caller: Caller | None = None
) -> Loan:
    """One loan; an engineer sees the loans they placed or are to collect."""
    unknown = UnknownKey(f"No loan {loan_id}.", loan=loan_id)
    loan = get_scoped(session, Loan, loan_id, unknown=unknown, for_update=for_update)
    mine = only_engineer(session, caller)
    if mine is not None and mine not in (loan.engineer_id, loan.collector_id):
        raise unknown
    return loan


def list_loans(
    session: Session,
    *,
    now: datetime,
    state: str | None = None,
    engineer: str | None = None,
    to_collect: bool | None = None,
    caller: Caller | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[Loan]:
    """Loans oldest first: open (all not returned), due soon, overdue or returned (R12)."""
    query = select(Loan).order_by(Loan.id).limit(limit)
    mine = only_engineer(session, caller)
    if mine is not None:  # theirs: placed by them, or for them to collect
        query = query.where(or_(Loan.engineer_id == mine, Loan.collector_id == mine))
    if engineer is not None:
        query = query.where(Loan.engineer_id == get_engineer(session, engineer).id)
    if after_id is not None:
        query = query.where(Loan.id > after_id)
    if to_collect is not None:
        query = query.where(Loan.to_collect.is_(to_collect))
    terms = loan_terms(session)
    if state == LoanState.RETURNED:
        query = query.where(Loan.status == LoanStatus.RETURNED)
    elif state == LoanState.OPEN:
        query = query.where(Loan.status == LoanStatus.OPEN)
    elif state == LoanState.OVERDUE:
        query = query.where(Loan.status == LoanStatus.OPEN, Loan.due_at < now)
    elif state == LoanState.DUE_SOON:
        soon = now + timedelta(days=terms.due_soon_days)
        query = query.where(
            Loan.status == LoanStatus.OPEN, and_(Loan.due_at >= now, Loan.due_at <= soon)
        )
    return list(session.scalars(query).unique())
