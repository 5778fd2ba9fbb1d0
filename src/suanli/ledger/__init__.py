"""The ledger: an append-only double-entry book in integer fen.

Every movement of money is one :class:`~suanli.store.models.LedgerTransaction` whose
postings sum to zero; balances are derived by summing postings and never edited.
Accounts with a floor (wallets, escrow, earnings, fees) can never go below zero: the
check happens under a row lock, so it holds under concurrency.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from suanli.ledger.service import Ledger, Leg

__all__ = ["Ledger", "Leg"]


def __getattr__(name: str) -> Any:
    # The service needs the database layer: it is imported on first use, so that the
    # API shapes (suanli.ledger.schemas, which the SDK uses) import without it.
    if name in __all__:
        from suanli.ledger import service

        return getattr(service, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
