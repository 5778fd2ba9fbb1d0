"""``suanli voucher ...``: computing-power voucher programs, grants and their audit.

Issuers create and close programs, decide applications, release tranches, revoke
grants, claw subsidies back and resolve anomaly flags; buyers apply for grants; everyone
reads what concerns them. Amounts are typed in yuan, rates as percentages (``30%``) or
fractions (``0.3``); the API counts fen and decimal fractions.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from suanli.cli import output, parse
from suanli.cli.context import client
from suanli.cli.errors import CliError
from suanli.vocab import FlagKind, FlagStatus, GrantStatus, SettlementMode
from suanli.vouchers.schemas import (
    ClawbackIn,
    FlagOut,
    FlagResolveIn,
    GrantDecisionIn,
    GrantIn,
    GrantOut,
    ProgramIn,
    ProgramOut,
    RedemptionOut,
    RevokeIn,
)

CHINA = ZoneInfo("Asia/Shanghai")
"""A bare date (``--from 2025-03-01``) is a day in China, where the programs run."""

app = typer.Typer(help="Computing-power vouchers: programs, grants, redemptions, flags.")
programs = typer.Typer(help="Voucher programs (issuers create and close them).")
grants = typer.Typer(help="Grants: buyers apply, issuers approve, release, revoke.")
redemptions = typer.Typer(help="Redemptions: the voucher's share of settled leases.")
flags = typer.Typer(help="Anomaly flags on subsidized deals.")
app.add_typer(programs, name="program")
app.add_typer(grants, name="grant")
app.add_typer(redemptions, name="redemption")
app.add_typer(flags, name="flag")

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
ProgramId = Annotated[int, typer.Argument(metavar="PROGRAM_ID", help="Program id.")]
GrantId = Annotated[int, typer.Argument(metavar="GRANT_ID", help="Grant id.")]
FlagId = Annotated[int, typer.Argument(metavar="FLAG_ID", help="Flag id.")]


def yuan_option(name: str, text: str = "Yuan, e.g. 50000 or 1,234.50.") -> Any:
    return typer.Option(name, metavar="YUAN", help=text)


def rate_option(name: str) -> Any:
    return typer.Option(name, metavar="RATE", help="A percentage (30%) or a fraction (0.3).")


def many_option(name: str, text: str = "Repeat for several; none = any.") -> Any:
    return typer.Option(name, help=text)


def ids_option(name: str, text: str) -> Any:
    return typer.Option(name, metavar="ORG_ID", help=text + " Repeat for several.")


PROGRAM_COLUMNS = (
    *(">id", "name", ">issuer", "status", "mode", ">rate", ">budget", ">fund left"),
    *("from", "until"),
)
GRANT_COLUMNS = (
    *(">id", ">program", "buyer", "status", ">requested", ">approved", ">released"),
    *(">redeemed", "to come", ">rate", "expires"),
)
REDEMPTION_COLUMNS = (
    *(">id", ">program", ">grant", ">lease", ">buyer", ">provider", "mode", ">charge"),
    *(">rate", ">subsidy", ">clawed back", "usage records", "at"),
)
FLAG_COLUMNS = (
    *(">id", "kind", "status", ">program", ">lease", ">buyer", ">provider", "summary"),
    "raised",
)


# -- reading what people type -------------------------------------------------------------
def window_edge(text: str, what: str, *, end: bool) -> datetime:
    """``--from``/``--until``: a date (a whole day in China; ``--until`` includes it) or
    an ISO 8601 time."""
    if len(text.strip()) == 10:  # YYYY-MM-DD
        day = parse.parse_date(text, what)
        assert day is not None
        start = datetime.combine(day, time(0), tzinfo=CHINA)
        return start + timedelta(days=1) if end else start
    return parse.instant(text, what)


def funding(values: list[str] | None) -> dict[str, int] | None:
    """``--funding province=1 --funding city=1`` as ``{"province": 1, "city": 1}``."""
    if not values:
        return None
    split: dict[str, int] = {}
    for value in values:
        name, sep, weight = value.partition("=")
        name = name.strip()
        if not sep or not name or not weight.strip().isdigit() or int(weight) <= 0:
            raise CliError(f"--funding: {value!r} is not FUNDER=WEIGHT (e.g. city=1)")
        if name in split:
            raise CliError(f"--funding: funder {name!r} is given twice")
        split[name] = int(weight)
    return split


def tranches(text: str | None) -> list[int] | None:
    """``50,50``: percent released at approval, then at each later release."""
    if text is None:
        return None
    parts = [p.strip().removesuffix("%") for p in text.split(",")]
    if not all(p.isdigit() for p in parts):
        raise CliError(f"--tranches: {text!r} is not a list of whole percentages like 50,50")
    return [int(p) for p in parts]


def optional_months(value: int | None, what: str) -> int | None:
    return parse.optional_at_least(value, 1, what)


# -- printing -----------------------------------------------------------------------------
def rate_text(rate: Decimal | None) -> str:
    return output.NONE if rate is None else output.percent(rate)


def cap(fen: int | None) -> str:
    return "no cap" if fen is None else output.money(fen)


def early_small(p: ProgramOut) -> str:
    if p.early_small_rate is None:
        return output.NONE
    text = (
        f"{rate_text(p.early_small_rate)} for firms up to {p.early_small_max_age_months} months old"
    )
    if p.early_small_months is not None:
        text += f", for {p.early_small_months} months after approval"
    return text


def show_program(p: ProgramOut) -> None:
    output.details(
        f"voucher program {p.id}: {p.name}",
        [
            ("name (zh)", p.name_zh),
            ("issuer", p.issuer_id),
            ("status", output.status(p.status)),
            ("settlement", p.settlement_mode.value.replace("_", " ")),
            ("budget", output.money(p.budget_fen)),
            ("fund left", output.money(p.fund_fen)),
            ("funded by", ", ".join(f"{k} x{v}" for k, v in p.funding_split.items())),
            ("rate", rate_text(p.rate)),
            ("domestic rate", rate_text(p.domestic_rate)),
            ("SME rate", rate_text(p.sme_rate)),
            ("start-up rate", rate_text(p.startup_rate)),
            ("early-and-small rate", early_small(p)),
            ("cap per lease", cap(p.cap_per_lease_fen)),
            ("cap per firm and year", cap(p.cap_per_firm_year_fen)),
            ("lifetime cap per firm", cap(p.cap_lifetime_fen)),
            ("cap per group and year", cap(p.cap_per_group_year_fen)),
            ("buyer provinces", output.joined(p.buyer_provinces)),
            ("buyer cities", output.joined(p.buyer_cities)),
            ("buyer kinds", output.joined(p.buyer_kinds)),
            ("industries", output.joined(p.buyer_industries)),
            ("blacklist", ", ".join(map(str, p.blacklist)) or output.NONE),
            ("providers", output.joined(map(str, p.provider_ids))),
            ("provider provinces", output.joined(p.provider_provinces)),
            ("min center cards", p.min_center_cards),
            ("pays for", ", ".join(p.items)),
            ("min charge", output.money(p.min_paid_fen)),
            ("valid", f"{output.when(p.valid_from)} to {output.when(p.valid_until)}"),
            ("created", output.when(p.created_at)),
            ("closed", output.when(p.closed_at)),
        ],
    )


def show_grant(g: GrantOut) -> None:
    output.details(
        f"voucher grant {g.id}",
        [
            ("program", g.program_id),
            ("buyer", f"{g.buyer_name} (#{g.buyer_id})" if g.buyer_name else g.buyer_id),
            ("status", output.status(g.status)),
            ("purpose", g.purpose or None),
            ("requested", output.money(g.requested_fen)),
            ("approved", output.money(g.approved_fen)),
            ("released", output.money(g.released_fen)),
            ("redeemed", output.money(g.redeemed_fen)),
            ("tranches to come", ", ".join(map(output.money, g.pending_tranches_fen)) or None),
            ("rate", rate_text(g.rate)),
            ("domestic rate", rate_text(g.domestic_rate)),
            ("expires", output.when(g.expires_at)),
            ("reason", g.reason or None),
            ("applied", output.when(g.applied_at)),
            ("decided", output.when(g.decided_at)),
        ],
    )


def grant_table(rows: list[GrantOut]) -> None:
    output.table(
        GRANT_COLUMNS,
        [
            (
                g.id,
                g.program_id,
                f"{g.buyer_id} {g.buyer_name}".rstrip(),
                output.status(g.status),
                output.money(g.requested_fen),
                output.money(g.approved_fen),
                output.money(g.released_fen),
                output.money(g.redeemed_fen),
                ", ".join(map(output.money, g.pending_tranches_fen)) or output.NONE,
                rate_text(g.rate),
                output.when(g.expires_at),
            )
            for g in rows
        ],
        title="voucher grants",
    )


def flag_table(rows: list[FlagOut], title: str = "voucher flags") -> None:
    output.table(
        FLAG_COLUMNS,
        [
            (
                f.id,
                f.kind,
                output.status(f.status),
                f.program_id,
                f.lease_id,
                f.buyer_id,
                f.provider_id,
                f.summary,
                output.when(f.created_at),
            )
            for f in rows
        ],
        title=title,
    )


def show_flag(f: FlagOut) -> None:
    output.details(
        f"voucher flag {f.id} ({f.kind})",
        [
            ("status", output.status(f.status)),
            ("program", f.program_id),
            ("lease", f.lease_id),
            ("buyer", f.buyer_id),
            ("provider", f.provider_id),
            ("summary", f.summary),
            ("resolution", f.resolution or None),
            ("raised", output.when(f.created_at)),
            ("resolved", output.when(f.resolved_at)),
        ],
    )


# -- programs -----------------------------------------------------------------------------
@programs.command("create")
def create_program(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The program's name.")],
    budget: Annotated[str, typer.Option("--budget", help="The whole budget in yuan.")],
    rate: Annotated[str, typer.Option("--rate", help="Base subsidy rate: 30% or 0.3.")],
    start: Annotated[
        str, typer.Option("--from", help="First day (YYYY-MM-DD, China) or an ISO time.")
    ],
    until: Annotated[
        str, typer.Option("--until", help="Last day, included (YYYY-MM-DD) or an ISO time.")
    ],
    name_zh: Annotated[str | None, typer.Option("--name-zh", help="Chinese name.")] = None,
    issuer: Annotated[
        int | None, typer.Option("--issuer", help="Issuer org id (operator only).")
    ] = None,
    funding_split: Annotated[
        list[str] | None,
        typer.Option("--funding", help="FUNDER=WEIGHT, repeat: --funding province=1."),
    ] = None,
    domestic_rate: Annotated[str | None, rate_option("--domestic-rate")] = None,
    sme_rate: Annotated[str | None, rate_option("--sme-rate")] = None,
    startup_rate: Annotated[str | None, rate_option("--startup-rate")] = None,
    early_small_rate: Annotated[str | None, rate_option("--early-small-rate")] = None,
    early_small_months: Annotated[
        int | None, typer.Option("--early-small-months", help="How long it lasts.")
    ] = None,
    early_small_max_age: Annotated[
        int | None,
        typer.Option("--early-small-max-age-months", help="Firms at most this old."),
    ] = None,
    cap_per_lease: Annotated[str | None, yuan_option("--cap-per-lease")] = None,
    cap_per_firm_year: Annotated[str | None, yuan_option("--cap-per-firm-year")] = None,
    cap_lifetime: Annotated[str | None, yuan_option("--cap-lifetime")] = None,
    cap_per_group_year: Annotated[str | None, yuan_option("--cap-per-group-year")] = None,
    buyer_province: Annotated[list[str] | None, many_option("--buyer-province")] = None,
    buyer_city: Annotated[list[str] | None, many_option("--buyer-city")] = None,
    buyer_kind: Annotated[
        list[str] | None, many_option("--buyer-kind", "sme, startup, ...")
    ] = None,
    industry: Annotated[list[str] | None, many_option("--industry")] = None,
    blacklist: Annotated[list[int] | None, ids_option("--blacklist", "Excluded buyer.")] = None,
    provider: Annotated[
        list[int] | None, ids_option("--provider", "Approved provider ([] = any).")
    ] = None,
    provider_province: Annotated[list[str] | None, many_option("--provider-province")] = None,
    min_center_cards: Annotated[int | None, typer.Option("--min-center-cards")] = None,
    item: Annotated[list[str] | None, many_option("--item", "compute, storage, network.")] = None,
    min_paid: Annotated[
        str | None, yuan_option("--min-paid", "Smallest charge subsidized, in yuan.")
    ] = None,
    mode: Annotated[
        SettlementMode, typer.Option("--mode", help="How the subsidy is paid.")
    ] = SettlementMode.DEDUCT,
    as_json: Json = False,
) -> None:
    """Create a voucher program; its whole budget is paid into its fund at once."""
    valid_from = window_edge(start, "--from", end=False)
    valid_until = window_edge(until, "--until", end=True)
    if valid_until <= valid_from:
        raise CliError(f"--until {until} must be after --from {start}")
    fields: dict[str, object] = {
        "name": name,
        "budget_fen": parse.fen(budget, "--budget"),
        "rate": parse.rate(rate, "--rate"),
        "valid_from": valid_from,
        "valid_until": valid_until,
        "settlement_mode": mode,
        "name_zh": name_zh,
        "funding_split": funding(funding_split),
        "domestic_rate": parse.rate(domestic_rate, "--domestic-rate"),
        "sme_rate": parse.rate(sme_rate, "--sme-rate"),
        "startup_rate": parse.rate(startup_rate, "--startup-rate"),
        "early_small_rate": parse.rate(early_small_rate, "--early-small-rate"),
        "early_small_months": optional_months(early_small_months, "--early-small-months"),
        "early_small_max_age_months": optional_months(
            early_small_max_age, "--early-small-max-age-months"
        ),
        "cap_per_lease_fen": parse.optional_fen(cap_per_lease, "--cap-per-lease"),
        "cap_per_firm_year_fen": parse.optional_fen(cap_per_firm_year, "--cap-per-firm-year"),
        "cap_lifetime_fen": parse.optional_fen(cap_lifetime, "--cap-lifetime"),
        "cap_per_group_year_fen": parse.optional_fen(cap_per_group_year, "--cap-per-group-year"),
        "buyer_provinces": buyer_province,
        "buyer_cities": buyer_city,
        "buyer_kinds": buyer_kind,
        "buyer_industries": industry,
        "blacklist": blacklist,
        "provider_ids": provider,
        "provider_provinces": provider_province,
        "min_center_cards": parse.optional_at_least(min_center_cards, 1, "--min-center-cards"),
        "items": item,
        "min_paid_fen": parse.optional_fen(min_paid, "--min-paid"),
    }
    if (early_small_rate is None) != (early_small_max_age is None):
        raise CliError("--early-small-rate and --early-small-max-age-months go together")
    program = ProgramIn.model_validate({k: v for k, v in fields.items() if v is not None})
    with client() as api:
        created = api.create_program(program, issuer_id=issuer)
    if as_json:
        output.emit_json(created)
    else:
        show_program(created)


@programs.command("list")
def list_programs(
    mine: Annotated[bool, typer.Option("--mine", help="Issuers: only your own.")] = False,
    as_json: Json = False,
) -> None:
    """Voucher programs (buyers see every program they might apply to)."""
    with client() as api:
        rows = api.list_programs(mine=mine)
    if as_json:
        output.emit_json(rows)
        return
    output.table(
        PROGRAM_COLUMNS,
        [
            (
                p.id,
                p.name,
                p.issuer_id,
                output.status(p.status),
                p.settlement_mode.value.replace("_", " "),
                rate_text(p.rate),
                output.money(p.budget_fen),
                output.money(p.fund_fen),
                output.when(p.valid_from),
                output.when(p.valid_until),
            )
            for p in rows
        ],
        title="voucher programs",
    )


@programs.command("show")
def show_program_command(program_id: ProgramId, as_json: Json = False) -> None:
    """One program, its rules and what is left in its fund."""
    with client() as api:
        program = api.get_program(program_id)
    if as_json:
        output.emit_json(program)
    else:
        show_program(program)


@programs.command("close")
def close_program(program_id: ProgramId, as_json: Json = False) -> None:
    """Close a program: live grants end, the unspent fund goes back to its funders."""
    with client() as api:
        program = api.close_program(program_id)
    if as_json:
        output.emit_json(program)
        return
    output.say(f"closed program {program.id} ({program.name}); its unspent fund was returned")
    show_program(program)


# -- grants -------------------------------------------------------------------------------
@grants.command("apply")
def apply(
    program_id: ProgramId,
    amount: Annotated[str, typer.Option("--amount", help="Yuan requested.")],
    purpose: Annotated[str, typer.Option("--purpose", help="What the compute is for.")] = "",
    buyer: Annotated[
        int | None, typer.Option("--buyer", help="Buyer org id (operator only).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Apply for a grant in a program (buyers)."""
    body = GrantIn(
        program_id=program_id,
        requested_fen=parse.fen(amount, "--amount"),
        purpose=purpose,
        buyer_id=buyer,
    )
    with client() as api:
        grant = api.apply_grant(body)
    if as_json:
        output.emit_json(grant)
    else:
        show_grant(grant)


