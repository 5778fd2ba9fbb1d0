"""The Slurm driver: one batch job per lease, through the Slurm command-line tools.

``sbatch`` starts a job named :func:`~suanli.agent.drivers.base.job_name` running the
lease's command (``bash -lc``; under ``srun`` once per node for gangs), ``squeue`` answers
while a job is pending or running, ``sacct`` (slurmdbd accounting) once it has ended,
``scancel`` stops it and ``scontrol show node`` counts the partition's GPUs.

Everything is read in pipe-separated (``-P``/``-o '%a|%b'``) or ``key=value`` form,
never by column width. Slurm prints local times without a zone; they become aware UTC
datetimes with this machine's zone. Each call runs with a timeout and raises
:class:`~suanli.agent.drivers.base.DriverError` with a one-line message when it fails.

Containers are not supported: a spec with only an ``image`` is refused (no container
runtime is configured; ``srun --container`` would need an OCI runtime set up on every
node), so :attr:`SlurmDriver.capabilities` has no ``CONTAINERS``.
"""

from __future__ import annotations

import math
import os
import pwd
import re
import shlex
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from suanli.agent.drivers.base import (
    JOB_PREFIX,
    Capability,
    Capacity,
    DriverError,
    JobSpec,
    JobState,
    JobStatus,
    Usage,
)

__all__ = [
    "SlurmConfig",
    "SlurmDriver",
    "failure_reason",
    "gpus_in_gres",
    "gpus_in_tres",
    "map_state",
    "parse_exit_code",
    "parse_slurm_time",
]

# -- parsing (pure, unit-tested without Slurm) ----------------------------------------------

_PENDING = frozenset(
    {
        "PENDING",
        "CONFIGURING",
        "REQUEUED",
        "REQUEUE_HOLD",
        "REQUEUE_FED",
        "RESV_DEL_HOLD",
        "SPECIAL_EXIT",
    }
)
_RUNNING = frozenset(
    {
        "RUNNING",
        "COMPLETING",
        "SUSPENDED",
        "STOPPED",
        "SIGNALING",
        "STAGE_OUT",
        "RESIZING",
        "UPDATE_DB",
        "POWER_UP_NODE",
    }
)
_FAILED = frozenset(
    {
        "FAILED",
        "TIMEOUT",
        "NODE_FAIL",
        "OUT_OF_MEMORY",
        "BOOT_FAIL",
        "DEADLINE",
        "PREEMPTED",
    }
)

_FAILURE_WORDS = {
    "FAILED": "the command failed",
    "TIMEOUT": "time limit reached",
    "NODE_FAIL": "a node failed",
    "OUT_OF_MEMORY": "out of memory",
    "BOOT_FAIL": "a node failed to boot",
    "DEADLINE": "deadline reached",
    "PREEMPTED": "preempted",
}


def _base_state(state: str) -> str:
    """``"CANCELLED by 0"`` -> ``"CANCELLED"``; ``"COMPLETED+"`` -> ``"COMPLETED"``."""
    words = state.strip().split()
    return words[0].rstrip("+*").upper() if words else ""


def map_state(state: str) -> JobState:
    """A Slurm job state (squeue ``%T``, sacct ``State``) as a :class:`JobState`."""
    base = _base_state(state)
    if base in _PENDING:
        return JobState.PENDING
    if base in _RUNNING:
        return JobState.RUNNING
    if base == "COMPLETED":
        return JobState.COMPLETED
    if base in _FAILED:
        return JobState.FAILED
    if base in ("CANCELLED", "REVOKED"):
        return JobState.CANCELLED
    raise DriverError(f"unknown Slurm job state {state!r}")


def parse_exit_code(text: str) -> tuple[int, int]:
    """sacct's ``ExitCode`` ``"code:signal"`` (e.g. ``"2:0"``, ``"0:9"``) as two ints."""
    code, sep, sig = text.strip().partition(":")
    try:
        return int(code), int(sig) if sep else 0
    except ValueError:
        raise DriverError(f"unparsable Slurm ExitCode {text!r}") from None


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def failure_reason(state: str, exit_code: int, sig: int) -> str:
    """Why a job ended as it did, in words (empty for COMPLETED): what happened, then the
    exit code and signal from sacct's ``ExitCode``, then Slurm's own state name."""
    base = _base_state(state)
    if base == "COMPLETED":
        return ""
    if base == "CANCELLED":
        _, by, uid = state.strip().partition(" by ")
        return f"cancelled by uid {uid} (Slurm CANCELLED)" if by else "cancelled (Slurm CANCELLED)"
    if sig:
        how = f"killed by signal {sig} ({_signal_name(sig)})"
        how += f", exit code {exit_code}" if exit_code else ""
    elif exit_code or base == "FAILED":
        how = f"exit code {exit_code}"
    else:
        how = ""
    words = _FAILURE_WORDS.get(base, base.lower().replace("_", " "))
    return f"{words}: {how} (Slurm {base})" if how else f"{words} (Slurm {base})"


