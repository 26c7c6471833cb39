"""What SDKs and hostile clients send (issue 23, finding 7): a JSON content type with no
body, bad input without a good token, and 401s that name their scheme."""

from __future__ import annotations

from flask.testing import FlaskClient

JSON = {"Content-Type": "application/json"}


def test_a_get_with_a_json_content_type_and_no_body_is_answered(
    client: FlaskClient, auth: dict[str, dict[str, str]]
) -> None:
    answer = client.get("/api/v1/parts", headers={**auth["clerk"], **JSON})
    assert answer.status_code == 200, answer.json


def test_a_delete_with_a_json_content_type_and_no_body_is_answered(
    client: FlaskClient, auth: dict[str, dict[str, str]]
) -> None:
    answer = client.delete("/api/v1/tokens/999999", headers={**auth["clerk"], **JSON})
    assert answer.status_code == 404, answer.json


def test_without_a_token_a_bad_body_is_a_401_not_a_422_or_400(client: FlaskClient) -> None:
    assert client.post("/api/v1/plans", json={}).status_code == 401
    assert client.post("/api/v1/moves", json={}).status_code == 401
    assert client.post("/api/v1/moves", json={"sku": "A\u0000"}).status_code == 401
    broken = client.post("/api/v1/moves", data="{not json", headers=JSON)
    assert broken.status_code == 401
    stale = {"Authorization": "Bearer psv_stale"}
    assert client.post("/api/v1/plans", json={}, headers=stale).status_code == 401


def test_with_a_token_the_same_bodies_are_refused_as_before(
    client: FlaskClient, auth: dict[str, dict[str, str]]
) -> None:
    assert client.post("/api/v1/plans", json={}, headers=auth["dispatcher"]).status_code == 422
    assert client.post("/api/v1/plans", json={}, headers=auth["engineer"]).status_code == 403
    nul = client.post("/api/v1/moves", json={"sku": "A\u0000"}, headers=auth["clerk"])
    assert nul.status_code == 422
    broken = client.post("/api/v1/moves", data="{not", headers={**auth["clerk"], **JSON})
    assert broken.status_code == 400


def test_every_401_names_the_bearer_scheme(client: FlaskClient) -> None:
    for headers in ({}, {"Authorization": "Bearer psv_stale"}, {"Authorization": "Basic eA=="}):
        answer = client.get("/api/v1/parts", headers=headers)
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
