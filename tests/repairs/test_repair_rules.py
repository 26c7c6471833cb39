"""Repair rules: warranty verdicts (R15), the RMA's life (R17), turnaround (R16)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from partsvc.core.worktime import WorkingCalendar
from partsvc.repairs.models import RMA_STATUSES, VERDICTS
from partsvc.repairs.rules import (
    FINISHED,
    NEXT_STATUSES,
    RmaStatus,
    Step,
    TurnaroundPolicy,
    Verdict,
    WarrantyPolicy,
    WarrantyVerdict,
    can_move,
    failure_day,
    is_overdue,
    overall_verdict,
    step_status,
    turnaround_due,
    warranty_verdict,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkingCalendar()
FAILED = date(2026, 11, 20)


def verdict(**kwargs):
    return warranty_verdict(failed_on=FAILED, **kwargs)


# ---------------------------------------------------------------- R15


@pytest.mark.parametrize("days", [0, 1, 7])
def test_a_failure_within_seven_days_of_delivery_is_dead_on_arrival(days):
    result = verdict(
        delivered_on=FAILED - timedelta(days=days), equipment_warranty_until=date(2027, 1, 1)
    )
    assert result.verdict == Verdict.REPLACEMENT
    assert "Dead on arrival" in result.reason
    assert "replaced, not repaired" in result.reason
    assert FAILED.isoformat() in result.reason


def test_the_eighth_day_is_no_longer_dead_on_arrival():
    result = verdict(delivered_on=date(2026, 11, 12), equipment_warranty_until=date(2027, 11, 12))
    assert result.verdict == Verdict.FREE


def test_dead_on_arrival_beats_an_expired_component_warranty_and_no_warranty():
    assert verdict(delivered_on=date(2026, 11, 18)).verdict == Verdict.REPLACEMENT
    result = verdict(delivered_on=date(2026, 11, 18), component_warranty_months=0)
    assert result.verdict == Verdict.REPLACEMENT
    assert "2 days after its delivery on 2026-11-18" in result.reason


def test_the_dead_on_arrival_window_is_a_policy():
    result = verdict(
        delivered_on=date(2026, 11, 10),
        equipment_warranty_until=date(2025, 1, 1),
        policy=WarrantyPolicy(dead_on_arrival_days=10),
    )
    assert result.verdict == Verdict.REPLACEMENT
    assert "within 10 days" in result.reason


def test_equipment_warranty_covers_its_last_day_and_not_the_next():
    last_day = verdict(delivered_on=date(2025, 11, 20), equipment_warranty_until=FAILED)
    assert last_day.verdict == Verdict.FREE
    assert last_day.reason == (
        "In warranty: the equipment's warranty runs until 2026-11-20 and it failed on "
        "2026-11-20, so parts and labour are free of charge."
    )
    over = verdict(delivered_on=date(2025, 11, 19), equipment_warranty_until=date(2026, 11, 19))
    assert over.verdict == Verdict.AT_COST
    assert over.reason == (
        "Out of warranty: the equipment's warranty ended on 2026-11-19, before it failed on "
        "2026-11-20, so parts are charged at cost."
    )


def test_a_components_own_warranty_decides_for_it_either_way():
    # A print head out of its 3 months, in a printer still under warranty: charged.
    short = verdict(
        delivered_on=date(2026, 7, 1),
        equipment_warranty_until=date(2027, 7, 1),
        component_warranty_months=3,
    )
    assert short.verdict == Verdict.AT_COST
    assert "its own 3-month warranty from delivery on 2026-07-01 ended on 2026-10-01" in (
        short.reason
    )
    # A new print head in an old printer: its own warranty covers it.
    fresh = verdict(
        delivered_on=date(2026, 10, 1),
        equipment_warranty_until=date(2024, 1, 1),
        component_warranty_months=3,
    )
    assert fresh.verdict == Verdict.FREE
    assert "runs until 2027-01-01" in fresh.reason


def test_a_component_warranty_counts_calendar_months():
    result = verdict(delivered_on=date(2026, 8, 31), component_warranty_months=3)
    assert result.verdict == Verdict.FREE
    assert "until 2026-11-30" in result.reason  # 31 Aug + 3 months: the month's last day


def test_without_a_delivery_date_the_item_is_at_cost_and_the_reason_says_so():
    result = verdict(
        delivered_on=None, equipment_warranty_until=date(2030, 1, 1), component_warranty_months=3
    )
    assert result.verdict == Verdict.AT_COST
    assert "no delivery date" in result.reason
    assert "2026-11-20" in result.reason


def test_with_no_warranty_recorded_the_item_is_at_cost():
    result = verdict(delivered_on=date(2026, 1, 5))
    assert result.verdict == Verdict.AT_COST
    assert "No warranty is recorded" in result.reason
    assert "2026-01-05" in result.reason


def test_an_item_cannot_fail_before_it_was_delivered():
    with pytest.raises(ValueError, match="before it was delivered"):
        verdict(delivered_on=date(2026, 11, 21))


@given(
    delivered=st.one_of(st.none(), st.dates(date(2000, 1, 1), FAILED)),
    until=st.one_of(st.none(), st.dates(date(2000, 1, 1), date(2040, 1, 1))),
    months=st.one_of(st.none(), st.integers(0, 120)),
)
def test_every_verdict_is_known_fits_its_column_and_names_the_failure_date(
    delivered, until, months
):
    result = verdict(
        delivered_on=delivered, equipment_warranty_until=until, component_warranty_months=months
    )
    assert result.verdict in VERDICTS
    assert FAILED.isoformat() in result.reason
    assert len(result.reason) <= 500  # rma_items.verdict_reason
    if delivered is not None and (FAILED - delivered).days <= 7:
        assert result.verdict == Verdict.REPLACEMENT


def test_the_overall_verdict_is_the_single_items_or_common_or_mixed():
    free = WarrantyVerdict(Verdict.FREE, "In warranty.")
    paid = WarrantyVerdict(Verdict.AT_COST, "Out of warranty.")
    assert overall_verdict([]) is None
    single = overall_verdict([("SN-1", free)])
    assert (single.verdict, single.reason) == ("free", "In warranty.")
    both = overall_verdict([("SN-1", free), ("2 x BELT", free)])
    assert (both.verdict, both.reason) == ("free", "SN-1: In warranty. 2 x BELT: In warranty.")
    mixed = overall_verdict([("SN-1", free), ("SN-2", paid)])
    assert mixed.verdict == "mixed"
    assert mixed.reason == "SN-1: In warranty. SN-2: Out of warranty."


def test_the_failure_day_is_the_request_day_in_the_deployments_zone():
    assert failure_day(datetime(2026, 11, 19, 17, 30, tzinfo=UTC), CALENDAR) == date(2026, 11, 20)
    assert failure_day(datetime(2026, 11, 19, 15, 59, tzinfo=UTC), CALENDAR) == date(2026, 11, 19)


# ---------------------------------------------------------------- R17


def test_the_life_of_an_rma_in_order():
    path = [
        "requested",
        "authorized",
        "received",
        "diagnosed",
        "repairing",
        "repaired",
        "shipped",
        "closed",
    ]
    for current, new in itertools.pairwise(path):
        assert can_move(current, new), (current, new)
    assert can_move("requested", "rejected") and can_move("rejected", "closed")
    # Dead on arrival: straight from diagnosed to replaced; or replaced after a repair try.
    assert can_move("diagnosed", "replaced") and can_move("repairing", "replaced")
    assert can_move("replaced", "shipped")


@pytest.mark.parametrize(
    "current, new",
    [
        ("requested", "received"),  # R14: authorization first
        ("rejected", "authorized"),
        ("authorized", "diagnosed"),
        ("received", "repairing"),
        ("diagnosed", "repaired"),  # repaired only after repairing
        ("repaired", "closed"),  # shipped back first
        ("shipped", "received"),
        ("closed", "requested"),
        ("authorized", "authorized"),
    ],
)
def test_a_step_out_of_order_is_refused(current, new):
    assert not can_move(current, new)


def test_the_state_machine_knows_every_status_and_closed_is_the_end():
    assert {str(s) for s in NEXT_STATUSES} == set(RMA_STATUSES)
    assert NEXT_STATUSES[RmaStatus.CLOSED] == frozenset()
    every = {str(s) for targets in NEXT_STATUSES.values() for s in targets}
    assert every == set(RMA_STATUSES) - {"requested"}


def test_each_step_leads_to_its_status():
    assert [str(step_status(s)) for s in Step if s != Step.COMPLETE] == [
        "authorized",
        "rejected",
        "received",
        "diagnosed",
        "repairing",
        "shipped",
        "closed",
    ]
    assert step_status("complete", "repaired") == RmaStatus.REPAIRED
    assert step_status("complete", "replaced") == RmaStatus.REPLACED
    with pytest.raises(ValueError):
        step_status("complete")
    with pytest.raises(ValueError):
        step_status("complete", "shipped")


# ---------------------------------------------------------------- R16


def test_two_working_days_with_the_spare_in_stock_skip_the_weekend():
    received = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)  # a Friday
    due = turnaround_due(received, spare_in_stock=True, calendar=CALENDAR)
    assert due == datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)


def test_thirty_working_days_with_the_spare_only_at_the_vendor_skip_holidays():
    received = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
    due = turnaround_due(received, spare_in_stock=False, calendar=CALENDAR)
    assert due == datetime(2027, 1, 4, 10, 0, tzinfo=SHANGHAI)  # New Year's Day is off


def test_a_receipt_in_the_evening_counts_from_the_next_morning():
    received = datetime(2026, 11, 20, 19, 0, tzinfo=SHANGHAI)
    due = turnaround_due(received, spare_in_stock=True, calendar=CALENDAR)
    assert due == datetime(2026, 11, 25, 9, 0, tzinfo=SHANGHAI)


def test_an_admins_closure_moves_the_target_and_the_days_are_a_policy():
    closed = WorkingCalendar(extra_closures=frozenset({date(2026, 11, 23)}))
    received = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
    assert turnaround_due(received, spare_in_stock=True, calendar=closed) == datetime(
        2026, 11, 25, 10, 0, tzinfo=SHANGHAI
    )
    policy = TurnaroundPolicy(spare_in_stock_days=1, spare_at_vendor_days=5)
    assert turnaround_due(
        received, spare_in_stock=False, calendar=CALENDAR, policy=policy
    ) == datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)


def test_overdue_is_past_the_target_and_not_yet_back_with_the_customer():
    due = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    after = due + timedelta(minutes=1)
    assert is_overdue("received", due, after)
    assert is_overdue("repaired", due, after)
    assert not is_overdue("received", due, due)
    assert not is_overdue("authorized", None, after)
    for status in FINISHED:
        assert not is_overdue(status, due, after)
