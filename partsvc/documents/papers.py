"""What each printed document shows, gathered from the database: one function per
document, each returning the PDF. Callers pass who is asking, so an engineer prints only
their own calls, loans and day."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import qrcode
import qrcode.image.svg
from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.auth.identity import Caller
from partsvc.calls.calls import get_call
from partsvc.calls.models import ServiceRecord
from partsvc.core.drawing import Projection
from partsvc.core.worktime import WorkingCalendar
from partsvc.documents.render import render_pdf
from partsvc.inventory.models import Move
from partsvc.loans.lending import get_loan, loan_terms
from partsvc.loans.models import Loan
from partsvc.platform.config import Settings
from partsvc.purchasing.order_book import get_order, is_late
from partsvc.repairs.models import Rma
from partsvc.repairs.rmas import get_rma
from partsvc.workflows.completion import CONSUMED
from partsvc.workflows.engineer_day import engineer_day
from partsvc.workflows.month_figures import month_bounds, month_figures


def service_record(
    session: Session, call_id: int, *, zone: ZoneInfo, caller: Caller | None
) -> bytes:
    """R23: the call, what was done and used, loaner and unit taken back, two signatures."""
    call = get_call(session, call_id, caller=caller)
    record = session.scalar(select(ServiceRecord).where(ServiceRecord.call_id == call_id))
    consumed = session.scalars(
        select(Move)
        .where(Move.reference == f"call {call_id}", Move.reason == CONSUMED)
        .order_by(Move.id)
    ).all()
    loan = session.get(Loan, record.loan_id) if record and record.loan_id else None
    rma = session.get(Rma, record.rma_id) if record and record.rma_id else None
    return render_pdf(
        "service_record.html",
        call=call,
        record=record,
        consumed=consumed,
        loan=loan,
        rma=rma,
        zone=zone,
    )


def loaner_agreement(session: Session, loan_id: int, *, zone: ZoneInfo, caller: Caller) -> bytes:
    loan = get_loan(session, loan_id, caller=caller)
    return render_pdf("loaner_agreement.html", loan=loan, terms=loan_terms(session), zone=zone)


def rma_authorization(session: Session, number: str, *, zone: ZoneInfo) -> bytes:
    """The RMA with its items and verdicts, and a cut-out shipping label with a QR code."""
    rma = get_rma(session, number)
    return render_pdf("rma_authorization.html", rma=rma, qr=qr_svg(rma.number), zone=zone)


def vendor_order(session: Session, number: str, *, today: date, zone: ZoneInfo) -> bytes:
    order = get_order(session, number)
    total = sum(((line.unit_cost or Decimal(0)) * line.qty for line in order.lines), Decimal(0))
    return render_pdf(
        "vendor_order.html",
        order=order,
        total=total,
        today=today,
        is_late=is_late,
        zone=zone,
    )


def day_sheet(
    session: Session,
    code: str,
    day: date,
    *,
    calendar: WorkingCalendar,
    caller: Caller,
) -> bytes:
    """The engineer's route with times and addresses, the parts to pick up, and a map."""
    the_day = engineer_day(session, code, day, calendar=calendar, caller=caller)
    return render_pdf(
        "day_sheet.html", day=the_day, route_map=route_map(the_day), zone=calendar.zone
    )


def monthly_report(
    session: Session, month: date, *, now: datetime, zone: ZoneInfo, settings: Settings
) -> bytes:
    """Parts replaced with their cost, repairs by verdict and turnaround, SLA per priority,
    loans, satisfaction: the month on paper."""
    figures = month_figures(
        session,
        month,
        now=now,
        zone=zone,
        same_day_target=settings.same_day_fix_target,
        satisfaction_target=settings.satisfaction_target,
    )
    starts, ends = month_bounds(month, zone)
    return render_pdf(
        "monthly_report.html",
        figures=figures,
        parts=_parts_replaced(session, starts, ends),
        repairs=_repairs(session, starts, ends),
        loans=_loans(session, starts, ends, now),
        zone=zone,
    )


def qr_svg(text: str) -> str:
    """A QR code of ``text`` as inline SVG (the qrcode library, error correction M)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(text)
    code.make(fit=True)
    image = code.make_image(image_factory=qrcode.image.svg.SvgPathImage)
    svg: str = image.to_string(encoding="unicode")
    return svg


def route_map(the_day: Any) -> dict[str, Any] | None:
    """The day's route as points in an SVG viewBox: start, stops in order, back."""
    route = the_day.route
    engineer = the_day.engineer
    if route is None or not route.stops:
        return None
    places = []
    if engineer.home_lat is not None and engineer.home_lon is not None:
        places.append(("start", engineer.home_lat, engineer.home_lon))
    for number, stop in enumerate(route.stops, start=1):
        if stop.kind == "pickup" and stop.warehouse is not None and stop.warehouse.lat is not None:
            places.append((f"{number}", stop.warehouse.lat, stop.warehouse.lon))
        elif stop.call.site.placed:
            places.append((f"{number}", stop.call.site.lat, stop.call.site.lon))
    project = Projection.around([(lat, lon) for _, lat, lon in places])
    points = [(label, *project(lat, lon)) for label, lat, lon in places]
    line = " ".join(f"{x},{y}" for _, x, y in points + points[:1])
    return {"height": project.height, "points": points, "line": line}


def _parts_replaced(session: Session, starts: datetime, ends: datetime) -> list[dict[str, Any]]:
    moves = session.scalars(
        select(Move).where(Move.reason == CONSUMED, Move.at >= starts, Move.at < ends)
    ).all()
    by_part: dict[str, dict[str, Any]] = defaultdict(lambda: {"qty": 0, "cost": Decimal(0)})
    for move in moves:
        row = by_part[move.part.sku]
        row["part"] = move.part
        row["qty"] += move.qty
        row["cost"] += (move.part.unit_cost or Decimal(0)) * move.qty
    return sorted(by_part.values(), key=lambda row: -row["cost"])


def _repairs(session: Session, starts: datetime, ends: datetime) -> dict[str, Any]:
    rmas = (
        session.scalars(select(Rma).where(Rma.requested_at >= starts, Rma.requested_at < ends))
        .unique()
        .all()
    )
    verdicts: dict[str, int] = defaultdict(int)
    for rma in rmas:
        for item in rma.items:
            verdicts[item.verdict] += 1
    shipped = [(rma, step.at) for rma in rmas for step in rma.steps if step.status == "shipped"]
    on_time = sum(1 for rma, at in shipped if rma.due_at is None or at <= rma.due_at)
    return {
        "count": len(rmas),
        "verdicts": dict(verdicts),
        "shipped": len(shipped),
        "on_time": on_time,
    }


def _loans(session: Session, starts: datetime, ends: datetime, now: datetime) -> dict[str, Any]:
    out = (
        session.scalars(select(Loan).where(Loan.out_at >= starts, Loan.out_at < ends))
        .unique()
        .all()
    )
    late_days = [
        ((loan.returned_at or now) - loan.due_at).days
        for loan in out
        if (loan.returned_at or now) > loan.due_at
    ]
    return {"count": len(out), "overdue": len(late_days), "overdue_days": sum(late_days)}
