"""Wallets: balances and top-ups.

A top-up's body is :class:`suanli.ledger.schemas.TopupIn` with its amount, the wallet's
id and its texts bounded at this edge (:mod:`suanli.kit.bounds`)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy.orm import Session

from suanli.api.context import Ctx
from suanli.api.errors import errors
from suanli.api.queue import schedule_placement
from suanli.kit.bounds import FEN_BOUND, MAX_FEN, Id, Line, Text
from suanli.kit.errors import NotFoundError, PermissionDeniedError
from suanli.ledger import Ledger
from suanli.ledger.schemas import TopupIn as LedgerTopupIn
from suanli.ledger.schemas import TopupOut, WalletOut
from suanli.orgs.auth import Principal, Scope
from suanli.store import orgs_repo
from suanli.vocab import AccountKind, OrgRole
from suanli.vouchers.flags import scan_flowback

router = APIRouter(prefix="/v1/wallet", tags=["wallet"], responses=errors(403, 404))


class TopupIn(LedgerTopupIn):
    amount_fen: int = Field(
        gt=0, le=MAX_FEN, description=f"amount in fen (¥1 = 100 fen), {FEN_BOUND}"
    )
    org_id: Id | None = Field(default=None, description="operator only: whose wallet")
    memo: Text = Field(default="top-up", max_length=200)
    counterparty: Line | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="the account the money came from (bank account or payment id)",
    )


def _wallet(ledger: Ledger, org_id: int) -> WalletOut:
    return WalletOut(
        org_id=org_id,
        currency=ledger.currency,
        available_fen=ledger.balance(org_id, AccountKind.WALLET),
        escrow_fen=ledger.balance(org_id, AccountKind.ESCROW),
        earnings_fen=ledger.balance(org_id, AccountKind.EARNINGS),
    )


@router.get("", response_model=WalletOut)
def balance(ctx: Ctx, org_id: Id | None = None) -> WalletOut:
    def work(session: Session, principal: Principal) -> WalletOut:
        principal.require(Scope.WALLET)
        target = principal.org_id
        if org_id is not None and org_id != principal.org_id:
            if not principal.is_operator:
                raise NotFoundError("wallet", org_id)
            target = org_id
        return _wallet(Ledger(session, ctx.state.clock), target)

    return ctx.run(work)


@router.post("/topup", status_code=201, response_model=TopupOut)
def topup(body: TopupIn, ctx: Ctx, background: BackgroundTasks) -> JSONResponse:
    """Record money paid in by a buyer (in production: confirmed by the payment gateway)."""

    def work(session: Session, principal: Principal) -> TopupOut:
        target = principal.org_id if body.org_id is None else body.org_id
        if target != principal.org_id and not principal.is_operator:
            raise NotFoundError("organization", target)
        principal.require(Scope.WALLET)
        org = orgs_repo.by_id(session, target)
        if org is None:
            raise NotFoundError("organization", target)
        if org.role is not OrgRole.BUYER:
            raise PermissionDeniedError(f"organization {target} is a {org.role}, not a buyer")
        ledger = Ledger(session, ctx.state.clock)
        txn = ledger.topup(target, body.amount_fen, body.memo, counterparty=body.counterparty)
        if body.counterparty is not None:
            scan_flowback(session, ctx.state.clock)
        return TopupOut(transaction_id=txn.id, wallet=_wallet(ledger, target))

    response = ctx.create(body, work)
    buyer = (
        body.org_id if body.org_id is not None else ctx.principal.org_id if ctx.principal else None
    )
    schedule_placement(background, ctx.state, buyer)  # that buyer's requests short of money
    return response
