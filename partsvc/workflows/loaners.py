"""Lending a loaner for a repair: the loan (loans) names the RMA (repairs) it covers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from partsvc.auth.identity import Caller
from partsvc.calls.customers import get_site
from partsvc.loans.lending import lend
from partsvc.loans.models import Loan
from partsvc.repairs.rmas import rma_of_customer


def lend_loaner(
    session: Session,
    *,
    serial: str,
    site: str,
    now: datetime,
    call: int | None = None,
    engineer: str | None = None,
    rma: str | None = None,
    out_at: datetime | None = None,
    by: Caller | None = None,
) -> Loan:
    """Place a loaner on a site (R10), covering the site's customer's RMA ``rma`` if one is
    named (R13: it comes back when the repaired unit does)."""
    rma_id = rma_of_customer(session, rma, get_site(session, site).customer_id).id if rma else None
    return lend(
        session,
        serial=serial,
        site=site,
        now=now,
        call=call,
        engineer=engineer,
        rma_id=rma_id,
        out_at=out_at,
        by=by,
    )
