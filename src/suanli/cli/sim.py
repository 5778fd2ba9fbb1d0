"""``suanli sim ...``: replay real job traces through the real engine.

``suanli sim run --trace philly --scenario isolated,exchange [--load X] [--json]`` replays
the Philly trace (the shared data folder's copy, or ``--jobs FILE --vcs FILE`` in its
format) with every virtual cluster as one center, on its own (``isolated``) or pooled
behind the exchange (``exchange``), and prints utilization, idle card-hours, queueing
delay and completion time per scenario. ``--trace csv --jobs FILE --vcs FILE`` reads the
generic format of :mod:`suanli.sim.traces`; ``--trace openb`` the openb pods (default
``openb_pod_list_default``, any other with ``--jobs``) on its GPU nodes, a center per model.

``suanli sim study --trace philly --out DIR [--json]`` runs the activation study of
:mod:`suanli.sim.study`: per scenario, the highest load at which p95 queueing delay stays
under a target and the utilization reached there; it writes ``DIR/report.md`` and the PNG
plots of :mod:`suanli.sim.plots`.

``suanli sim sweep --policies A,B --seeds 0-2 --penalties 0,300 --loads 1,2 [--json]``
replays every combination (:mod:`suanli.sim.sweep`) and prints each run and the seeds'
spread. ``study`` and ``sweep`` fan out over local processes (``--workers N``) or a Ray
cluster (``--ray ADDRESS``, ``--ray local`` for one on this machine).
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    TaskID,
)

from suanli.bench.paper import shared_data
from suanli.cli.errors import CliError
from suanli.cli.output import emit_json, progress_bar, table
from suanli.engine import POLICIES
from suanli.engine.policies import NEEDS_MIX
from suanli.sim.metrics import Metrics
from suanli.sim.model import DEFAULT_SCENARIOS, SCENARIOS
from suanli.sim.plots import write_plots
from suanli.sim.run import DEFAULT_PENALTY_S, SPANS, Replay, simulate
from suanli.sim.study import DEFAULT_TARGET_S, GRID, Settings, parse_loads, report, run_study
from suanli.sim.sweep import FIGURES, Grid, run_sweep, summarize
from suanli.sim.traces import (
    OPENB_NODES,
    OPENB_PODS,
    PHILLY_JOBS,
    PHILLY_VCS,
    Trace,
    TraceError,
    load_generic,
    load_openb,
    load_philly,
)

sim_app = typer.Typer(help="Replay job traces through the exchange's engine.")

TRACES = ("philly", "openb", "csv")


TraceOpt = Annotated[str, typer.Option("--trace", help="philly, openb, or csv (generic).")]
ScenarioOpt = Annotated[
    str, typer.Option("--scenario", help=f"Scenarios, comma-separated: {', '.join(SCENARIOS)}.")
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of any random choice.")]
JobsOpt = Annotated[Path | None, typer.Option("--jobs", help="Jobs file (openb: pods).")]
VcsOpt = Annotated[
    Path | None, typer.Option("--vcs", help="Centers file (Philly: VC sizes; openb: nodes).")
]
LimitOpt = Annotated[
    int | None, typer.Option("--limit", help="Only the first N jobs by submission.")
]
PenaltyOpt = Annotated[
    int, typer.Option("--penalty", help="Seconds added to a start away from home.")
]
PolicyOpt = Annotated[str, typer.Option("--policy", help="Engine policy (see suanli bench).")]
InterruptibleOpt = Annotated[
    float,
    typer.Option(
        "--interruptible",
        help="Share of jobs that run interruptible (on-demand work preempts them).",
    ),
]
RayOpt = Annotated[
    str | None,
    typer.Option(
        "--ray",
        metavar="ADDRESS",
        help="Run on a Ray cluster at ADDRESS ('local': start one here); needs the ray extra.",
    ),
]
WorkersOpt = Annotated[
    int | None, typer.Option("--workers", help="Processes (default: one per CPU).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


@sim_app.callback()
def sim() -> None:
    """Replay job traces through the exchange's engine."""


