"""Storage: SQLAlchemy 2.0 models, repositories (all SQL lives here) and migrations.

SQLite file by default (embedded, zero set-up); PostgreSQL by URL. Services never
commit: the request or command boundary owns the transaction (see :mod:`.db`).
"""

from suanli.store.db import Database, default_database_url

__all__ = ["Database", "default_database_url"]
