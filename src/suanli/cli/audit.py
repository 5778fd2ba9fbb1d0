"""``suanli audit ledger``: check the books, through the API or on the database itself.

Where the audit (and ``suanli report vouchers``) reads from, in order:

1. ``--db URL``: that database, directly (like ``suanli admin``).
2. ``--url``, ``--key`` or ``--profile`` (or ``$SUANLI_URL``, ``$SUANLI_API_KEY``,
   ``$SUANLI_PROFILE``): the API, with that key (the audit needs the operator's).
3. Otherwise the local database that ``suanli demo`` and ``suanli admin`` use
   (``$SUANLI_DATABASE_URL``, else the SQLite file in the user data directory) when it
   exists, else the API through the default saved profile.

Rule 3 is why ``suanli demo --no-serve`` followed by ``suanli audit ledger`` audits the
demo's database: the demo saves profiles for a server that is not running, and a saved
default profile alone does not send these read-only checks to the network. Reading the
database directly needs no key; whoever can open the database can read it all anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from suanli.cli import output
from suanli.cli.admin import database, safe_url
from suanli.cli.context import client, current_globals, resolve
from suanli.cli.errors import CliError
from suanli.ledger.audit import CHECKS, LedgerAudit, audit_ledger
from suanli.store import default_database_url
from suanli.store.db import normalize_url

app = typer.Typer(help="Check the books: every ledger and voucher invariant, from the data.")

DbUrl = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Read this database directly instead of asking the API (default: see "
        "`suanli audit ledger --help`).",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]

NEEDED_TABLES = ("ledger_transactions", "voucher_programs")


def _exists(url: str) -> bool:
    """Whether the database at ``url`` exists; only SQLite files can be checked cheaply
    (a server database is assumed to exist and fails on connect if it does not)."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite":
        return True
    name = parsed.database or ""
    return name not in ("", ":memory:") and Path(name).expanduser().is_file()


def direct_database(db_url: str | None) -> str | None:
    """The database URL to read directly, or None to ask the API (see the module
    docstring for the order)."""
    if db_url is not None:
        if not _exists(db_url):
            raise CliError(f"no database at {safe_url(normalize_url(db_url))}")
        return db_url
    options = current_globals()
    if options.url or options.key or options.profile:
        return None
    local = default_database_url()
    if _exists(local):
        return local
    if resolve(options).key:
        return None
    raise CliError(
        f"no exchange database at {safe_url(normalize_url(local))} and no API key: run "
        "`suanli demo` or `suanli admin init`, or pass --db URL or --profile NAME"
    )


@contextmanager
def local_session(url: str) -> Iterator[Session]:
    """A read transaction on the database at ``url``, which must hold an exchange."""
    with database(url) as db:
        tables = set(inspect(db.engine).get_table_names())
        missing = [t for t in NEEDED_TABLES if t not in tables]
        if missing:
            raise CliError(
                f"{safe_url(db.url)} holds no up-to-date suanli exchange (no table "
                f"{missing[0]}); run `suanli admin init --db URL` to create or migrate it"
            )
        with db.transaction() as session:
            yield session


def print_audit(audit: LedgerAudit) -> None:
    output.table(
        ["check", ">problems"],
        [(name.replace("_", " "), getattr(audit, name)) for name in CHECKS],
        title=f"ledger audit over {audit.transactions:,} transactions",
    )
    for name, items in audit.details.items():
        output.bullets(f"{name.replace('_', ' ')} (first {len(items)})", items)
    if audit.ok:
        output.say("the books are consistent: no problems found")
    else:
        output.say(f"{audit.problems} problem(s) found")


@app.command("ledger")
def ledger(db_url: DbUrl = None, as_json: Json = False) -> None:
    """Check every ledger and voucher invariant; exit status 1 if any is broken.

    Reads, in order of precedence:

    1. --db URL: that database, directly.

    2. --url, --key or --profile (or their environment variables): the API (operator key).

    3. the local database of `suanli demo` and `suanli admin`, if it exists.

    4. the API, through the default saved profile.
    """
    url = direct_database(db_url)
    if url is None:
        with client() as api:
            audit = api.audit_ledger()
    else:
        with local_session(url) as session:
            audit = audit_ledger(session, None)
    if as_json:
        output.emit_json(audit)
    else:
        print_audit(audit)
    if not audit.ok:
        raise typer.Exit(1)
