"""Idempotency-Key: a retried POST answers as the first time and books nothing twice (R4)."""

from __future__ import annotations

import pytest


@pytest.fixture
def stocked(client, auth):
    clerk = auth["clerk"]
    for code, kind in [("WH-I", "warehouse"), ("VAN-I", "van"), ("V-I", "vendor")]:
        client.post(
            "/api/v1/locations", json={"code": code, "name": code, "kind": kind}, headers=clerk
        )
    client.post("/api/v1/parts", json={"sku": "BELT-I", "name": "Transfer belt"}, headers=clerk)
    client.post(
        "/api/v1/moves",
        json={"sku": "BELT-I", "qty": 10, "from": "V-I", "to": "WH-I", "reason": "receipt"},
        headers=clerk,
    )
    return clerk


ISSUE = {"sku": "BELT-I", "qty": 3, "from": "WH-I", "to": "VAN-I", "reason": "issue"}


def on_hand(client, headers, location):
    return client.get(f"/api/v1/stock?sku=BELT-I&location={location}", headers=headers).json[
        "items"
    ][0]["on_hand"]


def ledger_size(client, headers):
    return len(client.get("/api/v1/moves?sku=BELT-I&limit=500", headers=headers).json["items"])


def test_replaying_a_post_returns_the_first_answer_and_writes_nothing(client, stocked):
    headers = {**stocked, "Idempotency-Key": "issue-42"}
    first = client.post("/api/v1/moves", json=ISSUE, headers=headers)
    moves = ledger_size(client, stocked)
    again = client.post("/api/v1/moves", json=ISSUE, headers=headers)
    assert again.status_code == first.status_code == 201
    assert again.json == first.json
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert ledger_size(client, stocked) == moves
    assert on_hand(client, stocked, "WH-I") == 7


def test_the_same_body_spaced_or_ordered_differently_is_the_same_request(client, stocked):
    headers = {**stocked, "Idempotency-Key": "issue-43", "Content-Type": "application/json"}
    first = client.post(
        "/api/v1/moves",
        data='{"sku":"BELT-I","qty":3,"from":"WH-I","to":"VAN-I","reason":"issue"}',
        headers=headers,
    )
    again = client.post(
        "/api/v1/moves",
        data='{ "reason": "issue", "to": "VAN-I", "from": "WH-I", "qty": 3, "sku": "BELT-I" }',
        headers=headers,
    )
    assert again.json["id"] == first.json["id"]
    assert on_hand(client, stocked, "WH-I") == 7


def test_a_different_body_with_the_same_key_is_422(client, stocked):
    headers = {**stocked, "Idempotency-Key": "issue-44"}
    client.post("/api/v1/moves", json=ISSUE, headers=headers)
    answer = client.post("/api/v1/moves", json={**ISSUE, "qty": 4}, headers=headers)
    assert answer.status_code == 422
    assert answer.json["type"] == "/problems/idempotency-key-reused"
    assert on_hand(client, stocked, "WH-I") == 7


def test_the_same_key_on_another_endpoint_is_422(client, stocked):
    headers = {**stocked, "Idempotency-Key": "shared"}
    client.post("/api/v1/moves", json=ISSUE, headers=headers)
    answer = client.post("/api/v1/parts", json={"sku": "X-1", "name": "x"}, headers=headers)
    assert answer.status_code == 422


def test_keys_belong_to_their_user(client, auth, stocked):
    client.post("/api/v1/moves", json=ISSUE, headers={**auth["clerk"], "Idempotency-Key": "k"})
    client.post("/api/v1/moves", json=ISSUE, headers={**auth["admin"], "Idempotency-Key": "k"})
    assert on_hand(client, stocked, "WH-I") == 4


def test_a_refused_request_is_not_remembered(client, stocked):
    headers = {**stocked, "Idempotency-Key": "too-many"}
    too_many = {**ISSUE, "qty": 11}
    assert client.post("/api/v1/moves", json=too_many, headers=headers).status_code == 409
    client.post(
        "/api/v1/moves",
        json={"sku": "BELT-I", "qty": 5, "from": "V-I", "to": "WH-I", "reason": "receipt"},
        headers=stocked,
    )
    assert client.post("/api/v1/moves", json=too_many, headers=headers).status_code == 201


