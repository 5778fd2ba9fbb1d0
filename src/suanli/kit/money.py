"""Money: integer fen (分) amounts, ``Decimal`` rates, and the one rounding rule.

Amounts are ``int`` fen everywhere (¥1 = 100 fen). Unit prices are integer fen per
card-hour; usage is integer card-seconds. Products of the two are exact ``Decimal``
values that become fen only through :func:`round_fen`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

SECONDS_PER_HOUR = 3600
CNY = "CNY"


def round_fen(value: Decimal) -> int:
    """Round an exact amount in fen to whole fen, half to even.

    Half-even (banker's rounding) is unbiased: over the many small card-hour charges of
    a settlement run, rounding errors cancel instead of always favouring one side.
    This is the only place where fractional fen become whole fen.
    """
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def usage_cost_fen(card_seconds: int, price_fen_per_card_hour: int) -> int:
    """What ``card_seconds`` of use cost at a price per card-hour, in whole fen."""
    if card_seconds < 0 or price_fen_per_card_hour < 0:
        raise ValueError("card-seconds and price must not be negative")
    return round_fen(Decimal(card_seconds * price_fen_per_card_hour) / SECONDS_PER_HOUR)


def fee_fen(amount_fen: int, rate: Decimal) -> int:
    """The platform fee on ``amount_fen`` at ``rate`` (0 <= rate <= 1), in whole fen."""
    if not Decimal(0) <= rate <= Decimal(1):
        raise ValueError(f"fee rate {rate} is not between 0 and 1")
    return round_fen(Decimal(amount_fen) * rate)


def yuan(fen: int) -> str:
    """Format fen as yuan for people: ``123456`` -> ``"¥1,234.56"``."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


def parse_yuan(text: str) -> int:
    """Parse a yuan amount typed by a person (``"1,234.5"``, ``"¥20"``) into fen."""
    cleaned = text.strip().replace(",", "")
    sign = ""
    if cleaned.startswith("-"):
        sign, cleaned = "-", cleaned[1:].strip()
    cleaned = sign + cleaned.removeprefix("¥").removeprefix("CNY").strip()
    try:
        value = Decimal(cleaned)
    except ArithmeticError as exc:
        raise ValueError(f"not an amount in yuan: {text!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not an amount in yuan: {text!r}")
    fen = value * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"amount {text!r} has fractions of a fen")
    return int(fen)


def percent(rate: Decimal) -> str:
    """Format a rate for people: ``Decimal("0.3000")`` -> ``"30%"``, ``0.125`` -> ``"12.5%"``."""
    return f"{(rate * 100).normalize():f}%"
