"""Start-up: ``suanli --help`` and the API commands import only what they need.

The command modules load lazily (:mod:`suanli.cli.lazy`); these tests run the command
in a fresh interpreter under ``-X importtime`` and look at what it imported. They also
pin the command tree, so that loading lazily loses no command, and keep the one-line
help of :data:`suanli.cli.main.COMMANDS` equal to each command's own.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
from typer.core import TyperGroup
from typer.testing import CliRunner

from suanli.cli.main import COMMANDS, app

# Never on the way of `suanli --help` or of a command that only talks to the API.
HEAVY = (
    "sqlalchemy",
    "numpy",
    "fastapi",
    "uvicorn",
    "matplotlib",
    "alembic",
    "suanli.engine",
    "suanli.store",
    "suanli.sim",
    "suanli.api",
)
# Generous: a loaded test machine is slow. On a quiet one `--help` takes about 0.1 s.
HELP_IMPORT_BOUND_S = 1.0


def group(name: str, *commands: str) -> list[str]:
    return [name, *(f"{name} {command}" for command in commands)]


# The command tree as it was when every module was imported up front, in help order.
EXPECTED_PATHS = [
    *("whoami", "serve", "offers", "statement", "demo"),
    *group("admin", "init", "create-org", "create-key", "list-orgs"),
    *group("profile", "list", "use", "set", "remove"),
    *group("center", "register", "list", "show", "set"),
    *group("pool", "add", "list", "show", "price", "set"),
    *group("request", "submit", "quote", "list", "show", "cancel"),
    *group("lease", "list", "show", "start", "usage", "complete", "fail"),
    *group("wallet", "topup", "balance"),
    *group("invoice", "issue", "list", "show", "export"),
    *group("payout", "list"),
    *group("report", "utilization", "overview", "series", "prices", "earnings", "vouchers"),
    *group("voucher", "clawback"),
    *group("voucher program", "create", "list", "show", "close"),
    *group("voucher grant", "apply", "list", "show", "approve", "reject", "release", "revoke"),
    *group("voucher redemption", "list"),
    *group("voucher flag", "list", "resolve", "scan"),
    *group("audit", "ledger"),
    *group("agent", "run"),
    *group("bench", "openb", "scale", "sim", "api"),
    *group("sim", "run", "study", "sweep"),
]

# Runs `suanli ARGS` in the child; SETUP may replace the SDK client. Prints one JSON line.
CHILD = """
import contextlib, io, json, sys
from suanli.cli.main import app
{setup}
out = io.StringIO()
code = 0
with contextlib.redirect_stdout(out):
    try:
        app({args!r}, prog_name="suanli")
    except SystemExit as exc:
        code = exc.code
print(json.dumps({{"code": code, "stdout": out.getvalue(), "modules": sorted(sys.modules)}}))
"""

# `whoami` against an exchange answered in process: the whole command, no network.
MOCK_EXCHANGE = """
import httpx
from suanli.cli import context
from suanli.sdk.client import Client
ORG = {
    "id": 7, "name": "Lanting AI", "name_zh": None, "role": "buyer", "province": None,
    "city": None, "kind": "startup", "industry": None, "founded_on": None,
    "group_name": None, "owners": [], "created_at": "2025-03-01T08:00:00Z",
}
def answer(request):
    assert request.url.path == "/v1/orgs/me", request.url
    return httpx.Response(200, json=ORG)
