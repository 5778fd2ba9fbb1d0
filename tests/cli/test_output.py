"""Formatting helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from suanli.cli import output, parse
from suanli.cli.errors import CliError


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(30, "30s"), (600, "10m"), (3600, "1h"), (5400, "90m"), (5401, "5401s"), (86400, "24h")],
)
def test_duration(seconds: int, text: str) -> None:
    assert output.duration(seconds) == text


def test_times_are_short_utc() -> None:
    east8 = timezone(timedelta(hours=8))
    assert output.when(datetime(2025, 3, 1, 16, 30, 59, tzinfo=east8)) == "2025-03-01T08:30Z"
    naive = datetime(2025, 3, 1, 8, 30, tzinfo=UTC).replace(tzinfo=None)
    assert output.when(naive) == "2025-03-01T08:30Z"  # naive times are UTC
    assert output.when(None) == output.NONE


def test_money_and_percent() -> None:
    assert output.money(123456) == "¥1,234.56"
    assert output.per_card_hour(1250) == "¥12.50/card-h"
    assert output.percent(Decimal("0.3125")) == "31.2%"


def test_parse() -> None:
    assert parse.fen("1,234.5", "x") == 123450
    assert parse.instant("2025-03-01", "x") == datetime(2025, 3, 1, tzinfo=UTC)
    assert parse.instant("2025-03-01T08:00:00Z", "x") == datetime(2025, 3, 1, 8, tzinfo=UTC)
    assert parse.duration_s(1.5, None) == 5400
    assert parse.duration_s(None, 90) == 90
    for bad in ("nan", "inf", "abc"):
        with pytest.raises(CliError):
            parse.decimal(bad, "x")
    with pytest.raises(CliError):
        parse.duration_s(float("nan"), None)


def test_json_is_plain() -> None:
    assert output.jsonable({"a": Decimal("1.5"), "b": [datetime(2025, 1, 1, tzinfo=UTC)]}) == {
        "a": "1.5",
        "b": ["2025-01-01T00:00:00+00:00"],
    }
