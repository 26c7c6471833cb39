"""Waiting for parts (R7, R22): the engineer on site finds the part missing, asks for it,
and the call waits. Both happen in one step, or neither: a call is never left waiting for
a part nobody asked for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from partsvc.auth.identity import Caller
from partsvc.calls.calls import change_call_status
from partsvc.calls.rules import CallStatus
from partsvc.core.worktime import WorkingCalendar
from partsvc.purchasing.models import PartRequest
from partsvc.purchasing.orders import request_part


def wait_for_parts(
    session: Session,
    call_id: int,
    *,
    sku: str,
    qty: int,
    calendar: WorkingCalendar,
    now: datetime,
    note: str | None = None,
    by: Caller | None = None,
) -> PartRequest:
    """Request ``qty`` of ``sku`` for the call, then set it waiting for parts."""
    request = request_part(
        session, sku=sku, qty=qty, call=call_id, calendar=calendar, now=now, note=note, by=by
    )
    change_call_status(session, call_id, CallStatus.WAITING_FOR_PARTS, now=now, by=by)
    return request
