"""All tables. Import this package to register every model on ``Base.metadata``."""

from suanli.store.models.billing import Invoice, InvoiceLine
from suanli.store.models.capacity import CapacityEpoch, Center, Node, Pool
from suanli.store.models.ledger import Account, LedgerTransaction, Posting
from suanli.store.models.meta import IdempotencyRecord, MetaEntry
from suanli.store.models.orgs import ApiKey, Organization
from suanli.store.models.vouchers import (
    VoucherClawback,
    VoucherFlag,
    VoucherGrant,
    VoucherProgram,
    VoucherRedemption,
)
from suanli.store.models.work import Lease, LeaseAllocation, LeaseTransition, Request, UsageRecord

__all__ = [
    "Account",
    "ApiKey",
    "CapacityEpoch",
    "Center",
    "IdempotencyRecord",
    "Invoice",
    "InvoiceLine",
    "Lease",
    "LeaseAllocation",
    "LeaseTransition",
    "LedgerTransaction",
    "MetaEntry",
    "Node",
    "Organization",
    "Pool",
    "Posting",
    "Request",
    "UsageRecord",
    "VoucherClawback",
    "VoucherFlag",
    "VoucherGrant",
    "VoucherProgram",
    "VoucherRedemption",
]
