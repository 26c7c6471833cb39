"""Reading a clerk's CSV files: what spreadsheets write is read, every bad row is found."""

from __future__ import annotations

import codecs
from decimal import Decimal

import pytest

from partsvc.workflows.imports import csvfile, rules
from partsvc.workflows.imports.csvfile import Problems


def parts(text: str | bytes) -> tuple[list[rules.PartRow], Problems]:
    problems = Problems()
    data = text.encode() if isinstance(text, str) else text
    return rules.parse_parts(
        csvfile.read_rows(data, rules.PART_COLUMNS, problems), problems
    ), problems


def stock(text: str) -> tuple[list[rules.StockRow], Problems]:
    problems = Problems()
    rows = csvfile.read_rows(text.encode(), rules.STOCK_COLUMNS, problems)
    return rules.parse_stock(rows, problems), problems


def said(problems: Problems) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.message) for p in problems.items]


# ---------------------------------------------------------------- the file


def test_excels_utf8_file_with_a_bom_and_chinese_names_is_read() -> None:
    data = codecs.BOM_UTF8 + "SKU,Name,Name_ZH\r\nPH-1,Print head,打印头\r\n".encode()
    found, problems = parts(data)
    assert not problems
    assert found[0].sku == "PH-1"
    assert found[0].name_zh == "打印头"


def test_excels_unicode_text_utf16_with_tabs_is_read() -> None:
    data = "sku\tname\r\nPH-1\t定影组件\r\n".encode("utf-16")
    found, problems = parts(data)
    assert not problems
    assert found[0].name == "定影组件"


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_commas_semicolons_and_tabs_are_each_recognised(separator: str) -> None:
    text = separator.join(["sku", "name", "unit_cost"]) + "\n"
    text += separator.join(["PH-1", '"Head, 24 pin"', "12"]) + "\n"
    found, problems = parts(text)
    assert not problems
    assert found[0].name == "Head, 24 pin"
    assert found[0].unit_cost == Decimal("12.00")


def test_column_names_are_read_whatever_their_case_and_spacing() -> None:
    found, problems = parts("SKU, Name ,Lead Time Days,warranty-months\nPH-1,Head,14,3\n")
    assert not problems
    assert (found[0].lead_time_days, found[0].warranty_months) == (14, 3)


def test_an_unknown_column_is_refused_naming_it_and_the_known_ones() -> None:
    found, problems = parts("sku,name,colour\nPH-1,Head,red\n")
    assert found == []
    [(row, column, message)] = said(problems)
    assert (row, column) == (1, "colour")
    assert "Unknown column 'colour'" in message
    assert "unit_cost" in message


def test_a_missing_required_column_and_a_doubled_one_are_refused() -> None:
    _, problems = parts("sku,unit_cost,unit_cost\nPH-1,1,2\n")
    assert {(row, column) for row, column, _ in said(problems)} == {
        (1, "unit_cost"),
        (1, "name"),
    }


def test_blank_rows_are_skipped_but_counted_as_the_spreadsheet_counts_them() -> None:
    found, problems = parts("sku,name\n\nPH-1,Head\n,\nPH-2,\n\n\n")
    assert [part.row for part in found] == [3, 5]
    assert said(problems) == [(5, "name", "Empty; this column must be filled in.")]


def test_a_file_with_no_rows_or_nothing_at_all_says_so() -> None:
    assert "no rows" in said(parts("sku,name\n\n")[1])[0][2]
    assert "empty" in said(parts("")[1])[0][2]
    assert "no header" in said(parts(",,\n,,\n")[1])[0][2]


def test_a_file_not_in_utf8_is_refused_with_the_row_of_the_first_bad_byte() -> None:
    data = "sku,name\nPH-1,Head\nPH-2,打印头\n".encode("gb18030")
    _, problems = parts(data)
    [(row, column, message)] = said(problems)
    assert (row, column) == (3, "row")
    assert "CSV UTF-8" in message


def test_an_excel_workbook_is_refused_with_how_to_save_it_as_csv() -> None:
    _, problems = parts(b"PK\x03\x04 rest of a zip")
    assert "Excel workbook" in said(problems)[0][2]


