"""A driver that runs each lease as a local process: for the demo and quick trials.

There are no GPUs here. The driver offers a configured number of *virtual* cards, runs a
lease's ``command`` with ``bash -c`` (not a login shell, whose profile may be slow or
fail) in a new session and measures wall time itself; images are refused (use a
container driver for those).

Everything the driver knows lives in files under its state directory (default
``platformdirs.user_state_dir("suanli")/local-driver``), one directory per job, named
:func:`~suanli.agent.drivers.base.job_name`::

    <state>/suanli-lease-<id>/
        job_id        local-<lease id>-<n>   (n: a counter kept in <state>/.counter)
        spec.json     the JobSpec (mode 0600: env may hold secrets)
        started_at    epoch seconds, written just before the process starts
        pid           the wrapper's pid (a session and process-group leader)
        stdout.log    the command's stdout and stderr
        ended_at      epoch seconds, written by the wrapper when the command ends
        exit_code     the command's exit status, written by the wrapper after ended_at
        cancelled     epoch seconds of cancel(), written before the processes are killed

so a new driver instance (an agent that restarted) rebuilds every job from the files.

The process tree: a small bash wrapper (session leader, ``start_new_session``) runs
``timeout --foreground --kill-after=GRACE DURATION bash -c COMMAND``, then records the
end time and exit code and sends SIGTERM to whatever the command left behind in its
process group. ``--foreground`` keeps everything in the wrapper's process group, so
:meth:`LocalDriver.cancel` reaches all of it with one ``killpg`` (SIGTERM, then SIGKILL
after the grace period). A job that ran into its time limit (exit status non-zero and
``ended_at - started_at >= duration_s``) is reported failed with reason ``time limit``.

The command gets a small base environment (PATH, HOME, USER, LANG, ...; not the agent's
own environment, which may hold its API key), then ``spec.env``, then ``SUANLI_LEASE_ID``,
``SUANLI_JOB_ID``, ``SUANLI_JOB_DIR``, ``SUANLI_CARDS``, ``SUANLI_NODES`` and
``SUANLI_DURATION_S``; its working directory is the job directory. A multi-node spec runs
as one process holding all of its cards (there is one machine); an image given with a
command is ignored.

POSIX only (``fcntl``, ``os.posix_spawn`` with ``setsid``, process groups); needs ``bash``
and GNU ``timeout`` on PATH.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import platformdirs

from suanli.agent.drivers.base import (
    Capability,
    Capacity,
    DriverError,
    JobSpec,
    JobState,
    JobStatus,
    Usage,
    job_name,
    lease_of,
)

JOB_ID_RE = re.compile(r"^local-(\d+)-(\d+)$")

BASE_ENV_KEYS = ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "TZ", "TMPDIR")

# $1 job directory, $2 time limit (s), $3 grace (s), $4 the command.
WRAPPER = r"""
cd "$1" || exit 111
timeout --foreground --kill-after="$3" "$2" bash -c "$4"
code=$?
now=${EPOCHREALTIME/,/.}
printf '%s\n' "$now" > ended_at.tmp && mv -f ended_at.tmp ended_at
printf '%s\n' "$code" > exit_code.tmp && mv -f exit_code.tmp exit_code
trap '' TERM
kill -TERM 0 2>/dev/null
exit "$code"
"""

# Wrapper pids this process spawned (shared by all instances, so that a "restarted"
# driver in the same process still reaps them); only these are ever waited for.
_spawned: set[int] = set()
_spawned_lock = threading.Lock()


def default_state_dir() -> Path:
    return Path(platformdirs.user_state_dir("suanli")) / "local-driver"


def _reap(pid: int) -> None:
    """Collect ``pid``'s exit status if it is a finished child of this process."""
    with _spawned_lock:
        if pid not in _spawned:
            return
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done == pid:
            _spawned.discard(pid)


PROC = Path("/proc")


