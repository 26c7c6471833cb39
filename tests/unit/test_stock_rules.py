"""Pure stock rules: no database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from partsvc.inventory import rules


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
