"""Sweeps: every combination of scenarios x policies x seeds x penalties x loads.

Each combination is one replay (:func:`~suanli.sim.run.simulate`); the replays fan out
over a local process pool or a Ray cluster (:mod:`.fanout`) and come back in the order of
the combinations, whichever finished first. The locality penalty only matters when jobs
may leave home, so the ``isolated`` scenario is replayed once per (policy, seed, load) and
reported with ``penalty_s`` None.

:func:`summarize` folds the seeds: per (scenario, policy, penalty, load) the mean, least
and greatest utilization and p95 wait over the seeds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from suanli.sim.fanout import executor
from suanli.sim.metrics import HEADLINE
from suanli.sim.model import SCENARIOS
from suanli.sim.run import DEFAULT_PENALTY_S, Replay, simulate
from suanli.sim.traces import Trace

#: The figures each run reports (keys of :meth:`Metrics.as_dict`).
FIGURES = (
    *HEADLINE,
    "ran_away_from_home",
    "preemptions",
    "lost_card_hours",
    "cost_to_buyers_fen",
    "voucher_fen",
)


@dataclass(frozen=True, slots=True)
class Grid:
    """What to sweep; every tuple non-empty."""

    scenarios: tuple[str, ...] = ("isolated", "exchange")
    policies: tuple[str, ...] = ("price",)
    seeds: tuple[int, ...] = (0,)
    penalties: tuple[int, ...] = (DEFAULT_PENALTY_S,)
    loads: tuple[float, ...] = (1.0,)
    interruptible: float = 0.0

    def __post_init__(self) -> None:
        for name in ("scenarios", "policies", "seeds", "penalties", "loads"):
            if not getattr(self, name):
                raise ValueError(f"a sweep needs at least one of {name}")
        unknown = [s for s in self.scenarios if s not in SCENARIOS]
        if unknown:
            raise ValueError(f"unknown scenario {unknown[0]!r}; use {', '.join(SCENARIOS)}")

    def replays(self) -> list[Replay]:
        """Every combination, in a fixed order (scenario, policy, penalty, load, seed)."""
        out: list[Replay] = []
        for scenario in dict.fromkeys(self.scenarios):
            penalties = [DEFAULT_PENALTY_S] if scenario == "isolated" else self.penalties
            for policy in dict.fromkeys(self.policies):
                for penalty in dict.fromkeys(penalties):
                    for load in dict.fromkeys(self.loads):
                        for seed in dict.fromkeys(self.seeds):
                            out.append(
                                Replay(
                                    scenario,
                                    load,
                                    penalty,
                                    policy,
                                    seed,
                                    interruptible=self.interruptible,
                                )
                            )
        return out


@dataclass(frozen=True, slots=True)
class Run:
    """One replay of a sweep and its figures."""

    replay: Replay
    figures: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        r = self.replay
        return {
            "scenario": r.scenario,
            "policy": r.policy,
            "seed": r.seed,
            "penalty_s": None if r.scenario == "isolated" else r.penalty_s,
            "load": r.load,
            **self.figures,
        }


_TRACE: Trace | None = None


def _init(trace: Trace) -> None:
    global _TRACE
    _TRACE = trace


def _one(replay: Replay) -> dict[str, Any]:
    assert _TRACE is not None
    figures = simulate(_TRACE, replay).metrics.as_dict()
    return {key: figures[key] for key in FIGURES}


def run_sweep(
    trace: Trace,
    grid: Grid,
    *,
    workers: int | None = None,
    ray_address: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Run]:
    """Replay every combination of ``grid``; ``progress(1)`` hears of each finished one."""
    replays = grid.replays()
    with executor(_init, (trace,), workers=workers, ray_address=ray_address) as pool:
        futures = [pool.submit(_one, r) for r in replays]
        if progress is not None:
            for f in futures:
                f.add_done_callback(lambda _f: progress(1))
        return [Run(r, f.result()) for r, f in zip(replays, futures, strict=True)]


def summarize(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """Per (scenario, policy, penalty, load): the seeds' mean, least and greatest
    utilization and p95 wait (None where no job ran)."""
    groups: dict[tuple[str, str, int | None, float], list[Run]] = {}
    for run in runs:
        d = run.as_dict()
        groups.setdefault((d["scenario"], d["policy"], d["penalty_s"], d["load"]), []).append(run)
    out: list[dict[str, Any]] = []
    for (scenario, policy, penalty, load), members in groups.items():
        row: dict[str, Any] = {
            "scenario": scenario,
            "policy": policy,
            "penalty_s": penalty,
            "load": load,
            "seeds": len(members),
        }
        for key in ("utilization", "wait_p95_s"):
            values = [m.figures[key] for m in members if m.figures[key] is not None]
            row[f"{key}_mean"] = round(fmean(values), 6) if values else None
            row[f"{key}_min"] = min(values, default=None)
            row[f"{key}_max"] = max(values, default=None)
        out.append(row)
    return out
