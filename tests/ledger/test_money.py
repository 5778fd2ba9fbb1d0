"""kit/money.py: the one rounding rule, usage cost, fee, and yuan in and out."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suanli.kit.money import fee_fen, parse_yuan, round_fen, usage_cost_fen, yuan


@pytest.mark.parametrize(
    ("exact", "fen"),
    [
        ("0", 0),
        ("0.4", 0),
        ("0.5", 0),  # half to even: down to 0
        ("0.500001", 1),
        ("1.5", 2),  # half to even: up to 2
        ("2.5", 2),
        ("3.5", 4),
        ("2.4999", 2),
        ("2.51", 3),
        ("-0.5", 0),
        ("-1.5", -2),
        ("-2.5", -2),
        ("4010.5", 4010),
        ("149.5", 150),
        ("123456789012345.5", 123456789012346),
    ],
)
def test_round_fen_is_half_even(exact: str, fen: int) -> None:
    assert round_fen(Decimal(exact)) == fen


@given(st.integers(-(10**15), 10**15), st.integers(0, 99))
def test_round_fen_is_within_half_a_fen(whole: int, hundredths: int) -> None:
    exact = Decimal(whole) + Decimal(hundredths) / 100
    rounded = round_fen(exact)
    assert abs(Decimal(rounded) - exact) <= Decimal("0.5")
    if abs(Decimal(rounded) - exact) == Decimal("0.5"):
        assert rounded % 2 == 0


@pytest.mark.parametrize(
    ("card_seconds", "price", "fen"),
    [
        (0, 1000, 0),
        (3600, 1000, 1000),  # one card-hour
        (14_400, 1000, 4000),
        (1, 1, 0),  # 1/3600 fen
        (1800, 1, 0),  # 0.5 -> 0
        (5400, 1, 2),  # 1.5 -> 2
        (11_700, 1234, 4010),  # 4010.5 -> 4010
        (468, 1150, 150),  # 149.5 -> 150
        (10_200, 999, 2830),  # 2830.5 -> 2830
        (8 * 366 * 86400, 10_000_000, 702_720_000_000),  # big numbers stay exact
    ],
)
def test_usage_cost(card_seconds: int, price: int, fen: int) -> None:
    assert usage_cost_fen(card_seconds, price) == fen


@pytest.mark.parametrize(("card_seconds", "price"), [(-1, 100), (100, -1)])
def test_usage_cost_refuses_negatives(card_seconds: int, price: int) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        usage_cost_fen(card_seconds, price)


@given(st.integers(0, 10**9), st.integers(0, 10**7), st.integers(0, 10**9))
def test_usage_cost_is_monotonic_and_near_exact(a: int, price: int, extra: int) -> None:
    cost = usage_cost_fen(a, price)
    assert abs(Decimal(cost) - Decimal(a * price) / 3600) <= Decimal("0.5")
    assert usage_cost_fen(a + extra, price) >= cost


@pytest.mark.parametrize(
    ("amount", "rate", "fee"),
    [
        (4000, "0.05", 200),
        (4010, "0.05", 200),  # 200.5 -> 200
        (150, "0.05", 8),  # 7.5 -> 8
        (2830, "0.05", 142),  # 141.5 -> 142
        (10, "0.05", 0),  # 0.5 -> 0
        (30, "0.05", 2),  # 1.5 -> 2
        (1, "0", 0),
        (1234, "1", 1234),
        (999, "0.333", 333),  # 332.667
        (0, "0.05", 0),
    ],
)
def test_fee(amount: int, rate: str, fee: int) -> None:
    assert fee_fen(amount, Decimal(rate)) == fee


@pytest.mark.parametrize("rate", ["-0.01", "1.01", "5"])
def test_fee_rate_must_be_a_share(rate: str) -> None:
    with pytest.raises(ValueError, match="not between 0 and 1"):
        fee_fen(100, Decimal(rate))


@given(st.integers(0, 10**12), st.decimals(0, 1, places=4))
def test_fee_never_exceeds_the_amount(amount: int, rate: Decimal) -> None:
    assert 0 <= fee_fen(amount, rate) <= amount


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "¥0.00"),
        (5, "¥0.05"),
        (100, "¥1.00"),
        (123456, "¥1,234.56"),
        (100_000_000_00, "¥100,000,000.00"),
        (-5, "-¥0.05"),
        (-123456, "-¥1,234.56"),
    ],
)
def test_yuan(fen: int, text: str) -> None:
    assert yuan(fen) == text


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("20", 2000),
        ("¥20", 2000),
        (" ¥ 20 ", 2000),
        ("CNY 3", 300),
        ("CNY3.5", 350),
        ("1,234.5", 123450),
        ("¥1,234.56", 123456),
        ("0.01", 1),
        ("0", 0),
        ("1e3", 100000),
    ],
)
def test_parse_yuan(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "not an amount in yuan"),
        ("", "not an amount in yuan"),
        ("¥", "not an amount in yuan"),
        ("NaN", "not an amount in yuan"),
        ("Infinity", "not an amount in yuan"),
        ("0.001", "fractions of a fen"),
        ("1.234", "fractions of a fen"),
    ],
)
def test_parse_yuan_refuses_non_amounts(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_yuan(text)


@given(st.integers(0, 10**15))
def test_yuan_round_trips(fen: int) -> None:
    assert parse_yuan(yuan(fen)) == fen


@pytest.mark.parametrize("fen", [-5, -123456])
def test_negative_yuan_round_trips(fen: int) -> None:
    """What ``yuan`` prints for a debt, ``parse_yuan`` must read back."""
    assert parse_yuan(yuan(fen)) == fen