def parse_scenarios(text: str) -> list[str]:
    names = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in names if s not in SCENARIOS]
    if unknown or not names:
        raise CliError(
            f"unknown scenario {', '.join(unknown) or text!r}; use {', '.join(SCENARIOS)}"
        )
    return list(dict.fromkeys(names))


DEFAULT_FILES = {"philly": (PHILLY_JOBS, PHILLY_VCS), "openb": (OPENB_PODS, OPENB_NODES)}
LOADERS = {"philly": load_philly, "openb": load_openb, "csv": load_generic}


def load_trace(trace: str, jobs: Path | None, vcs: Path | None) -> Trace:
    """The trace named, from the given files or (Philly, openb) the shared data folder."""
    if trace not in TRACES:
        raise CliError(f"unknown trace {trace!r}; use {', '.join(TRACES)}")
    if trace in DEFAULT_FILES and (jobs is None or vcs is None):
        root = shared_data()
        if root is None:
            raise CliError("no shared data folder found: give --jobs FILE --vcs FILE")
        jobs = jobs or root / DEFAULT_FILES[trace][0]
        vcs = vcs or root / DEFAULT_FILES[trace][1]
    if jobs is None or vcs is None:
        raise CliError(f"--trace {trace} needs --jobs FILE and --vcs FILE")
    for path in (jobs, vcs):
        if not path.is_file():
            raise CliError(f"no such file: {path}")
    try:
        return LOADERS[trace](jobs, vcs)
    except TraceError as exc:
        raise CliError(str(exc)) from exc


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4f}" if value < 10 else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def show(results: dict[str, Metrics], title: str) -> None:
    figures = {name: m.as_dict() for name, m in results.items()}
    rows = [[key, *(_cell(f[key]) for f in figures.values())] for key in ("jobs", *FIGURES)]
    table(["figure", *(f">{name}" for name in figures)], rows, title=title)
    centers = list(next(iter(figures.values()))["centers"])
    rows = [
        [name, _cell(figures[next(iter(figures))]["centers"][name]["cards"])]
        + [_cell(f["centers"][name]["utilization"]) for f in figures.values()]
        for name in centers
    ]
    table(["center", ">cards", *(f">{n} util." for n in figures)], rows)


@sim_app.command("run")
def run(
    trace: TraceOpt = "philly",
    scenario: ScenarioOpt = ",".join(DEFAULT_SCENARIOS),
    load: Annotated[
        float, typer.Option("--load", help="Scale the arrival rate (2: twice as fast).")
    ] = 1.0,
    seed: SeedOpt = 0,
    jobs: JobsOpt = None,
    vcs: VcsOpt = None,
    limit: LimitOpt = None,
    penalty: PenaltyOpt = DEFAULT_PENALTY_S,
    policy: PolicyOpt = "price",
    span: Annotated[
        str, typer.Option("--span", help="Measure over the arrival window, or all.")
    ] = "arrivals",
    interruptible: InterruptibleOpt = 0.0,
    as_json: JsonOpt = False,
) -> None:
    """Replay a trace per scenario and print utilization, waits and completion times."""
    names = parse_scenarios(scenario)
    check_share(interruptible)
    if not load > 0 or load == float("inf"):
        raise CliError(f"--load must be a positive number, not {load:g}")
    if limit is not None and limit <= 0:
        raise CliError("--limit must be positive")
    if penalty < 0:
        raise CliError("--penalty must not be negative")
    check_policy(policy)
    if span not in SPANS:
        raise CliError(f"unknown span {span!r}; use {', '.join(SPANS)}")
    loaded = load_trace(trace, jobs, vcs).limited(limit)
    results: dict[str, Metrics] = {}
    with progress_bar(transient=as_json) as bar:
        for name in names:
            task = bar.add_task(f"{loaded.name}: {name}", total=len(loaded.jobs))
            replay = Replay(name, load, penalty, policy, seed, span, interruptible=interruptible)

            def advance(n: int, task: TaskID = task) -> None:
                bar.advance(task, n)

            outcome = simulate(loaded, replay, progress=advance)
            results[name] = outcome.metrics
    if as_json:
        emit_json({"scenarios": {name: m.as_dict() for name, m in results.items()}})
    else:
        show(results, f"{loaded.name}: {len(loaded.jobs):,} jobs, load {load:g}")


