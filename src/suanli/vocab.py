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
    VOUCHER_FUND = "voucher_fund"
    """A voucher program's budget, owned by its issuer, one per program. Floor 0: a
    program can never pay out more than it was funded with."""


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
    PROGRAM_FUNDING = "program_funding"
    """A funder's share of a voucher program's budget paid in."""
    REDEMPTION = "redemption"
    """A voucher's share of a lease's charge paid from its program's fund."""
    CLAWBACK = "clawback"
    """A redeemed subsidy taken back into its program's fund."""
    PROGRAM_CLOSE = "program_close"
    """What was left in a closed program's fund returned to its funders."""


class SettlementMode(StrEnum):
    """Who claims a voucher's share of a lease, and where the money goes. One claim per
    lease whatever the mode."""

    DEDUCT = "deduct"
    """Deducted at checkout: the fund pays its share and the buyer only the rest."""
    REIMBURSE = "reimburse"
    """The buyer pays the whole charge; the fund reimburses the buyer's wallet."""
    PROVIDER_CLAIM = "provider_claim"
    """The provider bills the buyer only the rest and claims the share from the fund."""


class ProgramStatus(StrEnum):
    """Whether a voucher program takes applications and pays subsidies."""

    ACTIVE = "active"
    """Open: grants may be applied for and redeemed."""
    CLOSED = "closed"
    """Closed by its issuer: nothing more is granted or redeemed."""


class GrantStatus(StrEnum):
    """A buyer's grant in a program: applied -> approved | rejected; approved -> revoked."""

    APPLIED = "applied"
    """Waiting for the issuer's decision."""
    APPROVED = "approved"
    """Approved: its released amount may be redeemed until it expires."""
    REJECTED = "rejected"
    """Refused by the issuer, with a reason; it can never be spent."""
    REVOKED = "revoked"
    """Withdrawn by the issuer after approval; nothing more is redeemed."""


class FlagKind(StrEnum):
    """Anomalies the voucher audit raises, each with its evidence."""

    PRICE_ABOVE_INDEX = "price_above_index"
    """A subsidized lease's unit price is above 1.3x the model's price-index median."""
    UNDERUSED = "underused"
    """A subsidized lease metered far less than it contracted."""
    MONEY_FLOWBACK = "money_flowback"
    """Money paid out to a provider came back as a subsidized buyer's top-up."""


class FlagStatus(StrEnum):
    """Where an anomaly flag stands."""

    OPEN = "open"
    """Raised; the issuer has not looked at it yet."""
    DISMISSED = "dismissed"
    """Looked at and found harmless."""
    CONFIRMED = "confirmed"
    """Found to be abuse; the subsidy is clawed back."""
