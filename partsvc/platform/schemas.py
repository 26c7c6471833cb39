"""Shared marshmallow building blocks: key formats, text without control characters, pages.

Every input schema derives from ``InputSchema`` (a JSON body) or ``QuerySchema`` (a query
string), which harden each field as it is bound: integers that fit the database's 32-bit
columns and, in a body, are JSON numbers; booleans that are JSON booleans; text without
control characters (NUL included); dates a time zone cannot overflow. A new schema gets
all of it by deriving from one of them.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z"  # \Z: "$" would let a final newline in
KEY_PATTERN_DOC = (
    r"^[A-Za-z0-9][A-Za-z0-9._-]*$"  # the same in the document: "$" is the end in JSON Schema
)
TEXT_PATTERN_DOC = r"^[^\x00-\x1F\x7F-\x9F]*$"  # no control characters
MAX_INT = 2**31 - 1  # integer columns are 32-bit on PostgreSQL
KEY_MESSAGE = "Letters, digits, '.', '_' and '-', starting with a letter or digit."
MAX_QTY = 1_000_000
MAX_MONEY = 10**9
# Dates a person means: far enough from year 1 and 9999 that a time zone cannot overflow.
SANE_DATES = validate.Range(
    min=date(1900, 1, 1), max=date(9998, 12, 31), error="Must be 1900-01-01 to 9998-12-31."
)


def sane_instant(value: datetime) -> None:
    """A time a person means: from 2000 to 9998 as written, which no time zone can overflow."""
    if not 2000 <= value.year <= 9998:
        raise ValidationError("Must be from 2000 to 9998.")
    value.astimezone(UTC)  # cannot overflow within those years


def business_key(max_length: int = 64, **kwargs: Any) -> fields.String:
    """A SKU, a location code, a serial: safe in a URL path and on a label."""
    return fields.String(
        validate=[
            validate.Length(min=1, max=max_length),
            validate.Regexp(KEY_PATTERN, error=KEY_MESSAGE),
        ],
        metadata={"pattern": KEY_PATTERN_DOC, **kwargs.pop("metadata", {})},
        **kwargs,
    )


def no_control_characters(value: str) -> None:
    """Refuse control characters (NUL, which PostgreSQL cannot store in text, among them)
    and lone surrogates (which no encoding can write). Right-to-left marks, emoji and every
    script pass."""
    if any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in value):
        raise ValidationError("Must not contain control characters.")


def text(max_length: int, *, min_length: int = 1, **kwargs: Any) -> fields.String:
    """Free text a person types: a name, a reason, a note."""
    return fields.String(
        validate=[validate.Length(min=min_length, max=max_length), no_control_characters],
        **kwargs,
    )


def text_for(column: Any, **kwargs: Any) -> fields.String:
    """Free text stored in ``column``: as long as the column holds (PostgreSQL refuses more,
    SQLite would keep it)."""
    return text(column.type.length, **kwargs)


MONEY_TEXT = r"^[0-9]{1,9}(\.[0-9]{1,2})?$"  # as written: up to 999999999.99


class Money(fields.Decimal):
    """An amount: a JSON number, or a decimal string as clients keep money ("12.50")."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        written = isinstance(value, str) and re.match(MONEY_TEXT, value)
        if isinstance(value, bool) or not (isinstance(value, int | float) or written):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


def money(**kwargs: Any) -> Money:
    """An amount of money in the JSON body: two places, 0 to a billion."""
    return Money(
        places=2,
        allow_nan=False,
        validate=validate.Range(min=0, max=MAX_MONEY),
        **kwargs,
    )


def quantity(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_QTY), **kwargs)


class StrictBoolean(fields.Boolean):
    """A JSON boolean only: not 1, "yes" or "on" (a body is JSON, not a form)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class _JsonNumber(fields.Number):  # type: ignore[type-arg]
    """A JSON number only: not "12", not true; one too big for a float is refused."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid", input=value)
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except OverflowError as exc:
            raise self.make_error("too_large", input=value) from exc


class StrictInteger(_JsonNumber, fields.Integer):
    pass


class StrictFloat(_JsonNumber, fields.Float):
    pass


class StrictDecimal(_JsonNumber, fields.Decimal):
    pass


_STRICT_IN_BODY: dict[type[fields.Field[Any]], type[fields.Field[Any]]] = {
    fields.Boolean: StrictBoolean,
    fields.Integer: StrictInteger,
    fields.Float: StrictFloat,
    fields.Decimal: StrictDecimal,
}


INT_COLUMN = validate.Range(min=-MAX_INT - 1, max=MAX_INT)
"""What a 32-bit integer column holds."""


def harden(field: fields.Field[Any], *, in_body: bool) -> None:
    """Tighten a bound input field to what the JSON Schema says and the database holds."""
    if in_body and type(field) in _STRICT_IN_BODY:
        field.__class__ = _STRICT_IN_BODY[type(field)]
    if isinstance(field, fields.Integer):
        field.strict = field.strict or in_body  # 1.5 is not an integer
        # Once: a schema's fields are bound again each time it is made (once per request).
        if INT_COLUMN not in field.validators:
            field.validators.append(INT_COLUMN)
    elif isinstance(field, fields.Float | fields.Decimal):
        field.allow_nan = False
    elif isinstance(field, fields.DateTime):
        if sane_instant not in field.validators:
            field.validators.append(sane_instant)
    elif isinstance(field, fields.Date):
        if SANE_DATES not in field.validators:
            field.validators.append(SANE_DATES)
    elif isinstance(field, fields.String) and not isinstance(field, fields.Email | fields.URL):
        if no_control_characters not in field.validators:
            field.validators.append(no_control_characters)
    elif isinstance(field, fields.List) and field.inner is not None:
        harden(field.inner, in_body=in_body)


class InputSchema(Schema):
    """Base of every JSON body: unknown keys are refused, each field is hardened."""

    class Meta:
        unknown = RAISE

    def on_bind_field(self, field_name: str, field_obj: fields.Field[Any]) -> None:
        harden(field_obj, in_body=True)


class QuerySchema(Schema):
    """Base of every query string: unknown parameters are ignored, each field is hardened."""

    class Meta:
        unknown = EXCLUDE

    def on_bind_field(self, field_name: str, field_obj: fields.Field[Any]) -> None:
        harden(field_obj, in_body=False)


class PageQuery(QuerySchema):
    cursor = fields.String(validate=validate.Length(max=200))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


EXPORT_FORMATS = ("json", "csv", "xlsx")


def _export_format() -> fields.String:
    return fields.String(
        load_default="json",
        validate=validate.OneOf(EXPORT_FORMATS),
        metadata={
            "description": "json: a page of items; csv (UTF-8 with a BOM) or xlsx: every "
            "item the filters select, as a download."
        },
    )


class ExportQuery(PageQuery):
    """A list that also downloads whole, its filters applied (``cursor`` and ``limit`` are
    for pages and ignored by a download)."""

    format = _export_format()


class FormatQuery(QuerySchema):
    """A list that is not paged (it is bounded), which also downloads with its filters."""

    format = _export_format()


def page_of(item_schema: type[Schema], name: str) -> type[Schema]:
    """The list answer of API.md: ``{"items": [...], "next": cursor or null}``."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema)),
            "next": fields.String(allow_none=True),
        },
        name=name,
    )
