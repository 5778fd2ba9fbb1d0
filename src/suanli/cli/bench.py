"""``suanli bench ...``: benchmarks of the placement engine on real traces.

``suanli bench openb --pods FILE --nodes FILE --policy fgd,bestfit,suanli --seeds 42-51``
runs the FGD paper's protocol (:mod:`suanli.bench.openb`) and prints the figures beside
the paper's own when the pod list is one of its five; ``--json`` prints one document,
``--plot PNG`` draws GPU allocation against arrived workload (needs matplotlib).

``suanli bench scale --cards 300000 --centers 550 --requests 100000`` measures the engine
on a national-scale fleet and request mix (:mod:`suanli.bench.scale`): snapshot build,
online placements per second and decision latency, a batch clear, peak memory.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.progress import (
    Progress,
    TaskID,
)

from suanli.bench.openb import Figures, Run, Workload, load_nodes, load_pods, plan, run
from suanli.bench.paper import paper_figures
from suanli.bench.scale import run_scale
from suanli.bench.trace import Cluster
from suanli.cli.errors import CliError
from suanli.cli.output import emit_json, progress_bar, table
from suanli.engine import POLICIES

bench_app = typer.Typer(help="Benchmarks of the placement engine on real traces.")


@bench_app.callback()
def bench() -> None:
    """Benchmarks of the placement engine on real traces."""


DEFAULT_POLICIES = "fgd,bestfit,suanli"


def parse_seeds(text: str) -> list[int]:
    """``42-51`` or ``42,43,50`` (or a mix) as a list of seeds, in order, no repeats."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            low, _, high = part.partition("-")
            first, last = int(low), int(high or low)
            if last < first:
                raise ValueError(part)
            seeds += [s for s in range(first, last + 1) if s not in seeds]
    except ValueError as exc:
        raise CliError(f"bad --seeds {text!r}: use 42-51 or 42,43") from exc
    if not seeds:
        raise CliError("--seeds names no seed")
    return seeds


def parse_policies(text: str) -> list[str]:
    names = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [p for p in names if p not in POLICIES]
    if unknown or not names:
        raise CliError(f"unknown policy {', '.join(unknown) or text!r}; use {', '.join(POLICIES)}")
    return list(dict.fromkeys(names))


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send whatever is written to file descriptor 1 (C libraries too) to stderr meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def upper_bound(cluster: Cluster, workloads: dict[int, Workload]) -> float | None:
    """The LP bound on allocation at 130%, if ``suanli.bench.bound`` is installed.

    The bound of each seed's arrived pods (the inflated list), averaged over seeds like the
    figures. The solver's own log goes to stderr, so that ``--json`` prints one document.
    """
    try:
        module: Any = importlib.import_module("suanli.bench.bound")
    except ImportError:
        return None
    values = []
    with stdout_to_stderr():
        for work in workloads.values():
            value = module.upper_bound(cluster.nodes, [a.pod for a in work.arrivals])
            if value is None or math.isnan(float(value)):
                return None
            values.append(float(value))
    return sum(values) / len(values)


def _finite(values: dict[str, float]) -> dict[str, float | None]:
    """NaN (no logged point near that arrival) as JSON null."""
    return {k: None if math.isnan(v) else v for k, v in values.items()}


def _cell(ours: float, paper: Figures | None, name: str) -> str:
    text = f"{ours:.2f}"
    if paper is not None:
        text += f" ({getattr(paper, name):.2f})"
    return text


def show(trace: str, results: dict[str, Figures], bound: float | None) -> None:
    paper = paper_figures(trace)
    names = ("alloc_pct_at_100", "alloc_pct_at_130", "frag_pct_at_100", "unalloc_pct_at_130")
    heads = (">alloc % @100", ">alloc % @130", ">frag % @100", ">unalloc % @130")
    title = f"{trace}: ours" + (" (paper)" if paper else "")
    rows = [
        [policy, *(_cell(getattr(f, n), paper.get(policy), n) for n in names)]
        for policy, f in results.items()
    ]
    table(["policy", *heads], rows, title=title)
    if bound is not None:
        table([">upper bound alloc % @130"], [[f"{bound:.2f}"]])


