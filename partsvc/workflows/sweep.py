"""``partsvc sweep``, run from cron every few minutes. Each part is safe to run twice:

- preventive visits the contracts call for (R24), one per site and period;
- service-call deadlines near or missed, each alert raised once (R22);
- loans due soon or overdue, one reminder per loan, kind and day, into the outbox (R12);
- repair RMAs past their turnaround target, each escalated once (R16);
- pick-ups of a published plan never collected on a day that is over: parts freed;
- stock at or below a reorder point, announced once a day (``stock.below_reorder``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from partsvc.calls.sweep import generate_preventive_visits, raise_alerts
from partsvc.core.worktime import WorkingCalendar
from partsvc.loans.reminders import record_reminders
from partsvc.purchasing.reorder import announce_below_reorder
from partsvc.repairs.rmas import escalate_overdue_rmas
from partsvc.routing.pickups import release_stale_pickups


@dataclass
class SweepReport:
    visits: list[int] = field(default_factory=list)  # preventive calls created
    alerts: list[tuple[int, str, str]] = field(default_factory=list)  # call, deadline, level
    reminders: int = 0  # loan reminders written today
    delivered: int = 0  # messages and webhooks sent after the sweep (outbox_delivery)
    escalated: list[int] = field(default_factory=list)  # RMAs past their target
    pickups: int = 0  # uncollected pick-ups of days over, their parts freed

    def summary(self) -> str:
        near = sum(1 for _, _, level in self.alerts if level == "near")
        return (
            f"sweep: {len(self.visits)} preventive visit(s) created, "
            f"{near} deadline(s) near, {len(self.alerts) - near} missed, "
            f"{self.reminders} loan reminder(s), {self.delivered} delivered, "
            f"{len(self.escalated)} RMA(s) escalated, {self.pickups} pick-up(s) freed"
        )


def sweep(
    session: Session,
    *,
    now: datetime,
    calendar: WorkingCalendar,
    warn_before: timedelta,
) -> SweepReport:
    """Everything but sending: the command sends the outbox after this has committed."""
    report = SweepReport()
    report.visits = generate_preventive_visits(session, now=now, calendar=calendar)
    report.alerts = raise_alerts(session, now=now, warn_before=warn_before)
    report.reminders = len(record_reminders(session, now=now, zone=calendar.zone))
    report.escalated = escalate_overdue_rmas(session, now)
    today = now.astimezone(calendar.zone).date()
    report.pickups = release_stale_pickups(session, today=today, now=now)
    announce_below_reorder(session, now=now, zone=calendar.zone)  # for integrators
    return report
