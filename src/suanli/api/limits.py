"""Rate limits: a token bucket per API key, or per client address for a call without one.

Each caller's bucket holds up to ``burst`` tokens and refills at ``rate_per_s`` tokens a
second; a call takes a token, and a call that finds none is refused with 429 and a
``Retry-After`` of the whole seconds until a token is back (at least 1). The gate
(:mod:`suanli.api.gate`) asks before any database work, so a refused call costs the
server one look-up in memory.

The buckets live in the server process, one :class:`RateLimiter` per app (made with its
:class:`~suanli.settings.Settings`): with ``suanli serve --workers N`` each process
counts for itself. A key is known here by a digest of what the caller presented, before
anyone checks it: a caller inventing keys gets a bucket for each, and a 401 for each
call. The table of buckets is bounded (:data:`MAX_BUCKETS`): when it overflows, buckets
that have filled up again are forgotten first (which changes nothing: a new bucket is
full), then the least recently used.

The defaults (:data:`~suanli.settings.DEFAULT_RATE_PER_S`,
:data:`~suanli.settings.DEFAULT_RATE_BURST`) stop a runaway client, not normal use.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from suanli.settings import Settings

MAX_BUCKETS = 100_000
"""The most callers remembered at once (about 30 MB of memory)."""


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float
    """When ``tokens`` was counted (the limiter's clock)."""


def caller_of(key: str | None, client: tuple[str, int] | list[object] | None) -> str:
    """Whose bucket a call draws on: its API key's (a digest: no secret is kept, and no
    key longer than the digest), else its client address's."""
    if key:
        return "key:" + hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
    host = client[0] if client else None
    return f"address:{host or 'unknown'}"


class RateLimiter:
    """Token buckets, one per caller; thread-safe. ``rate_per_s`` or ``burst`` 0: off."""

    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_buckets: int = MAX_BUCKETS,
    ) -> None:
        if not math.isfinite(rate_per_s) or rate_per_s < 0:
            raise ValueError(f"rate_per_s={rate_per_s!r} must be a number >= 0")
        if burst < 0:
            raise ValueError(f"burst={burst!r} must be >= 0")
        if max_buckets < 1:
            raise ValueError(f"max_buckets={max_buckets!r} must be >= 1")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._clock = clock
        self._max = max_buckets
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def of(cls, settings: Settings) -> RateLimiter:
        return cls(settings.rate_per_s, settings.rate_burst)

    @property
    def enabled(self) -> bool:
        return self.rate_per_s > 0 and self.burst > 0

    @property
    def callers(self) -> int:
        """How many callers' buckets are remembered."""
        return len(self._buckets)

    def take(self, caller: str) -> int:
        """Take a token from ``caller``'s bucket: 0 when the call may go ahead, else the
        whole seconds (at least 1) until the bucket holds a token again."""
        if not self.enabled:
            return 0
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(caller)
            if bucket is None:
                bucket = self._buckets[caller] = _Bucket(float(self.burst), now)
                if len(self._buckets) > self._max:
                    self._prune(now)
            else:
                self._buckets.move_to_end(caller)
                bucket.tokens = self._level(bucket, now)
                bucket.stamp = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0
            return max(1, math.ceil((1 - bucket.tokens) / self.rate_per_s))

    def _level(self, bucket: _Bucket, now: float) -> float:
        elapsed = max(0.0, now - bucket.stamp)
        return min(float(self.burst), bucket.tokens + elapsed * self.rate_per_s)

    def _prune(self, now: float) -> None:
        """Shrink the table to three quarters of its bound: full buckets first, oldest
        first; then the least recently used (the newest, the caller's, stays)."""
        target = max(1, self._max - self._max // 4)
        for caller, bucket in list(self._buckets.items()):
            if len(self._buckets) <= target:
                return
            if self._level(bucket, now) >= self.burst:
                del self._buckets[caller]
        while len(self._buckets) > target:
            self._buckets.popitem(last=False)