def plot(runs: list[Run], path: Path, trace: str) -> None:
    """GPU allocation vs arrived workload, per policy, mean over seeds (matplotlib)."""
    try:
        pyplot: Any = importlib.import_module("matplotlib.pyplot")
    except ImportError as exc:
        raise CliError("--plot needs matplotlib (pip install matplotlib)") from exc
    grid = np.arange(0, 131)
    figure, axes = pyplot.subplots(figsize=(7, 4.5))
    for policy in dict.fromkeys(r.policy for r in runs):
        curves = []
        for one in (r for r in runs if r.policy == policy):
            arrive = np.rint(one.arrived_pct).astype(np.int64)
            curve = np.full(grid.shape, np.nan)
            for pct in grid:
                picked = one.alloc_pct[arrive == pct]
                if picked.size:
                    curve[pct] = picked.mean()
            curves.append(curve)
        stack = np.vstack(curves)
        seen = (~np.isnan(stack)).sum(axis=0)
        total = np.nansum(stack, axis=0)
        mean = np.divide(total, seen, out=np.full(grid.shape, np.nan), where=seen > 0)
        axes.plot(grid, mean, label=policy)
    axes.plot(grid, np.minimum(grid, 100), color="grey", linestyle=":", label="arrived")
    axes.set_xlabel("arrived GPU request (% of cluster GPUs)")
    axes.set_ylabel("GPU allocated (% of cluster GPUs)")
    axes.set_title(f"{trace}: allocation as workload arrives")
    axes.set_xlim(0, 130)
    axes.set_ylim(0, 100)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)


@bench_app.command("openb")
def openb(
    pods: Annotated[Path, typer.Option("--pods", help="Pod list (openb CSV).")],
    nodes: Annotated[Path, typer.Option("--nodes", help="Node list (openb CSV).")],
    policy: Annotated[
        str, typer.Option("--policy", help=f"Policies, comma-separated: {', '.join(POLICIES)}.")
    ] = DEFAULT_POLICIES,
    seeds: Annotated[str, typer.Option("--seeds", help="Seeds: 42-51 or 42,43.")] = "42-51",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    plot_to: Annotated[
        Path | None, typer.Option("--plot", help="Draw allocation vs arrival to this PNG.")
    ] = None,
) -> None:
    """Run the FGD paper's protocol (shuffle, inflate to 130%, place online) per policy."""
    for path in (pods, nodes):
        if not path.is_file():
            raise CliError(f"no such file: {path}")
    policies = parse_policies(policy)
    seed_list = parse_seeds(seeds)
    pod_list = load_pods(pods)
    cluster = load_nodes(nodes)
    if not pod_list or not cluster.nodes:
        raise CliError("the pod list and the node list must not be empty")
    workloads = plan(pod_list, cluster, seed_list)
    total = sum(len(w.arrivals) for w in workloads.values()) * len(policies)
    runs: list[Run] = []
    with progress_bar(transient=as_json) as bar:
        task = bar.add_task(f"{pods.stem}: placing pods", total=total)
        results = run(
            pod_list,
            cluster,
            policies,
            seed_list,
            workloads=workloads,
            progress=lambda n: bar.advance(task, n),
            keep=runs if plot_to is not None else None,
        )
    bound = upper_bound(cluster, workloads)
    if plot_to is not None:
        plot(runs, plot_to, pods.stem)
    if as_json:
        emit_json(
            {
                "trace": pods.stem,
                "seeds": seed_list,
                "results": {p: _finite(f.as_dict()) for p, f in results.items()},
                "upper_bound_alloc_pct_at_130": bound,
            }
        )
    else:
        show(pods.stem, results, bound)


