"""Lists as downloads: CSV with a BOM and XLSX, the filters applied, formulas defused."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from partsvc.http import exports
from tests.factories import book_move, make_location, make_part, receive

ATTACK = "=cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("written", "exported"),
    [
        (ATTACK, "'" + ATTACK),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("打印头 =1", "打印头 =1"),
        (-3, -3),
        (["A", "B"], "A B"),
    ],
)
def test_a_cell_that_would_be_a_formula_is_neutralised(written, exported) -> None:
    assert exports.cell(written) == exported


def csv_of(answer) -> list[list[str]]:
    assert answer.data.startswith(b"\xef\xbb\xbf"), answer.data[:20]
    return list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))


def xlsx_of(answer) -> list[list[object]]:
    book = load_workbook(io.BytesIO(answer.data), read_only=True)
    return [list(row) for row in book.active.iter_rows(values_only=True)]


@pytest.fixture
def ledger(session):
    """Two parts moved into one warehouse, one move's reference an injection attempt."""
    shelf = make_location(session)
    wanted, other = make_part(session), make_part(session)
    receive(session, wanted, shelf, 5)
    receive(session, other, shelf, 2)
    book_move(session, wanted, shelf, make_location(session), 1, reference=ATTACK)
    session.commit()
    return wanted


def test_the_ledger_downloads_as_csv_and_xlsx_filtered_and_defused(client, auth, ledger) -> None:
    headers = auth["clerk"]
    json_items = client.get(f"/api/v1/moves?sku={ledger.sku}", headers=headers).json["items"]
    answer = client.get(f"/api/v1/moves?sku={ledger.sku}&format=csv&limit=1", headers=headers)
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    assert 'filename="ledger.csv"' in answer.headers["Content-Disposition"]
    header, *rows = csv_of(answer)
    assert header[:3] == ["id", "sku", "qty"]
    assert [int(row[0]) for row in rows] == [item["id"] for item in json_items]
    assert {row[1] for row in rows} == {ledger.sku}
    reference = header.index("reference")
    assert "'" + ATTACK in [row[reference] for row in rows]

    answer = client.get(f"/api/v1/moves?sku={ledger.sku}&format=xlsx", headers=headers)
    assert answer.status_code == 200
    assert answer.mimetype == exports.XLSX_TYPE
    header, *rows = xlsx_of(answer)
    assert [row[0] for row in rows] == [item["id"] for item in json_items]
    assert "'" + ATTACK in [row[header.index("reference")] for row in rows]


def test_stock_and_calls_download_with_their_filters(client, auth, ledger) -> None:
    answer = client.get(f"/api/v1/stock?sku={ledger.sku}&format=csv", headers=auth["clerk"])
    header, *rows = csv_of(answer)
    assert {row[header.index("sku")] for row in rows} == {ledger.sku}
    assert len(rows) == 2
    answer = client.get("/api/v1/calls?format=xlsx&status=closed", headers=auth["dispatcher"])
    assert answer.status_code == 200
    header, *rows = xlsx_of(answer)
    assert "status" in header
    assert all(row[header.index("status")] == "closed" for row in rows)


def test_an_unknown_format_is_refused(client, auth) -> None:
    answer = client.get("/api/v1/loans?format=pdf", headers=auth["clerk"])
    assert answer.status_code == 422


@pytest.mark.parametrize("path", ["loans", "rmas", "vendor-orders", "part-requests"])
def test_every_other_list_downloads_with_its_header(client, auth, path) -> None:
    answer = client.get(f"/api/v1/{path}?format=csv", headers=auth["admin"])
    assert answer.status_code == 200, answer.data[:300]
    assert answer.data.decode("utf-8-sig").split(",")[0] in {"id", "number"}
    answer = client.get(f"/api/v1/{path}?format=xlsx", headers=auth["admin"])
    assert answer.status_code == 200
    assert xlsx_of(answer)[0][0] in {"id", "number"}