def _proc_stat(pid: int) -> tuple[str, int, int] | None:
    """State, process group and session of ``pid`` from /proc (Linux), else None."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[-1].split()
    try:
        return fields[0], int(fields[2]), int(fields[3])
    except (IndexError, ValueError):
        return None


def _alive(pid: int) -> bool:
    """Whether the wrapper ``pid`` still runs (a session leader of that pid).

    Zombies count as ended: where no init reaps them promptly (some containers), an
    unreaped wrapper would otherwise look alive.
    """
    _reap(pid)
    if PROC.joinpath("self").is_dir():
        stat = _proc_stat(pid)
        return stat is not None and stat[0] != "Z" and stat[2] == pid
    try:
        return os.getsid(pid) == pid
    except (ProcessLookupError, PermissionError):
        return False


def _group_alive(pgid: int) -> bool:
    """Whether any process of group ``pgid`` still runs (zombies do not count)."""
    _reap(pgid)
    if PROC.joinpath("self").is_dir():
        for entry in PROC.iterdir():
            if entry.name.isdigit():
                stat = _proc_stat(int(entry.name))
                if stat is not None and stat[1] == pgid and stat[0] != "Z":
                    return True
        return False
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class LocalDriver:
    """Runs leases as local processes over ``cards`` virtual cards (see the module)."""

    name = "local"
    capabilities = frozenset({Capability.COMMANDS, Capability.CAPACITY, Capability.ACCOUNTING})

    def __init__(
        self,
        state_dir: Path | str | None = None,
        *,
        cards: int = 8,
        grace_s: float = 5.0,
    ) -> None:
        if cards < 1:
            raise DriverError(f"local driver: cards must be at least 1, not {cards}")
        if grace_s < 0:
            raise DriverError(f"local driver: grace_s must not be negative, not {grace_s}")
        for tool in ("bash", "timeout"):
            if shutil.which(tool) is None:
                raise DriverError(f"local driver: {tool!r} is not on PATH")
        self.state_dir = Path(state_dir) if state_dir is not None else default_state_dir()
        self.scope = ""
        self.cards = cards
        self.grace_s = grace_s
        try:
            self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise DriverError(
                f"local driver: cannot use state directory {self.state_dir}: {exc.strerror or exc}"
            ) from exc
        if not os.access(self.state_dir, os.W_OK | os.X_OK):
            raise DriverError(f"local driver: state directory {self.state_dir} is not writable")

    # -- the driver calls ------------------------------------------------------------------

    def submit(self, spec: JobSpec) -> str:
        if spec.command is None:
            what = f"only an image ({spec.image})" if spec.image else "no command"
            raise DriverError(
                f"local driver runs shell commands, not images: lease {spec.lease_id} has {what}"
            )
        if spec.cards < 1 or spec.nodes < 1 or spec.duration_s < 1:
            raise DriverError(
                f"lease {spec.lease_id}: cards, nodes and duration_s must be positive "
                f"(got {spec.cards}, {spec.nodes}, {spec.duration_s})"
            )
        with self._locked():
            job_dir = self._dir(spec.lease_id)
            if (job_dir / "job_id").exists():
                job_id = self._read(job_dir, "job_id")
                if not (job_dir / "pid").exists() and not (job_dir / "cancelled").exists():
                    self._start(job_dir, spec, job_id)  # a submit that died half-way
                return job_id
            free = self._capacity().free_cards
            if spec.cards > free:
                raise DriverError(
                    f"lease {spec.lease_id} needs {spec.cards} cards; "
                    f"{free} of {self.cards} virtual cards are free"
                )
            job_id = f"local-{spec.lease_id}-{self._next_number()}"
            staging = self.state_dir / f".staging-{spec.name}-{os.getpid()}"
            shutil.rmtree(staging, ignore_errors=True)
            try:
                staging.mkdir(mode=0o700)
                self._write(staging, "job_id", job_id)
                self._write(staging, "spec.json", json.dumps(dataclasses.asdict(spec), indent=2))
                staging.rename(job_dir)
            except OSError as exc:
                shutil.rmtree(staging, ignore_errors=True)
                raise DriverError(f"cannot create {job_dir}: {exc.strerror or exc}") from exc
            self._start(job_dir, spec, job_id)
            return job_id

    def jobs(self) -> dict[int, str]:
        found: dict[int, str] = {}
        try:
            entries = list(self.state_dir.iterdir())
        except OSError as exc:
            raise DriverError(f"cannot list {self.state_dir}: {exc.strerror or exc}") from exc
        for entry in entries:
            lease_id = lease_of(entry.name, self.scope)
            if lease_id is None or not (entry / "job_id").is_file():
                continue
            found[lease_id] = self._read(entry, "job_id")
        return found

    def status(self, job_id: str) -> JobStatus:
        job_dir = self._job_dir(job_id)
        lease_id = self._lease(job_id)
        started = self._epoch(job_dir, "started_at")
        started_at = _at(started) if started is not None else None
        cancelled = self._epoch(job_dir, "cancelled")
        ended = self._epoch(job_dir, "ended_at")
        code = self._int(job_dir, "exit_code")
        if cancelled is not None:
            end = ended if ended is not None and code is not None else cancelled
            return JobStatus(
                job_id, lease_id, JobState.CANCELLED, started_at, _at(end), code, "cancelled"
            )
        if code is not None and ended is not None:
            ended_at = _at(ended)
            if code == 0:
                return JobStatus(job_id, lease_id, JobState.COMPLETED, started_at, ended_at, 0)
            duration = self._spec(job_dir).get("duration_s")
            if started is not None and isinstance(duration, int) and ended - started >= duration:
                reason = "time limit"
            elif code > 128:
                reason = f"killed by {_signal_name(code - 128)} (exit code {code})"
            else:
                reason = f"exit code {code}"
            return JobStatus(job_id, lease_id, JobState.FAILED, started_at, ended_at, code, reason)
        pid = self._int(job_dir, "pid")
        if pid is None:
            return JobStatus(job_id, lease_id, JobState.PENDING, reason="not started yet")
        if _alive(pid):
            return JobStatus(job_id, lease_id, JobState.RUNNING, started_at)
        if self._int(job_dir, "exit_code") is not None:
            return self.status(job_id)  # it ended between the reads
        # The wrapper is gone without recording an end: killed from outside, or the
        # machine restarted. The last sign of life is the log's modification time.
        if ended is None:
            ended = max(started or 0.0, self._mtime(job_dir / "stdout.log"))
            self._write(job_dir, "ended_at", f"{ended}")
        return JobStatus(
            job_id,
            lease_id,
            JobState.FAILED,
            started_at,
            _at(ended),
            None,
            "process vanished without an exit code (killed outside the driver, "
            "or the machine restarted)",
        )

    def cancel(self, job_id: str) -> None:
        job_dir = self._job_dir(job_id)
        if self.status(job_id).state.ended:
            return
        self._write(job_dir, "cancelled", f"{time.time()}")
        pid = self._int(job_dir, "pid")
        if pid is None:
            return
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.grace_s
        while _group_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if _group_alive(pid):
            _signal_group(pid, signal.SIGKILL)
            deadline = time.monotonic() + 2.0
            while _group_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.02)

    def usage(self, job_id: str) -> Usage | None:
        status = self.status(job_id)
        if not status.state.ended or status.ended_at is None:
            return None
        started = status.started_at or status.ended_at  # cancelled before it started
        seconds = max(0.0, (status.ended_at - started).total_seconds())
        cards = self._spec(self._job_dir(job_id)).get("cards")
        if not isinstance(cards, int):
            raise DriverError(f"job {job_id}: spec.json has no card count")
        return Usage(job_id, round(seconds) * cards, started, status.ended_at)

    def capacity(self) -> Capacity:
        return self._capacity()

    # -- helpers ---------------------------------------------------------------------------

    def _capacity(self) -> Capacity:
        held = 0
        for job_id in self.jobs().values():
            if not self.status(job_id).state.ended:
                cards = self._spec(self._job_dir(job_id)).get("cards")
                held += cards if isinstance(cards, int) else 0
        return Capacity(total_cards=self.cards, free_cards=max(0, self.cards - held))

    def _start(self, job_dir: Path, spec: JobSpec, job_id: str) -> None:
        assert spec.command is not None
        env = {key: os.environ[key] for key in BASE_ENV_KEYS if key in os.environ}
        env.update(spec.env)
        env.update(
            SUANLI_LEASE_ID=str(spec.lease_id),
            SUANLI_JOB_ID=job_id,
            SUANLI_JOB_DIR=str(job_dir),
            SUANLI_CARDS=str(spec.cards),
            SUANLI_NODES=str(spec.nodes),
            SUANLI_DURATION_S=str(spec.duration_s),
        )
        bash = shutil.which("bash") or "/bin/bash"
        args = [
            bash,
            "-c",
            WRAPPER,
            "suanli-local-job",
            str(job_dir.resolve()),
            str(spec.duration_s),
            f"{self.grace_s:g}",
            spec.command,
        ]
        log = str(job_dir / "stdout.log")
        self._write(job_dir, "started_at", f"{time.time()}")
        with _spawned_lock:
            try:
                pid = os.posix_spawn(
                    bash,
                    args,
                    env,
                    file_actions=[
                        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                        (
                            os.POSIX_SPAWN_OPEN,
                            1,
                            log,
                            os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                            0o600,
                        ),
                        (os.POSIX_SPAWN_DUP2, 1, 2),
                    ],
                    setsid=True,
                )
            except OSError as exc:
                raise DriverError(
                    f"cannot start lease {spec.lease_id}: {exc.strerror or exc}"
                ) from exc
            _spawned.add(pid)
        self._write(job_dir, "pid", str(pid))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            handle = open(self.state_dir / ".lock", "a")  # noqa: SIM115
        except OSError as exc:
            raise DriverError(f"cannot lock {self.state_dir}: {exc.strerror or exc}") from exc
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _next_number(self) -> int:
        path = self.state_dir / ".counter"
        try:
            number = int(path.read_text().strip() or "0") + 1
        except FileNotFoundError:
            number = 1
        except ValueError as exc:
            raise DriverError(f"{path} is not a number") from exc
        self._write(self.state_dir, ".counter", str(number))
        return number

    def _dir(self, lease_id: int) -> Path:
        return self.state_dir / job_name(lease_id, self.scope)

    def _lease(self, job_id: str) -> int:
        match = JOB_ID_RE.match(job_id)
        if match is None:
            raise DriverError(f"not a local driver job id: {job_id!r}")
        return int(match.group(1))

    def _job_dir(self, job_id: str) -> Path:
        job_dir = self._dir(self._lease(job_id))
        try:
            recorded = (job_dir / "job_id").read_text().strip()
        except FileNotFoundError:
            recorded = None
        except OSError as exc:
            raise DriverError(f"cannot read {job_dir}: {exc.strerror or exc}") from exc
        if recorded != job_id:
            raise DriverError(f"unknown job {job_id}: not in {self.state_dir}")
        return job_dir

    def _spec(self, job_dir: Path) -> dict[str, object]:
        try:
            data = json.loads((job_dir / "spec.json").read_text())
        except (OSError, ValueError) as exc:
            raise DriverError(f"cannot read {job_dir / 'spec.json'}: {exc}") from exc
        if not isinstance(data, dict):
            raise DriverError(f"{job_dir / 'spec.json'} is not a JSON object")
        return data

    @staticmethod
    def _write(directory: Path, name: str, text: str) -> None:
        """Write ``directory/name`` atomically (temporary file, then rename)."""
        tmp = directory / f".{name}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(text + "\n")
            os.replace(tmp, directory / name)
        except OSError as exc:
            raise DriverError(f"cannot write {directory / name}: {exc.strerror or exc}") from exc

    @staticmethod
    def _read(directory: Path, name: str) -> str:
        try:
            return (directory / name).read_text().strip()
        except OSError as exc:
            raise DriverError(f"cannot read {directory / name}: {exc.strerror or exc}") from exc

    @staticmethod
    def _optional(directory: Path, name: str) -> str | None:
        try:
            text = (directory / name).read_text().strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise DriverError(f"cannot read {directory / name}: {exc.strerror or exc}") from exc
        return text or None

    def _epoch(self, directory: Path, name: str) -> float | None:
        text = self._optional(directory, name)
        try:
            return float(text) if text is not None else None
        except ValueError as exc:
            raise DriverError(f"{directory / name} holds {text!r}, not a time") from exc

    def _int(self, directory: Path, name: str) -> int | None:
        text = self._optional(directory, name)
        try:
            return int(text) if text is not None else None
        except ValueError as exc:
            raise DriverError(f"{directory / name} holds {text!r}, not a number") from exc

    @staticmethod
    def _mtime(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except OSError:
            return 0.0
