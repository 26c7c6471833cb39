"""The Stock endpoints of API.md through the HTTP test client."""

from __future__ import annotations

import pytest

PROBLEM = "application/problem+json"


@pytest.fixture
def stocked(client, auth):
    """A warehouse with 5 fuser units and 2 serialized loaners, a van, a vendor."""
    clerk = auth["clerk"]
    for code, kind in [
        ("WH-T", "warehouse"),
        ("VAN-T", "van"),
        ("V-T", "vendor"),
        ("SITE-T", "site"),
    ]:
        assert (
            client.post(
                "/api/v1/locations", json={"code": code, "name": code, "kind": kind}, headers=clerk
            ).status_code
            == 201
        )
    client.post(
        "/api/v1/parts",
        json={"sku": "FUS-1", "name": "Fuser unit", "name_zh": "定影组件"},
        headers=clerk,
    )
    client.post(
        "/api/v1/parts",
        json={"sku": "LOAN-1", "name": "Loaner printer", "serialized": True},
        headers=clerk,
    )
    booked = book(client, clerk, "FUS-1", 5, "V-T", "WH-T", "receipt")
    assert booked.status_code == 201, booked.json
    booked = book(client, clerk, "LOAN-1", 2, "V-T", "WH-T", "receipt", serials=["L-1", "L-2"])
    assert booked.status_code == 201, booked.json
    return clerk


def book(client, headers, sku, qty, source, target, reason, **more):
    """POST a move of ``qty`` x ``sku`` from ``source`` to ``target``; the answer."""
    body = {"sku": sku, "qty": qty, "from": source, "to": target, "reason": reason, **more}
    return client.post("/api/v1/moves", json=body, headers=headers)


def stock_of(client, headers, sku, location):
    items = client.get(
        f"/api/v1/stock?sku={sku}&location={location}&include_zero=true", headers=headers
    ).json["items"]
    return items[0] if items else None


def test_a_part_is_created_and_read_back_by_sku(client, auth):
    created = client.post(
        "/api/v1/parts",
        json={
            "sku": "PH-500",
            "name": "Print head",
            "name_zh": "打印头",
            "unit_cost": "1850.00",
            "warranty_months": 3,
        },
        headers=auth["clerk"],
    )
    assert created.status_code == 201
    assert created.headers["Location"].endswith("/api/v1/parts/PH-500")
    part = client.get("/api/v1/parts/PH-500", headers=auth["engineer"]).json
    assert part["name_zh"] == "打印头"
    assert part["unit_cost"] == "1850.00"
    assert part["id"] == created.json["id"]


def test_booking_out_books_and_stock_shows_on_hand_reserved_available(client, stocked):
    answer = book(client, stocked, "FUS-1", 2, "WH-T", "VAN-T", "issue to van", reference="call 7")
    assert answer.status_code == 201
    assert answer.json["from"] == "WH-T" and answer.json["to"] == "VAN-T"
    assert answer.json["by"] == "test-clerk"
    assert stock_of(client, stocked, "FUS-1", "WH-T") == {
        "sku": "FUS-1",
        "location": "WH-T",
        "location_kind": "warehouse",
        "on_hand": 3,
        "reserved": 0,
        "available": 3,
    }


def test_stock_without_a_location_lists_only_where_stock_is_held(client, stocked):
    items = client.get("/api/v1/stock?sku=FUS-1", headers=stocked).json["items"]
    assert [item["location"] for item in items] == ["WH-T"]
    vendor = client.get("/api/v1/stock?sku=FUS-1&kind=vendor", headers=stocked).json["items"]
    assert vendor[0]["on_hand"] == -5


def test_booking_out_more_than_on_hand_is_a_409_problem(client, stocked):
    answer = book(client, stocked, "FUS-1", 6, "WH-T", "VAN-T", "issue")
    assert answer.status_code == 409
    assert answer.content_type == PROBLEM
    assert answer.json["type"] == "/problems/insufficient-stock"
    assert answer.json["available"] == 5
    assert stock_of(client, stocked, "FUS-1", "WH-T")["on_hand"] == 5


def test_the_ledger_lists_newest_first_and_pages_with_a_cursor(client, stocked):
    for _ in range(3):
        book(client, stocked, "FUS-1", 1, "WH-T", "VAN-T", "issue")
    first = client.get("/api/v1/moves?sku=FUS-1&limit=2", headers=stocked).json
    assert len(first["items"]) == 2 and first["next"]
    assert first["items"][0]["id"] > first["items"][1]["id"]
    second = client.get(
        f"/api/v1/moves?sku=FUS-1&limit=2&cursor={first['next']}", headers=stocked
    ).json
    assert [m["id"] for m in second["items"]] == sorted(
        (m["id"] for m in second["items"]), reverse=True
    )
    assert second["items"][0]["id"] < first["items"][1]["id"]
    assert second["next"] is None
    everything = client.get("/api/v1/moves?location=VAN-T", headers=stocked).json["items"]
    assert len(everything) == 3


