"""``suanli invoice ...``, ``suanli statement``, ``suanli payout ...``: billing.

Periods are calendar months ``YYYY-MM`` (China time) or ``--from``/``--to``; payout
amounts are typed in yuan. Exports (CSV, HTML) come from the API and are written to
``--out FILE`` or printed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from suanli.billing import periods
from suanli.billing.schemas import InvoiceOut, InvoiceSummary, StatementOut
from suanli.cli import output, parse
from suanli.cli.context import client
from suanli.cli.errors import CliError

invoices = typer.Typer(help="Invoices: what a buyer was billed for a month.")
payouts = typer.Typer(
    help="Payouts: a provider's earnings paid out to a bank account.",
    invoke_without_command=True,
)

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
PeriodOpt = Annotated[
    str | None, typer.Option("--period", help="A calendar month, YYYY-MM (China time).")
]
FromOpt = Annotated[
    str | None, typer.Option("--from", help="Instead of --period: start, ISO 8601.")
]
ToOpt = Annotated[
    str | None, typer.Option("--to", help="Instead of --period: end (exclusive), ISO 8601.")
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="Write to this file (default: print it).")
]


class Format(StrEnum):
    """How an invoice or statement is exported."""

    CSV = "csv"
    """One row per line and a total row; yuan and fen columns."""
    HTML = "html"
    """A printable, self-contained page."""


def _period(
    period: str | None, start: str | None, end: str | None
) -> tuple[str | None, datetime | None, datetime | None]:
    """Check the period locally: one-line errors name the option."""
    if period is not None:
        if start is not None or end is not None:
            raise CliError("give either --period or --from and --to, not both")
        periods.month(period, "--period")
        return period.strip(), None, None
    if start is None or end is None:
        raise CliError("give --period YYYY-MM, or both --from and --to")
    since = parse.instant(start, "--from")
    until = parse.instant(end, "--to")
    if until <= since:
        raise CliError("--to must be after --from")
    return None, since, until


def _write(content: str, out: Path | None) -> None:
    if out is None:
        typer.echo(content, nl=False)
        return
    try:
        out.write_text(content, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"--out: cannot write {out}: {exc.strerror or exc}") from exc
    output.say(f"wrote {out}")


# -- invoices -----------------------------------------------------------------------------
def show_invoice(invoice: InvoiceOut) -> None:
    output.details(
        f"invoice {invoice.number}",
        [
            ("buyer", f"{invoice.buyer_name} (#{invoice.buyer_id})"),
            ("period", invoice.period),
            ("from", output.when(invoice.period_start)),
            ("to", output.when(invoice.period_end)),
            ("issued", output.when(invoice.issued_at)),
            ("gross", output.money(invoice.gross_fen)),
            ("voucher", output.money(invoice.voucher_fen)),
            ("net due", output.money(invoice.net_fen)),
        ],
    )
    output.table(
        ["lease", "center", "model", ">cards", ">card-h", ">price", ">charge", ">voucher", ">net"],
        [
            (
                line.lease_id,
                line.center_name,
                line.model,
                line.cards,
                f"{line.card_hours:,}",
                output.per_card_hour(line.price_fen),
                output.money(line.charge_fen),
                output.money(line.voucher_fen),
                output.money(line.net_fen),
            )
            for line in invoice.lines
        ],
        title="lines",
    )


@invoices.command("issue")
def issue(
    period: PeriodOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    buyer: Annotated[
        int | None, typer.Option("--buyer", help="Whose invoice (operator only).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Issue the invoice for an ended period (again: the one already issued)."""
    month, since, until = _period(period, start, end)
    with client() as api:
        invoice = api.issue_invoice(month, buyer_id=buyer, start=since, end=until)
    if as_json:
        output.emit_json(invoice)
    else:
        show_invoice(invoice)


