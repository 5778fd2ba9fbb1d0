"""The activation study: how much more of the same fleet each scenario puts to work.

For every scenario the study replays the trace at load 1 (the figures of ``sim run``) and
sweeps the load (the arrival rate scaled by X, see :class:`~suanli.sim.run.Replay`):

1. the grid (default :data:`GRID`) is evaluated; while every grid load passes (p95
   queueing delay <= the target), the highest is doubled, up to :data:`MAX_LOAD`;
2. between the highest load before the first failure (``lo``; 0 when the lowest grid load
   fails already) and that first failure (``hi``), the study bisects on tenths: the
   midpoint ``(lo + hi) / 2`` rounded down to a tenth is replayed, and it becomes ``lo``
   when it passes, ``hi`` otherwise, until ``hi - lo <= 0.1``;
3. ``max_load_at_target`` is ``lo`` (None when no load passes) and
   ``utilization_at_target`` the utilization measured at that load.

Every replay is deterministic for its (scenario, load), and which loads are replayed
depends only on the results, never on how many workers ran them, so the study gives the
same figures for any ``workers``. Replays fan out over a local process pool or a Ray
cluster (:mod:`.fanout`; both scenarios' bisection steps run side by side).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from suanli.sim.fanout import executor
from suanli.sim.metrics import HEADLINE, Metrics
from suanli.sim.model import DEFAULT_SCENARIOS
from suanli.sim.run import DEFAULT_PENALTY_S, Replay, simulate
from suanli.sim.traces import Trace

GRID: tuple[float, ...] = (1, 2, 3, 4, 6, 8)
MAX_LOAD = 64.0
DEFAULT_TARGET_S = 3600
TENTH = 10
"""Bisection works on integer tenths of a load."""

JSON_KEYS = ("jobs", *HEADLINE)


@dataclass(frozen=True, slots=True)
class Point:
    """One replay of the sweep."""

    load: float
    wait_p95_s: int | None
    utilization: float | None

    def passes(self, target_s: int) -> bool:
        return self.wait_p95_s is None or self.wait_p95_s <= target_s


@dataclass(frozen=True, slots=True)
class Detail:
    """The load-1 replay of a scenario, with every job's wait (for the CDF)."""

    metrics: Metrics
    waits: tuple[int, ...]


@dataclass(slots=True)
class ScenarioStudy:
    name: str
    base: Detail
    points: dict[float, Point] = field(default_factory=dict)
    max_load: float | None = None
    capped: bool = False
    """Every load up to :data:`MAX_LOAD` passed: the true maximum is higher."""

    @property
    def utilization_at_target(self) -> float | None:
        if self.max_load is None:
            return None
        return self.points[self.max_load].utilization

    def sweep(self) -> list[Point]:
        return [self.points[k] for k in sorted(self.points)]

    def as_dict(self) -> dict[str, Any]:
        figures = self.base.metrics.as_dict()
        out = {key: figures[key] for key in JSON_KEYS}
        util = self.utilization_at_target
        out["max_load_at_target"] = self.max_load
        out["utilization_at_target"] = None if util is None else round(util, 6)
        out["max_load_capped"] = self.capped
        out["sweep"] = [
            {
                "load": p.load,
                "wait_p95_s": p.wait_p95_s,
                "utilization": None if p.utilization is None else round(p.utilization, 6),
            }
            for p in self.sweep()
        ]
        return out


@dataclass(frozen=True, slots=True)
class Settings:
    target_s: int = DEFAULT_TARGET_S
    grid: tuple[float, ...] = GRID
    penalty_s: int = DEFAULT_PENALTY_S
    policy: str = "price"
    seed: int = 0
    scenarios: tuple[str, ...] = DEFAULT_SCENARIOS
    interruptible: float = 0.0
    """Share of jobs that run interruptible (see :class:`~suanli.sim.run.Replay`)."""

    def __post_init__(self) -> None:
        if not 0 <= self.interruptible <= 1:
            raise ValueError(f"interruptible is a share in 0..1, not {self.interruptible}")
        if self.target_s < 0:
            raise ValueError("the target wait must not be negative")
        if not self.grid or any(not 0 < g <= MAX_LOAD for g in self.grid):
            raise ValueError(f"grid loads must be in (0, {MAX_LOAD:g}]")


@dataclass(slots=True)
class Study:
    trace: str
    jobs: int
    cards: int
    settings: Settings
    scenarios: dict[str, ScenarioStudy]
    replays: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"scenarios": {name: s.as_dict() for name, s in self.scenarios.items()}}


# -- the workers -------------------------------------------------------------------------
_TRACE: Trace | None = None


