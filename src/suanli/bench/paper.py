"""The FGD paper's own figures, and where the shared data lives.

``fgd_paper_results.csv`` (shared/data/openb) holds the paper's mean of 10 seeds for six
policies on five pod lists. Shared data is found through ``$SUANLI_SHARED_DATA``, else
``../shared/data`` beside the repository (or the current directory).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from suanli.bench.openb import Figures

#: Our policy names -> the paper's.
PAPER_POLICY = {
    "random": "01-Random",
    "dotprod": "02-DotProd",
    "clustering": "03-GpuClustering",
    "packing": "04-GpuPacking",
    "bestfit": "05-BestFit",
    "fgd": "06-FGD",
}
RESULTS = "openb/fgd_paper_results.csv"


def shared_data() -> Path | None:
    """The shared data folder, if one can be found."""
    env = os.environ.get("SUANLI_SHARED_DATA")
    candidates = [Path(env)] if env else []
    repo = Path(__file__).resolve().parents[3]
    candidates += [repo.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    return next((c for c in candidates if c.is_dir()), None)


def paper_figures(trace: str, root: Path | None = None) -> dict[str, Figures]:
    """The paper's figures for pod list ``trace`` (file stem), by our policy name.

    Empty when the results file is missing or does not cover ``trace``.
    """
    root = root if root is not None else shared_data()
    path = root / RESULTS if root is not None else None
    if path is None or not path.is_file():
        return {}
    ours = {v: k for k, v in PAPER_POLICY.items()}
    out: dict[str, Figures] = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            if row["workload"] != trace or row["policy"] not in ours:
                continue
            out[ours[row["policy"]]] = Figures(
                alloc_pct_at_100=float(row["alloc_pct_at_arrival100"]),
                alloc_pct_at_130=float(row["alloc_pct_at_arrival130_mean"]),
                frag_pct_at_100=float(row["frag_pct_of_cluster_at_arrival100"]),
                unalloc_pct_at_130=float(row["unalloc_pct_at_arrival130"]),
            )
    return out
