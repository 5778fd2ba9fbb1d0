"""The study's PNG plots (matplotlib, Agg backend: no display needed).

- ``utilization_over_time.png``: hourly fleet utilization at load 1, per scenario;
- ``wait_cdf.png``: CDF of queueing delay at load 1, per scenario;
- ``center_utilization.png``: utilization per center at load 1, scenarios side by side;
- ``load_sweep.png``: p95 wait vs load (with the target line) and utilization vs load.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from suanli.sim.study import Study

PLOTS = (
    "utilization_over_time.png",
    "wait_cdf.png",
    "center_utilization.png",
    "load_sweep.png",
)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_plots(study: Study, out: Path) -> list[str]:
    """Draw the four plots into ``out``; their file names, in :data:`PLOTS` order."""
    plt = _pyplot()
    names = list(study.scenarios)
    out.mkdir(parents=True, exist_ok=True)

    # utilization over time
    fig, ax = plt.subplots(figsize=(10, 4))
    for name in names:
        util = study.scenarios[name].base.metrics.hourly_utilization()
        ax.plot([k / 24 for k in range(len(util))], util, label=name, linewidth=0.8)
    ax.set_xlabel("days since the first arrival")
    ax.set_ylabel("utilization (hourly)")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"{study.trace}: fleet utilization over time, load 1")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / PLOTS[0], dpi=110)
    plt.close(fig)

    # CDF of queueing delay
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name in names:
        waits = sorted(study.scenarios[name].base.waits)
        if not waits:
            continue
        n = len(waits)
        ax.step(
            [w / 3600 for w in waits], [(k + 1) / n for k in range(n)], where="post", label=name
        )
    ax.set_xscale("symlog", linthresh=0.01)
    ax.axvline(study.settings.target_s / 3600, color="grey", linestyle="--", label="target")
    ax.set_xlabel("queueing delay (hours, symlog)")
    ax.set_ylabel("fraction of jobs")
    ax.set_ylim(0, 1.01)
    ax.set_title(f"{study.trace}: CDF of queueing delay, load 1")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / PLOTS[1], dpi=110)
    plt.close(fig)

    # per-center utilization
    first = study.scenarios[names[0]].base.metrics
    centers = [c.name for c in first.centers]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(centers) * len(names)), 4.5))
    width = 0.8 / len(names)
    for k, name in enumerate(names):
        uses = study.scenarios[name].base.metrics.centers
        ax.bar(
            [i + k * width for i in range(len(uses))],
            [u.utilization or 0.0 for u in uses],
            width,
            label=name,
        )
    ax.set_xticks([i + width * (len(names) - 1) / 2 for i in range(len(centers))])
    ax.set_xticklabels(centers, rotation=45, ha="right")
    ax.set_ylabel("utilization")
    ax.set_title(f"{study.trace}: utilization per center, load 1")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / PLOTS[2], dpi=110)
    plt.close(fig)

    # the load sweep
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 7), sharex=True)
    for name in names:
        s = study.scenarios[name]
        sweep = s.sweep()
        loads = [p.load for p in sweep]
        top.plot(loads, [(p.wait_p95_s or 0) / 3600 for p in sweep], marker="o", label=name)
        bottom.plot(loads, [p.utilization or 0.0 for p in sweep], marker="o", label=name)
        if s.max_load is not None:
            bottom.scatter([s.max_load], [s.utilization_at_target or 0.0], s=120, marker="*")
    top.axhline(study.settings.target_s / 3600, color="grey", linestyle="--", label="target")
    top.set_yscale("symlog", linthresh=0.1)
    top.set_ylim(bottom=0)
    top.set_ylabel("p95 queueing delay (hours)")
    top.set_title(f"{study.trace}: load sweep")
    top.legend()
    bottom.set_xlabel("load (arrival rate x)")
    bottom.set_ylabel("utilization")
    bottom.legend()
    fig.tight_layout()
    fig.savefig(out / PLOTS[3], dpi=110)
    plt.close(fig)
    return list(PLOTS)
