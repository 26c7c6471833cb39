"""`partsvc sweep`: preventive visits by contract tier (R24) and deadline alerts (R22).

The command runs as cron would run it, through click, against the test database;
running it twice must do no harm.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from partsvc.calls.calls import report_call
from partsvc.calls.customers import create_customer, create_site
from partsvc.calls.models import Call, CallAlert
from partsvc.cli import main
from partsvc.core.worktime import WorkingCalendar

MONDAY_10 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def customers(session):
    """Gold with two sites, silver and bronze with one, and one without a contract."""
    contracts = [
        ("C-GOLD", "gold", date(2026, 1, 15), 2),
        ("C-SILVER", "silver", date(2026, 11, 23), 1),
        ("C-BRONZE", "bronze", date(2026, 8, 1), 1),
        ("C-NONE", "none", date(2026, 1, 1), 1),
    ]
    for code, tier, starts_on, sites in contracts:
        create_customer(session, code=code, name=code, tier=tier, contract_starts_on=starts_on)
        for n in range(sites):
            create_site(
                session, code=f"S-{code}-{n}", customer=code, address="上海", lat=31.2, lon=121.5
            )
    session.commit()


def run_sweep(database, clock):
    result = CliRunner().invoke(
        main, ["sweep"], obj={"database": database, "clock": clock}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output.strip()


def alerts_of(near, missed):
    return (
        f"{near} deadline(s) near, {missed} missed, 0 loan reminder(s), 0 delivered, "
        "0 RMA(s) escalated, 0 pick-up(s) freed"
    )


def preventive(session):
    return session.scalars(select(Call).where(Call.kind == "preventive").order_by(Call.id)).all()


def test_the_sweep_makes_each_visit_due_once_however_often_it_runs(
    database, session, customers, clock
):
    clock.now = MONDAY_10
    assert run_sweep(database, clock) == (
        "sweep: 4 preventive visit(s) created, 0 deadline(s) near, 0 missed, "
        "0 loan reminder(s), 0 delivered, 0 RMA(s) escalated, 0 pick-up(s) freed"
    )
    assert run_sweep(database, clock) == (
        "sweep: 0 preventive visit(s) created, 0 deadline(s) near, 0 missed, "
        "0 loan reminder(s), 0 delivered, 0 RMA(s) escalated, 0 pick-up(s) freed"
    )
    visits = {call.site.code: call for call in preventive(session)}
    assert sorted(visits) == ["S-C-BRONZE-0", "S-C-GOLD-0", "S-C-GOLD-1", "S-C-SILVER-0"]
    gold = visits["S-C-GOLD-0"]
    assert (gold.priority, gold.tier, gold.status) == ("P3", "gold", "new")
    assert gold.visit_period_start == date(2026, 11, 15)
    # Gold visits every 2 months (R19): the period ends on Thursday 14 January; the visit is
    # due when that day closes.
    assert gold.onsite_due == datetime(2027, 1, 14, 10, 0, tzinfo=UTC)
    assert gold.window_start == MONDAY_10
    assert visits["S-C-SILVER-0"].visit_period_start == date(2026, 11, 23)
    # Bronze's quarter runs from 1 November to 31 January, a Sunday: due Friday 29 January.
    bronze = visits["S-C-BRONZE-0"]
    assert bronze.visit_period_start == date(2026, 11, 1)
    assert bronze.onsite_due == datetime(2027, 1, 29, 10, 0, tzinfo=UTC)

    clock.now = datetime(2026, 12, 15, 1, 0, tzinfo=UTC)  # gold's period runs on
    assert run_sweep(database, clock).startswith("sweep: 0 preventive visit(s) created")
    clock.now = datetime(2027, 1, 15, 1, 0, tzinfo=UTC)  # gold's next period has begun
    assert run_sweep(database, clock).startswith("sweep: 2 preventive visit(s) created")
    assert run_sweep(database, clock).startswith("sweep: 0 preventive visit(s) created")
    assert len(preventive(session)) == 6


def test_the_sweep_raises_each_alert_once_near_then_missed(database, session, customers, clock):
    clock.now = MONDAY_10
    call = report_call(
        session, site="S-C-NONE-0", priority="P1", calendar=WorkingCalendar(), now=MONDAY_10
    )
    session.commit()
    assert run_sweep(database, clock).endswith(alerts_of(0, 0))
    clock.advance(minutes=31)  # 10:31: response due at 11:00
    assert run_sweep(database, clock).endswith(alerts_of(1, 0))
    assert run_sweep(database, clock).endswith(alerts_of(0, 0))
    clock.advance(minutes=30)  # 11:01: response missed, on site (12:00) not yet near
    assert run_sweep(database, clock).endswith(alerts_of(0, 1))
    clock.advance(minutes=40)  # 11:41: on site near
    assert run_sweep(database, clock).endswith(alerts_of(1, 0))
    assert run_sweep(database, clock).endswith(alerts_of(0, 0))
    alerts = session.execute(
        select(CallAlert.deadline, CallAlert.level).where(CallAlert.call_id == call.id)
    ).all()
    assert sorted(alerts) == [("onsite", "near"), ("response", "missed"), ("response", "near")]


def test_the_calls_resolved_are_left_alone(database, session, customers, clock):
    clock.now = MONDAY_10
    report_call(
        session,
        site="S-C-NONE-0",
        priority="P1",
        calendar=WorkingCalendar(),
        now=MONDAY_10,
    ).status = "resolved"
    session.commit()
    clock.advance(hours=30)
    assert run_sweep(database, clock).endswith(alerts_of(0, 0))
    assert session.scalar(select(func.count()).select_from(CallAlert)) == 0


def test_alerts_and_visits_show_on_the_call(client, auth, database, customers, clock):
    clock.now = MONDAY_10
    run_sweep(database, clock)
    listed = client.get(
        "/api/v1/calls", query_string={"kind": "preventive"}, headers=auth["dispatcher"]
    ).json["items"]
    assert len(listed) == 4
    assert {call["kind"] for call in listed} == {"preventive"}
    assert listed[0]["visit_period_start"] is not None
    assert listed[0]["flag"] is None

    body = {"site": "S-C-NONE-0", "priority": "P1"}
    call = client.post("/api/v1/calls", json=body, headers=auth["dispatcher"]).json
    clock.advance(minutes=31)
    run_sweep(database, clock)
    shown = client.get(f"/api/v1/calls/{call['id']}", headers=auth["dispatcher"]).json
    assert shown["alerts"] == [
        {"deadline": "response", "level": "near", "at": "2026-11-23T02:31:00+00:00"}
    ]


def test_a_visit_made_after_its_period_closed_gets_a_deadline_it_can_meet(database, session, clock):
    """Monthly visits from the 30th: the period 30 October to 29 November ends on a Sunday;
    the sweep first runs on that Sunday morning."""
    create_customer(
        session,
        code="C-LATE",
        name="Late",
        tier="gold",
        contract_starts_on=date(2026, 10, 30),
        visit_every_months=1,
    )
    create_site(session, code="S-LATE", customer="C-LATE", address="上海", lat=31.2, lon=121.5)
    session.commit()
    clock.now = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # Sunday 10:00
    assert run_sweep(database, clock).startswith("sweep: 1 preventive visit(s) created")
    (visit,) = preventive(session)
    assert visit.visit_period_start == date(2026, 10, 30)
    assert visit.onsite_due == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # Monday 18:00
    assert visit.window_start < visit.window_end
    assert session.scalar(select(func.count()).select_from(CallAlert)) == 0


def test_a_contract_corrected_on_its_first_day_gets_its_own_visit(
    client, auth, database, session, clock
):
    clock.now = MONDAY_10
    client.post(
        "/api/v1/customers",
        json={"code": "C-FIX", "name": "Fix", "tier": "bronze"},
        headers=auth["admin"],
    )
    site = {"code": "S-FIX", "customer": "C-FIX", "address": "上海", "lat": 31.2, "lon": 121.5}
    client.post("/api/v1/sites", json=site, headers=auth["admin"])
    run_sweep(database, clock)
    assert [v.tier for v in preventive(session)] == ["bronze"]
    fixed = client.put(
        "/api/v1/customers/C-FIX/contract", json={"tier": "gold"}, headers=auth["admin"]
    )
    assert fixed.status_code == 200, fixed.json
    session.expire_all()
    assert preventive(session) == []
    run_sweep(database, clock)
    (visit,) = preventive(session)
    assert visit.tier == "gold"
    assert visit.onsite_due == datetime(2027, 1, 22, 10, 0, tzinfo=UTC)  # Friday 22 January


def test_the_sweep_writes_one_reminder_per_overdue_loan_per_day(database, session, clock):
    from partsvc.loans.lending import lend
    from partsvc.loans.models import Loan, Reminder
    from partsvc.platform.outbox import OutboxEvent

    site = loaners_at_a_site(session, clock, "LN", ["Y-1", "Y-2"])
    lend(session, serial="Y-1", site="S-LN", now=clock.now)
    clock.advance(days=10)
    lend(session, serial="Y-2", site="S-LN", now=clock.now)
    session.commit()

    mine = select(Reminder.kind, Reminder.on_day, Reminder.created_at).where(
        Reminder.loan_id.in_(select(Loan.id).where(Loan.site_id == site.id))
    )

    def reminders():
        session.expire_all()
        return session.execute(mine.order_by(Reminder.id)).all()

    clock.advance(days=7)  # Y-1 two days overdue, Y-2 due in 8 days
    run_sweep(database, clock)
    run_sweep(database, clock)
    assert [kind for kind, _, _ in reminders()] == ["overdue"]
    clock.advance(days=1)
    run_sweep(database, clock)
    clock.advance(days=5, hours=1)  # Y-2 due within two days now
    run_sweep(database, clock)
    run_sweep(database, clock)
    kinds = reminders()
    assert [kind for kind, _, _ in kinds] == ["overdue", "overdue", "overdue", "due_soon"]
    assert len({day for _, day, _ in kinds}) == 3
    loans = select(Loan.id).where(Loan.site_id == site.id)
    told = session.scalars(
        select(OutboxEvent.type)
        .where(OutboxEvent.type.like("loan.%"), OutboxEvent.data["loan"].as_integer().in_(loans))
        .where(OutboxEvent.type != "loan.lent")
        .order_by(OutboxEvent.id)
    ).all()
    assert told == ["loan.overdue", "loan.overdue", "loan.overdue", "loan.due_soon"]  # R12
    message = session.scalar(
        select(Reminder.message)
        .where(Reminder.recipient.is_(None))
        .order_by(Reminder.id)
        .where(Reminder.loan_id.in_(select(Loan.id).where(Loan.site_id == site.id)))
        .limit(1)
    )
    assert message.endswith(": loaner Y-1 at S-LN was due back 2026-12-05 10:00, 2 day(s) overdue.")


def test_a_loan_turning_overdue_during_the_day_gets_one_reminder_that_day(database, session, clock):
    from partsvc.loans.lending import lend
    from partsvc.loans.models import Loan, Reminder

    site = loaners_at_a_site(session, clock, "1D", ["Z-1"])
    lend(session, serial="Z-1", site="S-1D", now=clock.now)  # due 5 December, 10:00
    session.commit()
    clock.now = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)  # 09:00: due within the hour
    run_sweep(database, clock)
    clock.now = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)  # 11:00: overdue, the same day
    run_sweep(database, clock)
    session.expire_all()
    kinds = session.scalars(
        select(Reminder.kind).where(
            Reminder.loan_id.in_(select(Loan.id).where(Loan.site_id == site.id))
        )
    ).all()
    assert kinds == ["due_soon"]


def loaners_at_a_site(session, clock, tag, serials):
    """A customer and site S-<tag>, and loaners of model LOAN-<tag> in warehouse WH-<tag>."""
    from partsvc.inventory import catalog, ledger

    create_customer(session, code=f"C-{tag}", name="C", contract_starts_on=date(2026, 1, 1))
    site = create_site(
        session, code=f"S-{tag}", customer=f"C-{tag}", address="上海", lat=31.2, lon=121.5
    )
    catalog.create_part(session, sku=f"LOAN-{tag}", name="Loaner", serialized=True, loaner=True)
    for code, kind in [(f"WH-{tag}", "warehouse"), (f"V-{tag}", "vendor")]:
        catalog.create_location(session, code=code, name=code, kind=kind)
    ledger.post_move(
        session,
        sku=f"LOAN-{tag}",
        qty=len(serials),
        from_code=f"V-{tag}",
        to_code=f"WH-{tag}",
        reason="receipt",
        serials=serials,
        now=clock.now,
    )
    return site