@invoices.command("list")
def list_invoices(
    buyer: Annotated[
        int | None, typer.Option("--buyer", help="Only this buyer's (operator only).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Invoices, newest period first."""
    with client() as api:
        found: list[InvoiceSummary] = api.list_invoices(buyer_id=buyer)
    if as_json:
        output.emit_json(found)
        return
    output.table(
        ["id", "number", "buyer", "period", ">lines", ">gross", ">voucher", ">net", "issued"],
        [
            (
                i.id,
                i.number,
                i.buyer_name,
                i.period,
                i.line_count,
                output.money(i.gross_fen),
                output.money(i.voucher_fen),
                output.money(i.net_fen),
                output.when(i.issued_at),
            )
            for i in found
        ],
        title="invoices",
    )


@invoices.command("show")
def show(invoice_id: Annotated[int, typer.Argument(metavar="ID")], as_json: Json = False) -> None:
    """One invoice with its lines."""
    with client() as api:
        invoice = api.get_invoice(invoice_id)
    if as_json:
        output.emit_json(invoice)
    else:
        show_invoice(invoice)


@invoices.command("export")
def export(
    invoice_id: Annotated[int, typer.Argument(metavar="ID")],
    fmt: Annotated[Format, typer.Option("--format", help="csv or html.")],
    out: OutOpt = None,
) -> None:
    """An invoice as CSV or as a printable HTML page."""
    with client() as api:
        content = api.invoice_csv(invoice_id) if fmt is Format.CSV else api.invoice_html(invoice_id)
    _write(content, out)


# -- statements ---------------------------------------------------------------------------
def show_statement(s: StatementOut) -> None:
    output.details(
        f"statement of {s.provider_name} (#{s.provider_id}) for {s.period}"
        + ("" if s.complete else " (still running)"),
        [
            ("opening earnings", output.money(s.opening_earnings_fen)),
            ("gross charged", output.money(s.gross_fen)),
            ("of which voucher", output.money(s.voucher_fen)),
            ("platform fee", output.money(s.fee_fen)),
            ("net earned", output.money(s.net_fen)),
            ("adjustments", output.money(s.adjustments_fen)),
            ("payouts", output.money(s.payouts_fen)),
            ("closing earnings", output.money(s.closing_earnings_fen)),
        ],
    )
    output.table(
        ["model", ">leases", ">card-h", ">charge", ">net"],
        [
            (
                m.model,
                m.leases,
                f"{m.card_hours:,}",
                output.money(m.charge_fen),
                output.money(m.net_fen),
            )
            for m in s.by_model
        ],
        title="by model",
    )
    output.table(
        ["transaction", "when", "to account", ">amount"],
        [
            (
                p.transaction_id,
                output.when(p.created_at),
                p.counterparty,
                output.money(p.amount_fen),
            )
            for p in s.payouts
        ],
        title="payouts",
    )


def statement(
    period: PeriodOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    provider: Annotated[
        int | None, typer.Option("--provider", help="Whose statement (operator only).")
    ] = None,
    fmt: Annotated[Format | None, typer.Option("--format", help="Export as csv or html.")] = None,
    out: OutOpt = None,
    as_json: Json = False,
) -> None:
    """A provider's statement: leases, fees, net earnings and payouts for a period."""
    month, since, until = _period(period, start, end)
    if as_json and fmt is not None:
        raise CliError("give either --json or --format, not both")
    if out is not None and fmt is None:
        raise CliError("--out needs --format csv or --format html")
    with client() as api:
        if fmt is Format.CSV:
            content = api.statement_csv(month, provider_id=provider, start=since, end=until)
        elif fmt is Format.HTML:
            content = api.statement_html(month, provider_id=provider, start=since, end=until)
        else:
            found = api.statement(month, provider_id=provider, start=since, end=until)
    if fmt is not None:
        _write(content, out)
    elif as_json:
        output.emit_json(found)
    else:
        show_statement(found)


# -- payouts ------------------------------------------------------------------------------
@payouts.callback()
def payout(
    ctx: typer.Context,
    amount: Annotated[
        str | None, typer.Option("--amount", help="Yuan, e.g. 1000 or 1,234.50.")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="The bank account the money goes to.")
    ] = None,
    provider: Annotated[
        int | None, typer.Option("--provider", help="Whose earnings (operator only).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Pay earnings out: ``suanli payout --amount 1000 --to ACCOUNT``."""
    if ctx.invoked_subcommand is not None:
        if amount is not None or to is not None or provider is not None or as_json:
            raise CliError(f"options before '{ctx.invoked_subcommand}' belong to a payout")
        return
    if amount is None or to is None:
        raise CliError("a payout needs --amount YUAN and --to ACCOUNT")
    amount_fen = parse.fen(amount, "--amount")
    if not to.strip():
        raise CliError("--to must name a bank account")
    with client() as api:
        result = api.payout(amount_fen, to, provider_id=provider)
    if as_json:
        output.emit_json(result)
        return
    output.say(
        f"paid out {output.money(result.amount_fen)} to {result.counterparty} "
        f"(transaction {result.transaction_id}); earnings now {output.money(result.earnings_fen)}"
    )


@payouts.command("list")
def list_payouts(
    provider: Annotated[
        int | None, typer.Option("--provider", help="Only this provider's (operator only).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Payouts, newest first."""
    with client() as api:
        found = api.list_payouts(provider_id=provider)
    if as_json:
        output.emit_json(found)
        return
    output.table(
        ["transaction", "provider", "when", "to account", ">amount"],
        [
            (
                p.transaction_id,
                p.provider_id,
                output.when(p.created_at),
                p.counterparty,
                output.money(p.amount_fen),
            )
            for p in found
        ],
        title="payouts",
    )
