"""``suanli voucher ...``: an issuer runs a program from the command line, a buyer
applies, a lease is subsidized; amounts in yuan, rates in percent; bad input is one
line on stderr with nothing written."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from conftest import row_counts
from suanli.store import Database

from .harness import Cli, World

PROGRAM = (
    *("voucher", "program", "create", "Guiyang AI voucher", "--budget", "1,000,000"),
    *("--rate", "30%", "--startup-rate", "40", "--funding", "province=1", "--funding", "city=1"),
    *("--from", "2025-01-01", "--until", "2025-12-31"),
)


@pytest.fixture
def issuer(cli: Cli) -> str:
    org = cli.admin("create-org", "Guiyang Data Bureau", "--role", "issuer")
    key: str = cli.admin("create-key", str(org["id"]))["key"]
    return key


def run_lease(cli: Cli, world: World, *, cards: int, card_seconds: int) -> tuple[int, int]:
    """A two-hour lease that meters ``card_seconds`` in its first hour, then completes."""
    request = cli.json("request", "submit", "--cards", str(cards), "--hours", "2", key=world.buyer)
    lease = str(request["lease_id"])
    cli("lease", "start", lease, key=world.provider)
    begin = cli.clock.now()
    cli.clock.advance(3600)
    usage = cli.json(
        *("lease", "usage", lease, "--card-seconds", str(card_seconds)),
        *("--from", begin.isoformat(), "--to", cli.clock.now().isoformat()),
        key=world.provider,
    )
    cli("lease", "complete", lease, key=world.provider)
    return int(lease), usage["id"]


def approved_grant(cli: Cli, world: World, issuer: str, *extra: str) -> tuple[int, int]:
    program = cli.json(*PROGRAM, *extra, key=issuer)
    grant = cli.json(
        "voucher", "grant", "apply", str(program["id"]), "--amount", "1000", key=world.buyer
    )
    cli("voucher", "grant", "approve", str(grant["id"]), key=issuer)
    return program["id"], grant["id"]


def test_program_grant_lease_release_clawback_revoke(cli: Cli, world: World, issuer: str) -> None:
    program = cli.json(
        *(*PROGRAM, "--cap-per-lease", "50", "--cap-per-firm-year", "20,000"),
        *("--early-small-rate", "0.5", "--early-small-max-age-months", "36"),
        *("--early-small-months", "12", "--buyer-kind", "startup", "--mode", "deduct"),
        key=issuer,
    )
    assert (program["budget_fen"], program["fund_fen"]) == (100_000_000, 100_000_000)
    rates = (Decimal(program["rate"]), Decimal(program["startup_rate"]))
    assert rates == (Decimal("0.3"), Decimal("0.4"))
    assert program["funding_split"] == {"province": 1, "city": 1}
    caps = (program["cap_per_lease_fen"], program["cap_per_firm_year_fen"])
    assert caps == (5_000, 2_000_000)
    # whole days in China: 2025-01-01 00:00 to the end of 2025-12-31, +08:00
    window = [datetime.fromisoformat(program[k]) for k in ("valid_from", "valid_until")]
    assert window == [
        datetime(2024, 12, 31, 16, tzinfo=UTC),
        datetime(2025, 12, 31, 16, tzinfo=UTC),
    ]
    assert program["settlement_mode"] == "deduct"
    pid = str(program["id"])
    shown = cli("voucher", "program", "show", pid, key=world.buyer).stdout
    for part in (
        *("Guiyang AI voucher", "¥1,000,000.00", "30.0%", "40.0%", "province x1", "¥50.00"),
        *("¥20,000.00", "no cap", "startup", "deduct"),
        "50.0% for firms up to 36 months old, for 12 months after approval",
    ):
        assert part in shown
    assert [p["id"] for p in cli.json("voucher", "program", "list", key=world.buyer)] == [
        program["id"]
    ]
    assert cli.json("voucher", "program", "list", "--mine", key=issuer)[0]["id"] == program["id"]
    assert "Guiyang AI voucher" in cli("voucher", "program", "list", key=issuer).stdout

    grant = cli.json(
        *("voucher", "grant", "apply", pid, "--amount", "1,000", "--purpose", "fine-tuning"),
        key=world.buyer,
    )
    assert (grant["status"], grant["requested_fen"], grant["purpose"]) == (
        "applied",
        100_000,
        "fine-tuning",
    )
    gid = str(grant["id"])
    approved = cli.json("voucher", "grant", "approve", gid, "--tranches", "50,50", key=issuer)
    assert (approved["status"], approved["released_fen"]) == ("approved", 50_000)
    assert approved["pending_tranches_fen"] == [50_000]
    assert Decimal(approved["rate"]) == Decimal("0.4")  # Lanting AI is a start-up
    assert approved["reason"] == "approved at the start-up rate"
    early = cli("voucher", "grant", "release", gid, key=issuer, code=1).stderr
    assert "no metered use" in early
    text = cli("voucher", "grant", "show", gid, key=world.buyer).stdout
    for part in ("approved", "¥500.00", "40.0%"):
        assert part in text

    cli("wallet", "topup", "1000", key=world.buyer)
    lease_id, usage_id = run_lease(cli, world, cards=8, card_seconds=8 * 3600)
    lease = cli.json("lease", "show", str(lease_id), key=world.buyer)
    assert (lease["charged_fen"], lease["subsidy_fen"]) == (10_000, 4_000)  # ¥100, 40%
    [redemption] = cli.json("voucher", "redemption", "list", "--program", pid, key=issuer)
    assert (redemption["lease_id"], redemption["amount_fen"]) == (lease_id, 4_000)
    assert redemption["usage_record_ids"] == [usage_id]
    assert cli.json("voucher", "redemption", "list", key=world.provider) == [redemption]
    table = cli("voucher", "redemption", "list", key=world.buyer).stdout
    for part in ("¥100.00", "¥40.00", "40.0%", str(usage_id)):
        assert part in table

    released = cli("voucher", "grant", "release", gid, key=issuer).stdout
    assert "released ¥1,000.00 of ¥1,000.00" in released
    rid = str(redemption["id"])
    out = cli("voucher", "clawback", rid, "--amount", "10", "--reason", "overbilled", key=issuer)
    assert "clawed back ¥10.00 of redemption" in out.stdout
    revoked = cli.json(
        "voucher", "grant", "revoke", gid, "--reason", "left the city", "--claw-back", key=issuer
    )
    assert (revoked["status"], revoked["redeemed_fen"]) == ("revoked", 0)
    [clawed] = cli.json("voucher", "redemption", "list", key=issuer)
    assert clawed["clawed_back_fen"] == 4_000
    assert cli.json("voucher", "grant", "list", "--status", "revoked", key=world.buyer)[0][
        "id"
    ] == int(gid)
    assert "revoked" in cli("voucher", "grant", "list", key=issuer).stdout

    closed = cli.json("voucher", "program", "close", pid, key=issuer)
    assert (closed["status"], closed["fund_fen"]) == ("closed", 0)
    assert "already closed" in cli("voucher", "program", "close", pid, key=issuer, code=1).stderr


def test_reject_needs_a_reason(cli: Cli, world: World, issuer: str) -> None:
    program = cli.json(*PROGRAM, key=issuer)
    grant = cli.json(
        "voucher", "grant", "apply", str(program["id"]), "--amount", "50", key=world.buyer
    )
    gid = str(grant["id"])
    error = cli("voucher", "grant", "reject", gid, key=issuer, code=1).stderr
    assert "a rejection needs a reason" in error
    rejected = cli.json("voucher", "grant", "reject", gid, "--reason", "no plan", key=issuer)
    assert (rejected["status"], rejected["reason"]) == ("rejected", "no plan")
    assert (
        "only applied grants" in cli("voucher", "grant", "approve", gid, key=issuer, code=1).stderr
    )


def test_flags_list_resolve_and_scan(cli: Cli, world: World, issuer: str) -> None:
    _, gid = approved_grant(cli, world, issuer)
    cli("wallet", "topup", "1000", key=world.buyer)
    lease_id, _ = run_lease(cli, world, cards=1, card_seconds=600)  # underused
    [flag] = cli.json("voucher", "flag", "list", key=issuer)
    assert (flag["kind"], flag["status"], flag["lease_id"]) == ("underused", "open", lease_id)
    assert cli.json("voucher", "flag", "list", key=world.buyer) == [flag]
    assert cli.json("voucher", "flag", "list", "--status", "confirmed", key=issuer) == []
    assert "underused" in cli("voucher", "flag", "list", key=issuer).stdout
    fid = str(flag["id"])
    denied = cli(
        *("voucher", "flag", "resolve", fid, "--status", "confirmed", "--resolution", "x"),
        key=world.buyer,
        code=1,
    ).stderr
    assert "may not use vouchers:issue" in denied
    resolved = cli.json(
        *("voucher", "flag", "resolve", fid, "--status", "confirmed"),
        *("--resolution", "idle cards", "--claw-back"),
        key=issuer,
    )
    assert resolved["status"] == "confirmed"
    assert resolved["resolution"].startswith("idle cards (clawed back ¥0.83 of redemption")
    assert cli.json("voucher", "grant", "show", str(gid), key=issuer)["redeemed_fen"] == 0
    assert cli.json("voucher", "flag", "scan", key=issuer) == []
    assert "money flowing back: none" in cli("voucher", "flag", "scan", key=issuer).stdout
    scan = cli("voucher", "flag", "scan", key=world.buyer, code=1).stderr
    assert "may not use vouchers:issue" in scan


def test_other_issuer_sees_404(cli: Cli, world: World, issuer: str) -> None:
    _, gid = approved_grant(cli, world, issuer)
    org = cli.admin("create-org", "Wuhan Bureau", "--role", "issuer")
    other = cli.admin("create-key", str(org["id"]))["key"]
    for args in (
        ("voucher", "grant", "show", str(gid)),
        ("voucher", "grant", "release", str(gid)),
        ("voucher", "grant", "revoke", str(gid), "--reason", "x"),
    ):
        assert f"voucher grant {gid} not found" in cli(*args, key=other, code=1).stderr
    assert cli.json("voucher", "grant", "list", key=other) == []
    assert "voucher grants: none" in cli("voucher", "grant", "list", key=other).stdout


BAD: list[tuple[str, tuple[str, ...], str]] = [
    ("negative-budget", ("--budget", "-5"), "--budget must be more than ¥0"),
    ("rate-above-100", ("--rate", "150%"), "--rate must be above 0% and at most 100%"),
    ("sme-rate-zero", ("--sme-rate", "0"), "--sme-rate must be above 0%"),
    ("negative-cap", ("--cap-per-lease", "-1"), "--cap-per-lease must be more than ¥0"),
    ("cap-not-yuan", ("--cap-lifetime", "lots"), "--cap-lifetime: not an amount"),
    ("reversed-dates", ("--from", "2025-06-01", "--until", "2025-01-01"), "--until"),
    ("bad-date", ("--from", "tomorrow"), "--from: 'tomorrow' is not an ISO 8601 time"),
    ("unknown-provider", ("--provider", "99999"), "provider_ids: organization 99999"),
    ("unknown-blacklisted", ("--blacklist", "99999"), "blacklist: organization 99999"),
    ("bad-funding", ("--funding", "city"), "--funding: 'city' is not FUNDER=WEIGHT"),
    ("zero-funding", ("--funding", "city=0"), "--funding: 'city=0'"),
    ("early-small-alone", ("--early-small-rate", "50%"), "go together"),
    ("unknown-item", ("--item", "gpus"), "unknown items ['gpus']"),
    ("zero-min-cards", ("--min-center-cards", "0"), "--min-center-cards must be at least 1"),
]


def test_bad_program_is_one_line(cli: Cli, world: World, issuer: str, db: Database) -> None:
    before = row_counts(db)
    for case, extra, message in BAD:
        # a later option wins: the bad value replaces the good one in PROGRAM
        error = cli(*PROGRAM, *extra, key=issuer, code=1).stderr
        assert message in error, (case, error)
    assert row_counts(db) == before


def test_bad_grant_and_clawback_input_is_one_line(
    cli: Cli, world: World, issuer: str, db: Database
) -> None:
    program = cli.json(*PROGRAM, key=issuer)
    grant = cli.json(
        "voucher", "grant", "apply", str(program["id"]), "--amount", "50", key=world.buyer
    )
    gid = str(grant["id"])
    cases: list[tuple[tuple[str, ...], str, str]] = [
        (("grant", "apply", "99999", "--amount", "10"), world.buyer,
         "program_id: voucher program 99999 does not exist"),
        (("grant", "apply", str(program["id"]), "--amount", "0"), world.buyer,
         "--amount must be more than ¥0"),
        (("grant", "apply", str(program["id"]), "--amount", "10"), issuer,
         "may not use vouchers:apply"),
        (("program", "show", "99999"), world.buyer, "voucher program 99999 not found"),
        (("program", "create", "x", "--budget", "1", "--rate", "1%", "--from", "2025-01-01",
          "--until", "2025-02-01"), world.buyer, "may not use vouchers:issue"),
        (("grant", "approve", gid, "--tranches", "60,50"), issuer, "tranches_pct"),
        (("grant", "approve", gid, "--tranches", "fifty"), issuer, "--tranches: 'fifty'"),
        (("grant", "approve", gid, "--amount", "2,000,000"), issuer, "uncommitted budget"),
        (("grant", "reject", gid, "--reason", " "), issuer, "a rejection needs a reason"),
        (("grant", "revoke", gid), issuer, "reason"),
        (("clawback", "99999", "--reason", "x"), issuer, "voucher redemption 99999 not found"),
        (("clawback", "99999"), issuer, "reason"),
        (("flag", "resolve", "99999", "--status", "open", "--resolution", "x"), issuer,
         "dismissed or confirmed"),
        (("flag", "resolve", "99999", "--status", "dismissed", "--resolution", "x"), issuer,
         "voucher flag 99999 not found"),
    ]  # fmt: skip
    before = row_counts(db)
    for args, key, message in cases:
        error = cli("voucher", *args, key=key, code=1).stderr
        assert message in error, (args, error)
    assert row_counts(db) == before
    assert cli.json("voucher", "grant", "show", gid, key=issuer)["status"] == "applied"
    # a value Typer itself cannot read is a usage error (exit status 2)
    cli(*PROGRAM, "--mode", "cash", key=issuer, code=2)
    cli("voucher", "grant", "show", "seven", key=issuer, code=2)
