"""Trace loaders: the Philly and openb traces, and a generic CSV format for anyone's own.

**Philly** (``shared/data/philly/``): jobs ``timestamp,duration,num_gpus,gpu_time,cluster``
(submission time in UTC as ``YYYY-MM-DD HH:MM:SS``, duration in seconds, GPUs, GPU
seconds, the virtual cluster) and virtual-cluster sizes ``vc,node num``. Each virtual
cluster is one center of 8-GPU nodes. A job's id is its line number in the file.

**Generic jobs CSV** (``--trace csv --jobs FILE --vcs FILE``), a header and one job a row::

    job_id,submit,duration,cards,home
    train-1,0,3600,8,center-a
    eval-7,120,600,1,center-b

- ``job_id``: any non-empty text, unique in the file;
- ``submit``: whole seconds from any origin (e.g. the trace's start), or an ISO 8601 time
  (``2024-05-01T08:00:00+08:00``; without an offset it is UTC); one form for all rows;
- ``duration``: whole seconds the job runs, at least 1;
- ``cards``: GPUs the job needs, at least 1;
- ``home``: the center that owns the job (it need not be listed among the centers: an
  unlisted home has no capacity, so its jobs never run in the isolated scenario);
- ``interruptible`` (optional column): ``1``/``true``/``yes`` for a job that on-demand
  work may preempt, ``0``/``false``/``no`` or empty for one it may not.

**Centers CSV** (both formats): a header, then ``name,nodes[,gpus_per_node]`` per row
(column names are free; Philly's ``vc,node num`` is this with 8 GPUs a node). A missing
third column means 8 GPUs a node.

**openb** (``shared/data/openb/``, Alibaba's GPU cluster trace v2023): pods
``name,...,num_gpu,gpu_milli,gpu_spec,qos,...,creation_time,deletion_time`` and GPU nodes
``sn,cpu_milli,memory_mib,gpu,model``. openb is one cluster; the replay splits it into
centers by hardware, one per GPU model (``G2``, ``T4``, ...; a pool per node size where a
model comes in several), as if each kind of machine were run by its own center. A pod
with GPUs is a job (CPU-only pods are left out): submitted at ``creation_time``, running
``deletion_time - creation_time`` seconds (at least 1), with ``num_gpu`` whole cards (a
GPU-sharing pod, ``gpu_milli`` < 1000, takes one whole card: the replay works in cards).
Its home is the first model its ``gpu_spec`` names that has nodes; a pod that
accepts any model is homed by a stable hash of its name, each center taking a share of
pods equal to its share of the cards. ``qos`` ``BE`` (best effort) pods are interruptible.
The pod lists without times (``multigpu*``) cannot be replayed.

Jobs larger than their home center are kept: the replay counts them as never-runnable
where they may not leave home. Bad rows raise :class:`TraceError` naming file and line.
"""

from __future__ import annotations

import csv
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from suanli.sim.model import Center, Job

#: The Philly files, under the shared data folder.
PHILLY_JOBS = "philly/philly_jobs_2017-09-04_to_2017-10-15.csv"
PHILLY_VCS = "philly/philly_vc_nodes.csv"
GPUS_PER_NODE = 8
GENERIC_COLUMNS = ("job_id", "submit", "duration", "cards", "home")
PHILLY_COLUMNS = ("timestamp", "duration", "num_gpus", "cluster")
OPENB_PODS = "openb/openb_pod_list_default.csv"
OPENB_NODES = "openb/openb_node_list_gpu_node.csv"
OPENB_COLUMNS = ("name", "num_gpu", "creation_time", "deletion_time")
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FLAGS = {"": False, "0": False, "false": False, "no": False, "1": True, "true": True, "yes": True}


class TraceError(ValueError):
    """A trace file that cannot be read as documented; the message names file and line."""


@dataclass(frozen=True, slots=True)
class Trace:
    """Jobs by submission (ties in file order), times in seconds after ``epoch``."""

    name: str
    epoch: datetime
    jobs: tuple[Job, ...]
    centers: tuple[Center, ...]

    def limited(self, limit: int | None) -> Trace:
        """The first ``limit`` jobs (all when None)."""
        if limit is None:
            return self
        return Trace(self.name, self.epoch, self.jobs[:limit], self.centers)


