"""A buyer's live quote: where a request would go now and what it would cost, with and
without the buyer's voucher, writing nothing.

1. The request is checked and canonicalized as :meth:`Exchange.submit` does, but not
   stored (a transient row that never joins the session).
2. :meth:`Exchange.what_if` asks the engine exactly as :meth:`Exchange.try_place` would
   (due time, snapshot, engine, preemption of interruptible work).
3. The cost is the escrow the exchange would hold: ``usage_cost_fen(cards x duration,
   price)``, i.e. the whole contracted time at the pool's list price.
4. The voucher is what settlement would pay for that cost if the lease ran its full
   time: :func:`suanli.vouchers.settlement.decide_voucher` without locks, at the time
   the lease would end (``now + duration``), against today's redemptions, caps and fund.
   The real subsidy follows the metered use and the totals at settlement.

Everything runs inside a savepoint that is rolled back, so even a change made by
mistake could never be committed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from suanli.engine import Placement
from suanli.engine.reasons import zh_of
from suanli.exchange.schemas import RequestIn
from suanli.exchange.service import Exchange
from suanli.exchange.validation import validate_request
from suanli.kit.clock import Clock
from suanli.kit.errors import PermissionDeniedError
from suanli.kit.money import usage_cost_fen
from suanli.ledger import Ledger
from suanli.orgs.auth import Principal, Scope
from suanli.settings import Settings
from suanli.store import capacity_repo, vouchers_repo
from suanli.store.models import Request
from suanli.vocab import AccountKind, OrgRole, RequestStatus
from suanli.vouchers.settlement import LeaseParties, decide_voucher, voucher_note


class Quote(BaseModel):
    placeable: bool = Field(description="the engine would place it now")
    reasons: list[str]
    nearest: list[str]
    reasons_zh: list[str] = Field(
        default_factory=list, description="reasons in Chinese, item for item"
    )
    nearest_zh: list[str] = Field(
        default_factory=list, description="nearest offers in Chinese, item for item"
    )
    pool_id: int | None
    center_id: int | None = None
    center: str | None
    center_zh: str | None = Field(default=None, description="the center's Chinese name")
    province: str | None
    model: str | None
    price_fen: int | None = Field(description="per card-hour at the chosen pool")
    cards: int
    duration_s: int
    cost_fen: int | None = Field(description="the escrow a submission would hold")
    voucher_fen: int
    voucher_program_id: int | None
    voucher_note: str | None
    cost_after_voucher_fen: int | None
    preempts: bool = Field(default=False, description="placing it would preempt interruptible work")
    wallet_fen: int = Field(default=0, description="the buyer's available wallet balance")
    wallet_covers: bool | None = Field(
        default=None, description="the wallet can pay the escrow (else a submission waits)"
    )
    at: datetime | None = None


def quote(
    session: Session, clock: Clock, settings: Settings, principal: Principal, data: RequestIn
) -> Quote:
    """What ``data`` would get if submitted now (see the module docstring)."""
    if principal.role is not OrgRole.BUYER:
        raise PermissionDeniedError(
            f"quotes are for buyers (the organizations that submit requests); a "
            f"{principal.role} key may not ask for one"
        )
    principal.require(Scope.REQUESTS_WRITE)
    savepoint = session.begin_nested()
    try:
        return _quote(session, clock, settings, principal, data)
    finally:
        savepoint.rollback()


def _quote(
    session: Session, clock: Clock, settings: Settings, principal: Principal, data: RequestIn
) -> Quote:
    now = clock.now()
    request = Request(
        buyer_id=principal.org_id,
        status=RequestStatus.QUEUED,
        reasons=[],
        nearest=[],
        attempts=0,
        created_at=now,
        updated_at=now,
        **validate_request(data),
    )
    exchange = Exchange(session, clock, settings, principal)
    result, preempts = exchange.what_if(request)
    if not isinstance(result, Placement):
        exchange.check_reach(request)
    wallet = Ledger(session, clock).balance(principal.org_id, AccountKind.WALLET)
    if not isinstance(result, Placement):
        return Quote(
            placeable=False,
            reasons=[str(r) for r in result.reasons],
            nearest=[str(n) for n in result.nearest],
            reasons_zh=[zh_of(r) for r in result.reasons],
            nearest_zh=[zh_of(n) for n in result.nearest],
            pool_id=None,
            center=None,
            province=None,
            model=None,
            price_fen=None,
            cards=request.cards,
            duration_s=request.duration_s,
            cost_fen=None,
            voucher_fen=0,
            voucher_program_id=None,
            voucher_note=None,
            cost_after_voucher_fen=None,
            wallet_fen=wallet,
            at=now,
        )
    found = capacity_repo.pool_with_center(session, result.pool_id)
    assert found is not None  # the snapshot came from these rows
    pool, center = found
    cost = usage_cost_fen(request.cards * request.duration_s, result.price_fen)
    voucher, program_id, note = _voucher(
        session,
        clock,
        request,
        LeaseParties(principal.org_id, center.provider_id, center.id, pool.model),
        cost,
        now + timedelta(seconds=request.duration_s),
    )
    return Quote(
        placeable=True,
        reasons=[],
        nearest=[],
        pool_id=pool.id,
        center_id=center.id,
        center=center.name,
        center_zh=center.name_zh,
        province=center.province,
        model=pool.model,
        price_fen=result.price_fen,
        cards=request.cards,
        duration_s=request.duration_s,
        cost_fen=cost,
        voucher_fen=voucher,
        voucher_program_id=program_id,
        voucher_note=note,
        cost_after_voucher_fen=cost - voucher,
        preempts=preempts,
        wallet_fen=wallet,
        wallet_covers=wallet >= cost,
        at=now,
    )


def _voucher(
    session: Session,
    clock: Clock,
    request: Request,
    parties: LeaseParties,
    cost_fen: int,
    settles_at: datetime,
) -> tuple[int, int | None, str | None]:
    """``(fen, program id, note)`` the buyer's grants would pay for ``cost_fen``."""
    if not request.use_voucher:
        return 0, None, "no voucher: the request declines vouchers (use_voucher is false)"
    decision = decide_voucher(
        session, Ledger(session, clock), parties, cost_fen, settles_at, lock=False
    )
    if decision.choice is None:
        if decision.note is not None:
            return 0, None, decision.note
        if vouchers_repo.usable_grants(session, parties.buyer_id, clock.now()):
            return (
                0,
                None,
                (
                    "no voucher: the buyer's grants expire before the lease would end "
                    f"({settles_at.isoformat()})"
                ),
            )
        return 0, None, "no voucher: no approved grant with money left"
    c = decision.choice
    return c.paid.amount_fen, c.program.id, voucher_note(c.program, cost_fen, c.rate, c.paid)