def test_a_bad_cursor_is_a_422(client, stocked):
    answer = client.get("/api/v1/moves?cursor=nonsense", headers=stocked)
    assert answer.status_code == 422
    assert "cursor" in answer.json["errors"]


def test_a_reversal_is_201_then_409(client, stocked):
    issued = book(client, stocked, "FUS-1", 2, "WH-T", "VAN-T", "issue").json
    reversal = client.post(
        f"/api/v1/moves/{issued['id']}/reversal", json={"reason": "wrong van"}, headers=stocked
    )
    assert reversal.status_code == 201
    assert reversal.json["reverses"] == issued["id"]
    assert (
        client.get(f"/api/v1/moves/{issued['id']}", headers=stocked).json["reversed_by"]
        == reversal.json["id"]
    )
    again = client.post(f"/api/v1/moves/{issued['id']}/reversal", json={}, headers=stocked)
    assert again.status_code == 409
    assert again.json["type"] == "/problems/already-reversed"
    assert stock_of(client, stocked, "FUS-1", "WH-T")["on_hand"] == 5


def test_reversing_an_unknown_move_is_404(client, stocked):
    assert client.post("/api/v1/moves/999999/reversal", json={}, headers=stocked).status_code == 404


def test_a_serial_shows_where_it_is_and_its_history(client, stocked):
    book(client, stocked, "LOAN-1", 1, "WH-T", "SITE-T", "loan", serials=["L-2"])
    unit = client.get("/api/v1/serials/L-2", headers=stocked).json
    assert unit["location"] == "SITE-T"
    assert [(m["from"], m["to"]) for m in unit["history"]] == [("WH-T", "SITE-T"), ("V-T", "WH-T")]
    by_serial = client.get("/api/v1/moves?serial=L-2", headers=stocked).json["items"]
    assert len(by_serial) == 2


def test_a_serial_not_at_the_source_is_a_409(client, stocked):
    answer = book(client, stocked, "LOAN-1", 1, "VAN-T", "SITE-T", "loan", serials=["L-1"])
    assert answer.status_code == 409
    assert answer.json["type"] == "/problems/serial-not-here"
    assert answer.json["location"] == "WH-T"


def test_a_count_answers_with_its_lines_and_moves(client, stocked):
    answer = client.post(
        "/api/v1/counts",
        json={
            "location": "WH-T",
            "lines": [{"sku": "FUS-1", "counted": 4}, {"sku": "LOAN-1", "serials": ["L-1", "L-2"]}],
            "note": "monthly",
        },
        headers=stocked,
    )
    assert answer.status_code == 201, answer.json
    lines = {line["sku"]: line for line in answer.json["lines"]}
    assert lines["FUS-1"]["difference"] == -1 and lines["FUS-1"]["move"] is not None
    assert lines["LOAN-1"]["difference"] == 0 and lines["LOAN-1"]["move"] is None
    moved = client.get(f"/api/v1/moves/{lines['FUS-1']['move']}", headers=stocked).json
    assert (moved["to"], moved["reason"], moved["by"]) == ("ADJ", "count", "test-clerk")
    assert client.get(answer.headers["Location"], headers=stocked).json == answer.json


@pytest.mark.parametrize(
    "body, field",
    [
        ({"sku": "FUS-1", "qty": 0, "from": "WH-T", "to": "VAN-T", "reason": "x"}, "qty"),
        ({"sku": "FUS-1", "qty": -3, "from": "WH-T", "to": "VAN-T", "reason": "x"}, "qty"),
        ({"sku": "FUS-1", "qty": "2", "from": "WH-T", "to": "VAN-T", "reason": "x"}, "qty"),
        ({"sku": "FUS-1", "qty": 10**12, "from": "WH-T", "to": "VAN-T", "reason": "x"}, "qty"),
        ({"sku": "FUS-1", "qty": 1.5, "from": "WH-T", "to": "VAN-T", "reason": "x"}, "qty"),
        ({"sku": "FUS-1", "qty": 1, "from": "WH-T", "to": "VAN-T"}, "reason"),
        (
            {
                "sku": "FUS-1",
                "qty": 1,
                "from": "WH-T",
                "to": "VAN-T",
                "reason": "x",
                "colour": "red",
            },
            "colour",
        ),
        ({"sku": "FUS 1\u0000", "qty": 1, "from": "WH-T", "to": "VAN-T", "reason": "x"}, "sku"),
        ({"sku": "FUS-1", "qty": 1, "from": "WH-T", "to": "VAN-T", "reason": "x" * 65}, "reason"),
        (
            {
                "sku": "FUS-1",
                "qty": 1,
                "from": "WH-T",
                "to": "VAN-T",
                "reason": "x",
                "at": "2026-11-20T09:00:00",
            },
            "at",
        ),
    ],
)
def test_bad_move_input_is_a_422_naming_the_field(client, stocked, body, field):
    answer = client.post("/api/v1/moves", json=body, headers=stocked)
    assert answer.status_code == 422
    assert answer.content_type == PROBLEM
    assert field in answer.json["errors"]


