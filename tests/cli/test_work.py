"""Requests, leases and wallets: a buyer rents cards, the provider runs and meters them."""

from __future__ import annotations

from datetime import timedelta

from .harness import START, Cli, World


def test_wallet_topup_and_balance(cli: Cli, world: World) -> None:
    text = cli("wallet", "topup", "1,000.50", key=world.buyer).stdout
    assert "¥1,000.50" in text
    wallet = cli.json("wallet", "balance", key=world.buyer)
    assert (wallet["available_fen"], wallet["escrow_fen"]) == (100050, 0)
    # the operator tops up someone else's wallet
    buyer_id = cli.json("whoami", key=world.buyer)["id"]
    cli.json("wallet", "topup", "¥20", "--org", str(buyer_id), key=world.operator)
    assert (
        cli.json("wallet", "balance", "--org", str(buyer_id), key=world.operator)["available_fen"]
        == 102050
    )
    assert "¥1,020.50" in cli("wallet", "balance", key=world.buyer).stdout


def test_request_placed_then_leased_metered_and_settled(cli: Cli, world: World) -> None:
    cli("wallet", "topup", "1000", key=world.buyer)
    text = cli(
        *("request", "submit", "--cards", "8", "--model", "H800", "--hours", "2"),
        *("--max-price", "14", "--province", "贵州"),
        key=world.buyer,
    ).stdout
    assert "placed" in text
    assert "escrow held" in text
    assert "¥200.00" in text  # 8 cards x 2 h x ¥12.50
    [request] = cli.json("request", "list", key=world.buyer)
    assert request["status"] == "placed"
    lease_id = str(request["lease_id"])

    [lease] = cli.json("lease", "list", "--status", "placed", key=world.provider)
    assert (lease["id"], lease["cards"], lease["price_fen"]) == (request["lease_id"], 8, 1250)
    assert cli.json("lease", "list", "--center", str(world.center_id), key=world.buyer)

    started = cli.json("lease", "start", lease_id, key=world.provider)
    assert started["status"] == "running"
    cli.clock.advance(3600)
    begin, end = START.isoformat(), (START + timedelta(hours=1)).isoformat()
    usage = cli.json(
        *("lease", "usage", lease_id, "--card-seconds", "28800", "--from", begin, "--to", end),
        *("--id", "meter-1"),
        key=world.provider,
    )
    assert usage["external_id"] == "meter-1"
    done = cli.json("lease", "complete", lease_id, "--reason", "job finished", key=world.provider)
    assert (done["status"], done["charged_fen"]) == ("completed", 10000)

    shown = cli.json("lease", "show", lease_id, key=world.buyer)
    assert [t["to_status"] for t in shown["transitions"]] == [
        "pending",
        "placed",
        "running",
        "completed",
    ]
    assert sum(a["cards"] for a in shown["allocations"]) == 8
    assert [u["card_seconds"] for u in shown["usage"]] == [28800]
    table = cli("lease", "show", lease_id, key=world.buyer).stdout
    for part in ("allocations", "transitions", "usage", "job finished", "¥100.00"):
        assert part in table
    assert cli("lease", "list", key=world.buyer).stdout.count("completed") == 1
    wallet = cli.json("wallet", "balance", key=world.buyer)
    assert (wallet["available_fen"], wallet["escrow_fen"]) == (90000, 0)


def test_request_queued_with_reasons(cli: Cli, world: World) -> None:
    cli("wallet", "topup", "100000", key=world.buyer)
    too_big = ("request", "submit", "--cards", "64", "--model", "H800", "--hours", "1")
    refused = cli(*too_big, key=world.buyer, code=1).stderr
    assert refused.startswith("error: no listed pool of H800 could ever hold 64 cards")
    assert refused.count("\n") == 1 and "ask for at most 32" in refused
    text = cli(
        "request",
        "submit",
        "--cards",
        "32",
        "--model",
        "H800",
        "--hours",
        "1",
        "--max-price",
        "1",
        key=world.buyer,
    ).stdout
    assert "queued" in text
    assert "why it waits" in text
    submitted = cli.json(
        "request",
        "submit",
        "--cards",
        "32",
        "--duration-s",
        "600",
        "--max-price",
        "1",
        key=world.buyer,
    )
    assert submitted["status"] == "queued"
    assert submitted["reasons"]
    assert submitted["lease_id"] is None
    shown = cli("request", "show", str(submitted["id"]), key=world.buyer).stdout
    assert submitted["reasons"][0][:30] in shown
    queued = cli.json("request", "list", "--status", "queued", key=world.buyer)
    assert [r["id"] for r in queued] == [submitted["id"], submitted["id"] - 1]  # newest first
    cancelled = cli.json(
        "request", "cancel", str(submitted["id"]), "--reason", "changed plans", key=world.buyer
    )
    assert cancelled["status"] == "cancelled"


def test_request_without_money_waits_for_it(cli: Cli, world: World) -> None:
    out = cli.json("request", "submit", "--cards", "1", "--hours", "1", key=world.buyer)
    assert out["status"] == "queued"
    assert out["reasons"]


def test_request_input_errors(cli: Cli, world: World) -> None:
    def error(*args: str) -> str:
        return cli("request", "submit", *args, key=world.buyer, code=1).stderr

    assert "--cards must be at least 1" in error("--cards", "-4", "--hours", "1")
    assert "exactly one of --hours" in error("--cards", "1")
    assert "--hours must be more than 0" in error("--cards", "1", "--hours", "-1")
    assert "H9000" in error("--cards", "1", "--hours", "1", "--model", "H9000")
    assert "ISO 8601" in error("--cards", "1", "--hours", "1", "--start", "tomorrow")
    assert "fen" in error("--cards", "1", "--hours", "1", "--max-price", "1.001")
    assert "multiple" in error("--cards", "3", "--cards-per-node", "2", "--hours", "1")
    cli("request", "submit", "--cards", "many", "--hours", "1", key=world.buyer, code=2)