@grants.command("list")
def list_grants(
    program: Annotated[int | None, typer.Option("--program", help="Only this program.")] = None,
    status: Annotated[GrantStatus | None, typer.Option("--status", help="Only this.")] = None,
    as_json: Json = False,
) -> None:
    """Grants: a buyer's own, an issuer's programs', or all (operator)."""
    with client() as api:
        rows = api.list_grants(program_id=program, status=status.value if status else None)
    if as_json:
        output.emit_json(rows)
    else:
        grant_table(rows)


@grants.command("show")
def show_grant_command(grant_id: GrantId, as_json: Json = False) -> None:
    """One grant."""
    with client() as api:
        grant = api.get_grant(grant_id)
    if as_json:
        output.emit_json(grant)
    else:
        show_grant(grant)


def _decide(grant_id: int, decision: GrantDecisionIn, as_json: bool) -> None:
    with client() as api:
        grant = api.decide_grant(grant_id, decision)
    if as_json:
        output.emit_json(grant)
    else:
        show_grant(grant)


@grants.command("approve")
def approve(
    grant_id: GrantId,
    amount: Annotated[
        str | None, typer.Option("--amount", help="Yuan approved (default: as requested).")
    ] = None,
    tranche: Annotated[
        str | None,
        typer.Option("--tranches", help="Percent per tranche, e.g. 50,50 (default 100)."),
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="A note for the buyer.")] = "",
    as_json: Json = False,
) -> None:
    """Approve an application: rates are frozen and the first tranche released."""
    fields: dict[str, object] = {"approve": True, "reason": reason}
    if amount is not None:
        fields["approved_fen"] = parse.fen(amount, "--amount")
    if (pcts := tranches(tranche)) is not None:
        fields["tranches_pct"] = pcts
    _decide(grant_id, GrantDecisionIn.model_validate(fields), as_json)


