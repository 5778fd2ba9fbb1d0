"""``suanli demo`` run as its own process, the way people run it, for the tests of the
tour and of the demo's safety.

Its stdout and stderr go to files (a pipe nobody reads could fill up and stall a demo
that serves); :meth:`DemoProcess.json` waits for the ``--json`` document on stdout.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

SMALL = ["--requests", "30"]
"""The first 30 requests of the day: a demo built in seconds."""
CLEARED = ("SUANLI_URL", "SUANLI_API_KEY", "SUANLI_PROFILE", "SUANLI_DATABASE_URL")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def demo_env(config: Path) -> dict[str, str]:
    """The environment of a demo (and of the CLI next to it): its own profiles file, no
    connection settings of whoever runs the tests."""
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update(SUANLI_CONFIG=str(config), COLUMNS="200", PYTHONUNBUFFERED="1")
    return env


@dataclass
class DemoProcess:
    proc: subprocess.Popen[bytes]
    out: Path
    err: Path

    @property
    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8")

    @property
    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8")

    def json(self, timeout: float = 240) -> dict[str, Any]:
        """The ``--json`` document, once printed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.stdout
            if text.rstrip().endswith("}"):
                try:
                    found: dict[str, Any] = json.loads(text)
                    return found
                except json.JSONDecodeError:
                    pass
            if self.proc.poll() is not None:
                pytest.fail(f"the demo exited with {self.proc.returncode}: {self.stderr}")
            time.sleep(0.1)
        pytest.fail(f"no JSON from the demo within {timeout} s: {self.stderr}")

    def serving(self, url: str, timeout: float = 60) -> None:
        """Wait until the demo answers at ``url``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"the demo exited with {self.proc.returncode}: {self.stderr}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"the demo did not serve {url} within {timeout} s: {self.stderr}")

    def interrupt(self, timeout: float = 60) -> int:
        """Ctrl-C, as a terminal sends it; returns the exit status."""
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "suanli", "demo", *args]


@contextmanager
def demo(args: list[str], env: dict[str, str], directory: Path) -> Iterator[DemoProcess]:
    """A ``suanli demo`` running in the background; killed afterwards if still running."""
    directory.mkdir(parents=True, exist_ok=True)
    out, err = directory / "demo.out", directory / "demo.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(command(*args), stdout=stdout, stderr=stderr, env=env)
    running = DemoProcess(proc, out, err)
    try:
        yield running
    finally:
        running.stop()


def run(
    args: list[str], env: dict[str, str], timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """``suanli demo`` to its end (with ``--no-serve``, or refused)."""
    return subprocess.run(
        command(*args), env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