context.make_client = lambda url, key: Client(url, key, transport=httpx.MockTransport(answer))
"""


@dataclass
class Run:
    code: int
    stdout: str
    modules: set[str]
    importtime: list[tuple[int, int, str]]  # (depth, cumulative µs, module), children first

    def heavy(self) -> dict[str, str]:
        """Each heavy module (or package) imported, with the chain that imported it."""
        found = {}
        for name in HEAVY:
            if name in self.modules or any(m.startswith(name + ".") for m in self.modules):
                found[name] = self.chain(name)
        return found

    def chain(self, name: str) -> str:
        """``name <- importer <- ...`` up to the top level, from the import-time tree."""
        found = [i for i, (_, _, module) in enumerate(self.importtime) if module == name]
        for i, (depth, _, module) in enumerate(self.importtime):
            if i in found[:1] or (not found and module.startswith(name + ".")):
                links, level = [module], depth
                for parent_depth, _, parent in self.importtime[i + 1 :]:
                    if parent_depth < level:
                        links.append(parent)
                        level = parent_depth
                return " <- ".join(links)
        return name

    def import_seconds(self) -> float:
        """The cumulative import time of every top-level import, added up."""
        return sum(cum for depth, cum, _ in self.importtime if depth == 0) / 1e6


def run_fresh(args: list[str], setup: str = "", tmp_path: Path | None = None) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUANLI_")}
    env["COLUMNS"] = "200"
    if tmp_path is not None:
        env["SUANLI_CONFIG"] = str(tmp_path / "config.json")
    code = CHILD.format(setup=setup, args=args)
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    importtime = []
    for line in proc.stderr.splitlines():
        found = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( +)(\S+)$", line)
        if found:
            importtime.append(((len(found[2]) - 1) // 2, int(found[1]), found[3]))
    result = json.loads(proc.stdout.splitlines()[-1])
    return Run(result["code"], result["stdout"], set(result["modules"]), importtime)


def test_help_imports_no_heavy_module(tmp_path: Path) -> None:
    run = run_fresh(["--help"], tmp_path=tmp_path)
    assert run.code == 0
    assert run.heavy() == {}
    # No command module either: the listing comes from COMMANDS.
    loaded = {m for m in run.modules if m.startswith("suanli.cli.")}
    assert loaded <= {f"suanli.cli.{m}" for m in ("main", "lazy", "errors", "context", "config")}
    for name, lazy in COMMANDS.items():
        assert re.search(rf"│ {name} +{re.escape(lazy.help)}", run.stdout), name
    assert "whoami" in run.stdout


def test_help_starts_quickly(tmp_path: Path) -> None:
    run = run_fresh(["--help"], tmp_path=tmp_path)
    assert run.import_seconds() < HELP_IMPORT_BOUND_S, sorted(
        ((cum, m) for depth, cum, m in run.importtime if depth == 0), reverse=True
    )[:8]


@pytest.mark.parametrize("as_json", [False, True], ids=["table", "json"])
def test_whoami_imports_only_the_client(tmp_path: Path, as_json: bool) -> None:
    args = ["--url", "http://exchange.test", "--key", "sk_x", "whoami"]
    run = run_fresh(args + ["--json"] * as_json, setup=MOCK_EXCHANGE, tmp_path=tmp_path)
    assert run.code == 0, run.stdout
    assert "Lanting AI" in run.stdout
    assert run.heavy() == {}
    assert "suanli.cli.capacity" not in run.modules


def test_a_group_imports_its_own_module_only(tmp_path: Path) -> None:
    run = run_fresh(["pool", "--help"], tmp_path=tmp_path)
    assert run.code == 0
    assert "Usage: suanli pool" in run.stdout
    assert "suanli.cli.capacity" in run.modules
    assert not {"suanli.cli.sim", "suanli.cli.bench", "suanli.cli.vouchers"} & run.modules


def command_paths(command: Any, ctx: Any, prefix: tuple[str, ...] = ()) -> list[str]:
    paths = []
    for name in command.list_commands(ctx):
        sub = command.get_command(ctx, name)
        paths.append(" ".join((*prefix, name)))
        if isinstance(sub, TyperGroup):
            paths += command_paths(sub, typer.Context(sub, parent=ctx), (*prefix, name))
    return paths


def test_every_command_is_still_there() -> None:
    root = typer.main.get_command(app)
    assert command_paths(root, typer.Context(root, info_name="suanli")) == EXPECTED_PATHS


def test_table_help_is_each_commands_own() -> None:
    root = typer.main.get_command(app)
    ctx = typer.Context(root, info_name="suanli")
    for name, lazy in COMMANDS.items():
        command = root.get_command(ctx, name)
        first = inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0]
        assert lazy.help == first.strip(), name


# The commands of the root, and every group below it.
HELP_PATHS = [
    p for p in EXPECTED_PATHS if " " not in p or any(q.startswith(p + " ") for q in EXPECTED_PATHS)
]


@pytest.mark.parametrize("path", HELP_PATHS)
def test_help_of_each_command(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(app, [*path.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert f"Usage: suanli {path} " in result.stdout


def test_unknown_command_suggests_lazy_ones() -> None:
    result = CliRunner().invoke(app, ["walet"])
    assert result.exit_code == 2
    assert "Did you mean 'wallet'" in result.stderr
