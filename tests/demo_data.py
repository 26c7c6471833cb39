"""What the tests and the benches pick out of the demo data (partsvc.demo) to work with."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.calls.calls import change_call_status
from partsvc.core.worktime import WorkingCalendar
from partsvc.inventory import ledger
from partsvc.inventory.models import Location, Part, StockLevel, Unit
from partsvc.workflows.completion import PartUsed, complete_call

LOANER_SHELF = "WH-SH"  # the Shanghai warehouse, where the demo keeps its loaners
SIGNED_BY = "王建国"  # the customer who signs the service record


def spare_on_van(session: Session, van: Location) -> StockLevel:
    """The van's stock of a part that is not serialized and is on hand, first by SKU."""
    level = session.scalars(
        select(StockLevel)
        .join(Part, Part.id == StockLevel.part_id)
        .where(StockLevel.location_id == van.id, Part.serialized.is_(False), StockLevel.on_hand > 0)
        .order_by(Part.sku)
    ).first()
    assert level is not None, f"nothing on hand on {van.code}"
    return level


def issue_a_loaner(session: Session, van: Location, now: datetime) -> Unit:
    """Issue the first loaner on the Shanghai shelf to the van, as a clerk would."""
    loaner = session.scalars(
        select(Unit)
        .join(Part, Part.id == Unit.part_id)
        .join(Location, Location.id == Unit.location_id)
        .where(Part.loaner.is_(True), Location.code == LOANER_SHELF)
        .order_by(Unit.serial)
    ).first()
    assert loaner is not None, f"no loaner on {LOANER_SHELF}"
    ledger.post_move(
        session,
        sku=loaner.part.sku,
        qty=1,
        from_code=LOANER_SHELF,
        to_code=van.code,
        reason="issue to van",
        serials=[loaner.serial],
        now=now,
    )
    return loaner


def complete_on_site(
    session: Session,
    call_id: int,
    sku: str,
    work_done: str,
    *,
    now: datetime,
    calendar: WorkingCalendar,
    **more: Any,
) -> None:
    """Set off to the call, arrive, and complete it with one ``sku`` used, signed by 王建国."""
    for status in ("en_route", "on_site"):
        change_call_status(session, call_id, status, now=now)
    complete_call(
        session,
        call_id,
        work_done=work_done,
        signed_by=SIGNED_BY,
        consumed=[PartUsed(sku, 1)],
        now=now,
        calendar=calendar,
        **more,
    )
