"""Each kind of bad input, sent to every writing endpoint, is a 4xx problem and writes nothing.

The endpoints come from the app's URL map and their bodies from the OpenAPI document, so
a new endpoint is covered as soon as it exists.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import inspect, text
from werkzeug.routing import AnyConverter, IntegerConverter

from partsvc import create_app
from partsvc.api.resource import IsoDateConverter
from partsvc.platform.config import Settings
from partsvc.platform.schemas import MONEY_TEXT

PROBLEM = "application/problem+json"
WRITING = ("POST", "PUT", "PATCH")

_app = create_app(Settings(database_url="sqlite://", secret_key="document-only"))
DOCUMENT = _app.test_client().get("/api/v1/openapi.json").json


def _example_url(rule, **overrides: str) -> str:
    values: dict[str, object] = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if isinstance(converter, AnyConverter):
            values[name] = re.findall(r"[\w-]+", converter.regex)[0]
        elif isinstance(converter, IntegerConverter):
            values[name] = 1
        elif isinstance(converter, IsoDateConverter):
            values[name] = "2026-11-23"
        else:
            values[name] = "X1"
    values.update(overrides)
    url = rule.rule
    for name, value in values.items():
        url = re.sub(rf"<(?:[^<>:]+:)?{name}>", str(value), url)
    return url


def _document_path(rule) -> str:
    return re.sub(r"<(?:[^<>:]+:)?(\w+)>", r"{\1}", rule.rule)


def _writing_endpoints():
    for rule in sorted(_app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1/"):
            continue
        for method in sorted(set(rule.methods) & set(WRITING)):
            yield pytest.param(method, rule, id=f"{method} {rule.rule}")


ENDPOINTS = list(_writing_endpoints())


def _body_schema(method, rule):
    operation = DOCUMENT["paths"][_document_path(rule)][method.lower()]
    body = operation.get("requestBody")
    if not body or "application/json" not in body["content"]:
        return None  # no body, or a file (CSV imports check theirs row by row)
    ref = body["content"]["application/json"]["schema"]["$ref"]
    return DOCUMENT["components"]["schemas"][ref.rsplit("/", 1)[-1]]


BODY_ENDPOINTS = [p for p in ENDPOINTS if _body_schema(*p.values) is not None]


def _send(client, auth, method, rule, **kwargs):
    return client.open(_example_url(rule), method=method, headers=auth["admin"], **kwargs)


def assert_problem(answer, *statuses):
    assert answer.status_code in statuses, answer.get_data(as_text=True)[:500]
    assert answer.content_type == PROBLEM
    assert answer.json["status"] == answer.status_code
    return answer.json


def _row_counts(session):
    # The rate limiter counts every request, refused or not: its counters are not data.
    ignored = {"alembic_version", "rate_counters"}
    tables = [t for t in inspect(session.get_bind()).get_table_names() if t not in ignored]
    return {t: session.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables}


def test_every_writing_endpoint_is_in_the_document():
    assert ENDPOINTS
    for param in ENDPOINTS:
        method, rule = param.values
        assert method.lower() in DOCUMENT["paths"][_document_path(rule)], param.id


@pytest.mark.parametrize(("method", "rule"), ENDPOINTS)
def test_malformed_json_is_a_400(client, auth, method, rule):
    for body in ('{"sku": ', "{not json}", "[1, 2", "\ufeff{}x", '{"a": 1}{"b": 2}'):
        answer = _send(client, auth, method, rule, data=body, content_type="application/json")
        assert_problem(answer, 400)


@pytest.mark.parametrize(("method", "rule"), ENDPOINTS)
def test_json_nested_beyond_reason_is_a_400(client, auth, method, rule):
    body = "[" * 100_000 + "]" * 100_000
    answer = _send(client, auth, method, rule, data=body, content_type="application/json")
    assert_problem(answer, 400)


@pytest.mark.parametrize(("method", "rule"), ENDPOINTS)
@pytest.mark.parametrize(
    ("raw", "where"),
    [
        ('{"name": "a\\u0000b"}', "name"),
        ('{"name": "\\ud800"}', "name"),
        ('{"\\udfff": 1}', "body (a key)"),
        ('{"lines": [{"sku": "\\u0000"}]}', "lines[0].sku"),
    ],
    ids=["NUL in a value", "a lone surrogate", "a lone surrogate in a key", "NUL deep down"],
)
def test_text_that_cannot_be_stored_is_a_422_naming_where(
    client, auth, session, method, rule, raw, where
):
    before = _row_counts(session)
    answer = _send(client, auth, method, rule, data=raw, content_type="application/json")
    body = assert_problem(answer, 422)
    assert where in body["errors"]
    assert _row_counts(session) == before


@pytest.mark.parametrize(("method", "rule"), BODY_ENDPOINTS)
def test_an_unknown_key_is_a_422_naming_it(client, auth, method, rule):
    answer = _send(client, auth, method, rule, json={"no_such_key": 1})
    assert "no_such_key" in assert_problem(answer, 422)["errors"]


def _bad_values(prop: dict) -> list[object]:
    """Values no property of this JSON Schema type may take."""
    kind = prop.get("type")
    if kind is None and {"type": "string", "pattern": MONEY_TEXT} in prop.get("anyOf", []):
        return ["abc", "1.234", "-1", " 12", True, -1, 10**10, 10**400]  # an amount
    if kind == "integer":
        values = ["12", 1.5, True, 2**31, 2**63, 10**30, -(2**63)]
        if prop.get("minimum", 0) >= 1:
            values += [0, -1]
        return values
    if kind == "number":
        return ["12", True, 10**400, -(10**400)]
    if kind == "string":
        values: list[object] = [12, True, ["a"], {"a": 1}]
        if "maxLength" in prop:
            values.append("x" * (prop["maxLength"] + 1))
        return values
    if kind == "boolean":
        return [1, 0, "true", "yes", None] if not prop.get("nullable") else [1, "true"]
    if kind == "array":
        return ["a", {"a": 1}, 12]
    return []


@pytest.mark.parametrize(("method", "rule"), BODY_ENDPOINTS)
def test_wrong_types_huge_numbers_zero_quantities_and_long_text_are_422s_naming_the_field(
    client, auth, session, method, rule
):
    schema = _body_schema(method, rule)
    before = _row_counts(session)
    tried = 0
    for name, prop in schema.get("properties", {}).items():
        for value in _bad_values(prop):
            answer = _send(client, auth, method, rule, json={name: value})
            body = assert_problem(answer, 422)
            assert name in body["errors"], (name, value, body)
            tried += 1
    assert tried
    assert _row_counts(session) == before


def test_every_text_field_of_every_body_has_a_length_limit():
    unlimited = []
    for name, schema in DOCUMENT["components"]["schemas"].items():
        if not name.endswith(("In", "IO")):
            continue
        for field, prop in schema.get("properties", {}).items():
            items = prop.get("items", {}) if prop.get("type") == "array" else prop
            pattern = items.get("pattern", "*")
            bounded_pattern = "*" not in pattern and "+" not in pattern
            limited = {"maxLength", "enum", "format"} & set(items) or bounded_pattern
            if items.get("type") == "string" and not limited:
                unlimited.append(f"{name}.{field}")
    assert not unlimited


def test_right_to_left_marks_emoji_and_chinese_are_kept_as_written(client, auth):
    name = "\u200f\u0645\u0641\u062a\u0627\u062d \U0001f527 \u6253\u5370\u5934 \u200e\u00e9"
    answer = client.post(
        "/api/v1/parts", json={"sku": "UNI-1", "name": name}, headers=auth["clerk"]
    )
    assert answer.status_code == 201, answer.json
    assert client.get("/api/v1/parts/UNI-1", headers=auth["clerk"]).json["name"] == name


def test_a_reason_longer_than_the_ledger_keeps_is_refused_on_every_database(client, auth):
    answer = client.post(
        "/api/v1/vendor-orders/VO-1/receipts/1/reversal",
        json={"reason": "x" * 65},
        headers=auth["clerk"],
    )
    assert "reason" in assert_problem(answer, 422)["errors"]


def _reading_rules():
    for rule in sorted(_app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule.startswith("/api/v1/") and "GET" in rule.methods and rule.arguments:
            yield pytest.param(rule, id=rule.rule)


READING_WITH_KEYS = list(_reading_rules())


@pytest.mark.parametrize("rule", READING_WITH_KEYS)
@pytest.mark.parametrize(
    ("segment", "statuses"),
    [
        ("%00", (404,)),  # no route takes a control character
        ("A%00B", (404,)),
        ("%0A", (404,)),
        ("%ED%A0%80", (404, 422)),  # read as U+FFFD: a key that names nothing
        ("99999999999999999999999", (404, 422)),
        ("-1", (404, 422)),
    ],
    ids=["NUL", "NUL inside", "a newline", "an encoded lone surrogate", "a huge number", "-1"],
)
def test_an_odd_path_segment_names_nothing(client, auth, rule, segment, statuses):
    for name in rule.arguments:
        if isinstance(rule._converters[name], AnyConverter | IsoDateConverter):
            continue
        answer = client.get(_example_url(rule, **{name: segment}), headers=auth["admin"])
        assert_problem(answer, *statuses)


def _list_operations():
    for path, operations in sorted(DOCUMENT["paths"].items()):
        parameters = operations.get("get", {}).get("parameters", [])
        if "{" not in path and any(p["in"] == "query" for p in parameters):
            yield pytest.param(path, parameters, id=path)


LISTS = list(_list_operations())


@pytest.mark.parametrize(("path", "parameters"), LISTS)
def test_an_odd_query_string_is_a_422(client, auth, path, parameters):
    odd = ["no_such=%00"]  # even a parameter the operation does not know
    for parameter in parameters:
        if parameter["in"] != "query":
            continue
        kind = parameter["schema"].get("type")
        name = parameter["name"]
        if kind == "integer":
            odd += [f"{name}=99999999999999999999999", f"{name}=abc", f"{name}=1.5"]
        elif kind == "boolean":
            odd += [f"{name}=maybe"]
        elif kind == "string":
            odd += [f"{name}=a%00b"]
        if name == "cursor":
            odd += ["cursor=%ED%A0%80", "cursor=bm90IG91cnM"]
    for query in odd:
        answer = client.get(f"{path}?{query}", headers=auth["admin"])
        assert_problem(answer, 422)
