"""Bad input caught before any view: malformed or hostile JSON, NUL and broken Unicode.

One check for every API request, made by the API's request pipeline once the caller is
known (``partsvc.api.resource``: authentication before validation, so a caller without a
good token learns nothing but 401), so a new endpoint is covered without doing anything:
a body that is not JSON is a 400; a string anywhere in the body (key or value) or in the
query string that holds NUL (PostgreSQL cannot store it) or a lone surrogate (no encoding
can write it) is a 422 naming where it is. Field by field checks stay in the schemas.
"""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest

from partsvc.core.errors import InvalidInput

API_PREFIX = "/api/"


def unwritable(text: str) -> bool:
    """True for text with NUL or a lone surrogate."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def bad_strings(document: Any) -> list[str]:
    """Where in a JSON document a key or a string is unwritable (iterative: any depth)."""
    found: list[str] = []
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if unwritable(value):
                found.append(where or "body")
        elif isinstance(value, dict):
            for key, item in value.items():
                name = f"{where}.{key}" if where else str(key)
                if unwritable(str(key)):
                    found.append(f"{where or 'body'} (a key)")
                    continue
                stack.append((name, item))
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", item) for i, item in enumerate(value))
    return found


def check_request() -> None:
    if not request.path.startswith(API_PREFIX):
        return
    where = [
        f"query {name}"
        for name, value in request.args.items(multi=True)
        if unwritable(name) or unwritable(value)
    ]
    if request.is_json and _has_body():
        try:
            document = request.get_json()
        except RecursionError as exc:
            raise BadRequest("The JSON body is nested too deeply.") from exc
        where += bad_strings(document)
    if where:
        shown = [place.encode("utf-8", "backslashreplace").decode() for place in where[:20]]
        raise InvalidInput(
            "Text must not hold NUL characters or lone surrogates.",
            errors={place: ["NUL or a lone surrogate."] for place in shown},
        )


def _has_body() -> bool:
    """Whether the request carries a body: SDKs send ``Content-Type: application/json`` on
    a GET or DELETE with none, and that is no malformed JSON."""
    if request.content_length is not None:
        return request.content_length > 0
    return bool(request.get_data(cache=True))