def test_every_writing_post_honours_the_key(client, stocked):
    headers = {**stocked, "Idempotency-Key": "count-1"}
    body = {"location": "WH-I", "lines": [{"sku": "BELT-I", "counted": 9}]}
    first = client.post("/api/v1/counts", json=body, headers=headers)
    again = client.post("/api/v1/counts", json=body, headers=headers)
    assert again.json == first.json
    assert on_hand(client, stocked, "WH-I") == 9
    move_id = first.json["lines"][0]["move"]
    headers["Idempotency-Key"] = "reverse-1"
    first = client.post(f"/api/v1/moves/{move_id}/reversal", json={}, headers=headers)
    again = client.post(f"/api/v1/moves/{move_id}/reversal", json={}, headers=headers)
    assert again.status_code == 201 and again.json == first.json
    headers["Idempotency-Key"] = "part-1"
    first = client.post("/api/v1/parts", json={"sku": "NEW-I", "name": "x"}, headers=headers)
    assert (
        client.post("/api/v1/parts", json={"sku": "NEW-I", "name": "x"}, headers=headers).json
        == first.json
    )
    headers["Idempotency-Key"] = "location-1"
    first = client.post(
        "/api/v1/locations", json={"code": "NEW-I", "name": "x", "kind": "site"}, headers=headers
    )
    assert (
        client.post(
            "/api/v1/locations",
            json={"code": "NEW-I", "name": "x", "kind": "site"},
            headers=headers,
        ).json
        == first.json
    )


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_a_malformed_key_is_422(client, stocked, key):
    answer = client.post("/api/v1/moves", json=ISSUE, headers={**stocked, "Idempotency-Key": key})
    assert answer.status_code == 422
    assert on_hand(client, stocked, "WH-I") == 10


def _every_text_value(session):
    """Every value of every text, string or binary column of every table, as text."""
    from sqlalchemy import LargeBinary, String, Text, column, inspect, select, table

    for name in inspect(session.connection()).get_table_names():
        columns = [
            found["name"]
            for found in inspect(session.connection()).get_columns(name)
            if isinstance(found["type"], String | Text | LargeBinary)
            or "JSON" in type(found["type"]).__name__
        ]
        if not columns:
            continue
        query = select(*(column(c) for c in columns)).select_from(table(name))
        for row in session.execute(query):
            for value in row:
                if isinstance(value, bytes):
                    yield value.decode("utf-8", "replace")
                elif value is not None:
                    yield str(value)


def test_an_issued_token_is_nowhere_in_the_database_and_a_replay_says_it_was_shown_once(
    client, auth, session
):
    """Issue 23 (3): a token issued with an Idempotency-Key is not kept to be replayed."""
    headers = {**auth["clerk"], "Idempotency-Key": "new-token-1"}
    first = client.post("/api/v1/tokens", json={"name": "phone"}, headers=headers)
    assert first.status_code == 201
    token = first.json["token"]
    assert token.startswith("psv_")
    assert not [value for value in _every_text_value(session) if token in value]
    assert (
        client.get("/api/v1/parts", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )
    replay = client.post("/api/v1/tokens", json={"name": "phone"}, headers=headers)
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json["token"] is None
    assert "shown once" in replay.json["token_shown_once"]
    assert replay.json["id"] == first.json["id"]


def test_the_sweep_forgets_keys_older_than_the_retention(client, stocked, database, clock):
    from click.testing import CliRunner

    from partsvc.cli import main

    old = client.post("/api/v1/moves", json=ISSUE, headers={**stocked, "Idempotency-Key": "old"})
    clock.advance(hours=23)
    recent = {**stocked, "Idempotency-Key": "recent"}
    assert client.post("/api/v1/moves", json=ISSUE, headers=recent).status_code == 201
    clock.advance(hours=1, seconds=1)
    result = CliRunner().invoke(
        main, ["sweep"], obj={"database": database, "clock": clock}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "1 idempotency key(s) older than 1 day, 0:00:00 forgotten" in result.output
    replayed = client.post("/api/v1/moves", json=ISSUE, headers=recent)
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    again = client.post("/api/v1/moves", json=ISSUE, headers={**stocked, "Idempotency-Key": "old"})
    assert again.headers.get("Idempotent-Replayed") is None
    assert again.json["id"] != old.json["id"]
