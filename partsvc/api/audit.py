"""The audit trail for admins: read only; nothing edits or deletes it."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from partsvc.api import audit_schemas as schemas
from partsvc.api.resource import Resource, allow, listed
from partsvc.audit import trail
from partsvc.http.context import current_session

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="Who did what, and when")


@blp.route("/audit")
class Audit(Resource):
    @allow("admin")
    @blp.arguments(schemas.AuditQuery, location="query")
    @blp.response(200, schemas.AuditPage)
    def get(self, query: dict[str, Any]) -> Any:
        """Audit events, oldest first: every write but the ledger's moves (which are their own
        audit), logins, logouts and failed logins, with who, when and from where;
        ``format=csv|xlsx`` downloads every event the filters select."""
        return listed(
            query,
            trail.list_events,
            name="audit",
            schema=schemas.AuditEventOut(),
            session=current_session(),
        )
