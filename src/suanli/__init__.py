"""suanli (算力): an exchange that puts idle AI compute to work.

It pools the spare accelerators of many computing centers, matches them with the
small, bursty demand of companies, settles every card-hour in a double-entry ledger,
and shows operators where capacity sleeps. See ``suanli.engine`` for placement,
``suanli.exchange`` for requests and leases, ``suanli.ledger`` for money.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
