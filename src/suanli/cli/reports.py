"""``suanli report ...``: where capacity works and where it sleeps."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from suanli.cli import output, parse
from suanli.cli.context import client
from suanli.cli.errors import CliError

app = typer.Typer(help="Reports for providers, issuers and the operator.")

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


class GroupBy(StrEnum):
    """How utilization rows are grouped."""

    PROVINCE = "province"
    """One row per province."""
    CENTER = "center"
    """One row per computing center."""
    MODEL = "model"
    """One row per accelerator model."""
    TOTAL = "total"
    """One row for everything."""


@app.command("utilization")
def utilization(
    by: Annotated[GroupBy, typer.Option("--by", help="Group rows by.")] = GroupBy.PROVINCE,
    start: Annotated[
        str | None, typer.Option("--from", help="Window start, ISO 8601 (default: a day ago).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Window end, ISO 8601 (default: now).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Allocated over available card-hours in a window of time."""
    since = parse.optional_instant(start, "--from")
    until = parse.optional_instant(end, "--to")
    if since is not None and until is not None and until <= since:
        raise CliError("--to must be after --from")
    with client() as api:
        report = api.utilization(start=since, end=until, by=by.value)
    if as_json:
        output.emit_json(report)
        return
    rows = [*report.rows, report.total] if len(report.rows) != 1 else report.rows
    output.table(
        [by.value, ">cards", ">available card-h", ">allocated card-h", ">utilization"],
        [
            (
                r.key,
                r.cards,
                f"{r.available_card_hours:,}",
                f"{r.allocated_card_hours:,}",
                output.percent(r.utilization),
            )
            for r in rows
        ],
        title=f"utilization {output.when(report.start)} to {output.when(report.end)}",
    )
