"""Pure stock rules: no database."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from partsvc.inventory import rules
from partsvc.inventory.rules import Allocation, OpenLine, allocate, reorder_quantity


@pytest.mark.parametrize("kind", ["warehouse", "van"])
def test_warehouses_and_vans_hold_stock(kind):
    assert rules.holds_stock(kind)
    assert not rules.may_introduce_serials(kind)


@pytest.mark.parametrize("kind", ["site", "vendor", "repair", "transit", "scrap", "adjustment"])
def test_counterparties_may_run_negative_and_bring_new_serials(kind):
    assert not rules.holds_stock(kind)
    assert rules.may_introduce_serials(kind)


def test_every_kind_of_api_md_is_known():
    assert set(rules.LOCATION_KINDS) == {
        "warehouse",
        "van",
        "site",
        "vendor",
        "repair",
        "transit",
        "scrap",
        "adjustment",
    }


@pytest.mark.parametrize(
    ("expected", "counted", "difference"), [(10, 8, -2), (3, 5, 2), (4, 4, 0), (0, 0, 0)]
)
def test_a_count_difference_is_counted_minus_expected(expected, counted, difference):
    assert rules.count_difference(expected, counted) == difference


def test_a_negative_count_is_refused():
    with pytest.raises(ValueError, match="negative"):
        rules.count_difference(3, -1)


def test_serial_differences_name_the_missing_and_the_found():
    missing, found = rules.serial_count_differences(["A", "B", "C"], ["C", "A", "D"])
    assert (missing, found) == (["B"], ["D"])


@given(st.sets(st.text(min_size=1, max_size=5)), st.sets(st.text(min_size=1, max_size=5)))
def test_booking_the_serial_differences_makes_the_ledger_match_the_shelf(expected, counted):
    missing, found = rules.serial_count_differences(sorted(expected), sorted(counted))
    assert (set(expected) - set(missing)) | set(found) == set(counted)


@given(st.lists(st.integers(1, 10**6), min_size=1, max_size=4))
def test_rows_are_locked_in_one_order_whatever_the_direction(ids):
    assert rules.lock_order(*ids) == rules.lock_order(*reversed(ids)) == sorted(set(ids))


# ---------------------------------------------------------------- allocation (R7)


def line(line_id, eta, room):
    return OpenLine(line_id=line_id, eta=date.fromisoformat(eta), room=room)


def test_the_shelf_serves_first():
    assert allocate(3, 5, [line(1, "2026-12-01", 10)]) == Allocation(3, None, 0)


def test_what_the_shelf_lacks_waits_on_the_line_arriving_soonest_with_room():
    lines = [line(1, "2026-12-10", 5), line(2, "2026-12-01", 1), line(3, "2026-12-05", 5)]
    assert allocate(5, 1, lines) == Allocation(1, 3, 4)
    assert allocate(2, 1, lines) == Allocation(1, 2, 1)


def test_when_no_line_has_room_a_new_order_line_is_needed():
    assert allocate(4, 0, [line(1, "2026-12-01", 3), line(2, "2026-12-02", 0)]) == Allocation(
        0, None, 4
    )
    assert allocate(2, -1, []) == Allocation(0, None, 2)


@given(
    wanted=st.integers(1, 50),
    shelf=st.integers(-5, 50),
    rooms=st.lists(st.tuples(st.dates(), st.integers(0, 20)), max_size=6),
)
def test_an_allocation_adds_up_and_picks_the_soonest_line_that_fits(wanted, shelf, rooms):
    lines = [OpenLine(i, eta, room) for i, (eta, room) in enumerate(rooms)]
    result = allocate(wanted, shelf, lines)
    assert result.from_shelf + result.waiting == wanted
    assert result.from_shelf == min(wanted, max(shelf, 0))
    fitting = [line for line in lines if line.room >= result.waiting]
    if result.waiting == 0 or not fitting:
        assert result.line_id is None
    else:
        chosen = lines[result.line_id]
        assert chosen.room >= result.waiting
        assert all(chosen.eta <= other.eta for other in fitting)


# ---------------------------------------------------------------- reorder (R5)


@pytest.mark.parametrize(
    "position, point, kwargs, expected",
    [
        (6, 5, {"reorder_qty": 10}, 0),
        (5, 5, {"reorder_qty": 10}, 10),
        (-12, 5, {"reorder_qty": 10}, 20),
        (2, 5, {"max_qty": 20}, 18),
        (-3, 5, {"max_qty": 20}, 23),
        (9, 5, {"max_qty": 20}, 0),
    ],
)
def test_reorder_quantity_lifts_the_position_above_the_point(position, point, kwargs, expected):
    assert reorder_quantity(position, point, **kwargs) == expected


def test_a_rule_has_a_quantity_or_a_maximum_not_both():
    with pytest.raises(ValueError):
        reorder_quantity(1, 5, reorder_qty=3, max_qty=10)
