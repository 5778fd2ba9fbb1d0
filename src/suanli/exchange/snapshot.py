"""Turning the database's free capacity and a stored request into engine inputs, and
the snapshot cache a process keeps between placements."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from functools import partial
from typing import NamedTuple
from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from suanli import catalog
from suanli.engine import Demand, PoolInfo, Snapshot, SnapshotBuilder
from suanli.store import capacity_repo
from suanli.store.capacity_repo import Epoch, SnapshotRow
from suanli.store.models import Request


def load_snapshot(session: Session, *, listed: bool = False) -> Snapshot:
    """Free capacity of every active pool at every active center, now.

    Where a center's agent reported the cluster's own count of free cards for a pool
    (its other work included), no more than that is offered: nodes are filled up to the
    reported count in id order. The nodes' counters still decide every reservation.

    ``listed``: everything the exchange lists, all idle, at centers of any status: the
    most it could ever offer."""
    return _build(capacity_repo.snapshot_rows(session, listed=listed))[0]


def _build(rows: list[SnapshotRow]) -> tuple[Snapshot, dict[int, Owner]]:
    """The snapshot of ``rows`` and who owns each of its pools."""
    builder = SnapshotBuilder()
    owners: dict[int, Owner] = {}
    for row in rows:
        if row.pool_id not in owners:
            owners[row.pool_id] = Owner(row.center_id, row.provider_id, row.model)
            builder.add_pool(_pool_info(row))
    for node_id, pool_id, free in offered(rows):
        builder.add_node(node_id, pool_id, free)
    return builder.build(), owners


class Owner(NamedTuple):
    """Where a pool is and whose it is: what a lease on it records."""

    center_id: int
    provider_id: int
    model: str


def _pool_info(row: SnapshotRow) -> PoolInfo:
    acc = catalog.get(row.model)
    return PoolInfo(
        pool_id=row.pool_id,
        center_id=row.center_id,
        label=f"{row.center_name}/{row.pool_name}",
        label_zh=f"{row.center_name_zh}/{row.pool_name}" if row.center_name_zh else None,
        model=row.model,
        province=row.province,
        price_fen=row.price_fen,
        cards_per_node=row.cards_per_node,
        memory_gb=acc.memory_gb,
        tflops=float(acc.fp16_tflops),
        inter_node=row.inter_node,
    )


def offered(rows: Iterable[SnapshotRow]) -> Iterator[tuple[int, int, int]]:
    """``(node_id, pool_id, free)`` for rows in node-id order: each node's free cards, but
    a pool's nodes together no more than its agent's last count (filled in id order)."""
    left: dict[int, int | None] = {}
    for row in rows:
        if row.pool_id not in left:
            left[row.pool_id] = row.reported_free
        free = row.free
        cap = left[row.pool_id]
        if cap is not None:
            free = min(free, cap)
            left[row.pool_id] = cap - free
        yield row.node_id, row.pool_id, free


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
    """The free capacity of every offered pool, kept between placements and shared by a
    process's threads (:func:`shared_cache`).

    Never trusted blindly: :meth:`get` first reads the database's capacity epoch (one
    row). Where pools were added or changed terms (the structure moved) it loads
    everything again; where only free cards moved, it re-reads just the pools changed
    since its own epoch. It is still only a hint: the nodes' conditional updates decide
    every reservation. Engine calls on the snapshot hold :attr:`lock`; a placement
    applies its reservation in place at once (:meth:`Engine.reserve`) and marks its pools
    :meth:`stale` if the transaction then fails.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._snapshot: Snapshot | None = None
        self._at = Epoch(-1, -1, -1)
        self._stale: set[int] = set()
        self._listed: tuple[tuple[int, int], Snapshot] | None = None
        self._owners: dict[int, Owner] = {}
        self._held: dict[int, dict[int, int]] = {}
        """Cards open transactions reserved in place, by transaction then node: what a
        re-read of committed rows must still leave taken."""

    def get(self, session: Session) -> Snapshot:
        """The snapshot, brought up to the epoch committed now and to what this
        transaction itself changed."""
        if capacity_repo.pending_structure(session):
            return load_snapshot(session)  # its own pools: a view for it alone
        now = capacity_repo.epoch(session)
        mine = capacity_repo.pending(session)
        if mine:  # what it reads includes this transaction's own changes
            capacity_repo.on_rollback(session, partial(self.stale, mine))
        with self.lock:
            snap, at, stale = self._snapshot, self._at, frozenset(self._stale) | mine
            same = (at.generation, at.structure) == (now.generation, now.structure)
            if snap is not None and same:
                if at.epoch == now.epoch and not stale:
                    return snap
            else:
                snap = None
        if snap is None:
            fresh, owners = _build(capacity_repo.snapshot_rows(session))
            with self.lock:
                for node, cards in self._held_by_others(id(session)).items():
                    with contextlib.suppress(KeyError):
                        row = fresh.row_of(node)
                        fresh.node_free[row] = max(0, fresh.node_free[row] - cards)
                if self._snapshot is None or self._newer(now):
                    self._snapshot, self._at, self._owners = fresh, now, owners
                    self._stale.clear()
            return fresh
        rows = capacity_repo.snapshot_rows(session, since=at.epoch, pool_ids=stale)
        with self.lock:
            if self._snapshot is not snap or self._at.structure != now.structure:
                return self._snapshot or snap  # another thread moved it meanwhile
            held = self._held_by_others(id(session))
            try:
                updates = [
                    (snap.row_of(node), max(0, free - held.get(node, 0)))
                    for node, _, free in offered(rows)
                ]
            except KeyError:  # a node it never had: load everything next time
                self._snapshot = None
                return snap
            for row, free in updates:
                snap.node_free[row] = free
            if now.epoch > self._at.epoch:
                self._at = now
            self._stale -= stale
            return snap

    def hold(self, session: Session, taken: Iterable[tuple[int, int]]) -> None:
        """``(node_id, cards)`` this transaction took off the snapshot in place: keep them
        taken through re-reads of committed rows until it ends."""
        with self.lock:
            mine = self._held.setdefault(id(session), {})
            for node, cards in taken:
                mine[node] = mine.get(node, 0) + cards
        capacity_repo.on_end(session, partial(self._release_hold, id(session)))

    def _release_hold(self, token: int) -> None:
        with self.lock:
            self._held.pop(token, None)

    def _held_by_others(self, token: int) -> dict[int, int]:
        total: dict[int, int] = {}
        for owner, nodes in self._held.items():
            if owner != token:
                for node, cards in nodes.items():
                    total[node] = total.get(node, 0) + cards
        return total

    def owner(self, pool_id: int) -> Owner | None:
        """The center, provider and model of a pool in the snapshot."""
        return self._owners.get(pool_id)

    def _newer(self, now: Epoch) -> bool:
        return (now.generation, now.structure, now.epoch) >= (
            self._at.generation,
            self._at.structure,
            self._at.epoch,
        )

    def listed(self, session: Session) -> Snapshot:
        """Everything listed, as if idle (see :func:`load_snapshot`); changes only with
        the structure."""
        now = capacity_repo.epoch(session)
        key = (now.generation, now.structure)
        found = self._listed
        if found is not None and found[0] == key:
            return found[1]
        snap = load_snapshot(session, listed=True)
        self._listed = (key, snap)
        return snap

    def stale(self, pool_ids: Iterable[int]) -> None:
        """Re-read these pools before the next use (a reservation that did not hold)."""
        with self.lock:
            self._stale.update(pool_ids)

    def invalidate(self) -> None:
        """Load everything again before the next use."""
        with self.lock:
            self._snapshot = None

    @property
    def loaded(self) -> Snapshot | None:
        return self._snapshot


_SHARED: WeakKeyDictionary[Engine, SnapshotCache] = WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def shared_cache(session: Session) -> SnapshotCache:
    """The one snapshot cache of this process for ``session``'s database."""
    engine = session.get_bind().engine
    with _SHARED_LOCK:
        found = _SHARED.get(engine)
        if found is None:
            found = _SHARED[engine] = SnapshotCache()
        return found
