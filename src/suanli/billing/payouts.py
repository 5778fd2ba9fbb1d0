"""Payouts: a provider's earnings paid out of the exchange to a bank account.

A provider asks for its own payout; the operator may ask on a provider's behalf. The
payout is one balanced ledger transaction (earnings -> funding) carrying the
destination account as its counterparty; a payout larger than the earnings balance is
refused with 402 and writes nothing. After every payout the anti-abuse scan matches
payout destinations against buyers' top-up sources
(:func:`suanli.vouchers.flags.scan_flowback`): money that comes back from a provider to
a buyer it served with a voucher raises a flag for the issuer.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from suanli.billing.schemas import PayoutIn, PayoutOut, PayoutResult
from suanli.billing.statements import provider_of
from suanli.kit.clock import Clock
from suanli.ledger import Ledger
from suanli.orgs.auth import Principal, Scope
from suanli.store import billing_repo
from suanli.vocab import AccountKind
from suanli.vouchers.flags import scan_flowback


class Payouts:
    """Pay out and list payouts for one caller (``principal`` None = the system)."""

    def __init__(self, session: Session, clock: Clock, principal: Principal | None) -> None:
        self.session = session
        self.clock = clock
        self.principal = principal
        self.ledger = Ledger(session, clock)

    def _require(self) -> None:
        if self.principal is not None:
            self.principal.require(Scope.WALLET)

    def pay_out(self, data: PayoutIn) -> PayoutResult:
        """Move ``amount_fen`` of the provider's earnings out to ``counterparty``."""
        self._require()
        provider = provider_of(self.session, self.principal, data.provider_id)
        txn = self.ledger.payout(provider, data.amount_fen, counterparty=data.counterparty)
        scan_flowback(self.session, self.clock)
        return PayoutResult(
            transaction_id=txn.id,
            provider_id=provider,
            amount_fen=data.amount_fen,
            counterparty=txn.counterparty,
            created_at=txn.created_at,
            earnings_fen=self.ledger.balance(provider, AccountKind.EARNINGS),
        )

    def listing(self, *, provider_id: int | None = None, limit: int = 200) -> list[PayoutOut]:
        """Newest first: the caller's own, or (operator) everyone's or one provider's."""
        self._require()
        p = self.principal
        if p is not None and not p.is_operator:
            provider_id = provider_of(self.session, p, provider_id)
        rows = billing_repo.payouts(self.session, provider_id=provider_id, limit=limit)
        return [
            PayoutOut(
                transaction_id=row.transaction_id,
                provider_id=row.provider_id,
                amount_fen=row.amount_fen,
                counterparty=row.counterparty,
                created_at=row.created_at,
            )
            for row in rows
        ]
