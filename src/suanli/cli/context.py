"""Which exchange, as whom: the global options, the profiles, and the SDK client.

Precedence: ``--url`` / ``$SUANLI_URL``, else the active profile's url, else
:data:`DEFAULT_URL`; ``--key`` / ``$SUANLI_API_KEY``, else the active profile's key. The
active profile is ``--profile`` / ``$SUANLI_PROFILE``, else the file's default.

API-backed commands get their client from :func:`client`, which calls
:func:`make_client`; tests replace ``make_client`` to talk to an in-process app.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from suanli.cli.config import load_config
from suanli.cli.errors import CliError

if TYPE_CHECKING:
    from suanli.sdk.client import Client

DEFAULT_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True, slots=True)
class Globals:
    """The root command's options, as given (None = not given)."""

    url: str | None = None
    key: str | None = None
    profile: str | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """Where to connect and with which key, after profiles were consulted."""

    url: str
    key: str | None
    profile: str | None


_current: ContextVar[Globals | None] = ContextVar("suanli_cli_globals", default=None)


def use_globals(options: Globals) -> None:
    """Record the root command's options for the command about to run."""
    _current.set(options)


def current_globals() -> Globals:
    """The global options of the running command (all None outside a command)."""
    return _current.get() or Globals()


def resolve(options: Globals) -> Target:
    """Apply the precedence rules; an unknown profile name is an error."""
    url, key, name = options.url, options.key, options.profile
    if url is None or key is None or name is not None:
        config = load_config()
        name = name or config.default
        if name is not None:
            profile = config.profiles.get(name)
            if profile is None:
                known = ", ".join(sorted(config.profiles)) or "none"
                raise CliError(f"no profile named {name!r} (profiles: {known})")
            url = url or profile.get("url") or None
            key = key or profile.get("key") or None
    return Target(url=url or DEFAULT_URL, key=key, profile=name)


def make_client(url: str, key: str | None) -> Client:
    """The SDK client for ``url`` with ``key``. Tests replace this function."""
    from suanli.sdk.client import Client

    return Client(url, key)


@contextmanager
def client() -> Iterator[Client]:
    """A client for the running command, closed afterwards. Needs an API key."""
    target = resolve(current_globals())
    if not target.key:
        raise CliError(
            "no API key: pass --key, set SUANLI_API_KEY, or save one with "
            "'suanli profile set NAME --url URL --key sk_...'"
        )
    api = make_client(target.url, target.key)
    try:
        yield api
    finally:
        api.close()
