"""``suanli report ...``: where capacity works and where it sleeps, what it costs and
what it earns."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

import typer

from suanli.cli import output, parse
from suanli.cli.audit import DbUrl, direct_database, local_session
from suanli.cli.context import client
from suanli.cli.errors import CliError
from suanli.kit.clock import SystemClock
from suanli.vouchers.report import ProgramReport, voucher_report

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


From = Annotated[
    str | None, typer.Option("--from", help="Window start, ISO 8601 (default: a day ago).")
]
To = Annotated[str | None, typer.Option("--to", help="Window end, ISO 8601 (default: now).")]
StepS = Annotated[
    int | None,
    typer.Option("--step-s", help="Bucket length in seconds (default 3600; at least 60)."),
]


def _window(
    start: str | None, end: str | None, step_s: int | None
) -> tuple[datetime | None, datetime | None, int | None]:
    since = parse.optional_instant(start, "--from")
    until = parse.optional_instant(end, "--to")
    if since is not None and until is not None and until <= since:
        raise CliError("--to must be after --from")
    return since, until, parse.optional_at_least(step_s, 60, "--step-s")


@app.command("overview")
def overview(as_json: Json = False) -> None:
    """Centers, cards, SCU, allocated and idle cards, the queue and 24-hour utilization,
    now, by province (providers: their own centers)."""
    with client() as api:
        view = api.overview()
    if as_json:
        output.emit_json(view)
        return
    output.details(
        f"overview at {output.when(view.at)}",
        [
            (
                "centers",
                f"{view.centers} ({view.active_centers} active) in {view.provinces} province(s)",
            ),
            ("cards", f"{view.cards:,} ({view.scu_per_hour:,} SCU per hour)"),
            ("allocated", f"{view.allocated_cards:,} cards, {view.idle_cards:,} idle"),
            ("queue", f"{view.queued_requests} request(s) for {view.unmet_cards:,} cards"),
            ("utilization 24 h", output.percent(view.utilization_24h)),
        ],
    )
    output.table(
        ["province", ">centers", ">cards", ">allocated", ">utilization 24 h"],
        [
            (
                r.province,
                r.centers,
                r.cards,
                r.allocated_cards,
                output.percent(r.utilization_24h),
            )
            for r in view.by_province
        ],
        title="by province",
    )


@app.command("series")
def series(start: From = None, end: To = None, step_s: StepS = None, as_json: Json = False) -> None:
    """Utilization per bucket of time (allocated over available card-hours)."""
    since, until, step = _window(start, end, step_s)
    with client() as api:
        found = api.utilization_series(start=since, end=until, step_s=step)
    if as_json:
        output.emit_json(found)
        return
    output.table(
        ["from", "to", ">available card-h", ">allocated card-h", ">utilization"],
        [
            (
                output.when(p.start),
                output.when(p.end),
                f"{p.available_card_hours:,}",
                f"{p.allocated_card_hours:,}",
                output.percent(p.utilization),
            )
            for p in found.points
        ],
        title=f"utilization by {output.duration(found.step_s)}",
    )


@app.command("prices")
def prices(as_json: Json = False) -> None:
    """The price index per accelerator model: list prices now, prices paid in the last
    24 hours, yuan per SCU."""
    with client() as api:
        index = api.prices()
    if as_json:
        output.emit_json(index)
        return
    output.table(
        ["model", ">pools", ">free / cards", ">min", ">mean", ">max", ">paid 24 h", ">per SCU"],
        [
            (
                m.model,
                m.pools,
                f"{m.cards_free}/{m.cards}",
                output.money(m.min_price_fen),
                output.money(m.mean_price_fen),
                output.money(m.max_price_fen),
                output.money(m.paid_mean_price_fen),
                output.money(m.fen_per_scu),
            )
            for m in index.models
        ],
        title=f"price index per card-hour at {output.when(index.at)}",
    )


@app.command("earnings")
def earnings(
    start: From = None,
    end: To = None,
    step_s: StepS = None,
    provider: Annotated[
        int | None, typer.Option("--provider", min=1, help="Operator: one provider (id).")
    ] = None,
    as_json: Json = False,
) -> None:
    """What leases earned per bucket of time: the provider's net of the platform fee, as
    on the statement (providers: their own; the operator: all, or --provider)."""
    since, until, step = _window(start, end, step_s)
    with client() as api:
        found = api.earnings(start=since, end=until, step_s=step, provider_id=provider)
    if as_json:
        output.emit_json(found)
        return
    output.table(
        ["from", "to", ">leases", ">card-h", ">gross", ">earned"],
        [
            (
                output.when(p.start),
                output.when(p.end),
                p.leases,
                f"{p.card_hours:,}",
                output.money(p.gross_fen),
                output.money(p.revenue_fen),
            )
            for p in found.points
            if p.leases
        ],
        title=f"earnings by {output.duration(found.step_s)}",
    )
    output.say(
        f"total earned {output.money(found.total_fen)} "
        f"(gross {output.money(found.total_gross_fen)})"
    )


def _per_card_hour(fen: Decimal | None) -> str | None:
    """A price in (fractional) fen per card-hour, in yuan for people."""
    return None if fen is None else f"¥{fen / 100:,.2f}/card-h"


def _cap(fen: int | None) -> str:
    return "no cap" if fen is None else output.money(fen)


def _print_program(program: ProgramReport) -> None:
    output.details(
        f"program {program.id} {program.name} ({program.status})",
        [
            (
                "funded",
                f"{output.money(program.funded_fen)} by "
                + ", ".join(f"{f.funder} {output.money(f.funded_fen)}" for f in program.funders),
            ),
            (
                "redeemed",
                f"{output.money(program.redeemed_fen)} in {program.redemptions} "
                f"redemption(s), {output.money(program.clawed_back_fen)} clawed back",
            ),
            ("returned", output.money(program.returned_fen)),
            ("grants", ", ".join(f"{n} {s}" for s, n in program.grants.items() if n) or None),
            ("within budget", "yes" if program.within_budget else "NO"),
            (
                "within caps",
                "yes" if program.within_caps else "NO: " + "; ".join(program.cap_breaches),
            ),
            (
                "top provider",
                None
                if program.top_provider_share is None
                else f"{program.providers[0].name} {output.percent(program.top_provider_share)} "
                f"(HHI {program.hhi})",
            ),
            (
                "price",
                None
                if program.prices.mean_price_fen is None
                else f"{_per_card_hour(program.prices.mean_price_fen)}, "
                f"{_per_card_hour(program.prices.after_subsidy_fen)} after the subsidy; index "
                f"{_per_card_hour(program.prices.index_price_fen) or 'none'}",
            ),
            (
                "subsidy",
                None
                if program.subsidy_per_card_hour_fen is None
                else f"{_per_card_hour(program.subsidy_per_card_hour_fen)} over "
                f"{program.metered_card_hours:,} metered card-hours",
            ),
        ],
    )
    output.table(
        [
            "firm",
            ">this year",
            ">largest year",
            ">cap / year",
            ">lifetime",
            ">lifetime cap",
            "within caps",
        ],
        [
            (
                f"{f.buyer_id} {f.name}",
                output.money(f.year_fen),
                output.money(f.largest_year_fen),
                _cap(program.cap_per_firm_year_fen),
                output.money(f.lifetime_fen),
                _cap(program.cap_lifetime_fen),
                "yes" if f.within_caps else "NO",
            )
            for f in program.firms[:10]
        ],
        title=f"top firms of program {program.id} against its caps",
    )
    flags = ", ".join(f"{kind.replace('_', ' ')} {n}" for kind, n in program.open_flags.items())
    output.say(f"open flags of program {program.id}: {flags or 'none'}")


@app.command("vouchers")
def vouchers(
    program: Annotated[
        int | None, typer.Option("--program", min=1, help="Only this program (id).")
    ] = None,
    db_url: DbUrl = None,
    as_json: Json = False,
) -> None:
    """Voucher programs: budget, redeemed, remaining, committed, expired; firms against
    the caps; provider concentration; prices against the index; open flags. Issuers see
    their own programs, the operator all. Reads the API or the database as
    `suanli audit ledger` does (see `suanli audit ledger --help`)."""
    url = direct_database(db_url)
    if url is None:
        with client() as api:
            report = api.voucher_report(program_id=program)
    else:
        with local_session(url) as session:
            report = voucher_report(session, SystemClock(), None, program_id=program)
    if as_json:
        output.emit_json(report)
        return
    output.table(
        [
            "program",
            "status",
            ">budget",
            ">redeemed",
            ">remaining",
            ">committed",
            ">expired",
            ">used",
        ],
        [
            (
                f"{p.id} {p.name}",
                output.status(p.status),
                output.money(p.budget_fen),
                output.money(p.redeemed_fen),
                output.money(p.remaining_fen),
                output.money(p.committed_fen),
                output.money(p.expired_fen),
                output.percent(p.used_share),
            )
            for p in report.programs
        ],
        title=f"voucher programs ({report.year})",
    )
    for p in report.programs:
        _print_program(p)
