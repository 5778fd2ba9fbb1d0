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
    free = np.flatnonzero(snap.gpu_free[row, : int(snap.node_gpus[row])] == MILLI)
    if free.size < count:
        raise ValueError(f"node {int(snap.node_id[row])} has fewer than {count} free cards")
    return tuple(int(g) for g in free[:count])


def fitting_gpus(snap: Snapshot, demand: Demand, row: int) -> list[int]:
    """Indices of the GPUs of ``row`` with at least the demand's share free."""
    count = int(snap.node_gpus[row])
    return [int(g) for g in np.flatnonzero(snap.gpu_free[row, :count] >= demand.gpu_milli)]


class BestFitGpu:
    """A share goes to the fitting GPU with the least free (lowest index on ties)."""

    name: ClassVar[str] = "bestfit-gpu"

    def pick(self, snap: Snapshot, demand: Demand, row: int) -> tuple[int, ...]:
        if demand.cards == 0:
            return ()
        if not demand.is_share:
            return whole_gpus(snap, row, demand.per_node)
        fits = fitting_gpus(snap, demand, row)
        return (min(fits, key=lambda g: (int(snap.gpu_free[row, g]), g)),)


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