def _rows(path: Path, needed: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line number, row)`` of a CSV file with a header that has ``needed`` columns."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise TraceError(f"cannot read {path}: {exc.strerror or exc}") from exc
    with handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in needed if c not in header]
        if missing:
            raise TraceError(f"{path}: missing column(s) {', '.join(missing)}")
        reader.fieldnames = header
        for row in reader:
            if None in row or any(v is None for v in row.values()):
                raise TraceError(f"{path} line {reader.line_num}: wrong number of fields")
            yield reader.line_num, {k: v.strip() for k, v in row.items()}


def _whole(path: Path, line: int, name: str, text: str, least: int) -> int:
    """A whole number >= ``least`` (``"3600.0"`` is accepted as 3600)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if value != value or value != int(value) or int(value) < least:
        raise TraceError(
            f"{path} line {line}: {name} must be a whole number >= {least}, not {text!r}"
        )
    return int(value)


def _when(path: Path, line: int, text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise TraceError(f"{path} line {line}: submit {text!r} is not a time") from exc
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _trace(
    name: str, stamped: list[tuple[int, Job]], centers: tuple[Center, ...], origin: datetime
) -> Trace:
    """Jobs with absolute submit seconds (after ``origin``), made relative to the first."""
    stamped.sort(key=lambda s: s[0])  # stable: ties stay in file order
    first = stamped[0][0] if stamped else 0
    jobs = tuple(replace(j, submit=at - first) for at, j in stamped)
    return Trace(name, origin + timedelta(seconds=first), jobs, centers)


def load_centers(path: Path) -> tuple[Center, ...]:
    """Centers from ``name,nodes[,gpus_per_node]`` rows (Philly's ``vc,node num`` too)."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise TraceError(f"cannot read {path}: {exc.strerror or exc}") from exc
    centers: list[Center] = []
    seen: set[str] = set()
    with handle:
        reader = csv.reader(handle)
        next(reader, None)  # the header: column names are free
        for fields in reader:
            line = reader.line_num
            values = [v.strip() for v in fields]
            if not any(values):
                continue
            if len(values) < 2 or len(values) > 3:
                raise TraceError(f"{path} line {line}: need name,nodes[,gpus_per_node]")
            name = values[0]
            if not name:
                raise TraceError(f"{path} line {line}: a center needs a name")
            if name in seen:
                raise TraceError(f"{path} line {line}: center {name!r} is listed twice")
            seen.add(name)
            nodes = _whole(path, line, "nodes", values[1], 0)
            per = GPUS_PER_NODE
            if len(values) > 2 and values[2]:
                per = _whole(path, line, "gpus_per_node", values[2], 1)
            centers.append(Center(name, nodes, per))
    if not centers:
        raise TraceError(f"{path}: no centers")
    return tuple(centers)


def load_philly_jobs(path: Path) -> tuple[datetime, list[tuple[int, Job]]]:
    """Philly jobs with their absolute submit time in seconds after the Unix epoch."""
    stamped: list[tuple[int, Job]] = []
    for line, row in _rows(path, PHILLY_COLUMNS):
        try:
            when = datetime.strptime(row["timestamp"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        except ValueError as exc:
            raise TraceError(f"{path} line {line}: bad timestamp {row['timestamp']!r}") from exc
        at = int((when - UNIX_EPOCH).total_seconds())
        duration = _whole(path, line, "duration", row["duration"], 1)
        cards = _whole(path, line, "num_gpus", row["num_gpus"], 1)
        if not row["cluster"]:
            raise TraceError(f"{path} line {line}: no cluster")
        stamped.append((at, Job(str(line), at, duration, cards, row["cluster"])))
    return UNIX_EPOCH, stamped


def load_philly(jobs: Path, vcs: Path) -> Trace:
    """The Philly trace (or any pair of files in its format)."""
    centers = load_centers(vcs)
    origin, stamped = load_philly_jobs(jobs)
    return _trace("philly", stamped, centers, origin)


def load_generic_jobs(path: Path) -> tuple[datetime, list[tuple[int, Job]]]:
    """Jobs of the generic CSV format, with absolute submit seconds after the origin."""
    stamped: list[tuple[int, Job]] = []
    seen: set[str] = set()
    form: str | None = None
    for line, row in _rows(path, GENERIC_COLUMNS):
        job_id = row["job_id"]
        if not job_id:
            raise TraceError(f"{path} line {line}: job_id is empty")
        if job_id in seen:
            raise TraceError(f"{path} line {line}: job_id {job_id!r} appears twice")
        seen.add(job_id)
        text = row["submit"]
        kind = "seconds" if text.lstrip("+").isdigit() else "time"
        if form is not None and kind != form:
            raise TraceError(f"{path} line {line}: mixes seconds and times in submit")
        form = kind
        if kind == "seconds":
            at = int(text)
        else:
            at = int((_when(path, line, text) - UNIX_EPOCH).total_seconds())
        duration = _whole(path, line, "duration", row["duration"], 1)
        cards = _whole(path, line, "cards", row["cards"], 1)
        if not row["home"]:
            raise TraceError(f"{path} line {line}: home is empty")
        flex = row.get("interruptible", "").lower()
        if flex not in FLAGS:
            raise TraceError(f"{path} line {line}: interruptible must be 1 or 0, not {flex!r}")
        job = Job(job_id, at, duration, cards, row["home"], FLAGS[flex])
        stamped.append((at, job))
    return UNIX_EPOCH, stamped


def load_generic(jobs: Path, centers: Path) -> Trace:
    """A trace in the generic CSV format (see the module docstring)."""
    fleet = load_centers(centers)
    origin, stamped = load_generic_jobs(jobs)
    return _trace(jobs.stem, stamped, fleet, origin)


def load_openb_centers(path: Path) -> tuple[Center, ...]:
    """One center per GPU model of an openb node list (a pool per node size, largest
    first); CPU-only nodes left out."""
    count: dict[tuple[str, int], int] = {}
    for line, row in _rows(path, ("gpu", "model")):
        gpus = _whole(path, line, "gpu", row["gpu"], 0)
        if gpus == 0:
            continue
        if not row["model"]:
            raise TraceError(f"{path} line {line}: a GPU node needs a model")
        count[(row["model"], gpus)] = count.get((row["model"], gpus), 0) + 1
    groups: dict[str, list[tuple[int, int]]] = {}
    for (model, gpus), nodes in sorted(count.items(), key=lambda kv: (kv[0][0], -kv[0][1])):
        groups.setdefault(model, []).append((nodes, gpus))
    centers = [Center(m, g[0][0], g[0][1], tuple(g[1:])) for m, g in sorted(groups.items())]
    if not centers:
        raise TraceError(f"{path}: no GPU nodes")
    return tuple(centers)


def _openb_home(name: str, spec: str, centers: tuple[Center, ...], bounds: list[int]) -> str:
    """The first model of ``spec`` that has a center, else a stable draw by name."""
    for model in (m.strip() for m in spec.split("|") if m.strip()):
        if any(c.name == model for c in centers):
            return model
    point = zlib.crc32(name.encode()) % bounds[-1]
    return centers[next(k for k, b in enumerate(bounds) if point < b)].name


def load_openb(pods: Path, nodes: Path) -> Trace:
    """An openb pod list with times, on the centers of an openb node list."""
    centers = load_openb_centers(nodes)
    bounds: list[int] = []
    for c in centers:
        bounds.append((bounds[-1] if bounds else 0) + c.cards)
    stamped: list[tuple[int, Job]] = []
    for line, row in _rows(pods, OPENB_COLUMNS):
        cards = _whole(pods, line, "num_gpu", row["num_gpu"], 0)
        if cards == 0:
            continue
        at = _whole(pods, line, "creation_time", row["creation_time"], 0)
        gone = _whole(pods, line, "deletion_time", row["deletion_time"], 0)
        if gone < at:
            raise TraceError(f"{pods} line {line}: deleted before it was created")
        home = _openb_home(row["name"], row.get("gpu_spec", ""), centers, bounds)
        flex = row.get("qos", "") == "BE"
        stamped.append((at, Job(row["name"], at, max(1, gone - at), cards, home, flex)))
    return _trace("openb", stamped, centers, UNIX_EPOCH)
