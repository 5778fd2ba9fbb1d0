"""Profiles: the config file, ``suanli profile ...`` and how url and key are chosen."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from suanli.cli.config import config_path, load_config, save_profiles
from suanli.cli.context import DEFAULT_URL, Globals, resolve
from suanli.cli.errors import CliError

from .harness import Cli, World


def test_save_profiles_merges_and_sets_the_default(cli: Cli) -> None:
    path = save_profiles({"buyer": {"url": "http://a:1", "key": "sk_b"}}, "buyer")
    assert path == config_path()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    save_profiles({"provider": {"url": "http://a:1", "key": "sk_p"}}, "provider")
    data = json.loads(path.read_text())
    assert data["default"] == "provider"
    assert set(data["profiles"]) == {"buyer", "provider"}
    with pytest.raises(CliError):
        save_profiles({}, "nobody")


def test_resolution_order(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve(Globals()) == resolve(Globals(url=None))
    assert resolve(Globals()).url == DEFAULT_URL
    save_profiles(
        {"a": {"url": "http://a:1", "key": "sk_a"}, "b": {"url": "http://b:2", "key": "sk_b"}}, "a"
    )
    assert (resolve(Globals()).url, resolve(Globals()).key) == ("http://a:1", "sk_a")
    chosen = resolve(Globals(profile="b"))
    assert (chosen.url, chosen.key, chosen.profile) == ("http://b:2", "sk_b", "b")
    flags = resolve(Globals(url="http://c:3", key="sk_c", profile="b"))
    assert (flags.url, flags.key) == ("http://c:3", "sk_c")
    with pytest.raises(CliError, match="no profile named 'zzz'"):
        resolve(Globals(profile="zzz"))


def test_profile_commands_and_use(cli: Cli, world: World, tmp_path: Path) -> None:
    cli("profile", "set", "buyer", "--url", "http://exchange.example/", "--key", world.buyer)
    cli("profile", "set", "provider", "--key", world.provider)
    listed = cli.json("profile", "list")
    assert listed["default"] == "buyer"
    assert [p["name"] for p in listed["profiles"]] == ["buyer", "provider"]
    assert listed["profiles"][0]["url"] == "http://exchange.example"
    assert world.buyer not in json.dumps(listed)  # keys are masked
    assert cli.json("whoami")["name"] == "Lanting AI"
    assert cli.urls[-1] == "http://exchange.example"
    cli("profile", "use", "provider")
    assert cli.json("whoami")["name"] == "Guiyang Compute"
    assert cli.urls[-1] == DEFAULT_URL
    assert cli.json("--profile", "buyer", "whoami")["role"] == "buyer"
    assert "Lanting AI" in cli("--profile", "buyer", "whoami").stdout
    assert "no profile named" in cli("--profile", "nope", "whoami", code=1).stderr
    assert "no profile named" in cli("profile", "use", "nope", code=1).stderr
    assert "start with 'sk_'" in cli("profile", "set", "x", "--key", "abc", code=1).stderr
    cli("profile", "remove", "provider")
    assert load_config().default == "buyer"
    assert "*" in cli("profile", "list").stdout


def test_broken_config_is_one_line(cli: Cli) -> None:
    config_path().write_text("{not json")
    assert "not valid JSON" in cli("whoami", code=1).stderr
