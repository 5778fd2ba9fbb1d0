"""Checking and converting what people type: yuan, times, decimals, counts.

Each function raises :class:`~suanli.cli.errors.CliError` with a one-line message naming
the option, so bad input never reaches the API and never shows a traceback.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from suanli.cli.errors import CliError
from suanli.kit.money import parse_yuan


def fen(text: str, what: str) -> int:
    """A positive amount typed in yuan (``12.5``, ``¥1,200``), as integer fen."""
    try:
        amount = parse_yuan(text)
    except ValueError as exc:
        raise CliError(f"{what}: {exc}") from exc
    if amount <= 0:
        raise CliError(f"{what} must be more than ¥0, got {text!r}")
    return amount


def optional_fen(text: str | None, what: str) -> int | None:
    return None if text is None else fen(text, what)


def instant(text: str, what: str) -> datetime:
    """An ISO 8601 date or time; without a zone it is taken as UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise CliError(
            f"{what}: {text!r} is not an ISO 8601 time (e.g. 2025-03-01T08:00:00+08:00)"
        ) from exc
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def optional_instant(text: str | None, what: str) -> datetime | None:
    return None if text is None else instant(text, what)


def parse_date(text: str | None, what: str) -> date | None:
    """An ISO 8601 calendar date (``2024-05-01``), or None."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise CliError(f"{what}: {text!r} is not a date (YYYY-MM-DD)") from exc


def rate(text: str | None, what: str) -> Decimal | None:
    """A rate as a percentage (``30%``, ``30``) or a fraction (``0.3``): 0 < rate <= 100%."""
    if text is None:
        return None
    raw = text.strip()
    percent = raw.endswith("%")
    value = decimal(raw.removesuffix("%"), what)
    if percent or value > 1:
        value = value / 100
    if not Decimal(0) < value <= Decimal(1):
        raise CliError(f"{what} must be above 0% and at most 100%, got {text!r}")
    return value.normalize()


def decimal(text: str, what: str) -> Decimal:
    """A finite decimal number."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise CliError(f"{what}: {text!r} is not a number") from exc
    if not value.is_finite():
        raise CliError(f"{what}: {text!r} is not a number")
    return value


def optional_decimal(text: str | None, what: str) -> Decimal | None:
    return None if text is None else decimal(text, what)


def at_least(value: int, minimum: int, what: str) -> int:
    """``value`` if it is ``minimum`` or more, else a one-line error."""
    if value < minimum:
        raise CliError(f"{what} must be at least {minimum}, got {value}")
    return value


def optional_at_least(value: int | None, minimum: int, what: str) -> int | None:
    return None if value is None else at_least(value, minimum, what)


def duration_s(hours: float | None, seconds: int | None) -> int:
    """Exactly one of ``--hours`` (a float) and ``--duration-s``, as whole seconds."""
    if (hours is None) == (seconds is None):
        raise CliError("give the duration as exactly one of --hours and --duration-s")
    if seconds is not None:
        return at_least(seconds, 1, "--duration-s")
    assert hours is not None
    if not 0 < hours < float("inf"):
        raise CliError(f"--hours must be more than 0, got {hours:g}")
    total = round(hours * 3600)
    return at_least(total, 1, "--hours (in seconds)")
