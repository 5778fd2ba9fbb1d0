"""Preemption: which interruptible work gives its cards back to on-demand work.

On-demand work that fits nowhere may take cards back from interruptible work. The engine
places the demand on a copy of the snapshot where every held (interruptible) reservation's
cards are free; if it fits there, the holders on the chosen nodes are preempted, newest
first and only as many as each node needs. The live exchange and the simulator both call
:func:`plan_preemption`, so they preempt the same work in the same state.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from suanli.engine.demand import Demand, Placement
from suanli.engine.pipeline import Engine
from suanli.engine.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class Held:
    """Whole cards that interruptible work ``key`` holds on one node since ``placed``."""

    key: int
    node_id: int
    cards: int
    placed: float


@dataclass(frozen=True, slots=True)
class Preemption:
    """Where the demand would go, and whose work must stop (keys, ascending). Once they
    stopped, place the demand again on the real snapshot: ``placement`` names the nodes,
    but on a node the GPUs freed may be other than the ones it lists."""

    placement: Placement
    victims: tuple[int, ...]


def plan_preemption(
    engine: Engine, snap: Snapshot, demand: Demand, held: Sequence[Held]
) -> Preemption | None:
    """The preemption that makes room for ``demand``, or None if even freeing every held
    card would not. ``snap`` is not changed; ties between holders placed at the same time
    go to the larger key (the later one)."""
    if not held:
        return None
    trial = snap.copy()
    free_now: dict[int, int] = {}
    for h in held:
        with contextlib.suppress(KeyError):
            row = trial.row_of(h.node_id)
            free_now.setdefault(h.node_id, int(snap.node_free[row]))
            trial.node_free[row] += h.cards
    placement = engine.choose(trial, demand)
    if placement is None:
        return None
    victims: list[int] = []
    newest_first = sorted(held, key=lambda h: (h.placed, h.key), reverse=True)
    for allocation in placement.allocations:
        short = allocation.cards - free_now.get(allocation.node_id, allocation.cards)
        for h in newest_first:
            if short <= 0:
                break
            if h.node_id == allocation.node_id and h.key not in victims:
                victims.append(h.key)
                short -= h.cards
    if not victims:
        return None
    return Preemption(placement, tuple(sorted(victims)))
