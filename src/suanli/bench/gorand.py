"""Go's ``math/rand`` (the seeded source of Go 1.x), so our protocol draws what Go drew.

The FGD authors' simulator is written in Go: it seeds the global ``math/rand`` source with
the experiment's seed, then shuffles the pod list and samples the inflation pods from it.
Reproducing their arrival order therefore needs the same generator, call for call.

Go's source is an additive lagged Fibonacci generator, ``y[k] = y[k-607] + y[k-273]``
(mod 2^64), seeded by XOR-ing a seed-derived vector with a fixed "cooked" vector. Go ships
the cooked vector as a table, the state of a reference generator after 7.8e12 steps; we
derive the same table here by jumping ahead (polynomial exponentiation modulo the
recurrence's characteristic polynomial), which takes a fraction of a second once per
process. Outputs are checked in the tests against values printed by real Go programs.

Only what the simulator uses is here: ``Int63``, ``Int31``, ``Int31n``, ``Intn``,
``Int63n``, ``Perm`` and ``Shuffle``, with Go's exact algorithms (rejection sampling in
``Int31n``, Lemire's multiply-shift in the unexported ``int31n`` that ``Shuffle`` uses).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]

LEN = 607  # lag of the generator (vector length)
TAP = 273  # the short lag
MASK64 = (1 << 64) - 1
MASK63 = (1 << 63) - 1
INT32_MAX = (1 << 31) - 1
COOKED_STEPS = 7_800_000_000_000  # steps of the reference generator behind the table


def _seedrand(x: int) -> int:
    """One step of the Park-Miller generator x' = 48271 x mod (2^31 - 1), Schrage's way."""
    hi, lo = divmod(x, 44488)
    x = 48271 * lo - 3399 * hi
    return x + INT32_MAX if x < 0 else x


def _seed_vector(seed: int, shifts: tuple[int, int]) -> list[int]:
    """The 607 words Go builds from ``seed``: shifts (40, 20) in ``Seed``, (20, 10) cooking."""
    seed %= INT32_MAX
    if seed == 0:
        seed = 89482311
    x = seed
    out: list[int] = []
    for i in range(-20, LEN):
        x = _seedrand(x)
        if i >= 0:
            u = x << shifts[0]
            x = _seedrand(x)
            u ^= x << shifts[1]
            x = _seedrand(x)
            u ^= x
            out.append(u & MASK64)
    return out


def _mulmod(a: U64, b: U64) -> U64:
    """a * b modulo x^607 - x^334 - 1, coefficients mod 2^64 (both of degree < 607)."""
    acc = np.zeros(2 * LEN - 1, dtype=np.uint64)
    for i in np.flatnonzero(a):
        acc[i : i + LEN] += a[i] * b
    return _reduce(acc)


def _reduce(acc: U64) -> U64:
    """Fold degrees >= 607 down with x^607 = x^334 + 1, highest block first."""
    top = acc.shape[0] - 1
    while top >= LEN:
        low = max(LEN, top - TAP + 1)  # this block receives nothing from above any more
        block = acc[low : top + 1].copy()
        acc[low - TAP : top - TAP + 1] += block
        acc[low - LEN : top - LEN + 1] += block
        acc[low : top + 1] = 0
        top = low - 1
    return acc[:LEN].copy()


@cache
def cooked() -> tuple[int, ...]:
    """Go's ``rngCooked``: the reference generator's vector after 7.8e12 steps from seed 1."""
    start = np.array(_seed_vector(1, (20, 10)), dtype=np.uint64)
    # The sequence y[k] (k = 1, 2, ...) is written at vector index (334 - k) mod 607, and
    # the initial words are y[-606..0]. With z[j] = y[j - 606], z[j] = sum c_i z[i] where
    # x^j = sum c_i x^i modulo the characteristic polynomial.
    base = np.zeros(LEN, dtype=np.uint64)
    base[0] = 1
    x = np.zeros(LEN, dtype=np.uint64)
    x[1] = 1
    power, exponent = base, COOKED_STEPS
    while exponent:
        if exponent & 1:
            power = _mulmod(power, x)
        exponent >>= 1
        if exponent:
            x = _mulmod(x, x)
    z_initial = start[[(334 + 606 - j) % LEN for j in range(LEN)]]
    table = [0] * LEN
    for step in range(LEN):  # j = N + step, i.e. k = N - 606 + step
        k = COOKED_STEPS - 606 + step
        table[(334 - k) % LEN] = int((power * z_initial).sum(dtype=np.uint64))
        carry = power[-1:].copy()  # times x: shift up, fold x^607 into x^334 + 1
        power[1:] = power[:-1].copy()
        power[0:1] = carry
        power[334:335] += carry
    return tuple(table)


class GoRand:
    """A ``rand.New(rand.NewSource(seed))`` of Go, with the methods the simulator calls."""

    def __init__(self, seed: int) -> None:
        table = cooked()
        self._vec = [u ^ c for u, c in zip(_seed_vector(seed, (40, 20)), table, strict=True)]
        self._tap = 0
        self._feed = LEN - TAP

    def uint64(self) -> int:
        self._tap = self._tap - 1 if self._tap else LEN - 1
        self._feed = self._feed - 1 if self._feed else LEN - 1
        x = (self._vec[self._feed] + self._vec[self._tap]) & MASK64
        self._vec[self._feed] = x
        return x

    def int63(self) -> int:
        return self.uint64() & MASK63

    def int31(self) -> int:
        return self.int63() >> 32

    def int63n(self, n: int) -> int:
        if n <= 0:
            raise ValueError("invalid argument to Int63n")
        if n & (n - 1) == 0:
            return self.int63() & (n - 1)
        top = MASK63 - (1 << 63) % n
        v = self.int63()
        while v > top:
            v = self.int63()
        return v % n

    def int31n(self, n: int) -> int:
        """Go's exported ``Int31n``: rejection sampling."""
        if n <= 0:
            raise ValueError("invalid argument to Int31n")
        if n & (n - 1) == 0:
            return self.int31() & (n - 1)
        top = INT32_MAX - (1 << 31) % n
        v = self.int31()
        while v > top:
            v = self.int31()
        return v % n

    def _int31n_lemire(self, n: int) -> int:
        """Go's unexported ``int31n`` (multiply-shift), used by ``Shuffle``."""
        prod = (self.int63() >> 31) * n
        low = prod & 0xFFFFFFFF
        if low < n:
            thresh = ((1 << 32) - n) % n
            while low < thresh:
                prod = (self.int63() >> 31) * n
                low = prod & 0xFFFFFFFF
        return prod >> 32

    def intn(self, n: int) -> int:
        return self.int31n(n) if n <= INT32_MAX else self.int63n(n)

    def perm(self, n: int) -> list[int]:
        m = [0] * n
        for i in range(n):
            j = self.intn(i + 1)
            m[i] = m[j]
            m[j] = i
        return m

    def shuffle(self, n: int, swap: Callable[[int, int], None]) -> None:
        i = n - 1
        while i > INT32_MAX - 1:
            swap(i, self.int63n(i + 1))
            i -= 1
        while i > 0:
            swap(i, self._int31n_lemire(i + 1))
            i -= 1