def _init(trace: Trace) -> None:
    global _TRACE
    _TRACE = trace


def _replay(scenario: str, load: float, settings: Settings, detail: bool) -> Point | Detail:
    assert _TRACE is not None
    replay = Replay(
        scenario,
        load,
        settings.penalty_s,
        settings.policy,
        settings.seed,
        interruptible=settings.interruptible,
    )
    out = simulate(_TRACE, replay)
    m = out.metrics
    if detail:
        waits = tuple(w for w in out.waited if w >= 0)
        return Detail(m, waits)
    return Point(load, m.waits.p95, m.utilization)


def _tenths(load: float) -> int:
    return round(load * TENTH)


def run_study(
    trace: Trace,
    settings: Settings | None = None,
    *,
    workers: int | None = None,
    ray_address: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Study:
    """Run the study (see the module docstring) with ``workers`` processes (default: one
    per CPU; 1 runs everything in this process) or on Ray (:mod:`.fanout`)."""
    settings = settings or Settings()
    grid = sorted(set(settings.grid))
    replays = 0

    def say(text: str) -> None:
        if progress is not None:
            progress(text)

    with executor(_init, (trace,), workers=workers, ray_address=ray_address) as pool:

        def fan(calls: Iterable[tuple[str, float, bool]]) -> list[Point | Detail]:
            nonlocal replays
            futures = [pool.submit(_replay, s, load, settings, d) for s, load, d in calls]
            replays += len(futures)
            return [f.result() for f in futures]

        names = list(settings.scenarios)
        say(f"load 1 and the grid {', '.join(f'{g:g}' for g in grid)}")
        calls = [(s, 1.0, True) for s in names]
        calls += [(s, g, False) for s in names for g in grid if g != 1.0]
        results = fan(calls)
        studies: dict[str, ScenarioStudy] = {}
        for s, res in zip(names, results[: len(names)], strict=True):
            assert isinstance(res, Detail)
            studies[s] = ScenarioStudy(s, res)
            m = res.metrics
            if 1.0 in grid:
                studies[s].points[1.0] = Point(1.0, m.waits.p95, m.utilization)
        for (s, _, _), res in zip(calls[len(names) :], results[len(names) :], strict=True):
            assert isinstance(res, Point)
            studies[s].points[res.load] = res

        def bounds(study: ScenarioStudy) -> tuple[int, int | None]:
            """(lo, hi) in tenths: highest pass before the first failure, first failure."""
            lo = 0
            for load in sorted(study.points):
                if not study.points[load].passes(settings.target_s):
                    return lo, _tenths(load)
                lo = _tenths(load)
            return lo, None

        # extend: double the highest load while everything passes
        while True:
            todo = []
            for s in names:
                lo, hi = bounds(studies[s])
                top = max(studies[s].points)
                if hi is None and top < MAX_LOAD:
                    todo.append((s, min(top * 2, MAX_LOAD), False))
            if not todo:
                break
            say("extending: " + ", ".join(f"{s} at {load:g}" for s, load, _ in todo))
            for (s, _, _), res in zip(todo, fan(todo), strict=True):
                assert isinstance(res, Point)
                studies[s].points[res.load] = res

        # bisect, both scenarios side by side
        while True:
            todo = []
            for s in names:
                lo, hi = bounds(studies[s])
                if hi is not None and hi - lo > 1:
                    todo.append((s, ((lo + hi) // 2) / TENTH, False))
            if not todo:
                break
            say("bisecting: " + ", ".join(f"{s} at {load:g}" for s, load, _ in todo))
            for (s, _, _), res in zip(todo, fan(todo), strict=True):
                assert isinstance(res, Point)
                studies[s].points[res.load] = res

        for s in names:
            lo, hi = bounds(studies[s])
            at = [load for load in studies[s].points if lo and _tenths(load) == lo]
            studies[s].max_load = at[0] if at else None
            studies[s].capped = hi is None
    cards = sum(c.cards for c in trace.centers)
    return Study(trace.name, len(trace.jobs), cards, settings, studies, replays)


def parse_loads(text: str) -> tuple[float, ...]:
    """``"1,2,3"`` -> (1.0, 2.0, 3.0)."""
    try:
        loads = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError as exc:
        raise ValueError(f"--loads must be numbers separated by commas, not {text!r}") from exc
    if not loads:
        raise ValueError("--loads is empty")
    return loads


def _fmt(value: float | int | None, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4f}{unit}"
    return f"{value:,}{unit}"


def _hours(seconds: float | int | None) -> str:
    return "–" if seconds is None else f"{seconds / 3600:,.2f} h"


def report(study: Study, command: str, plots: Sequence[str], elapsed_s: float | None) -> str:
    """The study as Markdown."""
    names = list(study.scenarios)
    st = study.settings
    lines = [
        f"# Activation study: {study.trace}",
        "",
        f"{study.jobs:,} jobs on {study.cards:,} cards; target p95 queueing delay "
        f"{_hours(st.target_s)} ({st.target_s:,} s); locality penalty {st.penalty_s} s; "
        f"policy `{st.policy}`; seed {st.seed}"
        + (
            f"; {st.interruptible:.0%} of jobs interruptible (preempted by on-demand work)."
            if st.interruptible
            else "."
        ),
        "",
        "## The activation figure",
        "",
        "| scenario | max load at target | utilization at target |",
        "|---|---:|---:|",
    ]
    for name in names:
        s = study.scenarios[name]
        load = "–" if s.max_load is None else f"{s.max_load:g}" + ("+" if s.capped else "")
        lines.append(f"| {name} | {load} | {_fmt(s.utilization_at_target)} |")
    if "isolated" in study.scenarios and "exchange" in study.scenarios:
        iso, exc = study.scenarios["isolated"], study.scenarios["exchange"]
        ui, ue = iso.utilization_at_target, exc.utilization_at_target
        if ui is not None and ue is not None:
            lines += [
                "",
                f"**The exchange puts {ue - ui:+.4f} of the fleet to work "
                f"({(ue - ui) * 100:+.2f} percentage points; {ue:.2%} vs {ui:.2%}) at the "
                f"same p95 wait target**"
                + (
                    f", at {exc.max_load:g}x vs {iso.max_load:g}x the trace's arrival rate."
                    if exc.max_load and iso.max_load
                    else "."
                ),
            ]
    lines += [
        "",
        "## At the trace's own load (1x)",
        "",
        "| figure | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    rows: list[tuple[str, Callable[[Metrics], str]]] = [
        ("jobs", lambda m: _fmt(m.jobs)),
        ("utilization", lambda m: _fmt(m.utilization)),
        ("idle card-hours", lambda m: f"{m.idle_card_s / 3600:,.1f}"),
        ("wait p50", lambda m: _hours(m.waits.p50)),
        ("wait p95", lambda m: _hours(m.waits.p95)),
        ("wait p99", lambda m: _hours(m.waits.p99)),
        ("mean JCT", lambda m: _hours(m.jct_mean_s)),
        ("never ran", lambda m: _fmt(m.never_ran)),
        ("ran away from home", lambda m: _fmt(m.away)),
    ]
    for label, get in rows:
        cells = [get(study.scenarios[n].base.metrics) for n in names]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "## The load sweep", ""]
    for name in names:
        s = study.scenarios[name]
        lines += [f"### {name}", "", "| load | p95 wait | utilization | p95 <= target |"]
        lines.append("|---:|---:|---:|:---:|")
        for p in s.sweep():
            ok = "yes" if p.passes(st.target_s) else "no"
            lines.append(f"| {p.load:g} | {_hours(p.wait_p95_s)} | {_fmt(p.utilization)} | {ok} |")
        lines.append("")
    lines += [
        "## How it was computed",
        "",
        "Each scenario replays the trace through the exchange's engine (`suanli.sim`) with "
        "the arrival times divided by the load (load 2: jobs arrive twice as fast; "
        "durations unchanged). Utilization is allocated card-seconds over available "
        "card-seconds across the arrival window, waits are start minus submission "
        "(nearest-rank percentiles).",
        "",
        f"The sweep replays the grid {', '.join(f'{g:g}' for g in sorted(set(st.grid)))} "
        f"(doubling the highest load while all pass, up to {MAX_LOAD:g}), then bisects on "
        "tenths between the highest load before the first failing one and that failing "
        "load, until they are 0.1 apart. The max load at target is the highest passing "
        "load so found (`+`: every load up to the cap passed); the utilization at target is "
        "the utilization measured in that replay. The activation figure is the difference "
        "of the utilizations at target, exchange minus isolated. The bisection assumes "
        "p95 wait grows with load; it usually does, but not strictly (packing can make a "
        "slightly higher load wait a little less), so the sweep table lists every load "
        "replayed.",
        "",
        f"{study.replays} replays"
        + (f", {elapsed_s:,.1f} s wall clock." if elapsed_s is not None else "."),
        "",
        "## Plots",
        "",
        *[f"![{p}]({p})" for p in plots],
        "",
        "## Command",
        "",
        "```",
        command,
        "```",
        "",
    ]
    return "\n".join(lines)
