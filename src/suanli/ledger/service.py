"""Posting money: top-ups, escrow holds, captures, releases, payouts."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from suanli.kit.clock import Clock
from suanli.kit.errors import PaymentRequiredError, ValidationError
from suanli.kit.money import CNY, fee_fen, yuan
from suanli.store import ledger_repo as repo
from suanli.store.ledger_repo import AccountRef
from suanli.store.models import LedgerTransaction
from suanli.vocab import AccountKind, TransactionKind

#: Accounts that may go negative: they mirror money outside the exchange.
_NO_FLOOR = frozenset({AccountKind.FUNDING})


@dataclass(frozen=True, slots=True)
class Leg:
    """One side of a movement: ``amount`` fen into (positive) or out of (negative) an
    account of ``owner_id`` (None = the platform) of ``kind``."""

    owner_id: int | None
    kind: AccountKind
    amount: int


@dataclass(frozen=True, slots=True)
class Capture:
    """What a capture moved: the buyer's charge, the provider's share, the fee."""

    transaction_id: int
    charged_fen: int
    provider_fen: int
    fee_fen: int


class Ledger:
    """Moves money inside one database transaction (the caller's session)."""

    def __init__(self, session: Session, clock: Clock, *, currency: str = CNY) -> None:
        self.session = session
        self.clock = clock
        self.currency = currency

    # -- accounts ---------------------------------------------------------------------
    def account(self, owner_id: int | None, kind: AccountKind) -> AccountRef:
        """The account of ``owner_id`` of ``kind``, created on first use."""
        found = repo.account_ref(self.session, owner_id, kind, self.currency)
        if found is not None:
            return found
        created = repo.create_account(
            self.session,
            owner_id,
            kind,
            self.currency,
            has_floor=kind not in _NO_FLOOR,
            now=self.clock.now(),
        )
        return AccountRef(created.id, created.kind, created.has_floor)

    def balance(self, owner_id: int | None, kind: AccountKind) -> int:
        found = repo.account_ref(self.session, owner_id, kind, self.currency)
        return 0 if found is None else repo.balance(self.session, found.id)

    # -- the one way money moves ------------------------------------------------------
    def post(
        self,
        kind: TransactionKind,
        legs: list[Leg],
        *,
        lease_id: int | None = None,
        memo: str = "",
    ) -> LedgerTransaction:
        """Record one balanced transaction.

        Raises ``ValueError`` if the legs do not sum to zero (a programming error) and
        :class:`PaymentRequiredError` if a floored account would go below zero.
        """
        if sum(leg.amount for leg in legs) != 0:
            raise ValueError(f"unbalanced {kind} transaction: {legs}")
        merged: dict[int, int] = {}
        accounts: dict[int, AccountRef] = {}
        for leg in legs:
            account = self.account(leg.owner_id, leg.kind)
            accounts[account.id] = account
            merged[account.id] = merged.get(account.id, 0) + leg.amount
        debited = [aid for aid, amt in merged.items() if amt < 0 and accounts[aid].has_floor]
        repo.lock_accounts(self.session, debited)
        current = repo.balances(self.session, debited)
        for account_id in debited:
            after = current[account_id] + merged[account_id]
            if after < 0:
                account = accounts[account_id]
                raise PaymentRequiredError(
                    f"{account.kind} balance {yuan(current[account_id])} cannot cover "
                    f"{yuan(-merged[account_id])}"
                )
        postings = [(aid, amt) for aid, amt in merged.items() if amt != 0]
        return repo.insert_transaction(
            self.session, kind, postings, lease_id=lease_id, memo=memo, now=self.clock.now()
        )

    # -- the movements the exchange makes ---------------------------------------------
    @staticmethod
    def _positive(what: str, amount_fen: int) -> None:
        """Every movement goes one way; a negative hold is not a release."""
        if amount_fen <= 0:
            raise ValidationError(f"{what} amount must be positive, got {amount_fen} fen")

    def topup(self, buyer_id: int, amount_fen: int, memo: str = "top-up") -> LedgerTransaction:
        """Money paid in by a buyer: funding -> wallet."""
        self._positive("top-up", amount_fen)
        return self.post(
            TransactionKind.TOPUP,
            [
                Leg(None, AccountKind.FUNDING, -amount_fen),
                Leg(buyer_id, AccountKind.WALLET, amount_fen),
            ],
            memo=memo,
        )

    def hold(self, buyer_id: int, amount_fen: int, *, lease_id: int) -> LedgerTransaction:
        """Escrow for a placed lease: wallet -> escrow. Fails if the wallet is short."""
        self._positive("hold", amount_fen)
        try:
            return self.post(
                TransactionKind.HOLD,
                [
                    Leg(buyer_id, AccountKind.WALLET, -amount_fen),
                    Leg(buyer_id, AccountKind.ESCROW, amount_fen),
                ],
                lease_id=lease_id,
                memo=f"escrow for lease {lease_id}",
            )
        except PaymentRequiredError as exc:
            wallet = self.balance(buyer_id, AccountKind.WALLET)
            raise PaymentRequiredError(
                f"wallet balance {yuan(wallet)} is below the escrow hold {yuan(amount_fen)}; "
                "top up to place this request"
            ) from exc

    def capture(
        self,
        buyer_id: int,
        provider_id: int,
        charged_fen: int,
        fee_rate: Decimal,
        *,
        lease_id: int,
    ) -> Capture:
        """Metered usage: escrow -> provider earnings, less the platform fee."""
        self._positive("capture", charged_fen)
        fee = fee_fen(charged_fen, fee_rate)
        txn = self.post(
            TransactionKind.CAPTURE,
            [
                Leg(buyer_id, AccountKind.ESCROW, -charged_fen),
                Leg(provider_id, AccountKind.EARNINGS, charged_fen - fee),
                Leg(None, AccountKind.FEE, fee),
            ],
            lease_id=lease_id,
            memo=f"usage of lease {lease_id}",
        )
        return Capture(txn.id, charged_fen, charged_fen - fee, fee)

    def release(self, buyer_id: int, amount_fen: int, *, lease_id: int) -> LedgerTransaction:
        """Unused escrow back to the wallet."""
        self._positive("release", amount_fen)
        return self.post(
            TransactionKind.RELEASE,
            [
                Leg(buyer_id, AccountKind.ESCROW, -amount_fen),
                Leg(buyer_id, AccountKind.WALLET, amount_fen),
            ],
            lease_id=lease_id,
            memo=f"unused escrow of lease {lease_id}",
        )

    def payout(self, provider_id: int, amount_fen: int) -> LedgerTransaction:
        """A provider's earnings paid out of the exchange: earnings -> funding."""
        self._positive("payout", amount_fen)
        return self.post(
            TransactionKind.PAYOUT,
            [
                Leg(provider_id, AccountKind.EARNINGS, -amount_fen),
                Leg(None, AccountKind.FUNDING, amount_fen),
            ],
            memo="payout",
        )
