"""Organizations, API keys, and who may do what (roles and scopes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from suanli.orgs.auth import Principal, Scope
    from suanli.orgs.service import authenticate, create_key, create_org

__all__ = ["Principal", "Scope", "authenticate", "create_key", "create_org"]


def __getattr__(name: str) -> Any:
    # Imported on first use: the service needs the database layer, and the API shapes
    # (suanli.orgs.schemas, which the SDK uses) import without it.
    if name in ("Principal", "Scope"):
        from suanli.orgs import auth

        return getattr(auth, name)
    if name in __all__:
        from suanli.orgs import service

        return getattr(service, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
