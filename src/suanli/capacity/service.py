"""Registering centers and pools, changing them, and listing capacity.

Providers see and change only their own centers and pools (others' are 404); the
operator sees all; everyone may browse the public offer list.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from suanli import catalog
from suanli.capacity.schemas import (
    CenterIn,
    CenterOut,
    CenterPatch,
    OfferOut,
    PoolIn,
    PoolOut,
    PoolPatch,
)
from suanli.catalog.regions import province_en, province_zh, provinces_in
from suanli.engine import INTER_NODE_RANK
from suanli.kit.clock import Clock
from suanli.kit.errors import ConflictError, NotFoundError, ValidationError
from suanli.orgs.auth import Principal, Scope
from suanli.store import capacity_repo as repo
from suanli.store.models import Center, Pool
from suanli.vocab import CenterStatus

INTRA_NODE = frozenset({"pcie", "nvlink", "hccs", "ub", "xgmi", "mlu-link", "xpu-link"})


def _canonical_province(text: str) -> str:
    try:
        return province_zh(text)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


def canonical_model(text: str) -> str:
    try:
        return catalog.get(text).model
    except catalog.UnknownAcceleratorError as exc:
        raise ValidationError(str(exc)) from exc


def _center_out(center: Center, totals: tuple[int, int] = (0, 0)) -> CenterOut:
    return CenterOut(
        id=center.id,
        provider_id=center.provider_id,
        name=center.name,
        name_zh=center.name_zh,
        province=center.province,
        city=center.city,
        pue=center.pue,
        rack_kw=center.rack_kw,
        status=center.status,
        created_at=center.created_at,
        cards=totals[0],
        cards_free=totals[1],
    )


def pool_out(pool: Pool, free: int) -> PoolOut:
    return PoolOut(
        id=pool.id,
        center_id=pool.center_id,
        name=pool.name,
        model=pool.model,
        nodes=pool.nodes,
        cards_per_node=pool.cards_per_node,
        cpu_per_node=pool.cpu_per_node,
        memory_gb_per_node=pool.memory_gb_per_node,
        intra_node=pool.intra_node,
        inter_node=pool.inter_node,
        inter_node_gbps=pool.inter_node_gbps,
        price_fen=pool.price_fen,
        active=pool.active,
        created_at=pool.created_at,
        cards=pool.nodes * pool.cards_per_node,
        cards_free=free,
        reported_total_cards=pool.reported_total_cards,
        reported_free_cards=pool.reported_free_cards,
        capacity_reported_at=pool.capacity_reported_at,
    )


class CapacityService:
    """Supply-side operations for one caller inside one transaction."""

    def __init__(self, session: Session, clock: Clock, principal: Principal) -> None:
        self.session = session
        self.clock = clock
        self.principal = principal

    # -- centers ----------------------------------------------------------------------
    def _own_center(self, center_id: int) -> Center:
        center = repo.center(self.session, center_id)
        if center is None or (
            not self.principal.is_operator and center.provider_id != self.principal.org_id
        ):
            raise NotFoundError("center", center_id)
        return center

    def register_center(self, data: CenterIn, *, provider_id: int | None = None) -> CenterOut:
        self.principal.require(Scope.CENTERS_WRITE)
        owner = self.principal.org_id if provider_id is None else provider_id
        if provider_id is not None and not self.principal.is_operator:
            raise ValidationError("only the operator may register a center for another provider")
        if any(c.name == data.name for c in repo.centers(self.session, owner)):
            raise ConflictError(f"you already have a center named {data.name!r}")
        center = Center(
            provider_id=owner,
            name=data.name,
            name_zh=data.name_zh,
            province=_canonical_province(data.province),
            city=data.city,
            pue=data.pue,
            rack_kw=data.rack_kw,
            status=data.status,
            created_at=self.clock.now(),
        )
        self.session.add(center)
        self.session.flush()
        return _center_out(center)

    def _totals(self, centers: list[Center]) -> dict[int, tuple[int, int]]:
        pools = [p for c in centers for p in repo.pools(self.session, center_id=c.id)]
        free = repo.free_by_pool(self.session, [p.id for p in pools])
        totals: dict[int, tuple[int, int]] = {}
        for p in pools:
            cards, cards_free = totals.get(p.center_id, (0, 0))
            totals[p.center_id] = (
                cards + p.nodes * p.cards_per_node,
                cards_free + free.get(p.id, 0),
            )
        return totals

    def list_centers(self) -> list[CenterOut]:
        self.principal.require(Scope.CENTERS_READ)
        owner = None if self.principal.is_operator else self.principal.org_id
        centers = repo.centers(self.session, owner)
        totals = self._totals(centers)
        return [_center_out(c, totals.get(c.id, (0, 0))) for c in centers]

    def get_center(self, center_id: int) -> CenterOut:
        self.principal.require(Scope.CENTERS_READ)
        center = self._own_center(center_id)
        return _center_out(center, self._totals([center]).get(center.id, (0, 0)))

    def update_center(self, center_id: int, patch: CenterPatch) -> CenterOut:
        self.principal.require(Scope.CENTERS_WRITE)
        center = self._own_center(center_id)
        if patch.status is not None and patch.status is not center.status:
            center.status = patch.status
            repo.changed(self.session, (), structure=True)
        if patch.pue is not None:
            center.pue = patch.pue
        if patch.rack_kw is not None:
            center.rack_kw = patch.rack_kw
        self.session.flush()
        return _center_out(center, self._totals([center]).get(center.id, (0, 0)))

    # -- pools ------------------------------------------------------------------------
    def add_pool(self, center_id: int, data: PoolIn) -> PoolOut:
        self.principal.require(Scope.CENTERS_WRITE)
        center = self._own_center(center_id)
        if center.status is CenterStatus.PLANNED:
            raise ConflictError(f"center {center_id} is planned; activate it before adding pools")
        model = canonical_model(data.model)
        if data.inter_node not in INTER_NODE_RANK:
            raise ValidationError(
                f"unknown inter_node {data.inter_node!r}; use one of {', '.join(INTER_NODE_RANK)}"
            )
        if data.intra_node not in INTRA_NODE:
            raise ValidationError(
                f"unknown intra_node {data.intra_node!r}; "
                f"use one of {', '.join(sorted(INTRA_NODE))}"
            )
        if any(p.name == data.name for p in repo.pools(self.session, center_id=center_id)):
            raise ConflictError(f"center {center_id} already has a pool named {data.name!r}")
        pool = Pool(
            center_id=center.id,
            name=data.name,
            model=model,
            nodes=data.nodes,
            cards_per_node=data.cards_per_node,
            cpu_per_node=data.cpu_per_node,
            memory_gb_per_node=data.memory_gb_per_node,
            intra_node=data.intra_node,
            inter_node=data.inter_node,
            inter_node_gbps=data.inter_node_gbps,
            price_fen=data.price_fen,
            active=True,
            created_at=self.clock.now(),
        )
        self.session.add(pool)
        self.session.flush()
        repo.add_nodes(self.session, pool)
        self.session.flush()
        return pool_out(pool, pool.nodes * pool.cards_per_node)

    def _own_pool(self, pool_id: int) -> Pool:
        found = repo.pool_with_center(self.session, pool_id)
        if found is None or (
            not self.principal.is_operator and found[1].provider_id != self.principal.org_id
        ):
            raise NotFoundError("pool", pool_id)
        return found[0]

    def list_pools(self, center_id: int | None = None) -> list[PoolOut]:
        self.principal.require(Scope.CENTERS_READ)
        if center_id is not None:
            self._own_center(center_id)
        owner = None if self.principal.is_operator else self.principal.org_id
        pools = repo.pools(self.session, provider_id=owner, center_id=center_id)
        free = repo.free_by_pool(self.session, [p.id for p in pools])
        return [pool_out(p, free.get(p.id, 0)) for p in pools]

    def get_pool(self, pool_id: int) -> PoolOut:
        self.principal.require(Scope.CENTERS_READ)
        pool = self._own_pool(pool_id)
        return pool_out(pool, repo.free_by_pool(self.session, [pool.id]).get(pool.id, 0))

    def update_pool(self, pool_id: int, patch: PoolPatch) -> PoolOut:
        """Change a pool's price (applies to new leases only) or take it off the market."""
        self.principal.require(Scope.CENTERS_WRITE)
        pool = self._own_pool(pool_id)
        if patch.price_fen is not None:
            pool.price_fen = patch.price_fen
        if patch.active is not None:
            pool.active = patch.active
        repo.changed(self.session, (pool.id,), structure=True)
        self.session.flush()
        return pool_out(pool, repo.free_by_pool(self.session, [pool.id]).get(pool.id, 0))

    # -- the market's view ------------------------------------------------------------
    def offers(
        self,
        *,
        model: str | None = None,
        province: str | None = None,
        min_free: int = 0,
        max_price_fen: int | None = None,
        min_memory_gb: int | None = None,
        inter_node: str | None = None,
        region: str | None = None,
    ) -> list[OfferOut]:
        """Active pools of active centers, with free cards; anyone may browse.

        ``min_memory_gb`` is per card (the catalog's figure for the pool's model);
        ``inter_node`` is the pools' inter-node fabric exactly (none, ethernet, roce,
        infiniband); ``region`` is one of the catalog's geographic regions of provinces
        (:data:`suanli.catalog.regions.REGIONS`)."""
        self.principal.require(Scope.CAPACITY_READ)
        wanted_model = canonical_model(model) if model else None
        wanted_province = _canonical_province(province) if province else None
        if inter_node is not None and inter_node not in INTER_NODE_RANK:
            raise ValidationError(
                f"unknown inter_node {inter_node!r}; use one of {', '.join(INTER_NODE_RANK)}"
            )
        in_region: frozenset[str] | None = None
        if region is not None:
            try:
                in_region = frozenset(provinces_in(region))
            except ValueError as exc:
                raise ValidationError(str(exc)) from exc
        rows = repo.offer_rows(self.session, model=wanted_model)
        free = repo.free_by_pool(
            self.session, None if wanted_model is None else [r.pool_id for r in rows]
        )
        found = []
        for r in rows:
            if wanted_province and r.province != wanted_province:
                continue
            if max_price_fen is not None and r.price_fen > max_price_fen:
                continue
            if free.get(r.pool_id, 0) < min_free:
                continue
            if inter_node is not None and r.inter_node != inter_node:
                continue
            if in_region is not None and r.province not in in_region:
                continue
            acc = catalog.get(r.model)
            if min_memory_gb is not None and acc.memory_gb < min_memory_gb:
                continue
            found.append(
                OfferOut(
                    pool_id=r.pool_id,
                    center_id=r.center_id,
                    center=r.center,
                    center_zh=r.center_zh,
                    province=r.province,
                    city=r.city,
                    model=r.model,
                    memory_gb=acc.memory_gb,
                    fp16_tflops=acc.fp16_tflops,
                    cards_per_node=r.cards_per_node,
                    inter_node=r.inter_node,
                    price_fen=r.price_fen,
                    cards=r.cards,
                    cards_free=free.get(r.pool_id, 0),
                )
            )
        found.sort(key=lambda o: (o.price_fen, -o.cards_free, o.pool_id))
        return found


__all__ = ["CapacityService", "canonical_model", "pool_out", "province_en"]
