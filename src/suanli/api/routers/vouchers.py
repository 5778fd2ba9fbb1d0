"""Voucher programs: issuers run them, buyers apply for grants, leases redeem them.

Who may do what is the service's business (:mod:`suanli.vouchers.service`,
:mod:`suanli.vouchers.flag_service`): other tenants' objects answer 404, a role without
the scope 403. Creates (programs, grant applications, clawbacks) honour
``Idempotency-Key``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from suanli.api.context import Ctx
from suanli.api.errors import errors
from suanli.api.params import PathId
from suanli.kit.bounds import Id
from suanli.orgs.auth import Principal
from suanli.store import orgs_repo
from suanli.store.models import VoucherGrant, VoucherProgram
from suanli.vocab import FlagKind, FlagStatus, GrantStatus
from suanli.vouchers.flag_service import VoucherFlags
from suanli.vouchers.schemas import (
    ClawbackIn,
    ClawbackOut,
    FlagOut,
    FlagResolveIn,
    GrantDecisionIn,
    GrantIn,
    GrantOut,
    ProgramIn,
    ProgramOut,
    RedemptionOut,
    RevokeIn,
)
from suanli.vouchers.service import Vouchers

router = APIRouter(prefix="/v1/vouchers", tags=["vouchers"], responses=errors(403))


def _vouchers(ctx: Ctx, session: Session, principal: Principal) -> Vouchers:
    return Vouchers(session, ctx.state.clock, principal)


def _flags(ctx: Ctx, session: Session, principal: Principal) -> VoucherFlags:
    return VoucherFlags(session, ctx.state.clock, principal)


def _grant_out(session: Session, grant: VoucherGrant) -> GrantOut:
    return GrantOut.of(grant, orgs_repo.names(session, [grant.buyer_id]).get(grant.buyer_id, ""))


def _program_out(service: Vouchers, program: VoucherProgram) -> ProgramOut:
    return ProgramOut.of(program, service.fund_fen(program))


# -- programs ------------------------------------------------------------------------------
@router.post("/programs", status_code=201, response_model=ProgramOut, responses=errors(404, 409))
def create_program(
    body: ProgramIn,
    ctx: Ctx,
    issuer_id: Annotated[Id | None, Query(description="operator only")] = None,
) -> JSONResponse:
    """Create a program; its whole budget is paid into its fund at once."""

    def work(session: Session, principal: Principal) -> ProgramOut:
        service = _vouchers(ctx, session, principal)
        return _program_out(service, service.create_program(body, issuer_id=issuer_id))

    return ctx.create(body, work)


@router.get("/programs", response_model=list[ProgramOut])
def list_programs(
    ctx: Ctx, mine: bool = Query(default=False, description="issuers: only your own")
) -> list[ProgramOut]:
    def work(session: Session, principal: Principal) -> list[ProgramOut]:
        service = _vouchers(ctx, session, principal)
        return [_program_out(service, p) for p in service.programs(mine=mine)]

    return ctx.run(work)


@router.get("/programs/{program_id}", response_model=ProgramOut)
def get_program(program_id: PathId, ctx: Ctx) -> ProgramOut:
    def work(session: Session, principal: Principal) -> ProgramOut:
        service = _vouchers(ctx, session, principal)
        return _program_out(service, service.program(program_id))

    return ctx.run(work)


@router.post("/programs/{program_id}/close", response_model=ProgramOut, responses=errors(409))
def close_program(program_id: PathId, ctx: Ctx) -> ProgramOut:
    """Close a program: live grants end, the unspent fund goes back to its funders."""

    def work(session: Session, principal: Principal) -> ProgramOut:
        service = _vouchers(ctx, session, principal)
        return _program_out(service, service.close_program(program_id))

    return ctx.run(work)


# -- grants --------------------------------------------------------------------------------
@router.post("/grants", status_code=201, response_model=GrantOut, responses=errors(404, 409))
def apply(body: GrantIn, ctx: Ctx) -> JSONResponse:
    """A buyer applies for a grant in a program."""
    return ctx.create(body, lambda s, p: _grant_out(s, _vouchers(ctx, s, p).apply(body)))


@router.get("/grants", response_model=list[GrantOut])
def list_grants(
    ctx: Ctx, program_id: Id | None = None, status: GrantStatus | None = None
) -> list[GrantOut]:
    def work(session: Session, principal: Principal) -> list[GrantOut]:
        grants = _vouchers(ctx, session, principal).grants(program_id=program_id, status=status)
        names = orgs_repo.names(session, (g.buyer_id for g in grants))
        return [GrantOut.of(g, names.get(g.buyer_id, "")) for g in grants]

    return ctx.run(work)


@router.get("/grants/{grant_id}", response_model=GrantOut)
def get_grant(grant_id: PathId, ctx: Ctx) -> GrantOut:
    return ctx.run(lambda s, p: _grant_out(s, _vouchers(ctx, s, p).grant(grant_id)))


@router.post("/grants/{grant_id}/decision", response_model=GrantOut, responses=errors(409))
def decide(grant_id: PathId, body: GrantDecisionIn, ctx: Ctx) -> GrantOut:
    """Approve (rates frozen, first tranche released) or reject with a reason."""
    return ctx.run(lambda s, p: _grant_out(s, _vouchers(ctx, s, p).decide(grant_id, body)))


@router.post("/grants/{grant_id}/release", response_model=GrantOut, responses=errors(409))
def release(grant_id: PathId, ctx: Ctx) -> GrantOut:
    """Release the next tranche (only after the grant paid for metered use)."""
    return ctx.run(lambda s, p: _grant_out(s, _vouchers(ctx, s, p).release_tranche(grant_id)))


@router.post("/grants/{grant_id}/revoke", response_model=GrantOut, responses=errors(409))
def revoke(grant_id: PathId, body: RevokeIn, ctx: Ctx) -> GrantOut:
    """Withdraw an approved grant; with ``claw_back`` also take back what it redeemed."""
    return ctx.run(lambda s, p: _grant_out(s, _vouchers(ctx, s, p).revoke(grant_id, body)))


# -- redemptions and clawbacks -------------------------------------------------------------
@router.get("/redemptions", response_model=list[RedemptionOut])
def list_redemptions(ctx: Ctx, program_id: Id | None = None) -> list[RedemptionOut]:
    def work(session: Session, principal: Principal) -> list[RedemptionOut]:
        service = _vouchers(ctx, session, principal)
        redemptions = service.redemptions(program_id=program_id)
        names = orgs_repo.names(
            session, {org for r in redemptions for org in (r.buyer_id, r.provider_id)}
        )
        return [RedemptionOut.of(r, service.usage_record_ids(r), names) for r in redemptions]

    return ctx.run(work)


@router.post(
    "/redemptions/{redemption_id}/clawback",
    status_code=201,
    response_model=ClawbackOut,
    responses=errors(409),
)
def claw_back(redemption_id: PathId, body: ClawbackIn, ctx: Ctx) -> JSONResponse:
    """Take (part of) a redemption back into the program's fund."""
    return ctx.create(
        body, lambda s, p: ClawbackOut.of(_vouchers(ctx, s, p).claw_back(redemption_id, body))
    )


