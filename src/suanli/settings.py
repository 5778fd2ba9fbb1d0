"""Exchange-wide settings, from the environment with safe defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


@dataclass(frozen=True, slots=True)
class Settings:
    """``fee_rate``: the platform's share of each captured charge (0-1).
    ``place_attempts``: how often one placement retries when another transaction took
    the chosen cards first. ``agent_timeout_s``: how long a center's agent may stay
    silent before the center is taken offline and its work moved."""

    fee_rate: Decimal = Decimal("0.05")
    place_attempts: int = 5
    agent_timeout_s: int = 90

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
        return cls(fee_rate=rate, agent_timeout_s=int(raw_timeout))
