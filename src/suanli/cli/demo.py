"""``suanli demo``: build a realistic exchange, replay a day of real demand, serve it.

The demo owns its database: it (re)creates the one it is pointed at, but only if that
database is empty or was written by an earlier demo; anything else is refused.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import inspect

from suanli.cli.admin import safe_url
from suanli.cli.config import save_profiles
from suanli.cli.errors import CliError
from suanli.cli.output import console, emit_json, money, progress_bar, table
from suanli.demo.runner import DemoSummary, run_demo
from suanli.store import Database, orgs_repo

DEMO_MARK = "created_by"


def _reset(db: Database) -> None:
    tables = set(inspect(db.engine).get_table_names())
    if "organizations" in tables:
        with db.transaction() as session:
            mark = orgs_repo.get_meta(session, DEMO_MARK) if "meta" in tables else None
            has_orgs = bool(orgs_repo.listing(session))
        if has_orgs and mark != "demo":
            raise CliError(
                f"{safe_url(db.url)} holds an exchange that the demo did not create; "
                "point the demo elsewhere with --db"
            )
    db.drop_all()
    db.migrate()
    with db.transaction() as session:
        orgs_repo.set_meta(session, DEMO_MARK, "demo")


def _print(summary: DemoSummary) -> None:
    say = console().print
    say(
        f"[bold]suanli demo[/bold]: {summary.centers} centers ({summary.active_centers} active) "
        f"in {summary.provinces} provinces, {summary.pools} pools, {summary.cards:,} cards; "
        f"{summary.buyers} buyers"
    )
    say(
        f"replayed {summary.day}: {summary.requests:,} requests, {summary.placed:,} placed, "
        f"{summary.queued:,} still queued; {summary.leases_completed:,} leases completed, "
        f"{summary.leases_running:,} running"
    )
    say(
        f"utilization {summary.utilization:.1%}; revenue {money(summary.revenue_fen)}, "
        f"platform fees {money(summary.platform_fee_fen)}"
    )
    say(
        f"vouchers: {summary.voucher_programs} city programmes, "
        f"{summary.voucher_grants_approved} grants approved, "
        f"{money(summary.voucher_redeemed_fen)} paid on {summary.subsidized_leases:,} leases; "
        f"{summary.related_party_leases} related-party leases refused a subsidy"
    )
    say(
        f"billed the day: {summary.invoices} invoices, {money(summary.invoiced_fen)} "
        "for the leases that ended in it"
    )
    busiest = sorted(summary.by_province, key=lambda p: -p.utilization)
    table(
        ["province", "cards", "utilization"],
        [(p.province, f"{p.cards:,}", f"{p.utilization:.1%}") for p in busiest],
        title="utilization by province over the replayed day",
    )


def demo_command(
    db_url: Annotated[
        str | None, typer.Option("--db", help="Database for the demo (default: the usual one).")
    ] = None,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the API after the replay.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    host: Annotated[str, typer.Option(help="Interface to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
    seed: Annotated[int, typer.Option(help="Seed for the fleet and the demand model.")] = 7,
    scale: Annotated[int, typer.Option(min=1, max=20, help="Copies of the day's demand.")] = 1,
) -> None:
    """Build a demo exchange (>= 100 real centers), replay a day of real demand, serve it."""
    db = Database(db_url)
    _reset(db)
    with progress_bar(transient=as_json) as bar:
        task = bar.add_task("replaying a day of demand", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        run = run_demo(db, seed=seed, scale=scale, progress=progress)
    url = f"http://{host}:{port}"
    path = save_profiles(
        {role: {"url": url, "key": key} for role, key in run.keys.items()}, "buyer"
    )
    if as_json:
        emit_json(run.summary.model_dump(mode="json"))
    else:
        _print(run.summary)
        console().print(
            f"profiles operator / provider / buyer / issuer saved in {path} "
            "(switch with `suanli profile use NAME`)"
        )
        if serve:
            console().print(f"console: {url}/console/ — log in with a role's API key:")
            table(["role", "API key"], sorted(run.keys.items()))
    if serve:
        import uvicorn

        from suanli.api.app import create_app

        Console(stderr=True).print(f"serving the API on {url} (docs at {url}/docs); Ctrl-C stops")
        uvicorn.run(create_app(db, tick_seconds=5.0), host=host, port=port, log_level="warning")
