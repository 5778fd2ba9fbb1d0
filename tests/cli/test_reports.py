"""``suanli report utilization``."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from .harness import START, Cli, World


def test_utilization_by_model_json(cli: Cli, world: World) -> None:
    cli("wallet", "topup", "1000", key=world.buyer)
    cli("request", "submit", "--cards", "8", "--hours", "4", key=world.buyer)
    cli.clock.advance(2 * 3600)
    window = ("--from", START.isoformat(), "--to", (START + timedelta(hours=2)).isoformat())
    report = cli.json("report", "utilization", "--by", "model", *window, key=world.operator)
    assert report["by"] == "model"
    [row] = report["rows"]
    assert row["key"] == "H800"
    assert Decimal(row["available_card_hours"]) == 64  # 32 cards x 2 h
    assert Decimal(row["allocated_card_hours"]) == 16  # 8 cards x 2 h
    assert Decimal(row["utilization"]) == Decimal("0.25")
    assert report["total"]["cards"] == 32
    text = cli("report", "utilization", "--by", "province", *window, key=world.provider).stdout
    assert "贵州" in text
    assert "25.0%" in text
    default_window = cli.json("report", "utilization", key=world.operator)
    assert default_window["by"] == "province"
