"""Billing tests run on a clock that starts early in November 2026 (China time), so
that the month can be closed by moving the clock forward."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from suanli.kit.clock import ManualClock

NOV_3 = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
DEC_1 = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 2026-12-01T00:00+08:00


@pytest.fixture
def clock() -> ManualClock:
    """The live server's clock (overrides the suite's): 2026-11-03 10:00 in Beijing."""
    return ManualClock(NOV_3)
