"""One buyer's submits, cancels and top-ups at once never deadlock on PostgreSQL.

A hold moves money wallet -> escrow and a release escrow -> wallet. Had each locked only
the account it debits, the foreign-key check of the credited account's new posting would
close a cycle between them (``DeadlockDetected``, a 500). Every ledger movement locks all
the accounts it touches in one order; this test drives the real server for a bounded time
and fails on any 5xx.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from conftest import Market, assert_books_balance, make_supply
from suanli.store import Database

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("concurrency")]

SECONDS = 6.0
THREADS = 8


def test_one_buyers_submits_cancels_and_topups_at_once_never_answer_5xx(
    pg_db: Database, make_market: Callable[[Database], Market]
) -> None:
    market = make_market(pg_db)
    make_supply(market, nodes=64, cards_per_node=1, price_fen=100)  # a node per card
    buyer = market.buyer(topup_fen=100_000_000)
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS

    def work(seed: int) -> None:
        headers = {"Authorization": f"Bearer {buyer.key}"}
        with httpx.Client(base_url=market.url, headers=headers, timeout=30) as http:
            i = 0
            while time.monotonic() < deadline:
                i += 1
                if (seed + i) % 3 == 0:
                    answer = http.post("/v1/wallet/topup", json={"amount_fen": 100})
                else:
                    answer = http.post("/v1/requests", json={"cards": 1, "duration_s": 600})
                    if answer.status_code == 201:
                        rid = answer.json()["id"]
                        answer = http.post(f"/v1/requests/{rid}/cancel")
                with lock:
                    statuses[answer.status_code] += 1
                    if answer.status_code >= 500:
                        failures.append(answer.text[:300])

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 60)

    assert not failures, (statuses, failures[:3])
    assert statuses[200] + statuses[201] > 10, statuses
    assert_books_balance(pg_db)
