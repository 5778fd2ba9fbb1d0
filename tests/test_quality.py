"""Lint, format and types as tests, so that ``pytest`` is the one command for all three.

Each tool runs from the repository root with the configuration in pyproject.toml; on
failure the test shows what the tool printed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CHECKS = {
    "ruff-check": [sys.executable, "-m", "ruff", "check", "."],
    "ruff-format": [sys.executable, "-m", "ruff", "format", "--check", "."],
    "mypy": [sys.executable, "-m", "mypy"],
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_tool_is_clean(name: str) -> None:
    done = subprocess.run(
        CHECKS[name],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = f"$ {' '.join(CHECKS[name][2:])}\n{done.stdout}{done.stderr}"
    assert done.returncode == 0, output