# -- flags ---------------------------------------------------------------------------------
@router.get("/flags", response_model=list[FlagOut])
def list_flags(
    ctx: Ctx, status: FlagStatus | None = None, kind: FlagKind | None = None
) -> list[FlagOut]:
    return ctx.run(
        lambda s, p: [FlagOut.of(f) for f in _flags(ctx, s, p).flags(status=status, kind=kind)]
    )


@router.post("/flags/scan", response_model=list[FlagOut])
def scan_flags(ctx: Ctx) -> list[FlagOut]:
    """Look for subsidy flowing back from providers' payouts to buyers' top-ups."""
    return ctx.run(lambda s, p: [FlagOut.of(f) for f in _flags(ctx, s, p).scan()])


@router.get("/flags/{flag_id}", response_model=FlagOut)
def get_flag(flag_id: PathId, ctx: Ctx) -> FlagOut:
    return ctx.run(lambda s, p: FlagOut.of(_flags(ctx, s, p).flag(flag_id)))


@router.post("/flags/{flag_id}/resolve", response_model=FlagOut, responses=errors(409))
def resolve_flag(flag_id: PathId, body: FlagResolveIn, ctx: Ctx) -> FlagOut:
    """Dismiss or confirm a flag; confirmed with ``claw_back`` takes the subsidy back."""
    return ctx.run(lambda s, p: FlagOut.of(_flags(ctx, s, p).resolve(flag_id, body)))
