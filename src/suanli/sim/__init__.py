"""A discrete-event simulator that replays real job traces through the real engine.

Centers are pools of an engine :class:`~suanli.engine.Snapshot`; jobs arrive, queue, and
are placed with :meth:`~suanli.engine.Engine.choose` and held with ``reserve`` /
``unreserve``, the very calls the live exchange makes. The loop (:mod:`.events`) drives a
simulated clock (:class:`SimClock`, a :class:`suanli.kit.clock.Clock`); traces come from
:mod:`.traces`, the replay from :mod:`.run`, the figures from :mod:`.metrics`.
"""

from suanli.sim.events import Event, EventQueue, SimClock
from suanli.sim.metrics import Metrics, nearest_rank
from suanli.sim.model import SCENARIOS, Center, Fleet, Job
from suanli.sim.run import Outcome, Replay, simulate
from suanli.sim.traces import Trace, load_centers, load_generic_jobs, load_philly, load_philly_jobs

__all__ = [
    "SCENARIOS",
    "Center",
    "Event",
    "EventQueue",
    "Fleet",
    "Job",
    "Metrics",
    "Outcome",
    "Replay",
    "SimClock",
    "Trace",
    "load_centers",
    "load_generic_jobs",
    "load_philly",
    "load_philly_jobs",
    "nearest_rank",
    "simulate",
]