@grants.command("reject")
def reject(
    grant_id: GrantId,
    reason: Annotated[str, typer.Option("--reason", help="Why (required).")] = "",
    as_json: Json = False,
) -> None:
    """Reject an application, with a reason."""
    _decide(grant_id, GrantDecisionIn(approve=False, reason=reason), as_json)


@grants.command("release")
def release(grant_id: GrantId, as_json: Json = False) -> None:
    """Release a grant's next tranche (after it has paid for metered use)."""
    with client() as api:
        grant = api.release_tranche(grant_id)
    if as_json:
        output.emit_json(grant)
        return
    released, approved = output.money(grant.released_fen), output.money(grant.approved_fen)
    output.say(f"released {released} of {approved}")
    show_grant(grant)


@grants.command("revoke")
def revoke(
    grant_id: GrantId,
    reason: Annotated[str, typer.Option("--reason", help="Why (required).")] = "",
    claw_back: Annotated[
        bool, typer.Option("--claw-back", help="Also take back all it redeemed.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Withdraw an approved grant."""
    body = RevokeIn(reason=reason, claw_back=claw_back)
    with client() as api:
        grant = api.revoke_grant(grant_id, body)
    if as_json:
        output.emit_json(grant)
    else:
        show_grant(grant)


# -- redemptions and clawbacks ------------------------------------------------------------
def redemption_table(rows: list[RedemptionOut]) -> None:
    output.table(
        REDEMPTION_COLUMNS,
        [
            (
                r.id,
                r.program_id,
                r.grant_id,
                r.lease_id,
                r.buyer_id,
                r.provider_id,
                r.mode.value.replace("_", " "),
                output.money(r.charge_fen),
                rate_text(r.rate),
                output.money(r.amount_fen),
                output.money(r.clawed_back_fen),
                ", ".join(map(str, r.usage_record_ids)) or output.NONE,
                output.when(r.created_at),
            )
            for r in rows
        ],
        title="voucher redemptions",
    )


@redemptions.command("list")
def list_redemptions(
    program: Annotated[int | None, typer.Option("--program", help="Only this program.")] = None,
    as_json: Json = False,
) -> None:
    """Subsidies paid on settled leases, with the usage records they paid for."""
    with client() as api:
        rows = api.list_redemptions(program_id=program)
    if as_json:
        output.emit_json(rows)
    else:
        redemption_table(rows)


@app.command("clawback")
def clawback(
    redemption_id: Annotated[int, typer.Argument(metavar="REDEMPTION_ID")],
    reason: Annotated[str, typer.Option("--reason", help="Why (required).")] = "",
    amount: Annotated[
        str | None, typer.Option("--amount", help="Yuan (default: all that is left).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Take (part of) a subsidy back into the program's fund."""
    body = ClawbackIn(amount_fen=parse.optional_fen(amount, "--amount"), reason=reason)
    with client() as api:
        done = api.claw_back(redemption_id, body)
    if as_json:
        output.emit_json(done)
        return
    output.say(
        f"clawed back {output.money(done.amount_fen)} of redemption {done.redemption_id} "
        f"(clawback {done.id}, transaction {done.transaction_id})"
    )


# -- flags --------------------------------------------------------------------------------
@flags.command("list")
def list_flags(
    status: Annotated[FlagStatus | None, typer.Option("--status", help="Only this.")] = None,
    kind: Annotated[FlagKind | None, typer.Option("--kind", help="Only this kind.")] = None,
    as_json: Json = False,
) -> None:
    """Anomaly flags: an issuer's programs', the ones naming you, or all (operator)."""
    with client() as api:
        rows = api.list_flags(
            status=status.value if status else None, kind=kind.value if kind else None
        )
    if as_json:
        output.emit_json(rows)
    else:
        flag_table(rows)


@flags.command("resolve")
def resolve(
    flag_id: FlagId,
    status: Annotated[
        FlagStatus, typer.Option("--status", help="confirmed (abuse) or dismissed (harmless).")
    ],
    resolution: Annotated[str, typer.Option("--resolution", help="What was found.")] = "",
    claw_back: Annotated[
        bool, typer.Option("--claw-back", help="Confirmed: take the subsidy back.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Dismiss or confirm a flag (the program's issuer)."""
    body = FlagResolveIn(status=status, resolution=resolution, claw_back=claw_back)
    with client() as api:
        flag = api.resolve_flag(flag_id, body)
    if as_json:
        output.emit_json(flag)
    else:
        show_flag(flag)


@flags.command("scan")
def scan(as_json: Json = False) -> None:
    """Look for subsidy flowing back: payouts that came back as buyers' top-ups."""
    with client() as api:
        rows = api.scan_flags()
    if as_json:
        output.emit_json(rows)
    else:
        flag_table(rows, "money flowing back")
