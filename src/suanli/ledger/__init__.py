"""The ledger: an append-only double-entry book in integer fen.

Every movement of money is one :class:`~suanli.store.models.LedgerTransaction` whose
postings sum to zero; balances are derived by summing postings and never edited.
Accounts with a floor (wallets, escrow, earnings, fees) can never go below zero: the
check happens under a row lock, so it holds under concurrency.
"""

from suanli.ledger.service import Ledger, Leg

__all__ = ["Ledger", "Leg"]
