"""SQL for centers, pools and nodes, including the free-capacity snapshot and the
conditional updates that reserve and release cards."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event, func, null, or_, select, update
from sqlalchemy.orm import Session

from suanli.store.models import CapacityEpoch, Center, Node, Pool
from suanli.vocab import CenterStatus

_CHANGED = "suanli.capacity.changed"
_STRUCTURE = "suanli.capacity.structure"
_ON_ROLLBACK = "suanli.capacity.on_rollback"
_ON_END = "suanli.capacity.on_end"


def changed(session: Session, pool_ids: Iterable[int], *, structure: bool = False) -> None:
    """Note that this transaction changes the capacity of ``pool_ids`` (their free cards;
    with ``structure``, what is offered or on what terms). The commit raises the capacity
    epoch (see :class:`~suanli.store.models.CapacityEpoch`) so that every process's
    snapshot cache notices."""
    session.info.setdefault(_CHANGED, set()).update(pool_ids)
    if structure:
        session.info[_STRUCTURE] = True


def pending(session: Session) -> frozenset[int]:
    """The pools this transaction changed so far (not yet committed)."""
    return frozenset(session.info.get(_CHANGED, ()))


def pending_structure(session: Session) -> bool:
    """Whether this transaction changed pools or centers (not yet committed)."""
    return bool(session.info.get(_STRUCTURE))


def keep_only(session: Session, pools: frozenset[int]) -> None:
    """Forget changes noted after ``pools`` (what :func:`pending` said before a savepoint
    that was then rolled back): they did not happen."""
    session.info[_CHANGED] = set(pools)


def changed_pools(session: Session, since: int) -> set[int]:
    """Ids of the pools whose capacity changed after epoch ``since``."""
    return set(session.scalars(select(Pool.id).where(Pool.epoch > since)))


def on_rollback(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` if this transaction rolls back (caches that changed with it)."""
    session.info.setdefault(_ON_ROLLBACK, []).append(callback)


