"""API tokens as the API shows them; the token itself only once, when issued."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from partsvc.platform.schemas import ExportQuery, InputSchema, page_of, sane_instant, text


class TokenQuery(ExportQuery):
    user = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "Whose tokens (admins; others see only their own)."},
    )


class TokenIn(InputSchema):
    name = text(100, min_length=0, load_default="", metadata={"description": "What it is for."})
    expires_at = fields.AwareDateTime(allow_none=True, load_default=None, validate=sane_instant)
    user = fields.String(
        validate=validate.Length(min=1, max=64),
        load_default=None,
        metadata={"description": "For whom (admins only); the caller when left out."},
    )


class TokenOut(Schema):
    id = fields.Integer()
    user = fields.String(attribute="user.username")
    name = fields.String()
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime(allow_none=True)
    revoked_at = fields.AwareDateTime(allow_none=True)


class IssuedTokenOut(Schema):
    """A token just issued (``auth.identity.IssuedToken``): its row's fields and the token."""

    id = fields.Integer(attribute="row.id")
    user = fields.String(attribute="row.user.username")
    name = fields.String(attribute="row.name")
    created_at = fields.AwareDateTime(attribute="row.created_at")
    expires_at = fields.AwareDateTime(attribute="row.expires_at", allow_none=True)
    revoked_at = fields.AwareDateTime(attribute="row.revoked_at", allow_none=True)
    token = fields.String(
        allow_none=True,
        metadata={
            "description": "The token: shown this once, never again (null in an answer "
            "replayed for the same Idempotency-Key, which says so in `token_shown_once`)."
        },
    )
    token_shown_once = fields.String(
        metadata={"description": "Only in a replayed answer: why `token` is null."}
    )


TokenPage = page_of(TokenOut, "TokenPage")
