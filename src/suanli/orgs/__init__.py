"""Organizations, API keys, and who may do what (roles and scopes)."""

from suanli.orgs.auth import Principal, Scope
from suanli.orgs.service import authenticate, create_key, create_org

__all__ = ["Principal", "Scope", "authenticate", "create_key", "create_org"]
