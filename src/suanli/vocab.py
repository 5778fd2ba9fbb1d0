"""The vocabulary of states and kinds: shared by the store, the services and the API."""

from __future__ import annotations

from enum import StrEnum


class OrgRole(StrEnum):
    """What an organization does on the exchange; one role per organization."""

    BUYER = "buyer"
    """Rents capacity: submits requests, pays for leases."""
    PROVIDER = "provider"
    """Operates computing centers and lists their spare capacity."""
    ISSUER = "issuer"
    """A city's voucher office: runs voucher programs and audits them."""
    OPERATOR = "operator"
    """Runs the platform; sees everything, may act on behalf of anyone."""


class CenterStatus(StrEnum):
    """Whether a center's pools may receive new work."""

    ACTIVE = "active"
    """Accepting work."""
    MAINTENANCE = "maintenance"
    """Temporarily closed for new work; running leases continue."""
    OFFLINE = "offline"
    """Unreachable or withdrawn; nothing new is placed there."""
    PLANNED = "planned"
    """Announced or under construction; listed, but with no capacity yet."""


class RequestStatus(StrEnum):
    """Where a buyer's request stands."""

    QUEUED = "queued"
    """Waiting: fits nowhere yet (reasons stored), or not yet paid for, or not yet due."""
    PLACED = "placed"
    """Has a live lease."""
    FINISHED = "finished"
    """Its lease ended (completed, failed, preempted without requeue)."""
    CANCELLED = "cancelled"
    """Withdrawn by the buyer."""


class LeaseStatus(StrEnum):
    """A lease's life: pending -> placed -> running -> an end state.

    The end states are completed, failed, cancelled and preempted.
    """

    PENDING = "pending"
    """Created by the engine; capacity reserved, escrow not yet held."""
    PLACED = "placed"
    """Capacity reserved and escrow held; waiting for the center to start it."""
    RUNNING = "running"
    """The center reports the work running; usage accrues."""
    COMPLETED = "completed"
    """Ended normally; metered usage captured, the rest released."""
    FAILED = "failed"
    """Ended by a failure at the center; only metered usage is charged."""
    CANCELLED = "cancelled"
    """Ended by the buyer; metered usage (if any) charged, the rest released."""
    PREEMPTED = "preempted"
    """Interruptible work stopped to make room; metered usage charged."""

    @property
    def is_live(self) -> bool:
        """Whether the lease still holds capacity."""
        return self in (LeaseStatus.PENDING, LeaseStatus.PLACED, LeaseStatus.RUNNING)


class AccountKind(StrEnum):
    """Kinds of ledger accounts. Each organization has at most one of each per currency."""

    WALLET = "wallet"
    """A buyer's spendable money. Floor 0."""
    ESCROW = "escrow"
    """Money held for placed leases. Floor 0."""
    EARNINGS = "earnings"
    """What the exchange owes a provider for delivered usage. Floor 0."""
    FEE = "fee"
    """The platform's fee income (platform-owned). Floor 0."""
    FUNDING = "funding"
    """The outside world: money entering (top-ups) or leaving (payouts). No floor."""


class TransactionKind(StrEnum):
    """Why money moved."""

    TOPUP = "topup"
    """A buyer paid money in."""
    HOLD = "hold"
    """Escrow taken when a lease is placed."""
    CAPTURE = "capture"
    """Metered usage moved from escrow to the provider, less the platform fee."""
    RELEASE = "release"
    """Unused escrow returned to the buyer's wallet."""
    PAYOUT = "payout"
    """A provider's earnings paid out."""
