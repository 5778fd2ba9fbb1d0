"""Placement policies by name: which scores, weights, GPU picker and tie-break an engine uses.

======== ==============================================================================
name     what it is
======== ==============================================================================
price    the live exchange's default: cheapest pool first, then the snuggest node
random   paper baseline: a uniformly random feasible node, a random fitting GPU
dotprod  paper baseline: Tetris-style dot product of free and asked (CPU, GPU)
packing  paper baseline: GpuPacking (shared GPUs, then used nodes, then idle nodes)
clustering paper baseline: GpuClustering (keep one kind of GPU work per node)
bestfit  paper baseline: least CPU and GPU left after placing
fgd      the FGD paper's policy: least increase of fragmentation (needs a demand mix)
suanli   ours: expected idle GPU (hole model) plus GPUs stranded by missing CPU (needs a mix)
======== ==============================================================================

Ties go to the given tie-break (:mod:`suanli.engine.select`); else, with a generator, to a
uniform draw (as Kubernetes does); else to the lowest node id.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from suanli.engine.fgd import FgdGpu, FgdScore
from suanli.engine.gpus import BestFitGpu, RandomFitGpu
from suanli.engine.mix import DemandMix
from suanli.engine.ours import SuanliGpu, SuanliScore
from suanli.engine.paper import (
    DotProductScore,
    GpuClusteringScore,
    GpuPackingScore,
    PaperBestFitScore,
    RandomScore,
)
from suanli.engine.pipeline import Engine
from suanli.engine.protocols import GpuPicker, NodeScore
from suanli.engine.scores import BestFitScore, PriceScore
from suanli.engine.select import TieBreak

POLICIES: tuple[str, ...] = (
    "price",
    "random",
    "dotprod",
    "packing",
    "clustering",
    "bestfit",
    "fgd",
    "suanli",
)
#: Policies that measure fragmentation against a demand mix.
NEEDS_MIX = frozenset({"fgd", "suanli"})


def make_engine(
    policy: str = "price",
    *,
    mix: DemandMix | None = None,
    rng: np.random.Generator | None = None,
    tie: TieBreak | None = None,
    weights: Mapping[str, int] | None = None,
) -> Engine:
    """An engine for ``policy``; ``weights`` overrides score weights by plugin name.

    ``rng`` drives the random policy and, unless ``tie`` says otherwise, breaks ties.
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; choose one of {', '.join(POLICIES)}")
    if policy in NEEDS_MIX and mix is None:
        raise ValueError(f"policy {policy!r} needs a demand mix")
    picker: GpuPicker = BestFitGpu()
    scores: list[tuple[NodeScore, int]]
    if policy == "price":
        scores = [(PriceScore(), 100), (BestFitScore(), 1)]
    elif policy == "random":
        scores = [(RandomScore(rng), 1)]
        picker = RandomFitGpu(rng)
    elif policy == "dotprod":
        scores = [(DotProductScore(), 1)]
    elif policy == "packing":
        scores = [(GpuPackingScore(), 1)]
    elif policy == "clustering":
        scores = [(GpuClusteringScore(), 1)]
    elif policy == "bestfit":
        scores = [(PaperBestFitScore(), 1)]
    elif policy == "fgd":
        assert mix is not None
        scores = [(FgdScore(mix), 1)]
        picker = FgdGpu(mix)
    else:
        assert mix is not None
        scores = [(SuanliScore(mix), 1)]
        picker = SuanliGpu(mix)
    if weights:
        unknown = set(weights) - {plugin.name for plugin, _ in scores}
        if unknown:
            raise ValueError(f"policy {policy!r} has no score named {', '.join(sorted(unknown))}")
        scores = [(plugin, weights.get(plugin.name, w)) for plugin, w in scores]
    return Engine(
        scores=scores,
        picker=picker,
        rng=None if policy == "price" else rng,
        tie=tie,
        name=policy,
    )
