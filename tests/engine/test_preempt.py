"""Preemption planning: newest interruptible work first, only as much as the nodes need."""

from __future__ import annotations

from tests.engine.build import free_of, pool, snapshot, spots

from suanli.engine import Demand, make_engine
from suanli.engine.preempt import Held, plan_preemption


def test_frees_only_what_the_chosen_node_needs_newest_first() -> None:
    # one 8-card node with 2 free; three interruptible leases hold 2 + 2 + 2 of the rest
    snap = snapshot([pool(1, cards_per_node=8)], [(100, 1, 2)])
    held = [Held(7, 100, 2, 10.0), Held(8, 100, 2, 30.0), Held(9, 100, 2, 20.0)]
    plan = plan_preemption(make_engine("price"), snap, Demand(cards=6), held)
    assert plan is not None
    assert spots(plan.placement) == [(100, 6)]
    # short by 4: the two newest (placed at 30 and 20) go, the oldest stays
    assert plan.victims == (8, 9)
    assert free_of(snap) == {100: 2}  # the snapshot itself is not changed


def test_none_when_even_freeing_everything_is_not_enough() -> None:
    snap = snapshot([pool(1, cards_per_node=8)], [(100, 1, 2)])
    held = [Held(1, 100, 2, 0.0)]
    assert plan_preemption(make_engine("price"), snap, Demand(cards=6), held) is None
    assert plan_preemption(make_engine("price"), snap, Demand(cards=1), []) is None


def test_gang_takes_back_cards_on_every_node_it_uses() -> None:
    snap = snapshot([pool(1, cards_per_node=8)], [(1, 1, 0), (2, 1, 0)])
    held = [Held(5, 1, 8, 1.0), Held(6, 2, 8, 2.0)]
    plan = plan_preemption(make_engine("price"), snap, Demand(cards=16, cards_per_node=8), held)
    assert plan is not None
    assert sorted(spots(plan.placement)) == [(1, 8), (2, 8)]
    assert plan.victims == (5, 6)


def test_keys_break_ties_between_holders_placed_together() -> None:
    snap = snapshot([pool(1, cards_per_node=8)], [(100, 1, 4)])
    held = [Held(3, 100, 2, 5.0), Held(4, 100, 2, 5.0)]
    plan = plan_preemption(make_engine("price"), snap, Demand(cards=6), held)
    assert plan is not None and plan.victims == (4,)
