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
        ([{"sku": "PH-1", "name": "打印头"}], '[{"sku": "PH-1", "name": "打印头"}]'),
    ],
)
def test_a_cell_that_would_be_a_formula_is_neutralised(written, exported) -> None:
    assert exports.cell(written) == exported


def workbook_rows(chunks) -> list[list[object]]:
    book = load_workbook(io.BytesIO(b"".join(chunks)), read_only=True)
    return [list(row) for row in book.active.iter_rows(values_only=True)]


def test_a_workbook_written_beside_is_the_one_written_here(monkeypatch) -> None:
    """Twelve hundred rows cross the pipe in three batches; without a fork the same
    workbook is written in the request's own process."""
    rows = [[n, f"PO-{n}", "", None, ATTACK if n == 7 else "打印头"] for n in range(1200)]
    columns = ["id", "reference", "serials", "by", "name"]
    beside = workbook_rows(exports.xlsx_chunks(columns, rows, "ledger"))
    monkeypatch.setattr(exports, "_FORK", None)
    here = workbook_rows(exports.xlsx_chunks(columns, rows, "ledger"))
    assert beside == here
    assert len(beside) == 1201 and beside[0] == columns
    assert beside[8] == [7, "PO-7", None, None, "'" + ATTACK]
    assert beside[1200] == [1199, "PO-1199", None, None, "打印头"]


def test_a_workbook_that_cannot_be_written_fails_the_download() -> None:
    """A character no workbook may hold stops the writer; the download says so rather
    than ending in a truncated file."""
    with pytest.raises(RuntimeError, match="exit code 1"):
        list(exports.xlsx_chunks(["reference"], [["PO \x01"]]))


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


# ------------------------------------------------------------ every list endpoint downloads

XLSX_SIGNATURE = b"PK\x03\x04"  # an XLSX file is a ZIP archive
REQUIRED = {"from": "2026-11-01", "to": "2026-11-30"}
"""A value for each query parameter some list requires (the calendar's range)."""


def list_operations(spec: dict) -> list[tuple[str, dict]]:
    """Every GET of the API whose JSON answer is a list: ``{"items": [...], "next": ...}``."""
    schemas = spec["components"]["schemas"]
    found = []
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if get is None:
            continue
        answer = get["responses"].get("200", {}).get("content", {}).get("application/json")
        ref = (answer or {}).get("schema", {}).get("$ref", "")
        schema = schemas.get(ref.rsplit("/", 1)[-1], {})
        properties = schema.get("properties", {})
        if properties.get("items", {}).get("type") == "array" and "next" in properties:
            found.append((path, get))
    return found


def test_every_list_endpoint_downloads_as_csv_and_xlsx(client, auth) -> None:
    """The rule for every list, now and to come: a GET answering ``{"items": [...]}`` takes
    ``format=csv|xlsx``, says so in the OpenAPI spec, and answers a CSV with a BOM and an
    XLSX workbook. A new list endpoint that does not is caught here."""
    body = {"url": "https://erp.example.com/hook", "event_types": ["call.*"], "description": "x"}
    hook = client.post("/api/v1/webhooks", json=body, headers=auth["admin"]).json["id"]
    values = {"subscription_id": hook}
    spec = client.get("/api/v1/openapi.json").json
    lists = list_operations(spec)
    paths = {path for path, _ in lists}
    assert {
        "/api/v1/parts",
        "/api/v1/audit",
        "/api/v1/webhooks/{subscription_id}/deliveries",
    } <= paths
    assert len(lists) >= 17
    for path, operation in lists:
        names = {parameter["name"] for parameter in operation.get("parameters", [])}
        assert "format" in names, f"{path} does not take format=csv|xlsx"
        content = operation["responses"]["200"]["content"]
        assert {"text/csv", exports.XLSX_TYPE} <= set(content), path
        url = (
            path.format(**values)
            + "?"
            + "".join(
                f"{parameter['name']}={REQUIRED[parameter['name']]}&"
                for parameter in operation.get("parameters", [])
                if parameter["in"] == "query" and parameter.get("required")
            )
        )
        answer = client.get(f"{url}format=csv", headers=auth["admin"])
        assert answer.status_code == 200, (path, answer.data[:300])
        assert answer.mimetype == "text/csv", path
        assert answer.data.startswith(b"\xef\xbb\xbf"), path
        assert "attachment" in answer.headers["Content-Disposition"], path
        answer = client.get(f"{url}format=xlsx", headers=auth["admin"])
        assert answer.status_code == 200, (path, answer.data[:300])
        assert answer.mimetype == exports.XLSX_TYPE, path
        assert answer.data.startswith(XLSX_SIGNATURE), path


