"""SQL for the ledger: accounts, postings, balances and row locks."""

from __future__ import annotations

import weakref
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, Table, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from suanli.store.models import Account, LedgerTransaction, Posting
from suanli.vocab import AccountKind, TransactionKind


@dataclass(frozen=True, slots=True)
class AccountRef:
    """What posting needs to know of an account. Accounts are never changed or deleted,
    so a committed account's ref may be remembered for the life of the process."""

    id: int
    kind: AccountKind
    has_floor: bool
    kept: bool = True
    """Whether the account keeps a running balance: every owned account does; the
    platform's own (funding, fees) do not, so that busy rows every top-up or capture
    would touch are never locked or written (their balance is the postings' sum)."""


_AccountKey = tuple[int | None, AccountKind, str, int | None]
_committed: weakref.WeakKeyDictionary[Engine, dict[_AccountKey, AccountRef]] = (
    weakref.WeakKeyDictionary()
)
_NEW = "suanli.ledger.new_accounts"


def forget_accounts(engine: Engine) -> None:
    """Drop remembered accounts of a database whose tables were dropped."""
    _committed.pop(engine, None)


def account_ref(
    session: Session,
    owner_id: int | None,
    kind: AccountKind,
    currency: str,
    program_id: int | None = None,
) -> AccountRef | None:
    """The account of ``owner_id``/``kind``/``currency``, from memory when it is known to
    be committed. One created earlier in this (possibly rolled-back) transaction is
    looked up but never remembered."""
    known = _committed.setdefault(session.get_bind().engine, {})
    key = (owner_id, kind, currency, program_id)
    if (ref := known.get(key)) is not None:
        return ref
    found = get_account(session, owner_id, kind, currency, program_id)
    if found is None:
        return None
    ref = AccountRef(found.id, found.kind, found.has_floor, found.owner_id is not None)
    if found.id not in session.info.get(_NEW, ()):
        known[key] = ref
    return ref


def get_account(
    session: Session,
    owner_id: int | None,
    kind: AccountKind,
    currency: str,
    program_id: int | None = None,
) -> Account | None:
    owner = Account.owner_id.is_(None) if owner_id is None else Account.owner_id == owner_id
    program = (
        Account.program_id.is_(None) if program_id is None else Account.program_id == program_id
    )
    stmt = select(Account).where(owner, program, Account.kind == kind, Account.currency == currency)
    return session.scalars(stmt).first()


def create_account(
    session: Session,
    owner_id: int | None,
    kind: AccountKind,
    currency: str,
    *,
    has_floor: bool,
    now: datetime,
    program_id: int | None = None,
) -> Account:
    """Create an account; if a concurrent transaction created it first, return that one."""
    try:
        with session.begin_nested():
            account = Account(
                owner_id=owner_id,
                kind=kind,
                currency=currency,
                program_id=program_id,
                has_floor=has_floor,
                created_at=now,
            )
            session.add(account)
        session.info.setdefault(_NEW, set()).add(account.id)
        return account
    except IntegrityError:
        found = get_account(session, owner_id, kind, currency, program_id)
        if found is None:
            raise
        return found


def lock_accounts(session: Session, accounts: Iterable[AccountRef]) -> dict[int, int]:
    """Take row locks on accounts in id order and return their balances.

    Every writer locks accounts in ascending id order, after any node rows, so two
    transactions never wait on each other in a cycle. The lock (``FOR NO KEY UPDATE``)
    leaves the key-share lock a new posting's foreign-key check takes free, so a
    posting to an account another transaction holds does not wait (SQLite: BEGIN
    IMMEDIATE already made this transaction the only writer).
    """
    refs = {a.id: a for a in accounts}
    ids = sorted(refs)
    if not ids:
        return {}
    stmt = select(Account.id, Account.balance).where(Account.id.in_(ids)).order_by(Account.id)
    if session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update(key_share=True)
    found = {int(aid): int(balance) for aid, balance in session.execute(stmt)}
    summed = [aid for aid in ids if not refs[aid].kept]
    if summed:
        found.update(summed_balances(session, summed))
    return {aid: found.get(aid, 0) for aid in ids}