class _Bar:
    """A Rich progress bar per phase of ``bench scale``, redrawn by the measured thread at
    most twice a second (a refresh thread would take the GIL from what it measures)."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.task: TaskID | None = None
        self.drawn = 0.0

    def phase(self, name: str, total: int) -> None:
        self.task = self.bar.add_task(name, total=total)
        self.bar.refresh()

    def advance(self, done: int) -> None:
        if self.task is not None:
            self.bar.advance(self.task, done)
            if time.monotonic() - self.drawn >= 0.5:
                self.bar.refresh()
                self.drawn = time.monotonic()


#: Figure -> (unit, target, whether lower is better), for people.
SCALE_TARGETS: dict[str, tuple[str, float, bool]] = {
    "placements_per_s": ("/s", 20_000, False),
    "p99_decision_ms": ("ms", 1.0, True),
    "batch_clear_s": ("s", 10.0, True),
    "peak_rss_mb": ("MB", 4096, True),
}


@bench_app.command("scale")
def scale(
    cards: Annotated[int, typer.Option("--cards", help="Cards in the fleet (about).")] = 300_000,
    centers: Annotated[int, typer.Option("--centers", help="Computing centers.")] = 550,
    requests: Annotated[int, typer.Option("--requests", help="Requests to place.")] = 100_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of fleet and requests.")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    bound: Annotated[
        bool, typer.Option("--bound", help="Also bound any batch clearing by an LP (HiGHS).")
    ] = False,
) -> None:
    """Place a national request mix on a national fleet: online, then all at once."""
    if cards <= 0 or centers <= 0 or requests <= 0:
        raise CliError("--cards, --centers and --requests must be positive")
    with (
        progress_bar(transient=as_json, auto_refresh=False) as bar,
        stdout_to_stderr(),
    ):  # HiGHS greets on stdout
        figures = run_scale(cards, centers, requests, seed=seed, bound=bound, tracker=_Bar(bar))
    if as_json:
        emit_json(figures)
        return
    rows = []
    for name, value in figures.items():
        unit, target, lower = SCALE_TARGETS.get(name, ("", math.nan, True))
        verdict = ""
        if not math.isnan(target):
            met = value <= target if lower else value >= target
            verdict = f"{'met' if met else 'missed'} ({'<' if lower else '>'}= {target:g} {unit})"
        rows.append([name, value, verdict])
    table(["figure", ">value", "target"], rows, title=f"bench scale (seed {seed})")


@bench_app.command("sim")
def sim_speed(
    jobs: Annotated[int, typer.Option("--jobs", help="Jobs to replay (tiled slice).")] = 1_000_000,
    scenario: Annotated[str, typer.Option("--scenario", help="isolated or exchange.")] = (
        "exchange"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Replay the Philly slice tiled to --jobs jobs through the simulator, and time it."""
    from suanli.bench.paper import shared_data
    from suanli.bench.sim_speed import run_speed
    from suanli.sim.model import SCENARIOS
    from suanli.sim.traces import PHILLY_JOBS, PHILLY_VCS, TraceError, load_philly

    if jobs < 1:
        raise CliError(f"--jobs must be at least 1, got {jobs}")
    if scenario not in SCENARIOS:
        raise CliError(f"--scenario must be one of {', '.join(SCENARIOS)}, got {scenario!r}")
    root = shared_data()
    if root is None:
        raise CliError("the shared data folder was not found; set SUANLI_SHARED_DATA")
    try:
        trace = load_philly(root / PHILLY_JOBS, root / PHILLY_VCS)
    except (OSError, TraceError) as exc:
        raise CliError(f"cannot read the Philly trace: {exc}") from exc
    with Console(stderr=True).status(f"replaying {jobs:,} jobs ({scenario})"):
        figures = run_speed(trace, jobs, scenario)
    if as_json:
        emit_json(figures)
        return
    table(["figure", ">value"], list(figures.items()), title="bench sim")


@bench_app.command("api")
def api_load(
    db_url: Annotated[
        str,
        typer.Option(
            "--db",
            help="Database to run on: PostgreSQL (a database of that name is made afresh "
            "from a demo template kept beside it) or a SQLite file.",
        ),
    ] = "sqlite:///suanli-bench.db",
    workers: Annotated[int, typer.Option("--workers", help="API processes to serve.")] = 1,
    clients: Annotated[int, typer.Option("--clients", help="Concurrent clients.")] = 20,
    seconds: Annotated[float, typer.Option("--seconds", help="How long they drive.")] = 30.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the clients' choices.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """The exchange under load: suanli serve on a copy of the demo, many clients, an audit."""
    from dataclasses import asdict

    from suanli.bench.api_load import run_api_bench

    if not 1 <= workers <= 64:
        raise CliError(f"--workers must be between 1 and 64, got {workers}")
    if not 1 <= clients <= 1000:
        raise CliError(f"--clients must be between 1 and 1000, got {clients}")
    if not 1 <= seconds <= 3600:
        raise CliError(f"--seconds must be between 1 and 3600, got {seconds:g}")
    say = Console(stderr=True).print
    try:
        result = run_api_bench(
            db_url, workers=workers, clients=clients, seconds=seconds, seed=seed, progress=say
        )
    except RuntimeError as exc:
        raise CliError(str(exc)) from exc
    figures = asdict(result)
    if as_json:
        emit_json(figures)
        return
    figures.pop("audit_findings")
    table(["figure", ">value"], list(figures.items()), title="bench api")
    for finding in result.audit_findings:
        say(f"[red]audit:[/red] {finding}")
