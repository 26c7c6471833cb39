"""Users, roles and API tokens; ``partsvc.auth.http`` checks them on each request."""

from partsvc.auth.models import ROLE_VALUES, ApiToken, Role, User

__all__ = ["ROLE_VALUES", "ApiToken", "Role", "User"]
