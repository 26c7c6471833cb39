"""Repair RMA rules (R15–R17): pure, no database, no Flask.

- The warranty verdict of one returned item (R15), with a reason a clerk can read out to
  the customer, dates included.
- The RMA's life as a state machine (R17): which status may follow which, and which step
  of the API leads where.
- The turnaround target (R16): 2 working days with the spare in our stock, else 30.

The numbers are defaults (``WarrantyPolicy``, ``TurnaroundPolicy``); callers may pass others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from partsvc.calls.rules import add_months
from partsvc.core.worktime import WorkingCalendar

# ---------------------------------------------------------------- warranty (R15)


class Verdict(StrEnum):
    REPLACEMENT = "replacement"  # dead on arrival: swapped, not repaired
    FREE = "free"  # in warranty: no charge for parts or labour
    AT_COST = "at_cost"  # out of warranty: parts at cost


MIXED = "mixed"  # the overall verdict of an RMA whose items differ


@dataclass(frozen=True)
class WarrantyPolicy:
    """How many days after delivery a failure counts as dead on arrival (R15: 7)."""

    dead_on_arrival_days: int = 7


DEFAULT_WARRANTY_POLICY = WarrantyPolicy()


@dataclass(frozen=True)
class WarrantyVerdict:
    verdict: Verdict
    reason: str


@dataclass(frozen=True)
class OverallVerdict:
    """What the RMA shows as its ``warranty``: a verdict (or ``mixed``) and its reason."""

    verdict: str
    reason: str


def warranty_verdict(
    *,
    failed_on: date,
    delivered_on: date | None,
    equipment_warranty_until: date | None = None,
    component_warranty_months: int | None = None,
    policy: WarrantyPolicy = DEFAULT_WARRANTY_POLICY,
) -> WarrantyVerdict:
    """The verdict of one item (R15) and why.

    ``failed_on`` is the day the RMA was requested (in the deployment's zone);
    ``delivered_on`` when the item reached the customer (for installed equipment, its
    install date); ``equipment_warranty_until`` the last day of the equipment's warranty;
    ``component_warranty_months`` a component's own warranty counted from its delivery
    (a print head's 3 months).

    In order: no delivery date → at cost, since nothing shows it is covered; failure within
    the dead-on-arrival days of delivery → replacement; a component with its own warranty
    is judged by that warranty alone (it may be shorter than the equipment's: a print head
    out of its 3 months is charged even in a printer still under warranty); otherwise the
    equipment's warranty; with no warranty recorded at all → at cost.
    """
    if delivered_on is None:
        return WarrantyVerdict(
            Verdict.AT_COST,
            f"We have no delivery date for it, so nothing shows it was under warranty when "
            f"it failed on {failed_on.isoformat()}: parts are charged at cost. Give the "
            "delivery date to have the warranty checked.",
        )
    if failed_on < delivered_on:
        raise ValueError("an item cannot fail before it was delivered")
    age = (failed_on - delivered_on).days
    if age <= policy.dead_on_arrival_days:
        return WarrantyVerdict(
            Verdict.REPLACEMENT,
            f"Dead on arrival: it failed on {failed_on.isoformat()}, {_days(age)} after its "
            f"delivery on {delivered_on.isoformat()} (within {policy.dead_on_arrival_days} "
            "days), so it is replaced, not repaired, free of charge.",
        )
    if component_warranty_months is not None:
        until = add_months(delivered_on, component_warranty_months)
        cover = (
            f"its own {component_warranty_months}-month warranty from delivery on "
            f"{delivered_on.isoformat()}"
        )
        if failed_on <= until:
            return WarrantyVerdict(
                Verdict.FREE,
                f"In warranty: {cover} runs until {until.isoformat()} and it failed on "
                f"{failed_on.isoformat()}, so parts and labour are free of charge.",
            )
        return WarrantyVerdict(
            Verdict.AT_COST,
            f"Out of warranty: {cover} ended on {until.isoformat()}, before it failed on "
            f"{failed_on.isoformat()}, so parts are charged at cost.",
        )
    if equipment_warranty_until is not None:
        if failed_on <= equipment_warranty_until:
            return WarrantyVerdict(
                Verdict.FREE,
                f"In warranty: the equipment's warranty runs until "
                f"{equipment_warranty_until.isoformat()} and it failed on "
                f"{failed_on.isoformat()}, so parts and labour are free of charge.",
            )
        return WarrantyVerdict(
            Verdict.AT_COST,
            f"Out of warranty: the equipment's warranty ended on "
            f"{equipment_warranty_until.isoformat()}, before it failed on "
            f"{failed_on.isoformat()}, so parts are charged at cost.",
        )
    return WarrantyVerdict(
        Verdict.AT_COST,
        f"No warranty is recorded for it: delivered on {delivered_on.isoformat()}, not "
        "part of equipment we know, and without a warranty of its own. It failed on "
        f"{failed_on.isoformat()}; parts are charged at cost.",
    )


def _days(n: int) -> str:
    return "the same day" if n == 0 else f"{n} day" if n == 1 else f"{n} days"


def overall_verdict(items: Sequence[tuple[str, WarrantyVerdict]]) -> OverallVerdict | None:
    """The RMA's verdict from its items' (label, verdict): a single item's own verdict and
    reason; for several, their common verdict or ``mixed``, and one reason per item."""
    if not items:
        return None
    if len(items) == 1:
        only = items[0][1]
        return OverallVerdict(str(only.verdict), only.reason)
    verdicts = {str(verdict.verdict) for _, verdict in items}
    reason = " ".join(f"{label}: {verdict.reason}" for label, verdict in items)
    return OverallVerdict(verdicts.pop() if len(verdicts) == 1 else MIXED, reason)


# ---------------------------------------------------------------- the RMA's life (R17)


class RmaStatus(StrEnum):
    REQUESTED = "requested"
    AUTHORIZED = "authorized"
    REJECTED = "rejected"
    RECEIVED = "received"
    DIAGNOSED = "diagnosed"
    REPAIRING = "repairing"
    REPAIRED = "repaired"
    REPLACED = "replaced"
    SHIPPED = "shipped"
    CLOSED = "closed"


NEXT_STATUSES: Mapping[RmaStatus, frozenset[RmaStatus]] = {
    RmaStatus.REQUESTED: frozenset({RmaStatus.AUTHORIZED, RmaStatus.REJECTED}),
    RmaStatus.AUTHORIZED: frozenset({RmaStatus.RECEIVED}),
    RmaStatus.RECEIVED: frozenset({RmaStatus.DIAGNOSED}),
    # A dead-on-arrival unit goes straight to replaced: it is swapped, not repaired.
    RmaStatus.DIAGNOSED: frozenset({RmaStatus.REPAIRING, RmaStatus.REPLACED}),
    RmaStatus.REPAIRING: frozenset({RmaStatus.REPAIRED, RmaStatus.REPLACED}),
    RmaStatus.REPAIRED: frozenset({RmaStatus.SHIPPED}),
    RmaStatus.REPLACED: frozenset({RmaStatus.SHIPPED}),
    RmaStatus.SHIPPED: frozenset({RmaStatus.CLOSED}),
    RmaStatus.REJECTED: frozenset({RmaStatus.CLOSED}),
    RmaStatus.CLOSED: frozenset(),
}

# Whose turnaround clock has stopped: the unit is back with the customer, or never came.
FINISHED = frozenset({RmaStatus.SHIPPED, RmaStatus.CLOSED, RmaStatus.REJECTED})
# R16's clock stops when the unit is repaired or replaced; waiting to ship is not late.
TURNAROUND_MET = FINISHED | {RmaStatus.REPAIRED, RmaStatus.REPLACED}


def can_move(current: str, new: str) -> bool:
    """Whether an RMA in status ``current`` may go to ``new`` (R17)."""
    return RmaStatus(new) in NEXT_STATUSES[RmaStatus(current)]


class Step(StrEnum):
    """The steps of the API, ``POST /rmas/{rma}/{step}``."""

    AUTHORIZE = "authorize"
    REJECT = "reject"
    RECEIVE = "receive"
    DIAGNOSE = "diagnose"
    REPAIR = "repair"
    COMPLETE = "complete"  # to repaired or replaced, as its outcome says
    SHIP = "ship"
    CLOSE = "close"


STEP_STATUS: Mapping[Step, RmaStatus] = {
    Step.AUTHORIZE: RmaStatus.AUTHORIZED,
    Step.REJECT: RmaStatus.REJECTED,
    Step.RECEIVE: RmaStatus.RECEIVED,
    Step.DIAGNOSE: RmaStatus.DIAGNOSED,
    Step.REPAIR: RmaStatus.REPAIRING,
    Step.SHIP: RmaStatus.SHIPPED,
    Step.CLOSE: RmaStatus.CLOSED,
}
OUTCOMES = (RmaStatus.REPAIRED, RmaStatus.REPLACED)


def step_status(step: str, outcome: str | None = None) -> RmaStatus:
    """The status a step leads to; ``complete`` leads to its outcome, repaired or replaced."""
    if Step(step) == Step.COMPLETE:
        if outcome is None or RmaStatus(outcome) not in OUTCOMES:
            raise ValueError("a completed repair is repaired or replaced")
        return RmaStatus(outcome)
    return STEP_STATUS[Step(step)]


# ---------------------------------------------------------------- turnaround (R16)


@dataclass(frozen=True)
class TurnaroundPolicy:
    """Working days from receipt to repaired (R16): the spare in our stock, or only at
    the vendor's warehouse."""

    spare_in_stock_days: int = 2
    spare_at_vendor_days: int = 30


DEFAULT_TURNAROUND = TurnaroundPolicy()


def turnaround_due(
    received_at: datetime,
    *,
    spare_in_stock: bool,
    calendar: WorkingCalendar,
    policy: TurnaroundPolicy = DEFAULT_TURNAROUND,
) -> datetime:
    """When an RMA received at ``received_at`` must be repaired (R16), in working days."""
    days = policy.spare_in_stock_days if spare_in_stock else policy.spare_at_vendor_days
    return calendar.add_working_days(received_at, days)


def is_overdue(status: str, due_at: datetime | None, now: datetime) -> bool:
    """Past its turnaround target and not yet back with the customer (R16)."""
    return due_at is not None and RmaStatus(status) not in FINISHED and due_at < now


def failure_day(requested_at: datetime, calendar: WorkingCalendar) -> date:
    """The failure date R15 judges by: the day the RMA was requested, in the deployment's
    zone (a request at 01:00 in Shanghai fails on that Shanghai day, not the UTC one)."""
    return requested_at.astimezone(calendar.zone).date()
