"""Expected failures: one line on stderr, exit status 1, no traceback."""

from __future__ import annotations

import pytest

from suanli.cli import context
from suanli.sdk.client import Client

from .harness import Cli, World


def test_bad_key(cli: Cli, world: World) -> None:
    result = cli("center", "list", key="sk_" + "0" * 48, code=1)
    assert result.stderr == "error: invalid API key\n"
    assert "sk_" in cli("center", "list", key="nope", code=1).stderr


def test_missing_key(cli: Cli) -> None:
    assert "no API key" in cli("wallet", "balance", code=1).stderr


def test_wrong_role(cli: Cli, world: World) -> None:
    result = cli("request", "submit", "--cards", "1", "--hours", "1", key=world.provider, code=1)
    assert "may not use" in result.stderr
    assert "not found" in cli("lease", "show", "999", key=world.buyer, code=1).stderr


def test_bad_amounts(cli: Cli, world: World) -> None:
    assert "not an amount in yuan" in cli("wallet", "topup", "abc", key=world.buyer, code=1).stderr
    assert "more than ¥0" in cli("wallet", "topup", "-5", key=world.buyer, code=1).stderr
    assert "more than ¥0" in cli("wallet", "topup", "0", key=world.buyer, code=1).stderr
    assert "fractions" in cli("wallet", "topup", "0.001", key=world.buyer, code=1).stderr


def test_bad_times(cli: Cli, world: World) -> None:
    bad = cli("report", "utilization", "--from", "last week", key=world.operator, code=1)
    assert "--from" in bad.stderr
    backwards = cli(
        *("report", "utilization", "--from", "2025-03-02", "--to", "2025-03-01"),
        key=world.operator,
        code=1,
    )
    assert "after" in backwards.stderr
    usage = cli(
        *("lease", "usage", "1", "--card-seconds", "1", "--from", "x", "--to", "y"),
        key=world.provider,
        code=1,
    )
    assert "--from" in usage.stderr


def test_unreachable_server(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(context, "make_client", lambda url, key: Client("http://127.0.0.1:9", key))
    assert "cannot reach" in cli("wallet", "balance", key="sk_x", code=1).stderr


def test_usage_errors_keep_typer_status(cli: Cli) -> None:
    cli("center", "list", "--no-such-option", key="sk_x", code=2)
    cli("report", "utilization", "--by", "planet", key="sk_x", code=2)
