"""The ledger audit, for the operator: every invariant of the books checked from the data."""

from __future__ import annotations

from fastapi import APIRouter

from suanli.api.context import Ctx
from suanli.api.errors import errors
from suanli.ledger.audit import LedgerAudit, audit_ledger

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=errors(403))


@router.get("/ledger", response_model=LedgerAudit)
def ledger_audit(ctx: Ctx) -> LedgerAudit:
    """Counts of transactions, leases, redemptions and grants that break an invariant of
    the books (operator only). ``ok`` is true when every count is zero."""
    return ctx.run(audit_ledger)
