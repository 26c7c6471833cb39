"""The import endpoints: CSV in, counts out, or every bad row and nothing written."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partsvc.inventory.models import Move, Part, StockLevel, Unit
from tests.factories import make_location, make_part

CSV = {"Content-Type": "text/csv; charset=utf-8"}


def totals(session: Session) -> tuple[int, ...]:
    session.expire_all()
    return tuple(
        session.scalar(select(func.count(column))) or 0
        for column in (Part.id, Move.id, StockLevel.id, Unit.id)
    )


@pytest.fixture
def clerk(auth: dict[str, dict[str, str]]) -> dict[str, str]:
    return {**auth["clerk"], **CSV}


@pytest.fixture
def warehouse(session: Session) -> str:
    code = make_location(session).code
    session.commit()
    return code


def test_a_parts_file_in_the_body_creates_the_parts(client, clerk, session) -> None:
    body = "sku,name,name_zh\nAPI-1,Print head,打印头\nAPI-2,Belt,皮带\n".encode()
    answer = client.post("/api/v1/imports/parts", data=body, headers=clerk)
    assert answer.status_code == 201, answer.json
    assert answer.json == {"dry_run": False, "rows": 2, "parts": 2, "serialized": 0}
    assert client.get("/api/v1/parts/API-1", headers=clerk).json["name_zh"] == "打印头"


def test_a_stock_file_uploaded_as_a_form_books_it_with_the_files_name(
    client, auth, session, warehouse
) -> None:
    part = make_part(session)
    session.commit()
    upload = (io.BytesIO(f"sku,location,qty\n{part.sku},{warehouse},6\n".encode()), "day-one.csv")
    answer = client.post(
        "/api/v1/imports/stock",
        data={"file": upload},
        headers=auth["clerk"],
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201, answer.json
    assert answer.json["locations"] == {warehouse: 6}
    assert answer.json["reference"].endswith("(day-one.csv)")
    [move] = client.get(f"/api/v1/moves?sku={part.sku}", headers=auth["clerk"]).json["items"]
    assert (move["from"], move["to"], move["qty"], move["reference"]) == (
        "ADJ",
        warehouse,
        6,
        answer.json["reference"],
    )


def test_a_file_with_bad_rows_is_a_422_listing_each_and_writes_nothing(
    client, clerk, session, warehouse
) -> None:
    parts = [make_part(session) for _ in range(4)]
    session.commit()
    rows = [f"{part.sku},{warehouse},2" for part in parts[:3]]
    rows.insert(1, f"NO-SUCH-PART,{warehouse},1")
    rows.append(f"{parts[3].sku},{warehouse},0")
    before = totals(session)
    answer = client.post(
        "/api/v1/imports/stock", data="sku,location,qty\n" + "\n".join(rows), headers=clerk
    )
    assert answer.status_code == 422
    assert answer.content_type == "application/problem+json"
    assert answer.json["type"] == "/problems/invalid-rows"
    assert answer.json["errors"] == {
        "3": {"sku": ["No part with SKU 'NO-SUCH-PART'; import the parts first."]},
        "6": {"qty": ["0 is out of range: from 1 to 1,000,000."]},
    }
    assert (answer.json["rows"], answer.json["bad_rows"]) == (5, 2)
    assert totals(session) == before


def test_an_unknown_column_is_a_422_that_names_it(client, clerk) -> None:
    answer = client.post("/api/v1/imports/parts", data="sku,name,color\nA,B,red\n", headers=clerk)
    assert answer.status_code == 422
    assert list(answer.json["errors"]) == ["1"]
    assert "Unknown column 'color'" in answer.json["errors"]["1"]["color"][0]


def test_a_dry_run_answers_200_with_what_would_be_written_and_writes_nothing(
    client, clerk, session
) -> None:
    before = totals(session)
    answer = client.post(
        "/api/v1/imports/parts?dry_run=true", data="sku,name\nDRY-1,Dry\n", headers=clerk
    )
    assert answer.status_code == 200, answer.json
    assert answer.json == {"dry_run": True, "rows": 1, "parts": 1, "serialized": 0}
    assert totals(session) == before


def test_a_retry_with_the_same_idempotency_key_replays_the_answer(client, clerk, session) -> None:
    headers = {**clerk, "Idempotency-Key": "import-parts-1"}
    first = client.post("/api/v1/imports/parts", data="sku,name\nIDEM-1,Once\n", headers=headers)
    again = client.post("/api/v1/imports/parts", data="sku,name\nIDEM-1,Once\n", headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    session.expire_all()
    assert session.scalar(select(func.count(Part.id)).where(Part.sku == "IDEM-1")) == 1


def test_a_dry_run_and_the_import_are_different_requests_for_one_key(client, clerk) -> None:
    headers = {**clerk, "Idempotency-Key": "import-parts-2"}
    body = "sku,name\nIDEM-2,Checked first\n"
    checked = client.post("/api/v1/imports/parts?dry_run=true", data=body, headers=headers)
    imported = client.post("/api/v1/imports/parts", data=body, headers=headers)
    assert checked.status_code == 200
    assert imported.status_code == 422
    assert imported.json["type"] == "/problems/idempotency-key-reused"


def test_an_import_may_be_larger_than_other_requests(client, clerk) -> None:
    name = "A part with a long name " + "x" * 150
    rows = [f"BIG-{n:05d},{name}" for n in range(16_000)]
    body = ("sku,name\n" + "\n".join(rows)).encode()
    assert 2 * 1024 * 1024 < len(body) < 16 * 1024 * 1024
    answer = client.post("/api/v1/imports/parts?dry_run=true", data=body, headers=clerk)
    assert answer.status_code == 200, answer.json
    assert answer.json["parts"] == 16_000
    moves = client.post(
        "/api/v1/moves", data=body, headers={**clerk, "Content-Type": "application/json"}
    )
    assert moves.status_code == 413


def test_a_form_without_the_file_is_a_422(client, auth) -> None:
    answer = client.post(
        "/api/v1/imports/parts",
        data={"other": "x"},
        headers=auth["clerk"],
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422
    assert answer.json["errors"] == {"file": ["Missing."]}


def test_the_openapi_document_describes_the_csv_body_and_the_dry_run(client) -> None:
    spec = client.get("/api/v1/openapi.json").json
    for path in ("/api/v1/imports/parts", "/api/v1/imports/stock"):
        operation = spec["paths"][path]["post"]
        assert set(operation["requestBody"]["content"]) == {"text/csv", "multipart/form-data"}
        assert {"200", "201", "422"} <= set(operation["responses"])
        assert [p["name"] for p in operation["parameters"]] == ["dry_run"]


def test_an_import_leaves_one_audit_event_and_a_dry_run_none(client, clerk, auth) -> None:
    body = b"sku,name\nAUD-1,Print head\nAUD-2,Belt\n"
    checked = client.post("/api/v1/imports/parts?dry_run=true", data=body, headers=clerk)
    assert checked.status_code == 200, checked.json
    assert client.post("/api/v1/imports/parts", data=body, headers=clerk).status_code == 201
    events = client.get("/api/v1/audit", headers=auth["admin"]).json["items"]
    imports = [e for e in events if e["subject_kind"] == "import"]
    assert [(e["action"], e["username"]) for e in imports] == [("parts.imported", "test-clerk")]
    assert imports[0]["details"]["parts"] == 2
