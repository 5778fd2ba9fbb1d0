"""``suanli profile ...``: list, choose and edit the saved (url, key) profiles."""

from __future__ import annotations

from typing import Annotated

import typer

from suanli.cli import output
from suanli.cli.config import config_path, load_config, mask_key, write_config
from suanli.cli.context import DEFAULT_URL
from suanli.cli.errors import CliError

app = typer.Typer(help="Saved connections: an exchange URL and an API key, by name.")

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


@app.command("list")
def list_profiles(as_json: Json = False) -> None:
    """List the profiles; the default one is marked. Keys are shown masked."""
    config = load_config()
    rows = [
        {
            "name": name,
            "url": values.get("url", DEFAULT_URL),
            "key": mask_key(values.get("key")),
            "default": name == config.default,
        }
        for name, values in sorted(config.profiles.items())
    ]
    if as_json:
        output.emit_json({"path": str(config_path()), "default": config.default, "profiles": rows})
        return
    output.table(
        ["", "name", "url", "key"],
        [("*" if r["default"] else "", r["name"], r["url"], r["key"]) for r in rows],
        title=f"profiles in {config_path()}",
    )


@app.command("use")
def use(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The profile to make the default.")],
) -> None:
    """Make NAME the default profile."""
    config = load_config()
    if name not in config.profiles:
        known = ", ".join(sorted(config.profiles)) or "none"
        raise CliError(f"no profile named {name!r} (profiles: {known})")
    config.default = name
    write_config(config)
    output.say(f"default profile: {name}")


@app.command("set")
def set_profile(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The profile to create or change.")],
    url: Annotated[str | None, typer.Option("--url", help="The exchange's base URL.")] = None,
    key: Annotated[str | None, typer.Option("--key", help="An API key, sk_...")] = None,
    default: Annotated[
        bool, typer.Option("--default", help="Also make it the default profile.")
    ] = False,
) -> None:
    """Create or change a profile. The first profile saved becomes the default."""
    if not name.strip():
        raise CliError("a profile needs a name")
    if key is not None and not key.startswith("sk_"):
        raise CliError("API keys start with 'sk_'")
    config = load_config()
    profile = config.profiles.setdefault(name, {})
    if url is not None:
        profile["url"] = url.rstrip("/")
    profile.setdefault("url", DEFAULT_URL)
    if key is not None:
        profile["key"] = key
    if default or config.default is None or config.default not in config.profiles:
        config.default = name
    path = write_config(config)
    suffix = " (default)" if config.default == name else ""
    output.say(f"saved profile {name}{suffix} in {path}")


@app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The profile to delete.")],
) -> None:
    """Delete a profile."""
    config = load_config()
    if config.profiles.pop(name, None) is None:
        raise CliError(f"no profile named {name!r}")
    if config.default == name:
        config.default = min(config.profiles) if config.profiles else None
    write_config(config)
    output.say(f"removed profile {name}")
