"""The exchange+vouchers scenario's synthetic demand and its money, checked by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from suanli.sim.model import Center, Job
from suanli.sim.run import Replay, simulate
from suanli.sim.traces import Trace
from suanli.sim.vouchers import VoucherModel, money, sme_demand, with_sme

TRACE = Trace(
    "tiny",
    datetime(2026, 1, 1, tzinfo=UTC),
    tuple(Job(f"t{k}", k * 600, 3600, 1, "c") for k in range(50)),
    (Center("c", 4, 8),),
)


def test_the_demand_is_seeded_and_only_buyers_under_the_voucher_price_come() -> None:
    model = VoucherModel()
    first, again = sme_demand(TRACE, model, 1), sme_demand(TRACE, model, 1)
    assert first == again
    assert first.offered == 10  # 20% of 50 jobs
    assert 0 < len(first.jobs) <= first.offered
    assert first.induced <= {j.job_id for j in first.jobs}
    assert sme_demand(TRACE, model, 2) != first
    nobody = sme_demand(TRACE, VoucherModel(rate=Decimal("0.01"), low=0.4, high=0.5), 1)
    assert nobody.jobs == ()  # reservation at most half the price: a 1% voucher wins none


def test_merging_keeps_the_trace_first_on_ties() -> None:
    demand = sme_demand(TRACE, VoucherModel(share=1.0), 3)
    merged = with_sme(TRACE, demand)
    assert len(merged.jobs) == len(TRACE.jobs) + len(demand.jobs)
    submits = [j.submit for j in merged.jobs]
    assert submits == sorted(submits)


def test_money_by_hand() -> None:
    jobs = (Job("t0", 0, 3600, 2, "c"), Job("sme-0", 0, 3600, 1, "c"), Job("sme-1", 0, 10, 1, "c"))
    model = VoucherModel(rate=Decimal("0.3"), price_fen=1000)
    paid = money(jobs, (0, 0, -1), (3600, 1800, -1), model, frozenset({"sme-0"}), vouchers=True)
    # t0: 2 card-hours = 2000 fen; sme-0: half a card-hour = 500 fen, 150 of it voucher;
    # sme-1 never ran.
    assert (paid.cost_to_buyers_fen, paid.voucher_fen) == (2000 + 350, 150)
    assert paid.induced_card_hours == 0.5
    assert paid.voucher_fen_per_extra_card_hour == 300.0
    plain = money(jobs, (0, 0, -1), (3600, 1800, -1), model)
    assert (plain.cost_to_buyers_fen, plain.voucher_fen) == (2500, 0)


def test_the_scenario_adds_the_buyers_and_pays_their_voucher() -> None:
    base = simulate(TRACE, Replay(scenario="exchange")).metrics
    more = simulate(TRACE, Replay(scenario="exchange+vouchers", seed=1)).metrics
    demand = sme_demand(TRACE, VoucherModel(), 1)
    assert more.jobs == base.jobs + len(demand.jobs)
    assert more.sme_bought == len(demand.jobs) and more.sme_offered == demand.offered
    assert more.allocated_card_s > base.allocated_card_s
    assert more.voucher_fen > 0 and base.voucher_fen == 0
    assert simulate(TRACE, Replay(scenario="exchange+vouchers", seed=1)).metrics == more


def test_bad_models_are_refused() -> None:
    with pytest.raises(ValueError, match="voucher rate"):
        VoucherModel(rate=Decimal("1.5"))
    with pytest.raises(ValueError, match="positive"):
        VoucherModel(price_fen=0)
