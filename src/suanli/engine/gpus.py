"""GPU pickers: which GPUs of the chosen node a demand gets.

Whole GPUs always go to the lowest-index wholly free GPUs (as Kubernetes' GPU-share plugin
and the FGD simulator allocate them); pickers differ only on a share of one GPU.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from suanli.engine.demand import MILLI, Demand
from suanli.engine.snapshot import Snapshot


def whole_gpus(snap: Snapshot, row: int, count: int) -> tuple[int, ...]:
    """The ``count`` lowest-index wholly free GPUs of ``row``."""
    milli = snap.gpu_free[row].tolist()  # (GPUs past the node's own are never free)
    if count == 1 and MILLI in milli:
        return (milli.index(MILLI),)
    free = [g for g, m in enumerate(milli) if m == MILLI]
    if len(free) < count:
        raise ValueError(f"node {int(snap.node_id[row])} has fewer than {count} free cards")
    return tuple(free[:count])


def fitting_gpus(snap: Snapshot, demand: Demand, row: int) -> list[int]:
    """Indices of the GPUs of ``row`` with at least the demand's share free."""
    need = demand.gpu_milli  # (GPUs past the node's own have 0 free: they never fit)
    return [g for g, milli in enumerate(snap.gpu_free[row].tolist()) if milli >= need]


class BestFitGpu:
    """A share goes to the fitting GPU with the least free (lowest index on ties)."""

    name: ClassVar[str] = "bestfit-gpu"

    def pick(self, snap: Snapshot, demand: Demand, row: int) -> tuple[int, ...]:
        cards = demand.cards
        if cards == 0:
            return ()
        need = demand.gpu_milli
        if need >= MILLI:  # whole GPUs (a share is always of one GPU)
            per_node = demand.cards_per_node
            return whole_gpus(snap, row, cards if per_node is None else per_node)
        best, least = -1, MILLI + 1
        for gpu, milli in enumerate(snap.gpu_free[row].tolist()):
            if need <= milli < least:  # the least free that fits, the lowest index on ties
                best, least = gpu, milli
        return (best,)


class RandomFitGpu:
    """A share goes to a fitting GPU drawn uniformly (the paper's Random policy)."""

    name: ClassVar[str] = "random-gpu"

    def __init__(self, rng: np.random.Generator | None = None) -> None:
        self.rng = rng if rng is not None else np.random.default_rng(0)

    def pick(self, snap: Snapshot, demand: Demand, row: int) -> tuple[int, ...]:
        if demand.cards == 0:
            return ()
        if not demand.is_share:
            return whole_gpus(snap, row, demand.per_node)
        fits = fitting_gpus(snap, demand, row)
        return (fits[int(self.rng.integers(len(fits)))],)
