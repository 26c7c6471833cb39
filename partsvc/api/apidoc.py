"""The OpenAPI document's error answers: each operation lists the problems it can answer.

Every error is an application/problem+json body (``ProblemSchema``). Which statuses an
operation can answer follows from its shape, so they are added here for every operation
rather than by hand on each view: a new endpoint documents its errors by being one.
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin
from marshmallow import INCLUDE, Schema, fields, validate

from partsvc.platform.schemas import (
    MAX_MONEY,
    MONEY_TEXT,
    SANE_DATES,
    TEXT_PATTERN_DOC,
    Money,
    no_control_characters,
    sane_instant,
)

WRITING_METHODS = frozenset({"post", "put", "patch", "delete"})

# The years the validators allow, as the start of the text (JSON Schema has no date bounds).
YEARS_1900_TO_9998 = r"^(19[0-9]{2}|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-"
YEARS_2000_TO_9998 = r"^([2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-"
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


class ProblemSchema(Schema):
    """An RFC 9457 problem, as ``partsvc.http.problems`` renders every error."""

    class Meta:
        unknown = INCLUDE  # a problem may carry more members (allowed_roles, sku, ...)

    type = fields.String(required=True, metadata={"description": "/problems/<slug>"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(
        keys=fields.String(),
        metadata={"description": "For invalid input: each field and what is wrong with it."},
    )


def error_statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    """The problems an operation can answer besides its success."""
    statuses = [401, 403, 429, 503] if operation.get("security") else [429, 503]
    has_body = "requestBody" in operation
    has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
    if has_body:
        statuses += [400, 413]  # malformed JSON; a body over MAX_CONTENT_LENGTH
    if "{" in path or has_body or has_query:
        statuses.append(404)  # a key in the path or the body that names nothing
    if method in WRITING_METHODS:
        statuses.append(409)
    if has_body or has_query or "{" in path:
        statuses.append(422)
    return sorted(statuses)


class ProblemResponses(BasePlugin):
    """apispec plugin: add each operation's problem answers, by their status's name."""

    def init_spec(self, spec: Any) -> None:
        super().init_spec(spec)
        self.spec = spec

    def _body_required_only_if_a_field_is(self, operation: dict[str, Any]) -> None:
        """A body whose every field is optional may be left out (it reads as ``{}``)."""
        body = operation.get("requestBody")
        if not body:
            return
        for content in body.get("content", {}).values():
            schema = content.get("schema")
            name = schema if isinstance(schema, str) else None
            if isinstance(schema, dict) and "$ref" in schema:
                name = schema["$ref"].rsplit("/", 1)[-1]
            component = self.spec.components.schemas.get(name) if name else None
            if component is not None and not component.get("required"):
                body["required"] = False

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **_: Any
    ) -> None:
        from http import HTTPStatus

        for method, operation in (operations or {}).items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            self._body_required_only_if_a_field_is(operation)
            responses = operation["responses"]
            if method == "get" and _downloads(operation):
                answer = responses.setdefault(200 if 200 in responses else "200", {})
                if isinstance(answer, dict):
                    content = answer.setdefault("content", {})
                    if "schema" in answer:  # the JSON page, not yet moved into content
                        content.setdefault("application/json", {"schema": answer.pop("schema")})
                    content.update(DOWNLOADS)
            for status in error_statuses(path or "", method, operation):
                if status not in responses and str(status) not in responses:
                    responses[str(status)] = HTTPStatus(status).name


DOWNLOADS = {
    "text/csv": {"schema": {"type": "string"}},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
        "schema": {"type": "string", "format": "binary"}
    },
}
"""What a list answers with ``format=csv`` or ``format=xlsx`` (partsvc.http.exports)."""


def _downloads(operation: dict[str, Any]) -> bool:
    """Whether the operation takes ``format`` in its query: a list that downloads."""
    for parameter in operation.get("parameters", []):
        if not isinstance(parameter, dict) or parameter.get("in") != "query":
            continue
        if parameter.get("name") == "format":
            return True
        if "format" in getattr(parameter.get("schema"), "_declared_fields", {}):
            return True
    return False


NULL_OR_ANY_OBJECT = {"type": "object", "nullable": True}


def field_patterns(
    self: Any, field: fields.Field[Any], ret: dict[str, Any], **_: Any
) -> dict[str, Any]:
    """apispec attribute function: state as patterns what the validators refuse."""
    if isinstance(field, fields.Nested) and NULL_OR_ANY_OBJECT in ret.get("anyOf", []):
        # apispec writes "null or any object" for a nullable nested schema: say null only
        null = {**NULL_OR_ANY_OBJECT, "enum": [None]}
        return {"anyOf": [null if s == NULL_OR_ANY_OBJECT else s for s in ret["anyOf"]]}
    if isinstance(field, Money):
        for key in ("type", "minimum", "maximum", "nullable"):
            ret.pop(key, None)  # replaced by the two ways to write an amount
        ways: list[dict[str, Any]] = [
            {"type": "number", "minimum": 0, "maximum": MAX_MONEY},
            {"type": "string", "pattern": MONEY_TEXT},
        ]
        if field.allow_none:
            ways.append({**NULL_OR_ANY_OBJECT, "enum": [None]})
        return {"anyOf": ways}
    if isinstance(field, fields.Function | fields.Method) and "nullable" not in field.metadata:
        return {"nullable": True}  # computed from what may be absent; say so where it cannot be
    if isinstance(field, fields.Decimal) and field.as_string:
        return {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}
    if "pattern" in field.metadata:
        return {}
    if isinstance(field, fields.Date) and SANE_DATES in field.validators:
        return {"pattern": YEARS_1900_TO_9998}
    if isinstance(field, fields.DateTime) and sane_instant in field.validators:
        return {"pattern": YEARS_2000_TO_9998}
    if isinstance(field, fields.Time):
        return {"pattern": TIME_PATTERN}
    if (
        isinstance(field, fields.String)
        and no_control_characters in field.validators
        and not any(isinstance(v, validate.Regexp | validate.OneOf) for v in field.validators)
    ):
        return {"pattern": TEXT_PATTERN_DOC}
    return {}
