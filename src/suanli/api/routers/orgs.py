"""Organizations and keys (operator only), and who am I."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from suanli.api.context import Ctx
from suanli.api.errors import errors
from suanli.api.params import PathId
from suanli.kit.errors import NotFoundError
from suanli.orgs.auth import Principal, Scope
from suanli.orgs.schemas import KeyIn, KeyOut, OrgIn, OrgOut
from suanli.orgs.service import create_key, create_org
from suanli.store import orgs_repo
from suanli.vocab import OrgRole

router = APIRouter(prefix="/v1/orgs", tags=["organizations"])


@router.post("", status_code=201, response_model=OrgOut, responses=errors(403, 409))
def create(body: OrgIn, ctx: Ctx) -> JSONResponse:
    def work(session: Session, principal: Principal) -> OrgOut:
        principal.require(Scope.ADMIN)
        org = create_org(session, ctx.state.clock, **body.model_dump())
        return OrgOut.of(org)

    return ctx.create(body, work)


@router.get("", response_model=list[OrgOut], responses=errors(403))
def listing(ctx: Ctx, role: OrgRole | None = None) -> list[OrgOut]:
    def work(session: Session, principal: Principal) -> list[OrgOut]:
        principal.require(Scope.ADMIN)
        return [OrgOut.of(o) for o in orgs_repo.listing(session, role)]

    return ctx.run(work)


@router.get("/me", response_model=OrgOut)
def me(ctx: Ctx) -> OrgOut:
    def work(session: Session, principal: Principal) -> OrgOut:
        org = orgs_repo.by_id(session, principal.org_id)
        if org is None:  # pragma: no cover
            raise NotFoundError("organization", principal.org_id)
        return OrgOut.of(org)

    return ctx.run(work)


@router.post("/{org_id}/keys", status_code=201, response_model=KeyOut, responses=errors(403))
def new_key(org_id: PathId, body: KeyIn, ctx: Ctx) -> JSONResponse:
    def work(session: Session, principal: Principal) -> KeyOut:
        principal.require(Scope.ADMIN)
        if orgs_repo.by_id(session, org_id) is None:
            raise NotFoundError("organization", org_id)
        issued = create_key(session, ctx.state.clock, org_id, body.label)
        return KeyOut(id=issued.id, org_id=org_id, key=issued.secret)

    return ctx.create(body, work)