def test_a_value_under_a_column_with_no_name_is_a_row_problem() -> None:
    found, problems = parts("sku,name,\nPH-1,Head,\nPH-2,Belt,oops\n")
    assert said(problems) == [
        (3, "row", "A value ('oops') in column 3, which has no name in the header.")
    ]
    assert len(found) == 2


def test_more_rows_than_allowed_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csvfile, "MAX_ROWS", 2)
    found, problems = parts("sku,name\nA,a\nB,b\nC,c\n")
    assert found == []
    assert said(problems)[0][:2] == (4, "row")


# ---------------------------------------------------------------- parts


def test_every_bad_cell_of_every_row_is_reported_by_row_and_column() -> None:
    text = (
        "sku,name,unit_cost,lead_time_days,warranty_months,serialized,loaner\n"
        "PH-1,Head,-5,14,3,no,no\n"  # row 2: negative cost
        "PH 2,Head,12,fourteen,3,no,no\n"  # row 3: bad SKU, bad number
        f"PH-3,{'x' * 201},12,14,3,maybe,yes\n"  # row 4: name too long, not yes/no, loaner
        "PH-4,Head,1.234,99999,3,yes,yes\n"  # row 5: 3 decimals, lead time out of range
    )
    _, problems = parts(text)
    assert {(row, column) for row, column, _ in said(problems)} == {
        (2, "unit_cost"),
        (3, "sku"),
        (3, "lead_time_days"),
        (4, "name"),
        (4, "serialized"),
        (4, "loaner"),
        (5, "unit_cost"),
        (5, "lead_time_days"),
    }
    assert problems.bad_rows == 4
    assert "negative" in problems.by_row()["2"]["unit_cost"][0]


def test_a_sku_or_barcode_twice_in_the_file_names_the_row_of_the_first() -> None:
    _, problems = parts("sku,name,barcode\nPH-1,Head,690001\nPH-2,Belt,690001\nPH-1,Fan,\n")
    assert said(problems) == [
        (3, "barcode", "Barcode 690001 is already on row 2."),
        (4, "sku", "SKU PH-1 is already on row 2."),
    ]


@pytest.mark.parametrize(
    ("written", "amount"),
    [("1850", "1850.00"), ("1,850.00", "1850.00"), ("¥ 12.5", "12.50"), ("12,50", "12.50")],
)
def test_costs_are_read_as_spreadsheets_write_them(written: str, amount: str) -> None:
    assert csvfile.money(written, 10**9) == Decimal(amount)


@pytest.mark.parametrize("written", ["-1", "abc", "NaN", "1e999999", "12.345", "１２"])
def test_a_cost_that_is_no_amount_or_negative_is_refused(written: str) -> None:
    with pytest.raises(csvfile.CellError):
        csvfile.money(written, 10**9)


def test_parts_already_in_the_catalogue_and_vendors_that_are_none_are_refused() -> None:
    found, problems = parts(
        "sku,name,barcode,vendor\nPH-1,Head,,V-1\nPH-2,Belt,690001,WH-SH\nPH-3,Fan,,V-NONE\n"
    )
    rules.check_parts(
        found,
        existing_skus={"PH-1"},
        barcode_owners={"690001": "OLD-9"},
        vendor_kinds={"V-1": "vendor", "WH-SH": "warehouse"},
        problems=problems,
    )
    assert said(problems) == [
        (2, "sku", "A part with SKU 'PH-1' already exists."),
        (3, "barcode", "Barcode '690001' already belongs to part OLD-9."),
        (3, "vendor", "'WH-SH' is a warehouse, not a vendor."),
        (4, "vendor", "No vendor with code 'V-NONE'."),
    ]


# ---------------------------------------------------------------- opening stock


def test_serials_come_one_row_each_or_several_in_a_cell() -> None:
    found, problems = stock(
        'sku,location,qty,serials\nLS-1,WH-SH,1,SN1\nLS-1,WH-SH,3,"SN2, SN3 SN4"\n'
    )
    assert not problems
    assert [item.serials for item in found] == [("SN1",), ("SN2", "SN3", "SN4")]


