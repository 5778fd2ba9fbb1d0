"""Exchange-wide settings, from the environment with safe defaults."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

DEFAULT_THREADS = 4
DEFAULT_RATE_PER_S = 200.0
"""Requests a second each key may send, sustained: well above any one client's use (the
API load benchmark's busiest key sends about 150 a second)."""
DEFAULT_RATE_BURST = 400
"""Requests each key may send at once after a pause (the token bucket's size)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """``fee_rate``: the platform's share of each captured charge (0-1).
    ``place_attempts``: how often one placement retries when another transaction took
    the chosen cards first. ``agent_timeout_s``: how long a center's agent may stay
    silent before the center is taken offline and its work moved.
    ``rate_per_s`` and ``rate_burst``: each API key's (an anonymous caller's: each client
    address's) sustained requests per second and the burst it may send at once, per
    server process (:mod:`suanli.api.limits`); 0 in either turns the limit off.
    ``threads``: how many calls one server process works on at once. Each holds the
    interpreter while it computes, so more threads than the database keeps busy only
    trade places for it: under the load benchmark 4 served twice what 40 did."""

    fee_rate: Decimal = Decimal("0.05")
    place_attempts: int = 5
    agent_timeout_s: int = 90
    rate_per_s: float = DEFAULT_RATE_PER_S
    rate_burst: int = DEFAULT_RATE_BURST
    threads: int = DEFAULT_THREADS

    @classmethod
    def from_env(cls) -> Settings:
        raw = os.environ.get("SUANLI_FEE_RATE", "0.05")
        try:
            rate = Decimal(raw)
        except InvalidOperation as exc:
            raise ValueError(f"SUANLI_FEE_RATE={raw!r} is not a number") from exc
        if not Decimal(0) <= rate <= Decimal(1):
            raise ValueError(f"SUANLI_FEE_RATE={raw!r} must be between 0 and 1")
        raw_timeout = os.environ.get("SUANLI_AGENT_TIMEOUT_S", "90")
        if not raw_timeout.isdigit() or int(raw_timeout) < 1:
            raise ValueError(f"SUANLI_AGENT_TIMEOUT_S={raw_timeout!r} must be a whole number >= 1")
        raw_per_s = os.environ.get("SUANLI_RATE_PER_S", str(DEFAULT_RATE_PER_S))
        try:
            per_s = float(raw_per_s)
        except ValueError as exc:
            raise ValueError(f"SUANLI_RATE_PER_S={raw_per_s!r} is not a number") from exc
        if not math.isfinite(per_s) or per_s < 0:
            raise ValueError(f"SUANLI_RATE_PER_S={raw_per_s!r} must be a number >= 0 (0: no limit)")
        raw_burst = os.environ.get("SUANLI_RATE_BURST", str(DEFAULT_RATE_BURST))
        if not (raw_burst.isascii() and raw_burst.isdigit()):
            raise ValueError(
                f"SUANLI_RATE_BURST={raw_burst!r} must be a whole number >= 0 (0: no limit)"
            )
        raw_threads = os.environ.get("SUANLI_THREADS", str(DEFAULT_THREADS))
        if (
            not (raw_threads.isascii() and raw_threads.isdigit())
            or not 1 <= int(raw_threads) <= 256
        ):
            raise ValueError(f"SUANLI_THREADS={raw_threads!r} must be a whole number from 1 to 256")
        return cls(
            threads=int(raw_threads),
            fee_rate=rate,
            agent_timeout_s=int(raw_timeout),
            rate_per_s=per_s,
            rate_burst=int(raw_burst),
        )
