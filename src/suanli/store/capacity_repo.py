"""SQL for centers, pools and nodes, including the free-capacity snapshot and the
conditional updates that reserve and release cards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, null, select, update
from sqlalchemy.orm import Session

from suanli.store.models import Center, Node, Pool
from suanli.vocab import CenterStatus


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


def pool(session: Session, pool_id: int) -> Pool | None:
    return session.get(Pool, pool_id)


def pool_with_center(session: Session, pool_id: int) -> tuple[Pool, Center] | None:
    row = session.execute(
        select(Pool, Center).join(Center, Center.id == Pool.center_id).where(Pool.id == pool_id)
    ).first()
    return None if row is None else (row[0], row[1])


def add_nodes(session: Session, pool: Pool) -> None:
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


def snapshot_rows(session: Session, *, listed: bool = False) -> list[SnapshotRow]:
    """Every node of every active pool of every active center, with its free cards.

    ``listed``: every node of every active pool, whatever its center's status, as if
    idle (what the exchange could ever offer, for requests no pool could hold)."""
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
        )
        .join(Pool, Pool.id == Node.pool_id)
        .join(Center, Center.id == Pool.center_id)
        .where(Pool.active.is_(True))
        .order_by(Node.id)
    )
    if not listed:
        stmt = stmt.where(Center.status == CenterStatus.ACTIVE)
    return [SnapshotRow(*row) for row in session.execute(stmt)]


def take_cards(session: Session, node_id: int, cards: int) -> bool:
    """Reserve ``cards`` on a node if (and only if) they are still free.

    A single conditional UPDATE: on PostgreSQL a concurrent writer waits for the row
    lock and then re-checks the condition against the committed row, so two
    transactions can never both take the last card.
    """
    result = session.execute(
        update(Node)
        .where(Node.id == node_id, Node.cards_free >= cards)
        .values(cards_free=Node.cards_free - cards)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def return_cards(session: Session, node_id: int, cards: int) -> None:
    """Give ``cards`` back to a node (the check constraint guards the upper bound)."""
    session.execute(
        update(Node)
        .where(Node.id == node_id)
        .values(cards_free=Node.cards_free + cards)
        .execution_options(synchronize_session=False)
    )


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
