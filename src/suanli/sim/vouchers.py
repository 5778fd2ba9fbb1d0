"""The ``exchange+vouchers`` scenario: demand that only a voucher brings to the market.

A documented synthetic model (seeded, so runs repeat exactly):

* Small firms offer ``share`` x (the trace's job count) extra jobs, arriving uniformly
  over the trace's submission span; each asks 1, 2, 4 or 8 cards (1 card in half the
  jobs) for a log-normal duration (median 2 h, sigma 1, at least a minute) and is homed
  at a center drawn uniformly (small firms are local).
* Every card-hour has one list price ``price_fen``. A firm's reservation price is
  uniform in ``[low, high]`` x the list price. It buys when the price after the voucher,
  ``price x (1 - rate)``, is at most its reservation price; firms whose reservation is
  at least the full price would have bought anyway.
* The voucher pays ``rate`` of every small-firm charge. Its *effect* is the card-hours
  of the jobs that bought only thanks to it (``induced``); ``voucher_fen_per_extra_card_
  hour`` is all the voucher money over those card-hours.

The small firms' jobs are then replayed with the trace's jobs as in ``exchange``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from decimal import Decimal

from suanli.kit.money import round_fen, usage_cost_fen
from suanli.sim.model import Job
from suanli.sim.traces import Trace

SME_PREFIX = "sme-"
CARD_CHOICES = (1, 1, 1, 1, 2, 2, 4, 8)


@dataclass(frozen=True, slots=True)
class VoucherModel:
    rate: Decimal = Decimal("0.3")
    price_fen: int = 1000
    share: float = 0.2
    low: float = 0.4
    high: float = 1.1

    def __post_init__(self) -> None:
        if not Decimal(0) < self.rate <= Decimal(1):
            raise ValueError(f"voucher rate {self.rate} must be above 0 and at most 1")
        if self.price_fen <= 0 or self.share < 0 or not 0 < self.low <= self.high:
            raise ValueError("price must be positive, share >= 0 and 0 < low <= high")


@dataclass(frozen=True, slots=True)
class SmeDemand:
    """The small firms' jobs that buy, and which of them only thanks to the voucher."""

    offered: int
    jobs: tuple[Job, ...]
    induced: frozenset[str]


def sme_demand(trace: Trace, model: VoucherModel, seed: int) -> SmeDemand:
    rng = random.Random(f"suanli-sme:{seed}")
    span = max((j.submit for j in trace.jobs), default=0)
    homes = [c.name for c in trace.centers] or [j.home for j in trace.jobs[:1]]
    offered = round(len(trace.jobs) * model.share)
    full = Decimal(model.price_fen)
    after = full * (1 - model.rate)
    jobs: list[Job] = []
    induced: set[str] = set()
    for k in range(offered):
        job = Job(
            job_id=f"{SME_PREFIX}{k}",
            submit=rng.randint(0, span),
            duration=max(60, int(rng.lognormvariate(math.log(7200), 1.0))),
            cards=rng.choice(CARD_CHOICES),
            home=rng.choice(homes),
        )
        reservation = Decimal(repr(rng.uniform(model.low, model.high))) * full
        if reservation >= after:
            jobs.append(job)
            if reservation < full:
                induced.add(job.job_id)
    return SmeDemand(offered, tuple(jobs), frozenset(induced))


def with_sme(trace: Trace, demand: SmeDemand) -> Trace:
    """The trace with the buying small firms' jobs merged in by submission time (the
    trace's own jobs first on ties)."""
    tagged = [(j.submit, 0, n, j) for n, j in enumerate(trace.jobs)]
    tagged += [(j.submit, 1, n, j) for n, j in enumerate(demand.jobs)]
    tagged.sort(key=lambda t: (t[0], t[1], t[2]))
    return replace(trace, jobs=tuple(t[3] for t in tagged))


@dataclass(frozen=True, slots=True)
class Money:
    """What buyers paid and what the vouchers paid, in fen."""

    cost_to_buyers_fen: int
    voucher_fen: int
    induced_card_hours: float
    voucher_fen_per_extra_card_hour: float | None


def money(
    jobs: tuple[Job, ...],
    start: tuple[int, ...],
    end: tuple[int, ...],
    model: VoucherModel,
    induced: frozenset[str] = frozenset(),
    vouchers: bool = False,
) -> Money:
    """Charges at the list price for every job that ran; with ``vouchers``, the voucher
    share of every small firm's charge is paid by the programme instead."""
    cost = voucher = induced_s = 0
    for job, begin, finish in zip(jobs, start, end, strict=True):
        if begin < 0:
            continue
        card_s = job.cards * (finish - begin)
        charge = usage_cost_fen(card_s, model.price_fen)
        share = 0
        if vouchers and job.job_id.startswith(SME_PREFIX):
            share = round_fen(Decimal(charge) * model.rate)
            if job.job_id in induced:
                induced_s += card_s
        cost += charge - share
        voucher += share
    hours = induced_s / 3600
    per = round(voucher / hours, 2) if hours else None
    return Money(cost, voucher, round(hours, 3), per)