def test_a_move_dated_in_the_future_is_refused(client, stocked, clock):
    future = clock.advance(hours=2).isoformat()
    clock.advance(hours=-2)
    answer = client.post(
        "/api/v1/moves",
        json={"sku": "FUS-1", "qty": 1, "from": "WH-T", "to": "VAN-T", "reason": "x", "at": future},
        headers=stocked,
    )
    assert answer.status_code == 422


def test_a_move_dated_earlier_keeps_its_business_time(client, stocked):
    answer = book(client, stocked, "FUS-1", 1, "WH-T", "VAN-T", "x", at="2026-11-19T09:30:00+08:00")
    assert answer.json["at"] == "2026-11-19T01:30:00+00:00"
    assert answer.json["recorded_at"] == "2026-11-20T02:00:00+00:00"


def test_a_van_belongs_to_a_known_engineer(client, auth):
    answer = client.post(
        "/api/v1/locations",
        json={"code": "VAN-X", "name": "x", "kind": "van", "engineer": "E-NOBODY"},
        headers=auth["admin"],
    )
    assert answer.status_code == 404
    answer = client.post(
        "/api/v1/locations",
        json={"code": "WH-X", "name": "x", "kind": "warehouse", "engineer": "E-NOBODY"},
        headers=auth["admin"],
    )
    assert answer.status_code == 422


def test_a_duplicate_part_is_a_409(client, auth):
    body = {"sku": "DUP-1", "name": "x"}
    assert client.post("/api/v1/parts", json=body, headers=auth["clerk"]).status_code == 201
    answer = client.post("/api/v1/parts", json=body, headers=auth["clerk"])
    assert answer.status_code == 409
    assert answer.json["type"] == "/problems/duplicate-key"


def test_parts_search_finds_chinese_names(client, stocked):
    items = client.get("/api/v1/parts?q=定影", headers=stocked).json["items"]
    assert [p["sku"] for p in items] == ["FUS-1"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/moves/99999999999999999999999",
        "/api/v1/counts/99999999999999999999999",
        "/api/v1/parts/a%00b",
        "/api/v1/locations/a%00b",
        "/api/v1/serials/a%00b",
    ],
)
def test_impossible_keys_in_the_path_are_404(client, stocked, path):
    answer = client.get(path, headers=stocked)
    assert answer.status_code == 404
    assert answer.content_type == PROBLEM


def test_a_cursor_past_any_id_is_a_422(client, stocked):
    from partsvc.api.resource import encode_cursor

    answer = client.get(f"/api/v1/moves?cursor={encode_cursor(10**30)}", headers=stocked)
    assert answer.status_code == 422


def test_a_move_dated_in_year_one_is_a_422(client, stocked):
    body = {
        "sku": "FUS-1",
        "qty": 1,
        "from": "WH-T",
        "to": "VAN-T",
        "reason": "x",
        "at": "0001-01-01T00:00:00+05:00",
    }
    assert client.post("/api/v1/moves", json=body, headers=stocked).status_code == 422


def test_a_key_with_a_trailing_newline_is_refused(client, auth):
    answer = client.post("/api/v1/parts", json={"sku": "NL\n", "name": "x"}, headers=auth["clerk"])
    assert answer.status_code == 422


def test_a_serial_counted_twice_is_refused(client, stocked):
    answer = client.post(
        "/api/v1/counts",
        json={"location": "WH-T", "lines": [{"sku": "LOAN-1", "serials": ["L-1", "L-1", "L-1"]}]},
        headers=stocked,
    )
    assert answer.status_code == 422
    assert stock_of(client, stocked, "LOAN-1", "WH-T")["on_hand"] == 2


def test_a_body_over_two_megabytes_is_a_413_problem(client, stocked):
    answer = client.post(
        "/api/v1/counts",
        data=b'{"location": "WH-T", "note": "' + b"x" * (3 * 1024 * 1024) + b'"}',
        headers={**stocked, "Content-Type": "application/json"},
    )
    assert answer.status_code == 413
    assert answer.content_type == PROBLEM
