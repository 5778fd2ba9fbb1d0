"""Turning the database's free capacity and a stored request into engine inputs."""

from __future__ import annotations

from sqlalchemy.orm import Session

from suanli import catalog
from suanli.engine import Demand, PoolInfo, Snapshot, SnapshotBuilder
from suanli.store import capacity_repo
from suanli.store.models import Request


def load_snapshot(session: Session, *, listed: bool = False) -> Snapshot:
    """Free capacity of every active pool at every active center, now.

    Where a center's agent reported the cluster's own count of free cards for a pool
    (its other work included), no more than that is offered: nodes are filled up to the
    reported count in id order. The nodes' counters still decide every reservation.

    ``listed``: everything the exchange lists, all idle, at centers of any status: the
    most it could ever offer."""
    builder = SnapshotBuilder()
    cap_left: dict[int, int | None] = {}
    for row in capacity_repo.snapshot_rows(session, listed=listed):
        if row.pool_id not in cap_left:
            cap_left[row.pool_id] = row.reported_free
            acc = catalog.get(row.model)
            builder.add_pool(
                PoolInfo(
                    pool_id=row.pool_id,
                    center_id=row.center_id,
                    label=f"{row.center_name}/{row.pool_name}",
                    label_zh=f"{row.center_name_zh}/{row.pool_name}"
                    if row.center_name_zh
                    else None,
                    model=row.model,
                    province=row.province,
                    price_fen=row.price_fen,
                    cards_per_node=row.cards_per_node,
                    memory_gb=acc.memory_gb,
                    tflops=float(acc.fp16_tflops),
                    inter_node=row.inter_node,
                )
            )
        free = row.free
        left = cap_left[row.pool_id]
        if left is not None:
            free = min(free, left)
            cap_left[row.pool_id] = left - free
        builder.add_node(row.node_id, row.pool_id, free)
    return builder.build()


def demand_of(request: Request) -> Demand:
    """The engine's view of a stored request. A request without ``cards_per_node`` has
    an open shape: the engine may spread it over nodes where no node is big enough."""
    gang = request.cards_per_node is not None and request.cards_per_node < request.cards
    open_shape = request.cards_per_node is None
    return Demand(
        cards=request.cards,
        cards_per_node=request.cards_per_node if gang else None,
        inter_node=request.inter_node if gang or open_shape else None,
        split=open_shape,
        accepted_models=frozenset(request.accepted_models or ()),
        min_memory_gb=request.min_memory_gb,
        min_tflops=float(request.min_tflops) if request.min_tflops is not None else None,
        provinces=frozenset(request.provinces or ()),
        max_price_fen=request.max_price_fen,
    )


class SnapshotCache:
    """A snapshot kept between placements, so a run of decisions loads it once.

    It is only a hint: the database's conditional updates decide. Whoever frees cards
    (a lease ends, a pool is added) calls :meth:`invalidate`; a placement that lost a
    race invalidates it too; a successful one is applied with :meth:`reserve`.
    """

    def __init__(self) -> None:
        self._snapshot: Snapshot | None = None

    def get(self, session: Session) -> Snapshot:
        if self._snapshot is None:
            self._snapshot = load_snapshot(session)
        return self._snapshot

    def invalidate(self) -> None:
        self._snapshot = None

    def release(self, freed: list[tuple[int, int]]) -> None:
        """Cards given back, as ``(node_id, cards)``; unknown nodes force a reload."""
        snap = self._snapshot
        if snap is None:
            return
        try:
            rows = [(snap.row_of(node_id), cards) for node_id, cards in freed]
        except KeyError:
            self._snapshot = None
            return
        for row, cards in rows:
            snap.node_free[row] += cards

    @property
    def loaded(self) -> Snapshot | None:
        return self._snapshot