def test_parts_download_the_search_with_chinese_names_and_no_formula(client, auth, session) -> None:
    wanted = make_part(session, name=ATTACK, name_zh="打印头组件")
    make_part(session, name="Roller", name_zh="搓纸轮")
    session.commit()
    answer = client.get(f"/api/v1/parts?q={wanted.sku}&format=csv", headers=auth["engineer"])
    header, *rows = csv_of(answer)
    assert 'filename="parts.csv"' in answer.headers["Content-Disposition"]
    assert [row[header.index("sku")] for row in rows] == [wanted.sku]
    assert rows[0][header.index("name_zh")] == "打印头组件"
    assert rows[0][header.index("name")] == "'" + ATTACK
    answer = client.get(f"/api/v1/parts?q={wanted.sku}&format=xlsx", headers=auth["clerk"])
    header, *rows = xlsx_of(answer)
    assert [(row[header.index("name")], row[header.index("name_zh")]) for row in rows] == [
        ("'" + ATTACK, "打印头组件")
    ]


def test_reorder_rules_and_suggestions_download_with_their_filters(
    client, auth, session, clock
) -> None:
    from partsvc.purchasing import reorder

    shelf, other = make_location(session), make_location(session)
    low, also = make_part(session), make_part(session)
    for part, place in ((low, shelf), (also, other)):
        reorder.set_reorder_rule(
            session, sku=part.sku, location=place.code, reorder_point=5, reorder_qty=10,
            now=clock(),
        )  # fmt: skip
    session.commit()
    answer = client.get(
        f"/api/v1/reorder-rules?location={shelf.code}&format=csv", headers=auth["clerk"]
    )
    header, *rows = csv_of(answer)
    assert [row[header.index("sku")] for row in rows] == [low.sku]
    answer = client.get(
        f"/api/v1/reorder-suggestions?sku={also.sku}&format=xlsx", headers=auth["clerk"]
    )
    header, *rows = xlsx_of(answer)
    assert [row[header.index("sku")] for row in rows] == [also.sku]
    assert rows[0][header.index("suggested_qty")] == 10
    for query in ("location=NO-SUCH", "sku=NO-SUCH"):  # refused before the first byte
        answer = client.get(
            f"/api/v1/reorder-suggestions?{query}&format=csv", headers=auth["clerk"]
        )
        assert answer.status_code == 404, query
        assert answer.content_type == "application/problem+json"


def test_the_audit_and_tokens_download_with_their_filters_and_no_token(client, auth) -> None:
    client.post("/api/v1/tokens", json={"name": '=HYPERLINK("x")'}, headers=auth["clerk"])
    answer = client.get("/api/v1/tokens?format=csv", headers=auth["clerk"])
    header, *rows = csv_of(answer)
    assert "token" not in header and "token_hash" not in header
    assert {row[header.index("user")] for row in rows} == {"test-clerk"}
    assert '\'=HYPERLINK("x")' in [row[header.index("name")] for row in rows]
    answer = client.get("/api/v1/audit?actor=test-clerk&format=csv", headers=auth["admin"])
    header, *rows = csv_of(answer)
    assert rows and {row[header.index("username")] for row in rows} == {"test-clerk"}
    assert client.get("/api/v1/audit?format=csv", headers=auth["clerk"]).status_code == 403


def test_an_engineer_downloads_no_other_engineers_van(client, auth, add_engineers) -> None:
    engineers = add_engineers("E-ONE", "E-TWO")  # each with a van of their own, VAN-<code>
    url = "/api/v1/locations?kind=van&format=csv"
    header, *rows = csv_of(client.get(url, headers=auth["admin"]))
    assert {"VAN-E-ONE", "VAN-E-TWO"} <= {row[header.index("code")] for row in rows}
    header, *rows = csv_of(client.get(url, headers=engineers["E-TWO"]))
    assert [row[header.index("code")] for row in rows] == ["VAN-E-TWO"]


def test_loans_download_with_their_state_and_days_overdue(client, auth, session) -> None:
    """A loan's state is worked out from the loan policy, read while the rows are written."""
    admin = auth["admin"]
    for path, body in [
        ("/api/v1/locations", {"code": "WH-X", "name": "仓", "kind": "warehouse"}),
        ("/api/v1/locations", {"code": "V-X", "name": "V", "kind": "vendor"}),
        ("/api/v1/parts", {"sku": "LN-X", "name": "Loaner", "serialized": True, "loaner": True}),
        (
            "/api/v1/moves",
            {"sku": "LN-X", "qty": 1, "from": "V-X", "to": "WH-X", "reason": "receipt",
             "serials": ["LNX-1"]},
        ),
        ("/api/v1/customers", {"code": "C-X", "name": "华东"}),
        ("/api/v1/sites", {"code": "S-X", "customer": "C-X", "address": "上海", "lat": 31.2,
                           "lon": 121.4}),
        ("/api/v1/loans", {"serial": "LNX-1", "site": "S-X", "out_at": "2026-10-01T02:00:00Z"}),
    ]:  # fmt: skip
        assert client.post(path, json=body, headers=admin).status_code == 201, path
    header, *rows = csv_of(client.get("/api/v1/loans?status=overdue&format=csv", headers=admin))
    assert [row[header.index("serial")] for row in rows] == ["LNX-1"]
    assert rows[0][header.index("status")] == "overdue"
    assert int(rows[0][header.index("days_overdue")]) > 30
