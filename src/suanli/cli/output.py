"""Printing: one JSON document for ``--json``, Rich tables for people.

Cells are plain text (never Rich markup), so names with brackets print as typed. Money
is shown with :func:`suanli.kit.money.yuan`, times as short ISO 8601 in UTC.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.text import Text

from suanli.kit.clock import as_utc
from suanli.kit.money import yuan

if TYPE_CHECKING:
    from rich.progress import Progress

NONE = "–"
STATUS_STYLES = {
    "active": "green",
    "placed": "green",
    "running": "green",
    "completed": "blue",
    "finished": "blue",
    "queued": "yellow",
    "pending": "yellow",
    "maintenance": "yellow",
    "planned": "cyan",
    "failed": "red",
    "offline": "red",
    "cancelled": "dim",
    "preempted": "magenta",
    "inactive": "dim",
}


# -- JSON ---------------------------------------------------------------------------------
def jsonable(data: Any) -> Any:
    """Models, lists and dicts of them as plain JSON values."""
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if isinstance(data, dict):
        return {str(k): jsonable(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [jsonable(v) for v in data]
    if isinstance(data, Decimal):
        return str(data)
    if isinstance(data, datetime):
        return data.isoformat()
    return data


def emit_json(data: Any) -> None:
    """Print ``data`` as one JSON document on stdout."""
    typer.echo(json.dumps(jsonable(data), ensure_ascii=False, indent=2))


# -- formatting ---------------------------------------------------------------------------
def when(value: datetime | None) -> str:
    """``2025-03-01T08:30Z``: a time in UTC to the minute."""
    return NONE if value is None else as_utc(value).strftime("%Y-%m-%dT%H:%MZ")


def money(fen: int | None) -> str:
    return NONE if fen is None else yuan(fen)


def per_card_hour(fen: int | None) -> str:
    return NONE if fen is None else f"{yuan(fen)}/card-h"


def duration(seconds: int) -> str:
    """``90s``, ``45m``, ``24h``, ``1.5h``: short and exact enough to read."""
    if seconds % 3600 == 0 or seconds >= 3 * 3600:
        return f"{round(seconds / 3600, 2):g}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def percent(ratio: Decimal) -> str:
    return f"{ratio * 100:.1f}%"


def status(value: str) -> Text:
    return Text(str(value), style=STATUS_STYLES.get(str(value), ""))


def joined(values: Iterable[str]) -> str:
    return ", ".join(values) or "any"


# -- tables -------------------------------------------------------------------------------
PIPE_WIDTH = 200


def console() -> Console:
    """A console on the current stdout (looked up at call time, so tests capture it).

    Piped output is not cut to 80 columns: without a terminal (and without ``$COLUMNS``)
    tables may grow to :data:`PIPE_WIDTH`.
    """
    out = Console(highlight=False)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out.width = PIPE_WIDTH
    return out


def _cell(value: object) -> Text:
    if isinstance(value, Text):
        return value
    return Text(NONE if value is None else str(value))


def table(columns: Sequence[str], rows: Iterable[Sequence[object]], *, title: str = "") -> None:
    """Print a table; a column name starting with ``>`` is right-aligned (numbers)."""
    from rich.table import Table

    out = Table(title=title or None, title_justify="left", header_style="bold")
    for name in columns:
        right = name.startswith(">")
        out.add_column(name.removeprefix(">"), justify="right" if right else "left")
    count = 0
    for row in rows:
        out.add_row(*(_cell(v) for v in row))
        count += 1
    if count == 0:
        console().print(Text(f"{title}: none" if title else "none", style="dim"))
        return
    console().print(out)


def details(title: str, pairs: Iterable[tuple[str, object]]) -> None:
    """Print one object as aligned ``field  value`` lines under a bold title."""
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    for name, value in pairs:
        grid.add_row(name, _cell(value))
    out = console()
    out.print(Text(title, style="bold"), soft_wrap=True)
    out.print(grid)


def bullets(title: str, lines: Iterable[str]) -> None:
    items = list(lines)
    if not items:
        return
    out = console()
    out.print(Text(title, style="bold"), soft_wrap=True)
    for line in items:
        out.print(Text(f"  - {line}"), soft_wrap=True)


def say(message: str) -> None:
    """A plain line for people (not used with ``--json``), never wrapped."""
    console().print(Text(message), soft_wrap=True)


def progress_bar(*, transient: bool, auto_refresh: bool = True) -> Progress:
    """A progress bar on stderr (description, bar, done/total, elapsed); ``transient``
    (under ``--json``) removes it when done, so stdout stays one JSON document."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=transient,
        auto_refresh=auto_refresh,
    )