@pytest.mark.parametrize(
    ("qty", "word"),
    [("0", "range"), ("-2", "range"), ("2000000", "range"), ("1.5", "whole"), ("", "Empty")],
)
def test_a_quantity_that_is_zero_negative_huge_or_not_whole_is_refused(qty: str, word: str) -> None:
    _, problems = stock(f"sku,location,qty\nPH-1,WH-SH,{qty}\n")
    [(row, column, message)] = said(problems)
    assert (row, column) == (2, "qty")
    assert word in message


def test_serials_not_matching_the_quantity_or_given_twice_are_refused() -> None:
    _, problems = stock(
        "sku,location,qty,serials\nLS-1,WH-SH,2,SN1\nLS-1,WH-SZ,1,SN9\nLS-1,WH-SH,1,SN9\n"
    )
    assert said(problems) == [
        (2, "serials", "1 serials for a quantity of 2: give one serial per unit."),
        (4, "serials", "Serial SN9 is already on row 3."),
    ]


def catalogue_check(text: str, **overrides: object) -> tuple[list[rules.OpeningMove], Problems]:
    found, problems = stock(text)
    lookups: dict[str, object] = {
        "parts": {"PH-1": rules.PartFacts(False), "LS-1": rules.PartFacts(True)},
        "locations": {
            "WH-SH": rules.LocationFacts("warehouse"),
            "VAN-1": rules.LocationFacts("van"),
            "V-1": rules.LocationFacts("vendor"),
            "WH-OLD": rules.LocationFacts("warehouse", active=False),
        },
        "serials_at": {},
        "on_hand": {},
    }
    lookups.update(overrides)
    moves = rules.check_stock(found, problems=problems, **lookups)  # type: ignore[arg-type]
    return moves, problems


def test_one_move_is_planned_per_part_and_location_in_the_order_of_the_file() -> None:
    moves, problems = catalogue_check(
        "sku,location,qty,serials\nLS-1,VAN-1,1,SN1\nPH-1,WH-SH,5,\nLS-1,VAN-1,1,SN2\n"
    )
    assert not problems
    assert moves == [
        rules.OpeningMove("LS-1", "VAN-1", 2, ("SN1", "SN2"), (2, 4)),
        rules.OpeningMove("PH-1", "WH-SH", 5, (), (3,)),
    ]


def test_unknown_parts_and_places_that_cannot_hold_stock_are_refused() -> None:
    _, problems = catalogue_check(
        "sku,location,qty\nNOPE,WH-SH,1\nPH-1,NOWHERE,1\nPH-1,V-1,1\nPH-1,WH-OLD,1\n"
    )
    assert [(row, column) for row, column, _ in said(problems)] == [
        (2, "sku"),
        (3, "location"),
        (4, "location"),
        (5, "location"),
    ]
    assert "goes into a warehouse or a van" in said(problems)[2][2]


def test_a_serial_already_booked_and_stock_already_there_are_refused() -> None:
    _, problems = catalogue_check(
        "sku,location,qty,serials\nLS-1,WH-SH,1,SN1\nPH-1,VAN-1,4,\n",
        serials_at={"SN1": "VAN-9"},
        on_hand={("PH-1", "VAN-1"): 3},
    )
    assert said(problems) == [
        (2, "serials", "Serial SN1 is already booked, at VAN-9."),
        (
            3,
            "qty",
            "VAN-1 already holds 3 of PH-1: opening stock goes where there is none yet "
            "(correct a quantity with a count).",
        ),
    ]


def test_serials_must_be_given_for_a_serialized_part_and_only_for_one() -> None:
    _, problems = catalogue_check("sku,location,qty,serials\nLS-1,WH-SH,1,\nPH-1,WH-SH,1,SN5\n")
    assert [(row, column) for row, column, _ in said(problems)] == [(2, "serials"), (3, "serials")]


def test_a_part_and_place_twice_without_serials_names_the_first_row() -> None:
    _, problems = catalogue_check("sku,location,qty\nPH-1,WH-SH,1\nPH-1,VAN-1,1\nPH-1,WH-SH,2\n")
    assert said(problems) == [
        (4, "sku", "PH-1 at WH-SH is already on row 2: put its whole quantity on one row.")
    ]
