"""Profiles: named (url, key) pairs in a JSON file, one of them the default.

The file lives at ``$SUANLI_CONFIG``, else ``config.json`` in the platform's user config
directory, and looks like::

    {"default": "buyer", "profiles": {"buyer": {"url": "...", "key": "sk_..."}}}

It holds API keys, so it is written with owner-only permissions (0600), atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from suanli.cli.errors import CliError

ENV_CONFIG = "SUANLI_CONFIG"


def config_path() -> Path:
    """``$SUANLI_CONFIG``, else ``<user config dir>/suanli/config.json``."""
    if env := os.environ.get(ENV_CONFIG):
        return Path(env).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("suanli", appauthor=False)) / "config.json"


@dataclass
class Config:
    """The profiles file in memory. ``default`` names the active profile, if any."""

    default: str | None = None
    profiles: dict[str, dict[str, str]] = field(default_factory=dict)


def load_config(path: Path | None = None) -> Config:
    """Read the profiles file; a missing file is an empty configuration."""
    path = path or config_path()
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CliError(f"{path} is not valid JSON: {exc.msg} (line {exc.lineno})") from exc
    profiles = data.get("profiles", {}) if isinstance(data, dict) else None
    default = data.get("default") if isinstance(data, dict) else None
    if not isinstance(profiles, dict) or not all(
        isinstance(p, dict) and all(isinstance(v, str) for v in p.values())
        for p in profiles.values()
    ):
        raise CliError(f"{path}: 'profiles' must map names to {{'url': ..., 'key': ...}}")
    if default is not None and not isinstance(default, str):
        raise CliError(f"{path}: 'default' must be a profile name")
    return Config(default=default, profiles={str(k): dict(v) for k, v in profiles.items()})


def write_config(config: Config, path: Path | None = None) -> Path:
    """Write the profiles file atomically, readable by its owner only."""
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"default": config.default, "profiles": config.profiles}
    fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=2)
            handle.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_profiles(profiles: dict[str, dict[str, str]], default: str) -> Path:
    """Add or replace ``profiles`` (name -> {"url", "key"}) and make ``default`` active.

    Profiles not named here are kept. Returns the path of the file written.
    """
    config = load_config()
    for name, values in profiles.items():
        config.profiles[name] = dict(values)
    if default not in config.profiles:
        raise CliError(f"default profile {default!r} is not among the profiles")
    config.default = default
    return write_config(config)


def mask_key(key: str | None) -> str:
    """An API key for display: its prefix and last four characters."""
    if not key:
        return ""
    if len(key) <= 12:
        return "sk_…"
    return f"{key[:7]}…{key[-4:]}"
