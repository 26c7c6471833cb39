"""Users, roles, API tokens and passwords; ``partsvc.api.resource`` checks a token on each
API request, ``partsvc.web.pages`` the login cookie on each page."""

from partsvc.auth.models import ROLE_VALUES, ApiToken, Role, User

__all__ = ["ROLE_VALUES", "ApiToken", "Role", "User"]
