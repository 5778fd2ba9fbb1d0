"""``suanli report overview|series|prices|earnings`` and ``suanli request quote``, on the
harness's world: one Guiyang H800 pool of 4 x 8 cards at ¥12.50 per card-hour."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from .harness import START, Cli, World


def place_eight_for_two_hours(cli: Cli, world: World) -> int:
    cli("wallet", "topup", "1000", key=world.buyer)
    request = cli.json("request", "submit", "--cards", "8", "--hours", "4", key=world.buyer)
    cli.clock.advance(2 * 3600)
    return int(request["lease_id"])


def test_report_overview(cli: Cli, world: World) -> None:
    place_eight_for_two_hours(cli, world)
    view = cli.json("report", "overview", key=world.operator)
    assert (view["centers"], view["cards"], view["allocated_cards"], view["idle_cards"]) == (
        1,
        32,
        8,
        24,
    )
    assert Decimal(view["utilization_24h"]) == Decimal("0.25")
    assert [r["province"] for r in view["by_province"]] == ["贵州"]
    text = cli("report", "overview", key=world.provider).stdout
    assert "贵州" in text and "25.0%" in text
    cli("report", "overview", key=world.buyer, code=1)


def test_report_series(cli: Cli, world: World) -> None:
    place_eight_for_two_hours(cli, world)
    window = ("--from", START.isoformat(), "--to", (START + timedelta(hours=2)).isoformat())
    found = cli.json("report", "series", *window, "--step-s", "1800", key=world.operator)
    assert found["step_s"] == 1800
    assert [Decimal(p["allocated_card_hours"]) for p in found["points"]] == [4] * 4
    assert [Decimal(p["utilization"]) for p in found["points"]] == [Decimal("0.25")] * 4
    assert "25.0%" in cli("report", "series", *window, key=world.provider).stdout
    bad = cli("report", "series", "--step-s", "30", key=world.operator, code=1)
    assert "--step-s must be at least 60" in bad.stderr


def test_report_prices(cli: Cli, world: World) -> None:
    place_eight_for_two_hours(cli, world)
    index = cli.json("report", "prices", key=world.buyer)
    [h800] = index["models"]
    assert (h800["model"], h800["cards"], h800["cards_free"]) == ("H800", 32, 24)
    assert h800["mean_price_fen"] == h800["paid_mean_price_fen"] == 1250
    assert h800["fen_per_scu"] == 126  # 1250 / 9.894
    assert "¥12.50" in cli("report", "prices", key=world.buyer).stdout


def test_report_earnings(cli: Cli, world: World) -> None:
    cli("wallet", "topup", "1000", key=world.buyer)
    request = cli.json("request", "submit", "--cards", "8", "--hours", "4", key=world.buyer)
    lease = str(request["lease_id"])
    cli("lease", "start", lease, key=world.provider)
    cli.clock.advance(2 * 3600)
    begin, end = START.isoformat(), (START + timedelta(hours=2)).isoformat()
    cli(
        *("lease", "usage", lease, "--card-seconds", "57600", "--from", begin, "--to", end),
        key=world.provider,
    )
    cli("lease", "complete", lease, key=world.provider)
    window = ("--from", begin, "--to", (START + timedelta(hours=3)).isoformat())
    found = cli.json("report", "earnings", *window, key=world.provider)
    # 8 cards x 2 h x ¥12.50 = ¥200, less the 5% fee
    assert [p["revenue_fen"] for p in found["points"]] == [0, 0, 19000]
    assert found["total_fen"] == 19000
    assert "¥190.00" in cli("report", "earnings", *window, key=world.operator).stdout
    cli("report", "earnings", key=world.buyer, code=1)


def test_request_quote(cli: Cli, world: World) -> None:
    cli("wallet", "topup", "1000", key=world.buyer)
    args = ("request", "quote", "--cards", "8", "--hours", "2", "--max-price", "14")
    quote = cli.json(*args, key=world.buyer)
    assert quote["placeable"] is True
    assert (quote["pool_id"], quote["price_fen"], quote["cost_fen"]) == (world.pool_id, 1250, 20000)
    assert (quote["voucher_fen"], quote["cost_after_voucher_fen"]) == (0, 20000)
    assert cli.json("request", "list", key=world.buyer) == []  # nothing submitted
    assert "¥200.00" in cli(*args, key=world.buyer).stdout
    waiting = cli(
        "request", "quote", "--cards", "32", "--hours", "1", "--max-price", "1", key=world.buyer
    ).stdout
    assert "why it would wait" in waiting
    cli(*args, key=world.provider, code=1)
