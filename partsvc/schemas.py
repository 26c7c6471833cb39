"""Shared marshmallow building blocks: key formats, text without control characters, pages."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z"  # \Z: "$" would let a final newline in
KEY_MESSAGE = "Letters, digits, '.', '_' and '-', starting with a letter or digit."
MAX_QTY = 1_000_000
# Dates a person means: far enough from year 1 and 9999 that a time zone cannot overflow.
SANE_DATES = validate.Range(
    min=date(1900, 1, 1), max=date(9998, 12, 31), error="Must be 1900-01-01 to 9998-12-31."
)


def sane_instant(value: datetime) -> None:
    """A time a person means: from 2000 to 9998, and one a time zone cannot overflow."""
    try:
        year = value.astimezone(UTC).year
    except OverflowError as exc:
        raise ValidationError("Must be from 2000 to 9998.") from exc
    if not 2000 <= year <= 9998:
        raise ValidationError("Must be from 2000 to 9998.")


def business_key(max_length: int = 64, **kwargs: Any) -> fields.String:
    """A SKU, a location code, a serial: safe in a URL path and on a label."""
    return fields.String(
        validate=[
            validate.Length(min=1, max=max_length),
            validate.Regexp(KEY_PATTERN, error=KEY_MESSAGE),
        ],
        **kwargs,
    )


def _no_control_characters(value: str) -> None:
    if any(unicodedata.category(ch) in {"Cc", "Cs", "Co", "Cn"} for ch in value):
        raise ValidationError("Must not contain control or unassigned characters.")


def text(max_length: int, *, min_length: int = 1, **kwargs: Any) -> fields.String:
    """Free text a person types: a name, a reason, a note."""
    return fields.String(
        validate=[validate.Length(min=min_length, max=max_length), _no_control_characters],
        **kwargs,
    )


def quantity(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_QTY), **kwargs)


class PageQuery(Schema):
    cursor = fields.String(validate=validate.Length(max=200))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


def page_of(item_schema: type[Schema], name: str) -> type[Schema]:
    """The list answer of API.md: ``{"items": [...], "next": cursor or null}``."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema)),
            "next": fields.String(allow_none=True),
        },
        name=name,
    )
