"""Sub-commands that are imported only when they run.

Importing every command module up front would load the server, the database layer, the
placement engine and the simulator for any command, ``suanli --help`` included. A
:class:`LazyGroup` knows its lazy sub-commands by name, where they live and their
one-line help (:class:`LazyCommand`): listings (``suanli --help``) show that help as is,
and a sub-command's module is imported when the sub-command itself is looked up to run
it or to show its own help (``suanli pool list``, ``suanli pool --help``).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
import typer.main
from typer.core import TyperCommand

from suanli.cli.errors import SuanliGroup


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """Where a sub-command lives, and the help a listing shows for it.

    ``target`` is ``"module:attribute"``: a ``typer.Typer`` (a group of commands) or a
    command function. ``help`` is the first paragraph of the command's own help, as
    ``suanli --help`` shows it (a test keeps the two equal).
    """

    target: str
    help: str

    def load(self, name: str, group: LazyGroup) -> Any:  # Any: typer's (vendored) Command
        """Import the target and build its command as ``add_typer`` or ``command`` would
        have built it on ``group``'s app."""
        module, _, attribute = self.target.partition(":")
        found = getattr(importlib.import_module(module), attribute)
        holder = typer.Typer(
            rich_markup_mode=group.rich_markup_mode, suggest_commands=group.suggest_commands
        )
        if isinstance(found, typer.Typer):
            holder.add_typer(found, name=name)
        else:
            holder.command(name)(found)
        return typer.main.get_group(holder).commands[name]


class Placeholder(TyperCommand):
    """A lazy sub-command in a listing: its name and one-line help, nothing imported."""

    def __init__(self, name: str, lazy: LazyCommand) -> None:
        super().__init__(name, help=lazy.help)
        self.lazy = lazy


class LazyGroup(SuanliGroup):
    """A root group whose sub-commands in :attr:`lazy_commands` are imported on use.

    They are listed after the commands registered on the app itself, in the order of
    :attr:`lazy_commands`.
    """

    lazy_commands: ClassVar[Mapping[str, LazyCommand]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._listing = False
        for name, lazy in self.lazy_commands.items():
            self.commands.setdefault(name, Placeholder(name, lazy))

    @contextmanager
    def _only_listing(self) -> Iterator[None]:
        """While listing sub-commands, placeholders stand for the ones not imported."""
        before, self._listing = self._listing, True
        try:
            yield
        finally:
            self._listing = before

    def get_command(self, ctx: Any, cmd_name: str) -> Any:  # Any: typer's (vendored) click
        command = self.commands.get(cmd_name)
        if isinstance(command, Placeholder) and not self._listing:
            command = command.lazy.load(cmd_name, self)
            self.commands[cmd_name] = command
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        with self._only_listing():
            super().format_help(ctx, formatter)

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        with self._only_listing():
            return super().shell_complete(ctx, incomplete)
