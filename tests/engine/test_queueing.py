"""The queue policy (:mod:`suanli.engine.queueing`): order, backfill, dominated demands,
the early stop, and which pools a demand could ever use."""

from __future__ import annotations

from suanli.engine import Demand, Engine
from suanli.engine.queueing import (
    BACKFILL,
    FIFO,
    SMALLEST,
    QueuePass,
    constraint_key,
    size_of,
    usable_pools,
)

from .build import pool, snapshot

LOOSE = constraint_key(Demand(cards=1))


def test_sizes_and_keys() -> None:
    assert size_of(Demand(cards=1)) == SMALLEST
    assert size_of(Demand(cards=4)) == (4, 1, -1)
    assert size_of(Demand(cards=16, cards_per_node=8)) == (8, 2, 1)  # ethernet at least
    assert size_of(Demand(cards=16, cards_per_node=8, inter_node="infiniband")) == (8, 2, 3)
    # the size is not part of the key; everything else that says where it may go is
    assert constraint_key(Demand(cards=8)) == LOOSE
    assert constraint_key(Demand(cards=16, cards_per_node=8)) == LOOSE
    assert constraint_key(Demand(cards=1, provinces=frozenset({"贵州"}))) != LOOSE
    assert constraint_key(Demand(cards=1, max_price_fen=900)) != LOOSE
    # an open shape is only ever compared with itself
    open_4 = Demand(cards=4, split=True)
    assert constraint_key(open_4) != LOOSE
    assert constraint_key(open_4) != constraint_key(Demand(cards=5, split=True))
    assert constraint_key(Demand(cards=1, split=True)) == LOOSE  # one card: one shape


def test_a_bigger_demand_under_the_same_key_is_dominated() -> None:
    run = BACKFILL.start()
    run.fail(LOOSE, (4, 1, -1))
    assert run.dominated(LOOSE, (4, 1, -1))
    assert run.dominated(LOOSE, (8, 1, -1))
    assert run.dominated(LOOSE, (4, 2, 1))  # a gang of 4-card nodes needs 4-card nodes
    assert not run.dominated(LOOSE, (2, 1, -1))
    assert not run.dominated("elsewhere", (8, 1, -1))
    run.fail(LOOSE, (8, 2, 3))
    assert run.dominated(LOOSE, (8, 3, 3))
    assert not run.dominated(LOOSE, (2, 4, 1))  # slower fabric: more pools may take it
    assert not run.over


def _attempts(fits: dict[str, bool]) -> tuple[list[str], object]:
    asked: list[str] = []

    def attempt(name: str, current: QueuePass) -> bool:
        asked.append(name)
        if fits[name]:
            return True
        current.fail(LOOSE, (1, 1, -1) if name.startswith("one") else (8, 1, -1))
        return False

    return asked, attempt


def test_backfill_lets_later_demands_past_one_that_does_not_fit() -> None:
    fits = {"big": False, "small": True, "other": False, "last": True}
    asked, attempt = _attempts(fits)
    left = BACKFILL.start(loosest=LOOSE).run(list(fits), attempt)  # type: ignore[arg-type]
    assert asked == ["big", "small", "other", "last"]
    assert left == ["big", "other"]


def test_strict_fifo_stops_at_the_first_demand_that_does_not_fit() -> None:
    fits = {"first": True, "big": False, "small": True}
    asked, attempt = _attempts(fits)
    left = FIFO.start(loosest=LOOSE).run(list(fits), attempt)  # type: ignore[arg-type]
    assert asked == ["first", "big"]
    assert left == ["big", "small"]
    assert FIFO.tries_on_arrival(0) and not FIFO.tries_on_arrival(1)
    assert BACKFILL.tries_on_arrival(5)


def test_the_pass_ends_when_one_card_of_the_loosest_key_fails() -> None:
    fits = {"big": False, "one": False, "small": True}
    asked, attempt = _attempts(fits)
    left = BACKFILL.start(loosest=LOOSE).run(list(fits), attempt)  # type: ignore[arg-type]
    assert asked == ["big", "one"]
    assert left == ["big", "one", "small"]
    other = BACKFILL.start(loosest="another key")
    other.fail(LOOSE, SMALLEST)
    assert not other.over  # not the queue's loosest key: others may still fit


def test_usable_pools_follow_the_engine_filters() -> None:
    snap = snapshot(
        [
            pool(1, province="贵州"),
            pool(2, province="浙江", inter_node="ethernet"),
            pool(3, model="T4", cards_per_node=4),
            pool(4, price=5000),
        ],
        [(10, 1, 8), (20, 2, 0), (30, 3, 4), (40, 4, 8)],
    )
    engine = Engine()
    assert usable_pools(engine, snap, Demand(cards=1)) == {1, 2, 3, 4}  # busy or not
    assert usable_pools(engine, snap, Demand(cards=8)) == {1, 2, 4}
    assert usable_pools(engine, snap, Demand(cards=1, provinces=frozenset({"浙江"}))) == {2}
    assert usable_pools(engine, snap, Demand(cards=1, max_price_fen=1000)) == {1, 2, 3}
    gang = Demand(cards=16, cards_per_node=8, inter_node="infiniband")
    assert usable_pools(engine, snap, gang) == {1, 4}
    assert usable_pools(engine, snap, Demand(cards=1, accepted_models=frozenset({"T4"}))) == {3}
    # an open shape may go to any pool one of its shapes fits: 8 on a node, or 2 x 4
    assert usable_pools(engine, snap, Demand(cards=8, split=True)) == {1, 2, 3, 4}