_TRES_GPU = re.compile(r"^gres/gpu(?::[^=]+)?$")


def gpus_in_tres(tres: str) -> int:
    """GPUs in a TRES list such as ``"billing=2,cpu=2,gres/gpu:h800=2,gres/gpu=2,node=1"``:
    the untyped ``gres/gpu`` count, else the sum of the typed ones, else 0."""
    untyped: int | None = None
    typed = 0
    for item in tres.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep or not _TRES_GPU.match(key):
            continue
        try:
            count = int(value)
        except ValueError:
            raise DriverError(f"unparsable GPU count in AllocTRES {tres!r}") from None
        if key == "gres/gpu":
            untyped = count
        else:
            typed += count
    return untyped if untyped is not None else typed


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses: ``"gpu:a:2(IDX:0,3),gpu:b:1"``."""
    parts: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def gpus_in_gres(gres: str) -> int:
    """GPUs in a node's ``Gres``/``GresUsed`` (``"gpu:h800:8(S:0-1)"``, ``"gpu:4"``,
    ``"gpu:h800:2(IDX:0-1),shard:0"``; ``"(null)"`` is none)."""
    total = 0
    for item in _split_top(gres):
        spec = item.split("(", 1)[0]
        parts = spec.split(":")
        if parts[0] != "gpu" or len(parts) < 2:
            continue
        count = parts[-1]
        multiplier = 1
        if count[-1:] in ("K", "k"):
            count, multiplier = count[:-1], 1024
        try:
            total += int(count) * multiplier
        except ValueError:
            raise DriverError(f"unparsable GPU count in Gres {gres!r}") from None
    return total


_NO_TIME = frozenset({"", "unknown", "none", "n/a", "(null)", "invalid"})


def parse_slurm_time(text: str) -> datetime | None:
    """A Slurm timestamp (local time, no zone, ``2024-05-01T12:00:00``) as aware UTC;
    None for ``Unknown``/``None``/``N/A``."""
    text = text.strip()
    if text.lower() in _NO_TIME:
        return None
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        raise DriverError(f"unparsable Slurm time {text!r}") from None
    if local.tzinfo is None:
        local = local.astimezone()  # this machine's zone, as Slurm printed it
    return local.astimezone(UTC)


def _job_number(job_id: str) -> tuple[int, str]:
    """Sort key for "newest job": the numeric part of ``123``, ``123_4``, ``123+0``."""
    match = re.match(r"\d+", job_id)
    return (int(match.group()) if match else -1, job_id)


def _node_fields(line: str) -> dict[str, str]:
    """``key=value`` pairs of one ``scontrol -o show node`` line (first of each key)."""
    fields: dict[str, str] = {}
    for key, value in re.findall(r"(?:^|\s)([A-Za-z]+)=(\S*)", line):
        fields.setdefault(key, value)
    return fields


_UNUSABLE_NODE = frozenset(
    {
        "DOWN",
        "DRAIN",
        "DRAINED",
        "DRAINING",
        "FAIL",
        "FAILING",
        "NOT_RESPONDING",
        "NO_RESPOND",
        "INVAL",
        "FUTURE",
        "UNKNOWN",
    }
)


def _node_usable(state: str) -> bool:
    if state.endswith("*"):  # not responding
        return False
    return not any(flag.upper() in _UNUSABLE_NODE for flag in state.split("+"))


# -- the driver -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlurmConfig:
    """Where and how the driver runs jobs.

    ``slurm_conf`` is passed to every command as ``SLURM_CONF`` (None: the environment's
    or Slurm's default); ``bin_dir`` holds ``sbatch`` and friends (None: ``PATH``);
    ``sbatch_args`` are added to every submission (account, QoS, constraints...);
    jobs run in ``workdir`` and write ``<output_dir>/<job name>-<job id>.out``.

    A job's environment is sbatch's: ``PATH``, ``HOME``, ``USER`` and a few more of ours,
    then ``job_env``, then the spec's ``env``. The command runs in ``bash -c``, or in
    ``bash -lc`` with ``login_shell`` (the user's profile first: environment modules,
    conda; but a slow or broken profile then delays or breaks every job).
    """

    partition: str = "gpu"
    slurm_conf: Path | None = None
    bin_dir: Path | None = None
    sbatch_args: tuple[str, ...] = ()
    workdir: Path = Path("/tmp/suanli-jobs")
    output_dir: Path | None = None
    history_days: int = 7
    timeout_s: float = 30.0
    job_env: Mapping[str, str] = field(default_factory=dict)
    login_shell: bool = False


_JOB_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "SHELL")

_SACCT_JOB = "JobID,JobName,State,Start,End,ExitCode,ElapsedRaw,AllocTRES,NodeList"
_SQUEUE_JOB = "%i|%j|%T|%N"


@dataclass(frozen=True, slots=True)
class _SacctRow:
    job_id: str
    name: str
    state: str
    start: str
    end: str
    exit_code: str
    elapsed: str
    alloc_tres: str
    nodes: str

    @property
    def rejected(self) -> bool:
        """sbatch refused it (too many GPUs...): FAILED without ever being placed."""
        return _base_state(self.state) == "FAILED" and self.nodes in ("", "None assigned")


class SlurmDriver:
    """:class:`~suanli.agent.drivers.base.Driver` over Slurm's command-line tools."""

    name = "slurm"
    capabilities = frozenset(
        {
            Capability.GPU,
            Capability.MULTI_NODE,
            Capability.COMMANDS,
            Capability.ACCOUNTING,
            Capability.CAPACITY,
        }
    )

    def __init__(self, config: SlurmConfig | None = None, *, partition: str | None = None) -> None:
        config = config or SlurmConfig()
        if partition is not None:
            config = replace(config, partition=partition)
        self.config = config
        self.scope = ""
        """Whose jobs these are (the exchange's id; the agent sets it): job names carry
        it, and jobs() and status() only know names of this scope."""
        self._user = pwd.getpwuid(os.getuid()).pw_name

    # -- running the tools ---------------------------------------------------------------

    def _env(self, *, job: bool = False) -> dict[str, str]:
        """The tools' environment. No SBATCH_*/SQUEUE_*/SACCT_*/SLURM_* from our own
        (e.g. when the agent itself runs inside a Slurm job): they would change what the
        tools do and print. Times in the one format parse_slurm_time reads.

        ``job``: for sbatch, whose environment the job inherits (``--export=ALL``): only
        the basics, never the agent's own (it holds the exchange's API key). Not
        ``--export=NONE``, which makes slurmd load the user's login environment first
        (``--get-user-env``), seconds to a minute per job.
        """
        if job:
            env = {key: os.environ[key] for key in _JOB_ENV if key in os.environ}
            if "SLURM_CONF" in os.environ:
                env["SLURM_CONF"] = os.environ["SLURM_CONF"]
            env.update(self.config.job_env)
        else:
            env = {
                key: value
                for key, value in os.environ.items()
                if not key.startswith(("SBATCH_", "SQUEUE_", "SACCT_", "SINFO_", "SCANCEL_"))
                and not (key.startswith("SLURM_") and key != "SLURM_CONF")
            }
        if self.config.slurm_conf is not None:
            env["SLURM_CONF"] = str(self.config.slurm_conf)
        env["SLURM_TIME_FORMAT"] = "standard"
        return env

    def _run(
        self,
        tool: str,
        args: Sequence[str],
        *,
        stdin: str | None = None,
        check: bool = True,
        job: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        binary = str(self.config.bin_dir / tool) if self.config.bin_dir else tool
        try:
            done = subprocess.run(
                [binary, *args],
                input=stdin,
                capture_output=True,
                text=True,
                timeout=self.config.timeout_s,
                env=self._env(job=job),
                check=False,
            )
        except FileNotFoundError:
            where = self.config.bin_dir or "PATH"
            raise DriverError(f"{tool} not found (looked in {where})") from None
        except subprocess.TimeoutExpired:
            raise DriverError(f"{tool} did not answer within {self.config.timeout_s:g} s") from None
        except OSError as exc:
            raise DriverError(f"{tool} could not run: {exc}") from None
        if check and done.returncode != 0:
            raise DriverError(f"{tool} failed (exit {done.returncode}): {_one_line(done.stderr)}")
        return done

    def _sacct(self, args: Sequence[str]) -> list[_SacctRow]:
        done = self._run("sacct", ["-X", "-n", "-P", f"--format={_SACCT_JOB}", *args])
        rows = []
        for line in done.stdout.splitlines():
            cells = line.split("|")
            if len(cells) != 9:
                continue
            rows.append(_SacctRow(*cells))
        return rows

    def _since(self) -> str:
        return f"now-{self.config.history_days}days"

    def _squeue(self, args: Sequence[str]) -> list[list[str]]:
        done = self._run("squeue", ["--noheader", *args], check=False)
        if done.returncode != 0:
            if "Invalid job id" in done.stderr:
                return []
            raise DriverError(f"squeue failed (exit {done.returncode}): {_one_line(done.stderr)}")
        return [line.split("|") for line in done.stdout.splitlines() if line.strip()]

    # -- the Driver protocol -------------------------------------------------------------

    def submit(self, spec: JobSpec) -> str:
        self._check(spec)
        existing = self._existing(spec.name)
        if existing is not None:
            return existing
        args, script = self._sbatch(spec)
        done = self._run("sbatch", args, stdin=script, check=False, job=True)
        if done.returncode != 0:
            raise DriverError(f"sbatch refused {spec.name}: {_one_line(done.stderr)}")
        job_id = done.stdout.strip().split(";", 1)[0]
        if not job_id.isdigit():
            raise DriverError(f"sbatch gave no job id for {spec.name}: {done.stdout.strip()!r}")
        return job_id

    def jobs(self) -> dict[int, str]:
        found: dict[int, str] = {}

        def keep(job_id: str, name: str) -> None:
            lease = self._lease_of(name)
            if lease is None:
                return
            if lease not in found or _job_number(job_id) > _job_number(found[lease]):
                found[lease] = job_id

        for cells in self._squeue(["--me", "--states=all", "-o", _SQUEUE_JOB]):
            if len(cells) == 4 and not _squeue_rejected(cells[2], cells[3]):
                keep(cells[0], cells[1])
        for row in self._sacct([f"--user={self._user}", "-S", self._since()]):
            if not row.rejected:
                keep(row.job_id, row.name)
        return found

    def status(self, job_id: str) -> JobStatus:
        name = ""
        for cells in self._squeue(["--states=all", "-j", job_id, "-o", "%i|%j|%T|%S"]):
            if len(cells) != 4 or cells[0] != job_id:
                continue
            name = cells[1]
            state = map_state(cells[2])
            if not state.ended:
                return JobStatus(
                    job_id=job_id,
                    lease_id=self._lease(job_id, cells[1]),
                    state=state,
                    started_at=parse_slurm_time(cells[3]) if state is JobState.RUNNING else None,
                )
            break  # ended: the details (exit code, end) come from accounting
        rows = [row for row in self._sacct(["-j", job_id]) if row.job_id == job_id]
        if not rows:
            raise DriverError(f"slurm job {job_id} is unknown to squeue and sacct")
        row = rows[-1]
        # sacct names a job "allocation" for a moment around its start; squeue knows better.
        name = name or row.name
        state = map_state(row.state)
        started = parse_slurm_time(row.start)
        ended = parse_slurm_time(row.end)
        if state.ended and ended is None:
            state = JobState.RUNNING  # squeue says ended, sacct has not caught up yet (~1 s)
        if not state.ended:
            return JobStatus(job_id, self._lease(job_id, name), state, started_at=started)
        code, sig = parse_exit_code(row.exit_code)
        return JobStatus(
            job_id=job_id,
            lease_id=self._lease(job_id, name),
            state=state,
            started_at=started,
            ended_at=ended,
            exit_code=code if not sig else 128 + sig,
            reason=failure_reason(row.state, code, sig),
        )

    def cancel(self, job_id: str) -> None:
        done = self._run("scancel", [job_id], check=False)
        if done.returncode == 0:
            return
        gone = ("Invalid job id", "already completing or completed", "Job has already finished")
        if any(words in done.stderr for words in gone):
            return
        raise DriverError(f"scancel {job_id} failed: {_one_line(done.stderr)}")

    def usage(self, job_id: str) -> Usage | None:
        rows = [row for row in self._sacct(["-j", job_id]) if row.job_id == job_id]
        if not rows:
            return None
        row = rows[-1]
        ended = parse_slurm_time(row.end)
        if ended is None or not map_state(row.state).ended:
            return None
        started = parse_slurm_time(row.start) or ended  # cancelled before it started
        try:
            elapsed = int(row.elapsed or 0)
        except ValueError:
            raise DriverError(f"unparsable ElapsedRaw {row.elapsed!r} of job {job_id}") from None
        return Usage(
            job_id=job_id,
            card_seconds=elapsed * gpus_in_tres(row.alloc_tres),
            started_at=started,
            ended_at=ended,
        )

    def capacity(self) -> Capacity:
        done = self._run("scontrol", ["-o", "-d", "show", "node"])
        total = free = 0
        seen = False
        for line in done.stdout.splitlines():
            fields = _node_fields(line)
            if self.config.partition not in fields.get("Partitions", "").split(","):
                continue
            seen = True
            if not _node_usable(fields.get("State", "")):
                continue
            cards = gpus_in_gres(fields.get("Gres", ""))
            used = gpus_in_gres(fields.get("GresUsed", ""))
            total += cards
            free += max(0, cards - used)
        if not seen:
            raise DriverError(f"partition {self.config.partition!r} has no nodes")
        return Capacity(total_cards=total, free_cards=free)

    # -- helpers -------------------------------------------------------------------------

    def _lease_of(self, name: str) -> int | None:
        """The lease id in a job name of this driver's scope (``suanli-lease-[<scope>-]<id>``,
        as JobSpec.name makes it), else None."""
        prefix = f"{JOB_PREFIX}{self.scope}-" if self.scope else JOB_PREFIX
        tail = name[len(prefix) :] if name.startswith(prefix) else ""
        return int(tail) if tail.isdigit() else None

    def _lease(self, job_id: str, name: str) -> int:
        lease = self._lease_of(name)
        if lease is None:
            raise DriverError(f"slurm job {job_id} ({name!r}) is not a suanli lease job")
        return lease

    def _existing(self, name: str) -> str | None:
        """The newest job of this name the cluster knows (any state but refused)."""
        ids = [
            cells[0]
            for cells in self._squeue(["--me", "--states=all", "--name", name, "-o", _SQUEUE_JOB])
            if len(cells) == 4 and cells[1] == name and not _squeue_rejected(cells[2], cells[3])
        ]
        rows = self._sacct([f"--user={self._user}", f"--name={name}", "-S", self._since()])
        ids += [row.job_id for row in rows if row.name == name and not row.rejected]
        return max(ids, key=_job_number) if ids else None

    @staticmethod
    def _check(spec: JobSpec) -> str:
        """The spec's command, or DriverError if this driver cannot run the spec."""
        if spec.command is None:
            what = f"image {spec.image!r}" if spec.image else "no command"
            raise DriverError(
                f"slurm driver cannot run {spec.name}: {what} (no container runtime "
                "configured; give a command)"
            )
        if spec.nodes < 1 or spec.cards < 0 or spec.cards % spec.nodes:
            raise DriverError(
                f"{spec.name}: {spec.cards} cards do not split evenly over {spec.nodes} nodes"
            )
        for key in spec.env:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                raise DriverError(f"{spec.name}: invalid environment variable name {key!r}")
        return spec.command

    def _sbatch(self, spec: JobSpec) -> tuple[list[str], str]:
        command = shlex.quote(self._check(spec))
        workdir = self.config.workdir
        output_dir = self.config.output_dir or workdir
        try:
            workdir.mkdir(parents=True, exist_ok=True)
            output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DriverError(f"cannot make the job directory: {exc}") from None
        minutes = max(1, math.ceil(spec.duration_s / 60))
        args = [
            "--parsable",
            "--job-name",
            spec.name,
            "--partition",
            self.config.partition,
            "--nodes",
            str(spec.nodes),
            f"--time={minutes}",
            f"--output={output_dir / '%x-%j.out'}",
            f"--chdir={workdir}",
            "--export=ALL",  # of sbatch's environment, which is only the basics (_env)
        ]
        if spec.cards:
            kind = f"{spec.gpu_type}:" if spec.gpu_type else ""
            args.append(f"--gres=gpu:{kind}{spec.cards_per_node}")
        args += self.config.sbatch_args
        lines = ["#!/bin/bash", f"# suanli lease {spec.lease_id}"]
        lines += [f"export {key}={shlex.quote(value)}" for key, value in sorted(spec.env.items())]
        shell = "bash -lc" if self.config.login_shell else "bash -c"
        if spec.nodes == 1:
            lines.append(f"exec {shell} {command}")
        else:
            lines.append(f"exec srun --nodes={spec.nodes} --ntasks-per-node=1 {shell} {command}")
        return args, "\n".join(lines) + "\n"


def _squeue_rejected(state: str, nodes: str) -> bool:
    return _base_state(state) == "FAILED" and nodes.strip() in ("", "(null)")


def _one_line(text: str) -> str:
    lines = [
        re.sub(r"^\w+: error: ", "", line.strip()) for line in text.splitlines() if line.strip()
    ]
    return "; ".join(lines) or "no message"
