"""Errors are application/problem+json everywhere (RFC 9457), never HTML, never a trace."""

from __future__ import annotations

import logging

PROBLEM = "application/problem+json"


def assert_problem(answer, status):
    assert answer.status_code == status
    assert answer.content_type == PROBLEM
    body = answer.json
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    return body


def test_an_unknown_sku_is_a_404_problem(client, auth):
    body = assert_problem(client.get("/api/v1/parts/NOPE", headers=auth["clerk"]), 404)
    assert body["type"] == "/problems/unknown-key"
    assert "NOPE" in body["detail"]


def test_an_unknown_path_is_a_404_problem(client, auth):
    assert_problem(client.get("/api/v1/no-such-thing", headers=auth["clerk"]), 404)


def test_a_wrong_method_is_a_405_problem_with_allow(client, auth):
    answer = client.delete("/api/v1/moves", headers=auth["clerk"])
    assert_problem(answer, 405)
    assert "POST" in answer.headers["Allow"]


def test_a_validation_error_names_each_field(client, auth):
    body = assert_problem(
        client.post("/api/v1/parts", json={"serialized": "maybe"}, headers=auth["clerk"]), 422
    )
    assert set(body["errors"]) == {"sku", "name", "serialized"}


def test_malformed_json_is_a_400_problem(client, auth):
    answer = client.post(
        "/api/v1/parts",
        data="{not json",
        headers={**auth["clerk"], "Content-Type": "application/json"},
    )
    assert_problem(answer, 400)


def test_a_json_array_instead_of_an_object_is_a_4xx_problem(client, auth):
    answer = client.post("/api/v1/parts", json=[1, 2], headers=auth["clerk"])
    assert answer.status_code in (400, 422)
    assert answer.content_type == PROBLEM


def test_an_unexpected_error_is_a_500_without_trace_and_logged_with_it(
    client, auth, monkeypatch, caplog
):
    from partsvc.inventory import catalog

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(catalog, "get_part", broken)
    with caplog.at_level(logging.ERROR, logger="partsvc"):
        answer = client.get("/api/v1/parts/ANY", headers=auth["clerk"])
    body = assert_problem(answer, 500)
    assert "secret internals" not in answer.get_data(as_text=True)
    assert "Traceback" not in answer.get_data(as_text=True)
    assert any("secret internals" in (r.exc_text or "") for r in caplog.records)
    assert body["title"] == "Internal Server Error"


def test_the_openapi_document_and_docs_are_served(client):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    assert spec.json["info"]["title"] == "partsvc"
    assert "/api/v1/moves" in spec.json["paths"]
    assert spec.json["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"swagger-ui" in docs.data
    script = client.get("/api/v1/docs/static/swagger-ui-bundle.js")
    assert script.status_code == 200
    script.close()


def test_error_responses_are_documented_as_problem_json(client):
    spec = client.get("/api/v1/openapi.json").json
    not_found = spec["components"]["responses"]["NOT_FOUND"]
    problem = not_found["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}
    assert set(spec["components"]["schemas"]["Problem"]["required"]) == {
        "type",
        "title",
        "status",
        "detail",
    }


def test_each_operation_lists_the_problems_it_can_answer(client):
    spec = client.get("/api/v1/openapi.json").json
    move = spec["paths"]["/api/v1/moves"]["post"]["responses"]
    assert {"400", "401", "403", "404", "409", "422", "429"} <= set(move)
    assert "default" not in move
    policy = spec["paths"]["/api/v1/loan-policy"]["get"]["responses"]
    assert {"401", "403"} <= set(policy)
    assert not {"400", "404", "409", "422"} & set(policy)
