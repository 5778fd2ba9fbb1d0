"""The ``suanli`` command: global options, and every command group wired together.

Command tree::

    suanli [--url URL] [--key KEY] [--profile NAME]
      serve                      migrate the database and run the API
      admin  init | create-org | create-key | list-orgs      (database, no server)
      profile list | use | set | remove                      (local config file)
      whoami
      center register | list | show | set
      pool   add | list | show | price | set
      offers
      request submit | list | show | cancel
      lease  list | show | start | usage | complete | fail
      wallet topup | balance
      invoice issue | list | show | export
      statement                  (a provider's month: --json, or --format csv|html)
      payout [--amount --to] | list
      report utilization
      report vouchers            (API, or the database: see suanli audit)
      audit  ledger              (API, or the database with --db)
      voucher program | grant | redemption | clawback | flag
      agent  run                 (the center agent: --driver slurm|kubernetes|local)
      demo                       (suanli.cli.demo)
      sim    run                 (replay traces through the engine: suanli.cli.sim)
"""

from __future__ import annotations

from typing import Annotated

import typer

from suanli.cli import admin, capacity, leases, output, profiles, reports, requests, wallet
from suanli.cli import agent as agent_cli
from suanli.cli import audit as audit_cli
from suanli.cli import billing as billing_cli
from suanli.cli import vouchers as vouchers_cli
from suanli.cli.bench import bench_app
from suanli.cli.context import Globals, client, use_globals
from suanli.cli.demo import demo_command
from suanli.cli.errors import SuanliGroup
from suanli.cli.serve import serve
from suanli.cli.sim import sim_app

app = typer.Typer(
    name="suanli",
    cls=SuanliGroup,
    help="suanli (算力): rent idle AI accelerators of computing centers by the card-hour.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def main(
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            envvar="SUANLI_URL",
            help="The exchange's base URL (default: the profile's, else http://127.0.0.1:8000).",
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key", envvar="SUANLI_API_KEY", help="API key, sk_... (default: the profile's)."
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            envvar="SUANLI_PROFILE",
            help="Saved profile to use (default: the config file's default).",
        ),
    ] = None,
) -> None:
    """suanli (算力): rent idle AI accelerators of computing centers by the card-hour."""
    use_globals(Globals(url=url or None, key=key or None, profile=profile or None))


@app.command("whoami")
def whoami(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Show the organization behind the API key in use."""
    with client() as api:
        me = api.me()
    if as_json:
        output.emit_json(me)
    else:
        admin.show_org(me)


app.command("serve")(serve)
app.add_typer(admin.app, name="admin")
app.add_typer(profiles.app, name="profile")
app.add_typer(capacity.centers, name="center")
app.add_typer(capacity.pools, name="pool")
app.command("offers")(capacity.offers)
app.add_typer(requests.app, name="request")
app.add_typer(leases.app, name="lease")
app.add_typer(wallet.app, name="wallet")
app.add_typer(billing_cli.invoices, name="invoice")
app.command("statement")(billing_cli.statement)
app.add_typer(billing_cli.payouts, name="payout")
app.add_typer(reports.app, name="report")
app.add_typer(vouchers_cli.app, name="voucher")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(agent_cli.app, name="agent")

# -- demo ---------------------------------------------------------------------------------
app.command("demo")(demo_command)
app.add_typer(bench_app, name="bench")
app.add_typer(sim_app, name="sim")
# ------------------------------------------------------------------------------------------
