"""Who may read the market reports, and whose centers they cover.

Providers read their own centers; issuers and the operator the whole exchange; buyers
none (403 naming the roles that may). Market data anyone with a key may read (the price
index) needs only :attr:`~suanli.orgs.auth.Scope.CAPACITY_READ`.
"""

from __future__ import annotations

from suanli.kit.errors import PermissionDeniedError
from suanli.orgs.auth import Principal, Scope
from suanli.vocab import OrgRole


def report_owner(principal: Principal | None, what: str) -> int | None:
    """The provider whose centers ``what`` covers, or None for the whole exchange.

    Raises 403 for a role without :attr:`Scope.REPORTS_READ` (buyers)."""
    if principal is None:
        return None
    if Scope.REPORTS_READ not in principal.scopes:
        raise PermissionDeniedError(
            f"{what} is for providers (their own centers), issuers and the operator; "
            f"a {principal.role} key may not read it"
        )
    return principal.org_id if principal.role is OrgRole.PROVIDER else None
