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
    account of ``owner_id`` (None = the platform) of ``kind`` (of voucher program
    ``program_id`` for a voucher fund)."""

    owner_id: int | None
    kind: AccountKind
    amount: int
    program_id: int | None = None


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
    def account(
        self, owner_id: int | None, kind: AccountKind, program_id: int | None = None
    ) -> AccountRef:
        """The account of ``owner_id`` of ``kind``, created on first use."""
        found = repo.account_ref(self.session, owner_id, kind, self.currency, program_id)
        if found is not None:
            return found
        created = repo.create_account(
            self.session,
            owner_id,
            kind,
            self.currency,
            has_floor=kind not in _NO_FLOOR,
            now=self.clock.now(),
            program_id=program_id,
        )
        return AccountRef(created.id, created.kind, created.has_floor, owner_id is not None)

    def balance(
        self, owner_id: int | None, kind: AccountKind, program_id: int | None = None
    ) -> int:
        found = repo.account_ref(self.session, owner_id, kind, self.currency, program_id)
        return 0 if found is None else repo.balance(self.session, found.id)

    # -- the one way money moves ------------------------------------------------------
    def post(
        self,
        kind: TransactionKind,
        legs: list[Leg],
        *,
        lease_id: int | None = None,
        memo: str = "",
        counterparty: str | None = None,
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
            account = self.account(leg.owner_id, leg.kind, leg.program_id)
            accounts[account.id] = account
            merged[account.id] = merged.get(account.id, 0) + leg.amount
        debited = [aid for aid, amt in merged.items() if amt < 0 and accounts[aid].has_floor]
        # The accounts whose balance it writes or checks, locked in id order (the
        # platform's funding and fee accounts keep no balance: no top-up or capture waits
        # on another at their rows).
        locked = [a for a in accounts.values() if a.kept or a.id in debited]
        current = repo.lock_accounts(self.session, locked)
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
            self.session,
            kind,
            postings,
            lease_id=lease_id,
            memo=memo,
            now=self.clock.now(),
            counterparty=counterparty,
            keep={a.id for a in locked if a.kept},
        )

    # -- the movements the exchange makes ---------------------------------------------
    @staticmethod
    def _positive(what: str, amount_fen: int) -> None:
        """Every movement goes one way; a negative hold is not a release."""
        if amount_fen <= 0:
            raise ValidationError(f"{what} amount must be positive, got {amount_fen} fen")

    def topup(
        self,
        buyer_id: int,
        amount_fen: int,
        memo: str = "top-up",
        *,
        counterparty: str | None = None,
    ) -> LedgerTransaction:
        """Money paid in by a buyer: funding -> wallet. ``counterparty`` is the account
        the money came from (the anti-abuse checks match it against payouts)."""
        self._positive("top-up", amount_fen)
        return self.post(
            TransactionKind.TOPUP,
            [
                Leg(None, AccountKind.FUNDING, -amount_fen),
                Leg(buyer_id, AccountKind.WALLET, amount_fen),
            ],
            memo=memo,
            counterparty=counterparty,
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

    def payout(
        self, provider_id: int, amount_fen: int, *, counterparty: str | None = None
    ) -> LedgerTransaction:
        """A provider's earnings paid out of the exchange: earnings -> funding.
        ``counterparty`` is the account the money went to."""
        self._positive("payout", amount_fen)
        try:
            return self.post(
                TransactionKind.PAYOUT,
                [
                    Leg(provider_id, AccountKind.EARNINGS, -amount_fen),
                    Leg(None, AccountKind.FUNDING, amount_fen),
                ],
                memo="payout",
                counterparty=counterparty,
            )
        except PaymentRequiredError as exc:
            earnings = self.balance(provider_id, AccountKind.EARNINGS)
            raise PaymentRequiredError(
                f"earnings {yuan(earnings)} cannot cover a payout of {yuan(amount_fen)}"
            ) from exc

    # -- voucher funds ----------------------------------------------------------------
    def fund_program(
        self, issuer_id: int, program_id: int, amount_fen: int, *, funder: str
    ) -> LedgerTransaction:
        """One funder's share of a program's budget paid in: funding -> the fund."""
        self._positive("program funding", amount_fen)
        return self.post(
            TransactionKind.PROGRAM_FUNDING,
            [
                Leg(None, AccountKind.FUNDING, -amount_fen),
                Leg(issuer_id, AccountKind.VOUCHER_FUND, amount_fen, program_id),
            ],
            memo=f"{funder} share of program {program_id}",
            counterparty=funder,
        )

    def redeem(
        self,
        issuer_id: int,
        program_id: int,
        amount_fen: int,
        *,
        to: Leg,
        lease_id: int,
    ) -> LedgerTransaction:
        """A voucher's share of a lease: the fund -> ``to`` (its amount is ignored).
        Fails with 402 if the fund is short: a program never pays more than it holds."""
        self._positive("redemption", amount_fen)
        return self.post(
            TransactionKind.REDEMPTION,
            [
                Leg(issuer_id, AccountKind.VOUCHER_FUND, -amount_fen, program_id),
                Leg(to.owner_id, to.kind, amount_fen),
            ],
            lease_id=lease_id,
            memo=f"voucher of program {program_id} for lease {lease_id}",
        )

    def clawback(
        self,
        issuer_id: int,
        program_id: int,
        amount_fen: int,
        *,
        source: Leg,
        lease_id: int,
        reason: str,
    ) -> LedgerTransaction:
        """Subsidy taken back: ``source`` (its amount is ignored) -> the fund."""
        self._positive("clawback", amount_fen)
        try:
            return self.post(
                TransactionKind.CLAWBACK,
                [
                    Leg(source.owner_id, source.kind, -amount_fen),
                    Leg(issuer_id, AccountKind.VOUCHER_FUND, amount_fen, program_id),
                ],
                lease_id=lease_id,
                memo=f"clawback for lease {lease_id}: {reason}",
            )
        except PaymentRequiredError as exc:
            have = self.balance(source.owner_id, source.kind)
            raise PaymentRequiredError(
                f"organization {source.owner_id}'s {source.kind} balance {yuan(have)} cannot "
                f"cover a clawback of {yuan(amount_fen)}"
            ) from exc

    def close_program(self, issuer_id: int, program_id: int) -> LedgerTransaction | None:
        """Return what is left in a closed program's fund: the fund -> funding."""
        left = self.balance(issuer_id, AccountKind.VOUCHER_FUND, program_id)
        if left <= 0:
            return None
        return self.post(
            TransactionKind.PROGRAM_CLOSE,
            [
                Leg(issuer_id, AccountKind.VOUCHER_FUND, -left, program_id),
                Leg(None, AccountKind.FUNDING, left),
            ],
            memo=f"unspent budget of program {program_id} returned",
        )