def balance(session: Session, account_id: int) -> int:
    return balances(session, [account_id])[account_id]


def balances(session: Session, account_ids: Iterable[int]) -> dict[int, int]:
    """Balances without locks: kept ones as kept, the platform's as their postings' sum."""
    ids = list(set(account_ids))
    found: dict[int, int] = dict.fromkeys(ids, 0)
    if ids:
        stmt = select(Account.id, Account.balance, Account.owner_id).where(Account.id.in_(ids))
        summed = []
        for aid, kept, owner in session.execute(stmt):
            if owner is None:
                summed.append(int(aid))
            else:
                found[int(aid)] = int(kept)
        found.update(summed_balances(session, summed))
    return found


def summed_balances(session: Session, account_ids: Iterable[int]) -> dict[int, int]:
    """Balances as the sum of every posting (the platform's accounts; the audit)."""
    ids = list(set(account_ids))
    found: dict[int, int] = dict.fromkeys(ids, 0)
    if not ids:
        return found
    stmt = (
        select(Posting.account_id, func.sum(Posting.amount))
        .where(Posting.account_id.in_(ids))
        .group_by(Posting.account_id)
    )
    for account_id, total in session.execute(stmt):
        found[account_id] = int(total)
    return found


def insert_transaction(
    session: Session,
    kind: TransactionKind,
    postings: Iterable[tuple[int, int]],
    *,
    lease_id: int | None,
    memo: str,
    now: datetime,
    counterparty: str | None = None,
    keep: Collection[int] = (),
) -> LedgerTransaction:
    """Insert a transaction and its postings; raise the running balances of ``keep``."""
    moves = sorted(postings)  # the balances' updates go in account-id (lock) order
    txn = LedgerTransaction(
        kind=kind, lease_id=lease_id, memo=memo, counterparty=counterparty, created_at=now
    )
    session.add(txn)
    session.flush()
    session.add_all(
        Posting(transaction_id=txn.id, account_id=account_id, amount=amount)
        for account_id, amount in moves
    )
    session.flush()
    kept = [(a, amount) for a, amount in moves if a in keep]
    if kept:
        table = Account.__table__
        assert isinstance(table, Table)
        session.connection().execute(
            update(table)
            .where(table.c.id == bindparam("account"))
            .values(balance=table.c.balance + bindparam("amount")),
            [{"account": account_id, "amount": amount} for account_id, amount in kept],
        )
    return txn


def accounts_of(session: Session, owner_id: int | None) -> list[Account]:
    owner = Account.owner_id.is_(None) if owner_id is None else Account.owner_id == owner_id
    return list(session.scalars(select(Account).where(owner).order_by(Account.id)))


def unbalanced_transactions(session: Session) -> list[int]:
    stmt = (
        select(Posting.transaction_id)
        .group_by(Posting.transaction_id)
        .having(func.sum(Posting.amount) != 0)
    )
    return list(session.scalars(stmt))


def negative_floored_accounts(session: Session) -> list[int]:
    stmt = (
        select(Account.id)
        .join(Posting, Posting.account_id == Account.id)
        .where(Account.has_floor.is_(True))
        .group_by(Account.id)
        .having(func.sum(Posting.amount) < 0)
    )
    return list(session.scalars(stmt))


def mismatched_balances(session: Session) -> list[tuple[int, int, int]]:
    """``(account_id, balance, postings' sum)`` where a kept balance is not the sum."""
    total = func.coalesce(func.sum(Posting.amount), 0)
    stmt = (
        select(Account.id, Account.balance, total)
        .outerjoin(Posting, Posting.account_id == Account.id)
        .where(Account.owner_id.is_not(None))
        .group_by(Account.id, Account.balance)
        .having(Account.balance != total)
        .order_by(Account.id)
    )
    return [(int(a), int(b), int(t)) for a, b, t in session.execute(stmt)]


def transaction_count(session: Session) -> int:
    return int(session.scalar(select(func.count(LedgerTransaction.id))) or 0)
