"""API tokens: list, issue and revoke. An admin manages everyone's; others their own."""

from __future__ import annotations

import json
from typing import Any

from flask_smorest import Blueprint

from partsvc.api import auth_schemas as schemas
from partsvc.api.resource import ALL_ROLES, Resource, allow, listed
from partsvc.auth import identity
from partsvc.auth.models import Role, User
from partsvc.core.errors import Forbidden
from partsvc.http.context import current_session, current_user, now

blp = Blueprint("tokens", __name__, url_prefix="/api/v1", description="API tokens")


@blp.route("/tokens")
class Tokens(Resource):
    @allow(*ALL_ROLES)
    @blp.arguments(schemas.TokenQuery, location="query")
    @blp.response(200, schemas.TokenPage)
    def get(self, query: dict[str, Any]) -> Any:
        """The caller's tokens; an admin sees everyone's, or one user's with ``user``;
        ``format=csv|xlsx`` downloads them all (never a token itself)."""
        name = query.pop("user", None)
        user_id = _whose(name).id if name is not None else _own()
        return listed(
            query,
            identity.list_tokens,
            name="tokens",
            schema=schemas.TokenOut(),
            session=current_session(),
            user_id=user_id,
        )

    @allow(*ALL_ROLES)
    @blp.arguments(schemas.TokenIn)
    @blp.response(201, schemas.IssuedTokenOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Issue a token, valid until ``expires_at`` (for ever if left out). The answer holds
        the token this once; only its hash is kept. An admin may issue one for another user."""
        user = _whose(data["user"] or current_user().username)
        issued = identity.grant_token(
            current_session(), user, name=data["name"], expires_at=data["expires_at"], now=now()
        )
        return issued, 201

    def replayable(self, body: bytes) -> bytes:
        """The answer kept for a retry with the same Idempotency-Key: everything but the
        token, which is never stored (a database dump must not hold a working token)."""
        answer = json.loads(body)
        answer["token"] = None
        answer["token_shown_once"] = SHOWN_ONCE
        return json.dumps(answer, ensure_ascii=False).encode()


SHOWN_ONCE = (
    "The token was shown once, in the first answer to this request, and is not kept. "
    "If it was lost, revoke this token and issue another."
)


@blp.route("/tokens/<int(max=2147483647):token_id>/revoke")
class TokenRevocation(Resource):
    @allow(*ALL_ROLES)
    @blp.response(200, schemas.TokenOut)
    def post(self, token_id: int) -> Any:
        """Revoke a token for good (its owner or an admin); revoking it again is a 409."""
        return identity.revoke_token(current_session(), token_id, by=current_user(), now=now())


def _own() -> int | None:
    """Whose tokens a list without ``user`` shows: everyone's to an admin."""
    caller = current_user()
    return None if caller.role == Role.ADMIN else caller.id


def _whose(username: str) -> User:
    """The user named, if the caller may manage their tokens (themselves, or an admin)."""
    caller = current_user()
    if caller.role != Role.ADMIN and username != caller.username:
        raise Forbidden("Only an admin manages another user's tokens.", allowed_roles=["admin"])
    return identity.user_named(current_session(), username)
