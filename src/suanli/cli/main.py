"""The ``suanli`` command: global options, and every command group wired together.

The command modules are imported only when their command runs (:data:`COMMANDS`,
:mod:`suanli.cli.lazy`): ``suanli --help`` and the API commands start without the
server, the database layer, the engine or the simulator.

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
      bench  openb | scale | sim (benchmarks of the engine: suanli.cli.bench)
      sim    run                 (replay traces through the engine: suanli.cli.sim)
"""

from __future__ import annotations

from typing import Annotated

import typer

from suanli.cli.context import Globals, client, use_globals
from suanli.cli.lazy import LazyCommand, LazyGroup

# Every command but ``whoami``, by name: where it lives and its one-line help. Each module
# is imported only when its command runs, so that a command (or ``--help``) loads what it
# needs and no more: the server, the database, the engine and the simulator are heavy.
COMMANDS: dict[str, LazyCommand] = {
    "serve": LazyCommand(
        "suanli.cli.serve:serve",
        "Migrate the database, then serve the API (and place queued requests every --tick s).",
    ),
    "offers": LazyCommand(
        "suanli.cli.capacity:offers", "Browse the market: pools with free cards, cheapest first."
    ),
    "statement": LazyCommand(
        "suanli.cli.billing:statement",
        "A provider's statement: leases, fees, net earnings and payouts for a period.",
    ),
    "demo": LazyCommand(
        "suanli.cli.demo:demo_command",
        "Build a demo exchange (>= 100 real centers), replay a day of real demand, serve it.",
    ),
    "admin": LazyCommand(
        "suanli.cli.admin:app",
        "Set up the exchange's database, organizations and keys (no server).",
    ),
    "profile": LazyCommand(
        "suanli.cli.profiles:app", "Saved connections: an exchange URL and an API key, by name."
    ),
    "center": LazyCommand(
        "suanli.cli.capacity:centers", "Computing centers (providers register their own)."
    ),
    "pool": LazyCommand(
        "suanli.cli.capacity:pools",
        "Node pools: identical nodes of one accelerator model at one price.",
    ),
    "request": LazyCommand("suanli.cli.requests:app", "Requests for accelerator cards (buyers)."),
    "lease": LazyCommand(
        "suanli.cli.leases:app", "Leases: cards placed for a request (providers drive them)."
    ),
    "wallet": LazyCommand(
        "suanli.cli.wallet:app", "Wallets: money available, held in escrow, and earned."
    ),
    "invoice": LazyCommand(
        "suanli.cli.billing:invoices", "Invoices: what a buyer was billed for a month."
    ),
    "payout": LazyCommand(
        "suanli.cli.billing:payouts", "Payouts: a provider's earnings paid out to a bank account."
    ),
    "report": LazyCommand(
        "suanli.cli.reports:app", "Reports for providers, issuers and the operator."
    ),
    "voucher": LazyCommand(
        "suanli.cli.vouchers:app",
        "Computing-power vouchers: programs, grants, redemptions, flags.",
    ),
    "audit": LazyCommand(
        "suanli.cli.audit:app",
        "Check the books: every ledger and voucher invariant, from the data.",
    ),
    "agent": LazyCommand("suanli.cli.agent:app", "The center agent."),
    "bench": LazyCommand(
        "suanli.cli.bench:bench_app", "Benchmarks of the placement engine on real traces."
    ),
    "sim": LazyCommand(
        "suanli.cli.sim:sim_app", "Replay job traces through the exchange's engine."
    ),
}


class RootGroup(LazyGroup):
    """``suanli``: ``whoami`` registered below, every other command in :data:`COMMANDS`."""

    lazy_commands = COMMANDS


app = typer.Typer(
    name="suanli",
    cls=RootGroup,
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
    from suanli.cli import output
    from suanli.cli.admin import show_org

    with client() as api:
        me = api.me()
    if as_json:
        output.emit_json(me)
    else:
        show_org(me)