def parse_ints(text: str, flag: str) -> tuple[int, ...]:
    """``"0-2,5"`` -> (0, 1, 2, 5)."""
    out: list[int] = []
    try:
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            lo, _, hi = part.partition("-")
            first, last = int(lo), int(hi or lo)
            if last < first:
                raise ValueError(part)
            out.extend(range(first, last + 1))
    except ValueError as exc:
        raise CliError(f"{flag} takes whole numbers or ranges like 0-4, not {text!r}") from exc
    if not out:
        raise CliError(f"{flag} is empty")
    return tuple(dict.fromkeys(out))


def check_share(share: float) -> None:
    if not 0 <= share <= 1:
        raise CliError(f"--interruptible is a share in 0..1, not {share:g}")


def check_policy(policy: str) -> None:
    if policy not in POLICIES or policy in NEEDS_MIX:
        usable = [p for p in POLICIES if p not in NEEDS_MIX]
        raise CliError(f"unknown policy {policy!r} for the simulator; use {', '.join(usable)}")


@sim_app.command("study")
def study(
    out: Annotated[Path, typer.Option("--out", help="Folder for report.md and the plots.")],
    trace: TraceOpt = "philly",
    target: Annotated[
        int, typer.Option("--target-p95", help="Target p95 queueing delay, seconds.")
    ] = DEFAULT_TARGET_S,
    loads: Annotated[
        str, typer.Option("--loads", help="The grid of loads, comma-separated.")
    ] = ",".join(f"{g:g}" for g in GRID),
    jobs: JobsOpt = None,
    vcs: VcsOpt = None,
    workers: WorkersOpt = None,
    scenario: ScenarioOpt = ",".join(DEFAULT_SCENARIOS),
    seed: SeedOpt = 0,
    penalty: PenaltyOpt = DEFAULT_PENALTY_S,
    policy: PolicyOpt = "price",
    limit: LimitOpt = None,
    interruptible: InterruptibleOpt = 0.0,
    ray: RayOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Find, per scenario, the highest load whose p95 wait meets the target; write a report."""
    names = parse_scenarios(scenario)
    check_policy(policy)
    check_share(interruptible)
    if workers is not None and workers < 1:
        raise CliError("--workers must be at least 1")
    if limit is not None and limit <= 0:
        raise CliError("--limit must be positive")
    try:
        settings = Settings(
            target, parse_loads(loads), penalty, policy, seed, tuple(names), interruptible
        )
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    loaded = load_trace(trace, jobs, vcs).limited(limit)
    err = Console(stderr=True)
    began = time.perf_counter()

    def say(text: str) -> None:
        if not as_json:
            err.print(f"[dim]{time.perf_counter() - began:6.1f} s[/] {text}")

    try:
        result = run_study(loaded, settings, workers=workers, ray_address=ray, progress=say)
    except RuntimeError as exc:
        raise CliError(str(exc)) from exc
    elapsed = time.perf_counter() - began
    try:
        plots = write_plots(result, out)
        argv = ["suanli", "sim", "study", "--trace", trace, "--out", str(out)]
        argv += ["--target-p95", str(target), "--loads", loads, "--scenario", ",".join(names)]
        argv += ["--seed", str(seed), "--penalty", str(penalty), "--policy", policy]
        if interruptible:
            argv += ["--interruptible", f"{interruptible:g}"]
        for flag, value in (("--jobs", jobs), ("--vcs", vcs), ("--limit", limit)):
            if value is not None:
                argv += [flag, str(value)]
        command = shlex.join(argv)
        (out / "report.md").write_text(report(result, command, plots, elapsed), encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write the report to {out}: {exc}") from exc
    if as_json:
        emit_json(result.as_dict())
        return
    show({n: s.base.metrics for n, s in result.scenarios.items()}, f"{loaded.name}: load 1")
    rows = [
        [
            n,
            _cell(s.max_load) + ("+" if s.capped else ""),
            _cell(s.utilization_at_target),
        ]
        for n, s in result.scenarios.items()
    ]
    table(["scenario", ">max load at target", ">utilization at target"], rows)
    typer.echo(f"{result.replays} replays in {elapsed:.1f} s; report: {out / 'report.md'}")


@sim_app.command("sweep")
def sweep(
    trace: TraceOpt = "philly",
    scenario: ScenarioOpt = ",".join(DEFAULT_SCENARIOS),
    policies: Annotated[
        str, typer.Option("--policies", help="Engine policies, comma-separated.")
    ] = "price",
    seeds: Annotated[str, typer.Option("--seeds", help="Seeds: 0-4 or 1,7,9.")] = "0",
    penalties: Annotated[
        str, typer.Option("--penalties", help="Locality penalties in seconds, comma-separated.")
    ] = str(DEFAULT_PENALTY_S),
    loads: Annotated[str, typer.Option("--loads", help="Loads, comma-separated.")] = "1",
    interruptible: InterruptibleOpt = 0.0,
    jobs: JobsOpt = None,
    vcs: VcsOpt = None,
    limit: LimitOpt = None,
    workers: WorkersOpt = None,
    ray: RayOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Replay every combination of scenarios, policies, seeds, penalties and loads."""
    names = parse_scenarios(scenario)
    chosen = [p.strip() for p in policies.split(",") if p.strip()]
    if not chosen:
        raise CliError("--policies is empty")
    for policy in chosen:
        check_policy(policy)
    check_share(interruptible)
    if workers is not None and workers < 1:
        raise CliError("--workers must be at least 1")
    if limit is not None and limit <= 0:
        raise CliError("--limit must be positive")
    penalty_list = parse_ints(penalties, "--penalties")
    if any(p < 0 for p in penalty_list):
        raise CliError("--penalties must not be negative")
    try:
        grid = Grid(
            tuple(names),
            tuple(dict.fromkeys(chosen)),
            parse_ints(seeds, "--seeds"),
            penalty_list,
            parse_loads(loads),
            interruptible,
        )
        total = len(grid.replays())  # each combination checks itself as a Replay
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    loaded = load_trace(trace, jobs, vcs).limited(limit)
    with progress_bar(transient=as_json) as bar:
        task = bar.add_task(f"{loaded.name}: sweep", total=total)
        try:
            runs = run_sweep(
                loaded,
                grid,
                workers=workers,
                ray_address=ray,
                progress=lambda n: bar.advance(task, n),
            )
        except RuntimeError as exc:
            raise CliError(str(exc)) from exc
    if as_json:
        emit_json({"runs": [r.as_dict() for r in runs], "summary": summarize(runs)})
        return
    keys = ("utilization", "wait_p95_s", "jct_mean_s", "never_ran", "preemptions")
    rows = []
    for r in runs:
        d = r.as_dict()
        head = [d["scenario"], d["policy"], _cell(d["penalty_s"]), f"{d['load']:g}", d["seed"]]
        rows.append([*map(str, head), *(_cell(d[k]) for k in keys)])
    table(["scenario", "policy", ">penalty s", ">load", ">seed", *(f">{k}" for k in keys)], rows)
    rows = [
        [
            row["scenario"],
            row["policy"],
            _cell(row["penalty_s"]),
            f"{row['load']:g}",
            _cell(row["seeds"]),
            _cell(row["utilization_mean"]),
            f"{_cell(row['utilization_min'])}..{_cell(row['utilization_max'])}",
            _cell(row["wait_p95_s_mean"]),
        ]
        for row in summarize(runs)
    ]
    heads = ["scenario", "policy", ">penalty s", ">load", ">seeds", ">util. mean", ">util. range"]
    table([*heads, ">p95 wait mean s"], rows, title="over the seeds")