def on_end(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once this transaction ends, committed or rolled back."""
    session.info.setdefault(_ON_END, []).append(callback)


class Epoch(NamedTuple):
    """Where a database's capacity stands (see :class:`CapacityEpoch`); ``generation``
    counts the times this process saw the database's tables dropped (:func:`forget`)."""

    generation: int
    epoch: int
    structure: int


_GENERATION: WeakKeyDictionary[Engine, int] = WeakKeyDictionary()


def forget(engine: Engine) -> None:
    """The tables of ``engine``'s database were dropped: no cached epoch holds."""
    _GENERATION[engine] = _GENERATION.get(engine, 0) + 1


def epoch(session: Session) -> Epoch:
    """The capacity epoch as committed now."""
    row = session.execute(
        select(CapacityEpoch.epoch, CapacityEpoch.structure).where(CapacityEpoch.id == 1)
    ).first()
    generation = _GENERATION.get(session.get_bind().engine, 0)
    return Epoch(generation, 0, 0) if row is None else Epoch(generation, int(row[0]), int(row[1]))


@event.listens_for(Session, "before_commit")
def _raise_epoch(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: only the real commit counts
        return
    pools = session.info.pop(_CHANGED, None)
    structure = session.info.pop(_STRUCTURE, False)
    if pools is None and not structure:
        return
    session.flush()  # everything else first: the epoch row's lock is held until the commit
    values: dict[str, Any] = {"epoch": CapacityEpoch.epoch + 1}
    if structure:
        values["structure"] = CapacityEpoch.structure + 1
    raised = session.execute(
        update(CapacityEpoch)
        .where(CapacityEpoch.id == 1)
        .values(**values)
        .returning(CapacityEpoch.epoch)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    if pools:
        session.execute(
            update(Pool)
            .where(Pool.id.in_(sorted(pools)))
            .values(epoch=raised)
            .execution_options(synchronize_session=False)
        )


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.info.pop(_ON_ROLLBACK, None)
    for callback in session.info.pop(_ON_END, ()):
        callback()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.info.pop(_CHANGED, None)
    session.info.pop(_STRUCTURE, None)
    for callback in (*session.info.pop(_ON_ROLLBACK, ()), *session.info.pop(_ON_END, ())):
        callback()


def centers(session: Session, provider_id: int | None = None) -> list[Center]:
    stmt = select(Center).order_by(Center.id)
    if provider_id is not None:
        stmt = stmt.where(Center.provider_id == provider_id)
    return list(session.scalars(stmt))


def center(session: Session, center_id: int) -> Center | None:
    return session.get(Center, center_id)


def pools(
    session: Session,
    *,
    provider_id: int | None = None,
    center_id: int | None = None,
    model: str | None = None,
) -> list[Pool]:
    stmt = select(Pool).join(Center, Center.id == Pool.center_id).order_by(Pool.id)
    if provider_id is not None:
        stmt = stmt.where(Center.provider_id == provider_id)
    if center_id is not None:
        stmt = stmt.where(Pool.center_id == center_id)
    if model is not None:
        stmt = stmt.where(Pool.model == model)
    return list(session.scalars(stmt))


@dataclass(frozen=True, slots=True)
class OfferRow:
    """An offered pool and its center, as plain columns (browsing loads no objects)."""

    pool_id: int
    center_id: int
    center: str
    center_zh: str | None
    province: str
    city: str
    model: str
    cards_per_node: int
    inter_node: str
    price_fen: int
    cards: int


def offer_rows(session: Session, model: str | None = None) -> list[OfferRow]:
    """Every active pool of every active center (of ``model``), by pool id."""
    stmt = (
        select(
            Pool.id,
            Center.id,
            Center.name,
            Center.name_zh,
            Center.province,
            Center.city,
            Pool.model,
            Pool.cards_per_node,
            Pool.inter_node,
            Pool.price_fen,
            Pool.nodes * Pool.cards_per_node,
        )
        .join(Center, Center.id == Pool.center_id)
        .where(Pool.active.is_(True), Center.status == CenterStatus.ACTIVE)
        .order_by(Pool.id)
    )
    if model is not None:
        stmt = stmt.where(Pool.model == model)
    return [OfferRow(*row) for row in session.execute(stmt)]


def pool(session: Session, pool_id: int) -> Pool | None:
    return session.get(Pool, pool_id)


def pool_with_center(session: Session, pool_id: int) -> tuple[Pool, Center] | None:
    row = session.execute(
        select(Pool, Center).join(Center, Center.id == Pool.center_id).where(Pool.id == pool_id)
    ).first()
    return None if row is None else (row[0], row[1])


def add_nodes(session: Session, pool: Pool) -> None:
    changed(session, (pool.id,), structure=True)
    session.add_all(
        Node(
            pool_id=pool.id,
            index=i,
            cards_total=pool.cards_per_node,
            cards_free=pool.cards_per_node,
        )
        for i in range(pool.nodes)
    )


def free_by_pool(session: Session, pool_ids: Sequence[int] | None = None) -> dict[int, int]:
    """Free cards per pool as the exchange may offer them: the nodes' free cards, but no
    more than the center's agent last counted free in the cluster (its own work too)."""
    stmt = (
        select(Node.pool_id, func.sum(Node.cards_free), Pool.reported_free_cards)
        .join(Pool, Pool.id == Node.pool_id)
        .group_by(Node.pool_id, Pool.reported_free_cards)
    )
    if pool_ids is not None:
        stmt = stmt.where(Node.pool_id.in_(pool_ids))
    return {
        pid: int(free) if reported is None else min(int(free), int(reported))
        for pid, free, reported in session.execute(stmt)
    }


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    """One node, and what the engine needs of its pool and center (plain columns)."""

    node_id: int
    free: int
    pool_id: int
    pool_name: str
    model: str
    cards_per_node: int
    inter_node: str
    price_fen: int
    center_id: int
    center_name: str
    province: str
    reported_free: int | None = None
    center_name_zh: str | None = None
    provider_id: int = 0


def snapshot_rows(
    session: Session,
    *,
    listed: bool = False,
    since: int | None = None,
    pool_ids: Iterable[int] = (),
) -> list[SnapshotRow]:
    """Every node of every active pool of every active center, with its free cards.

    ``listed``: every node of every active pool, whatever its center's status, as if
    idle (what the exchange could ever offer, for requests no pool could hold).
    ``since``: only the pools changed after that capacity epoch, and ``pool_ids``."""
    stmt = (
        select(
            Node.id,
            Node.cards_total if listed else Node.cards_free,
            Pool.id,
            Pool.name,
            Pool.model,
            Pool.cards_per_node,
            Pool.inter_node,
            Pool.price_fen,
            Center.id,
            Center.name,
            Center.province,
            null() if listed else Pool.reported_free_cards,
            Center.name_zh,
            Center.provider_id,
        )
        .join(Pool, Pool.id == Node.pool_id)
        .join(Center, Center.id == Pool.center_id)
        .where(Pool.active.is_(True))
        .order_by(Node.id)
    )
    if not listed:
        stmt = stmt.where(Center.status == CenterStatus.ACTIVE)
    if since is not None:
        stmt = stmt.where(or_(Pool.epoch > since, Pool.id.in_(sorted(pool_ids))))
    return [SnapshotRow(*row) for row in session.execute(stmt)]


def take_cards(session: Session, node_id: int, cards: int) -> bool:
    """Reserve ``cards`` on a node if (and only if) they are still free.

    A single conditional UPDATE: on PostgreSQL a concurrent writer waits for the row
    lock and then re-checks the condition against the committed row, so two
    transactions can never both take the last card.
    """
    pool_id = session.execute(
        update(Node)
        .where(Node.id == node_id, Node.cards_free >= cards)
        .values(cards_free=Node.cards_free - cards)
        .returning(Node.pool_id)
        .execution_options(synchronize_session=False)
    ).scalar()
    if pool_id is None:
        return False
    changed(session, (pool_id,))
    return True


def return_cards(session: Session, node_id: int, cards: int) -> None:
    """Give ``cards`` back to a node (the check constraint guards the upper bound)."""
    pool_id = session.execute(
        update(Node)
        .where(Node.id == node_id)
        .values(cards_free=Node.cards_free + cards)
        .returning(Node.pool_id)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    changed(session, (pool_id,))


def total_cards_by_pool(session: Session) -> dict[int, int]:
    stmt = select(Node.pool_id, func.sum(Node.cards_total)).group_by(Node.pool_id)
    return {pid: int(total) for pid, total in session.execute(stmt)}


def center_cards(session: Session, center_id: int) -> int:
    """All cards a center lists, over its pools."""
    stmt = select(func.coalesce(func.sum(Pool.nodes * Pool.cards_per_node), 0)).where(
        Pool.center_id == center_id
    )
    return int(session.scalar(stmt) or 0)


def list_prices(session: Session, model: str) -> list[int]:
    """Every active pool's list price (fen per card-hour) for ``model``, at active centers:
    what the price index is computed from."""
    stmt = (
        select(Pool.price_fen)
        .join(Center, Center.id == Pool.center_id)
        .where(Pool.model == model, Pool.active.is_(True), Center.status == CenterStatus.ACTIVE)
    )
    return [int(price) for price in session.scalars(stmt)]
