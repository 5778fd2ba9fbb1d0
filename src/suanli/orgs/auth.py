"""Roles, scopes and the authenticated caller.

Each organization has one role; a role grants a fixed set of scopes. Tenant isolation
is not a scope: services filter every read by the caller's organization unless the
caller is the operator, and answer 404 (never 403) for other tenants' objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from suanli.kit.errors import PermissionDeniedError
from suanli.vocab import OrgRole


class Scope(StrEnum):
    """A permission an API key may carry."""

    CAPACITY_READ = "capacity:read"
    """Browse listed capacity and prices."""
    REQUESTS_WRITE = "requests:write"
    """Submit and cancel requests."""
    REQUESTS_READ = "requests:read"
    """Read own requests and leases."""
    WALLET = "wallet"
    """Top up and read own wallet."""
    CENTERS_WRITE = "centers:write"
    """Register centers, add pools, change prices."""
    CENTERS_READ = "centers:read"
    """Read own centers and pools."""
    LEASES_OPERATE = "leases:operate"
    """Start, meter, complete or fail leases placed at own centers."""
    REPORTS_READ = "reports:read"
    """Utilization and market reports (own centers, or all for the operator)."""
    VOUCHERS_READ = "vouchers:read"
    """Read voucher programs, own grants, redemptions and flags."""
    VOUCHERS_APPLY = "vouchers:apply"
    """Apply for voucher grants (buyers)."""
    VOUCHERS_ISSUE = "vouchers:issue"
    """Run voucher programs: create, fund, approve, revoke, claw back (issuers)."""
    BILLING_READ = "billing:read"
    """Read own invoices and statements; issue own invoices."""
    ADMIN = "admin"
    """Create organizations and keys; act on anything."""


ROLE_SCOPES: dict[OrgRole, frozenset[Scope]] = {
    OrgRole.BUYER: frozenset(
        {
            Scope.CAPACITY_READ,
            Scope.REQUESTS_WRITE,
            Scope.REQUESTS_READ,
            Scope.WALLET,
            Scope.VOUCHERS_READ,
            Scope.VOUCHERS_APPLY,
            Scope.BILLING_READ,
        }
    ),
    OrgRole.PROVIDER: frozenset(
        {
            Scope.CAPACITY_READ,
            Scope.CENTERS_WRITE,
            Scope.CENTERS_READ,
            Scope.LEASES_OPERATE,
            Scope.REPORTS_READ,
            Scope.WALLET,
            Scope.VOUCHERS_READ,
            Scope.BILLING_READ,
        }
    ),
    OrgRole.ISSUER: frozenset(
        {Scope.CAPACITY_READ, Scope.REPORTS_READ, Scope.VOUCHERS_READ, Scope.VOUCHERS_ISSUE}
    ),
    OrgRole.OPERATOR: frozenset(Scope),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an organization acting through one of its keys."""

    org_id: int
    role: OrgRole

    @property
    def scopes(self) -> frozenset[Scope]:
        return ROLE_SCOPES[self.role]

    @property
    def is_operator(self) -> bool:
        return self.role is OrgRole.OPERATOR

    def require(self, scope: Scope) -> None:
        """Raise 403 unless this caller's role grants ``scope``."""
        if scope not in self.scopes:
            raise PermissionDeniedError(f"a {self.role} key may not use {scope}")
