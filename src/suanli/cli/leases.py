"""``suanli lease ...``: read leases; providers start, meter, complete or fail them."""

from __future__ import annotations

from typing import Annotated

import typer

from suanli.cli import output, parse
from suanli.cli.context import client
from suanli.cli.errors import CliError
from suanli.exchange.schemas import LeaseOut, UsageIn, UsageOut
from suanli.vocab import LeaseStatus

app = typer.Typer(help="Leases: cards placed for a request (providers drive them).")

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
LEASE_COLUMNS = (
    *(">id", "status", ">request", ">pool", ">cards", "model", ">for", ">per card-h"),
    *(">held", ">charged", "placed"),
)
LeaseId = Annotated[int, typer.Argument(metavar="LEASE_ID", help="Lease id.")]


def card_hours(card_seconds: int) -> str:
    return f"{card_seconds / 3600:,.2f} card-h"


def show_lease(lease: LeaseOut, usage: list[UsageOut] | None = None) -> None:
    output.details(
        f"lease {lease.id}",
        [
            ("status", output.status(lease.status)),
            ("request", lease.request_id),
            ("buyer", lease.buyer_id),
            ("provider", lease.provider_id),
            ("where", f"center {lease.center_id}, pool {lease.pool_id}"),
            ("cards", f"{lease.cards} x {lease.model}"),
            ("duration", output.duration(lease.duration_s)),
            ("price", output.per_card_hour(lease.price_fen)),
            ("escrow held", output.money(lease.hold_fen)),
            ("charged", output.money(lease.charged_fen)),
            ("used", card_hours(lease.usage_card_seconds)),
            ("placed", output.when(lease.placed_at)),
            ("started", output.when(lease.started_at)),
            ("ended", output.when(lease.ended_at)),
            ("end reason", lease.end_reason),
        ],
    )
    if lease.allocations:
        output.table(
            [">node", ">cards"],
            [(a.node_id, a.cards) for a in sorted(lease.allocations, key=lambda a: a.node_id)],
            title="allocations",
        )
    if lease.transitions:
        output.table(
            ["at", "from", "to", "reason"],
            [
                (output.when(t.at), t.from_status, output.status(t.to_status), t.reason)
                for t in lease.transitions
            ],
            title="transitions",
        )
    if usage:
        output.table(
            ["id", "from", "to", ">card-seconds", "source", "charged"],
            [
                (
                    u.external_id,
                    output.when(u.period_start),
                    output.when(u.period_end),
                    f"{u.card_seconds:,}",
                    u.source,
                    "yes" if u.charge_transaction_id is not None else "no",
                )
                for u in sorted(usage, key=lambda u: (u.period_start, u.id))
            ],
            title="usage",
        )


def _done(lease: LeaseOut, as_json: bool) -> None:
    if as_json:
        output.emit_json(lease)
    else:
        show_lease(lease)


@app.command("list")
def list_leases(
    lease_status: Annotated[
        LeaseStatus | None, typer.Option("--status", help="Only this status.")
    ] = None,
    center: Annotated[int | None, typer.Option("--center", help="Only this center.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many, newest first.")] = 200,
    as_json: Json = False,
) -> None:
    """List the leases you buy or provide (all, for the operator), newest first."""
    with client() as api:
        found = api.list_leases(lease_status, center, parse.at_least(limit, 1, "--limit"))
    found.sort(key=lambda lease: lease.id, reverse=True)
    if as_json:
        output.emit_json(found)
        return
    output.table(
        LEASE_COLUMNS,
        [
            (
                le.id,
                output.status(le.status),
                le.request_id,
                le.pool_id,
                le.cards,
                le.model,
                output.duration(le.duration_s),
                output.money(le.price_fen),
                output.money(le.hold_fen),
                output.money(le.charged_fen),
                output.when(le.placed_at),
            )
            for le in found
        ],
    )


@app.command("show")
def show(lease_id: LeaseId, as_json: Json = False) -> None:
    """Show a lease with its allocations, transitions and metered usage."""
    with client() as api:
        lease = api.get_lease(lease_id)
        usage = api.list_usage(lease_id)
    if as_json:
        output.emit_json({**output.jsonable(lease), "usage": output.jsonable(usage)})
    else:
        show_lease(lease, usage)


@app.command("start")
def start(lease_id: LeaseId, as_json: Json = False) -> None:
    """Report a placed lease running at the center (providers)."""
    with client() as api:
        _done(api.start_lease(lease_id), as_json)


@app.command("usage")
def usage(
    lease_id: LeaseId,
    card_seconds: Annotated[int, typer.Option("--card-seconds", help="Metered card-seconds.")],
    period_start: Annotated[str, typer.Option("--from", help="Period start, ISO 8601.")],
    period_end: Annotated[str, typer.Option("--to", help="Period end, ISO 8601.")],
    external_id: Annotated[
        str | None, typer.Option("--id", help="The meter's id; resending it is a no-op.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Report metered use of a running lease over a period (providers)."""
    body = UsageIn(
        card_seconds=parse.at_least(card_seconds, 0, "--card-seconds"),
        period_start=parse.instant(period_start, "--from"),
        period_end=parse.instant(period_end, "--to"),
        external_id=external_id,
        source="cli",
    )
    with client() as api:
        record = api.record_usage(lease_id, body)
    if as_json:
        output.emit_json(record)
        return
    output.say(
        f"recorded {record.card_seconds:,} card-seconds ({card_hours(record.card_seconds)}) "
        f"on lease {record.lease_id} from {output.when(record.period_start)} "
        f"to {output.when(record.period_end)} as {record.external_id}"
    )


@app.command("complete")
def complete(
    lease_id: LeaseId,
    reason: Annotated[str, typer.Option("--reason", help="Why it ended.")] = "",
    as_json: Json = False,
) -> None:
    """End a lease normally: metered use is charged, the rest of the escrow released."""
    with client() as api:
        _done(api.complete_lease(lease_id, _reason(reason)), as_json)


@app.command("fail")
def fail(
    lease_id: LeaseId,
    reason: Annotated[str, typer.Option("--reason", help="What went wrong.")],
    as_json: Json = False,
) -> None:
    """End a lease as failed at the center: only metered use is charged."""
    if not reason.strip():
        raise CliError("--reason must say what went wrong")
    with client() as api:
        _done(api.fail_lease(lease_id, _reason(reason)), as_json)


def _reason(reason: str) -> str:
    if len(reason) > 500:
        raise CliError("--reason is limited to 500 characters")
    return reason
