"""The server's queue passes: what is asked for merges, the leader keeps one index per
database, the ticker makes a full pass every few ticks, a process that does not lead
forgets what changed."""

from __future__ import annotations

from typing import Any

import pytest

from exchange.queue_world import finish, lease_of, status
from exchange.test_queue_passes import Market
from suanli.api import queue as api_queue
from suanli.api.context import AppState
from suanli.api.queue import Asks, Ticker, index_of, run_placement
from suanli.settings import Settings
from suanli.store import Database
from suanli.vocab import RequestStatus


def test_asks_merge() -> None:
    asks = Asks()
    assert asks.take() == []
    asks.add(7)
    asks.add(5)
    asks.add(7)
    assert asks.take() == [(5, False), (7, False)]
    asks.add(5)
    asks.add()
    assert asks.take() == [(None, False)]  # a general pass covers every buyer
    asks.add()
    asks.add(full=True)
    asks.add(3)
    assert asks.take() == [(None, True)]
    assert asks.take() == []


def world(db: Database) -> tuple[Market, AppState, int, int]:
    market = Market(db)
    market.add_pool("贵州")
    buyer = market.buyer("lab")
    running = market.submit(buyer, cards=8)
    waiting = market.submit(buyer, cards=8)
    assert status(db, waiting) is RequestStatus.QUEUED
    return market, AppState(db, market.clock, Settings()), running, waiting


def test_the_leader_keeps_its_index_between_passes(db: Database) -> None:
    market, state, running, waiting = world(db)
    index, _ = index_of(db)
    assert index_of(db)[0] is index
    assert run_placement(state) == 0
    assert index.last is not None and index.last.full  # the first pass: everything
    assert run_placement(state) == 0
    assert index.last is not None and not index.last.full and index.last.chosen == ()
    finish(db, market.clock, lease_of(db, running))
    assert run_placement(state) == 1
    assert index.last is not None and index.last.placed == (waiting,)


def test_the_ticker_makes_a_full_pass_every_few_ticks(db: Database) -> None:
    _, state, _, _ = world(db)
    ticker = Ticker(state, 60.0, full_every=3)
    index, _ = index_of(db)
    full = []
    for _ in range(7):
        ticker.tick()
        assert index.last is not None
        full.append(index.last.full)
    assert full == [True, False, True, False, False, True, False]
    with pytest.raises(ValueError, match="at least 1"):
        Ticker(state, 60.0, full_every=0)


class _Follower:
    """A process that does not lead."""

    contending = True

    def may_run(self) -> bool:
        return False

    def held(self) -> bool:
        return False


def test_a_process_that_does_not_lead_places_nothing_and_starts_over(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    market, state, running, waiting = world(db)
    index, _ = index_of(db)
    run_placement(state)
    assert not index.fresh
    follower: Any = _Follower()
    monkeypatch.setattr(api_queue, "leadership_of", lambda _db: follower)
    finish(db, market.clock, lease_of(db, running))
    assert run_placement(state) == 0
    assert status(db, waiting) is RequestStatus.QUEUED
    assert index.fresh
    monkeypatch.undo()
    assert run_placement(state) == 1
    assert index.last is not None and index.last.full
