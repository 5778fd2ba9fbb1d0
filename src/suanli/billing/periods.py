"""Billing periods: a calendar month (``2026-11``) or an explicit ``[start, end)``.

Months follow the calendar in China (Asia/Shanghai, UTC+8), like the voucher caps per
year: ``2026-11`` is ``[2026-11-01T00:00+08:00, 2026-12-01T00:00+08:00)``. Times are
kept in UTC; a period always includes its start and excludes its end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from suanli.kit.errors import ValidationError

CHINA = ZoneInfo("Asia/Shanghai")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, slots=True)
class Period:
    """``[start, end)`` in UTC, and how people call it."""

    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        """``2026-11`` for a calendar month, else ``start/end`` in ISO 8601."""
        local = self.start.astimezone(CHINA)
        if local == _month_start(local.year, local.month) and self.end == _next_month(local):
            return f"{local.year:04d}-{local.month:02d}"
        return f"{self.start.isoformat()}/{self.end.isoformat()}"

    @property
    def month_tag(self) -> str:
        """``202611``: the month (China time) the period starts in, for numbering."""
        local = self.start.astimezone(CHINA)
        return f"{local.year:04d}{local.month:02d}"


def _month_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=CHINA)


def _next_month(local: datetime) -> datetime:
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return _month_start(year, month).astimezone(UTC)


def month(text: str, what: str = "period") -> Period:
    """The calendar month ``YYYY-MM`` (China time). Raises a 422 naming ``what``."""
    found = _MONTH.fullmatch(text.strip())
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise ValidationError(f"{what}: {text!r} is not a month (YYYY-MM, e.g. 2026-11)")
    if not 1900 <= int(found.group(1)) <= 9998:
        raise ValidationError(f"{what}: {text!r} is not a year between 1900 and 9998")
    start = _month_start(int(found.group(1)), int(found.group(2)))
    return Period(start.astimezone(UTC), _next_month(start))


def between(start: datetime, end: datetime) -> Period:
    """An explicit period; both ends need a time zone and ``end`` must follow ``start``."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationError("start and end need a time zone (e.g. +08:00 or Z)")
    if end <= start:
        raise ValidationError(f"end {end.isoformat()} is not after start {start.isoformat()}")
    return Period(start.astimezone(UTC), end.astimezone(UTC))


def resolve(period: str | None, start: datetime | None, end: datetime | None) -> Period:
    """Exactly one of ``period`` (a month) or both ``start`` and ``end``."""
    if period is not None:
        if start is not None or end is not None:
            raise ValidationError("give either period (YYYY-MM) or start and end, not both")
        return month(period)
    if start is None or end is None:
        raise ValidationError("give period (YYYY-MM), or both start and end")
    return between(start, end)
