"""``suanli wallet ...``: top up and read balances (in yuan; the API counts fen)."""

from __future__ import annotations

from typing import Annotated

import typer

from suanli.cli import output, parse
from suanli.cli.context import client
from suanli.ledger.schemas import WalletOut

app = typer.Typer(help="Wallets: money available, held in escrow, and earned.")

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
OrgId = Annotated[
    int | None, typer.Option("--org", help="Whose wallet (operator only; default yours).")
]


def show_wallet(wallet: WalletOut) -> None:
    output.details(
        f"wallet of organization {wallet.org_id} ({wallet.currency})",
        [
            ("available", output.money(wallet.available_fen)),
            ("in escrow", output.money(wallet.escrow_fen)),
            ("earnings", output.money(wallet.earnings_fen)),
        ],
    )


@app.command("topup", context_settings={"ignore_unknown_options": True})
def topup(
    amount: Annotated[
        str, typer.Argument(metavar="AMOUNT_YUAN", help="Yuan, e.g. 5000 or 1,234.50.")
    ],
    org: OrgId = None,
    memo: Annotated[str, typer.Option("--memo", help="A note for the ledger.")] = "top-up",
    as_json: Json = False,
) -> None:
    """Record money paid into a buyer's wallet."""
    amount_fen = parse.fen(amount, "amount")
    with client() as api:
        result = api.topup(amount_fen, org_id=org, memo=memo)
    if as_json:
        output.emit_json(result)
        return
    output.say(f"topped up {output.money(amount_fen)} (transaction {result.transaction_id})")
    show_wallet(result.wallet)


@app.command("balance")
def balance(org: OrgId = None, as_json: Json = False) -> None:
    """Show a wallet's balances."""
    with client() as api:
        wallet = api.wallet(org)
    if as_json:
        output.emit_json(wallet)
    else:
        show_wallet(wallet)
