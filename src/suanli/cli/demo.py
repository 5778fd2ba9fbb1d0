"""``suanli demo``: build a realistic exchange, replay a day of real demand, serve it.

The demo owns its database: it (re)creates the one it is pointed at, but only if that
database is empty or was written by an earlier demo; anything else is refused. In order:

1. When it is to serve, the port is taken first (a busy port is an error before any work).
2. The database's demo lock (:mod:`suanli.demo.lock`): a database that another demo is
   building or serving is refused, untouched.
3. The keys of the saved profiles ``operator``, ``provider``, ``buyer`` and ``issuer`` are
   read, to be issued again, so that a console or a script logged in before a rebuild
   keeps working.
4. The database is emptied and rebuilt and the day replayed (:func:`run_demo`); Ctrl-C
   here leaves a partly built demo database, which the next run rebuilds from scratch.
5. The profiles are saved; the summary and the "try next" lines are printed.
6. The API and the console are served, with the demo's centers' agents simulated
   (:mod:`suanli.demo.centers`) until Ctrl-C.

Heavy modules (the database layer, the services, the server) are imported inside the
command, so that ``suanli demo --help`` stays quick.
"""

from __future__ import annotations

import contextlib
import errno
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from suanli.cli.errors import CliError

if TYPE_CHECKING:
    from suanli.demo.runner import DemoRun, DemoSummary, TourIds
    from suanli.store import Database

DEMO_MARK = "created_by"
INTERRUPTED = 130  # the shell's status for a process stopped by SIGINT
ROLES = ("operator", "provider", "buyer", "issuer")  # as suanli.demo.runner.ROLES


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` for the server, taken before any other work;
    a one-line error if the port is busy (or the host unknown)."""
    if not 0 < port < 65536:
        raise CliError(f"--port must be between 1 and 65535, got {port}")
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise CliError(f"--host {host}: {exc.strerror}") from exc
    family, kind, proto, _, address = found[0]
    sock = socket.socket(family, kind, proto)
    try:
        # as uvicorn does: a port left in TIME_WAIT by the last run is free to use
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise CliError(
                f"port {port} on {host} is already in use: stop what serves there, or pick "
                "another port with --port"
            ) from exc
        raise CliError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


def interrupted(exc: BaseException | None) -> bool:
    """Whether ``exc`` is Ctrl-C, or an error raised while Ctrl-C was being handled (a
    database driver cut off mid-query may fail its rollback)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__context__
    return False


def _reset(db: Database) -> bool:
    """Empty ``db`` for a new demo (one transaction) and migrate it; True if it held an
    earlier demo's exchange. A database holding any other exchange is refused."""
    from sqlalchemy import inspect, text

    from suanli.cli.admin import safe_url
    from suanli.store import orgs_repo
    from suanli.store.base import Base
    from suanli.store.ledger_repo import forget_accounts

    tables = set(inspect(db.engine).get_table_names())
    earlier = False
    if "organizations" in tables:
        with db.transaction() as session:
            earlier = bool(session.scalar(text("SELECT COUNT(*) FROM organizations")))
            mark = (
                session.scalar(text("SELECT value FROM meta WHERE key = :k"), {"k": DEMO_MARK})
                if "meta" in tables
                else None
            )
        if earlier and mark != "demo":
            raise CliError(
                f"{safe_url(db.url)} holds an exchange that the demo did not create; "
                "point the demo elsewhere with --db"
            )
    forget_accounts(db.engine)
    with db.engine.begin() as conn:  # all or nothing: an interrupted reset leaves it as it was
        Base.metadata.drop_all(conn)
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    forget_accounts(db.engine)
    db.migrate()
    with db.transaction() as session:
        orgs_repo.set_meta(session, DEMO_MARK, "demo")
    return earlier


def saved_keys() -> dict[str, str]:
    """The API keys the saved profiles hold for the demo's roles."""
    from suanli.cli.config import load_config

    profiles = load_config().profiles
    return {role: key for role in ROLES if (key := profiles.get(role, {}).get("key", ""))}


def try_next(tour: TourIds, url: str, serve_later: str | None) -> list[tuple[str, str]]:
    """Commands to try after the demo, with this run's ids and names: (command, note).
    ``serve_later`` is the command that serves the database, for a demo that did not."""
    lines = [("suanli profile use buyer", tour.buyer), ("suanli request list", "its requests")]
    if tour.lease_id is not None:
        where = f" at {tour.center}" if tour.center else ""
        lines.append(
            (f"suanli lease show {tour.lease_id}", f"its opening job{where}: use, charge, voucher")
        )
    if tour.invoice_id is not None:
        lines.append((f"suanli invoice show {tour.invoice_id}", "its invoice for the day"))
    lines += [
        ("suanli profile use provider", tour.provider),
        ("suanli lease list --limit 5", "the newest leases at its centers"),
        ("suanli profile use issuer", tour.issuer),
        (
            "suanli voucher grant list --status applied",
            f"{tour.waiting_grants} application(s) waiting for you",
        ),
    ]
    if serve_later is None:
        lines.append((f"open {url}/console/", "the console: log in with a key above"))
    else:
        lines.append((serve_later, f"serve it later, then open {url}/console/"))
    return lines


def _print(summary: DemoSummary) -> None:
    from suanli.cli.output import console, money, table

    say = console().print
    say(
        f"[bold]suanli demo[/bold]: {summary.centers} centers ({summary.active_centers} active) "
        f"in {summary.provinces} provinces, {summary.pools} pools, {summary.cards:,} cards; "
        f"{summary.buyers} buyers"
    )
    say(
        f"replayed {summary.day}: {summary.requests:,} requests, {summary.placed:,} placed, "
        f"{summary.queued:,} still queued; {summary.leases_completed:,} leases completed, "
        f"{summary.leases_running:,} running"
    )
    say(
        f"utilization {summary.utilization:.1%}; revenue {money(summary.revenue_fen)}, "
        f"platform fees {money(summary.platform_fee_fen)}"
    )
    say(
        f"vouchers: {summary.voucher_programs} city programmes, "
        f"{summary.voucher_grants_approved} grants approved, "
        f"{money(summary.voucher_redeemed_fen)} paid on {summary.subsidized_leases:,} leases; "
        f"{summary.related_party_leases} related-party leases refused a subsidy"
    )
    say(
        f"billed the day: {summary.invoices} invoices, {money(summary.invoiced_fen)} "
        "for the leases that ended in it"
    )
    busiest = sorted(summary.by_province, key=lambda p: -p.utilization)
    table(
        ["province", "cards", "utilization"],
        [(p.province, f"{p.cards:,}", f"{p.utilization:.1%}") for p in busiest],
        title="utilization by province over the replayed day",
    )


def _keys_notice(run: DemoRun, saved: dict[str, str], earlier: bool) -> None:
    """Say which keys were kept; loudly, when keys that may be in use changed."""
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    new = [role for role in ROLES if role not in run.kept]
    if run.kept:
        err.print(
            f"API keys kept for {', '.join(run.kept)}: the saved profiles' keys still work "
            "(a console logged in with one stays logged in)"
        )
    if new and (earlier or any(role in saved for role in new)):
        err.print(
            f"[bold yellow]NEW API keys for {', '.join(new)}[/bold yellow]: the keys used "
            "before no longer work on this exchange; the profiles hold the new ones (log in "
            "to the console again with a key below)"
        )


def _print_next(lines: list[tuple[str, str]]) -> None:
    from rich.text import Text

    from suanli.cli.output import console

    out = console()
    out.print(Text("try next (the README's tour goes further):", style="bold"))
    width = max(len(command) for command, _ in lines)
    for command, note in lines:
        out.print(Text(f"  {command.ljust(width)}  # {note}"), soft_wrap=True)


def _serve(db: Database, sock: socket.socket, run: DemoRun, url: str, where: str) -> None:
    """Serve the API and the console on ``sock`` and simulate the demo centers' agents
    until Ctrl-C; then say that the data stays."""
    import uvicorn

    from suanli.api.app import create_app
    from suanli.demo.centers import SimulatedCenters
    from suanli.kit.clock import SystemClock
    from suanli.settings import Settings

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    centers = SimulatedCenters(db, SystemClock(), Settings(), run.center_ids)

    class QuietServer(uvicorn.Server):
        """Stops on Ctrl-C as uvicorn does, without raising the signal again once
        stopped (that cancels the app's finished lifespan and logs a traceback)."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            with super().capture_signals():
                yield
                captured = getattr(self, "_captured_signals", None)
                if isinstance(captured, list):
                    captured.clear()

    config = uvicorn.Config(create_app(db, tick_seconds=5.0), log_level="warning")
    server = QuietServer(config)
    err.print(f"serving the API on {url} (docs at {url}/docs); Ctrl-C stops")
    centers.start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn stopped on the signal, then raised it again
    finally:
        centers.stop()
    err.print(
        f"server stopped; the demo's data stays in {where} "
        "(`suanli serve` with the same --db serves it again)"
    )


def demo_command(
    db_url: Annotated[
        str | None, typer.Option("--db", help="Database for the demo (default: the usual one).")
    ] = None,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the API after the replay.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    host: Annotated[str, typer.Option(help="Interface to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
    seed: Annotated[int, typer.Option(help="Seed for the fleet and the demand model.")] = 7,
    scale: Annotated[int, typer.Option(min=1, max=20, help="Copies of the day's demand.")] = 1,
    requests: Annotated[
        int | None,
        typer.Option(min=0, hidden=True, help="Replay only the day's first N requests."),
    ] = None,
) -> None:
    """Build a demo exchange (>= 100 real centers), replay a day of real demand, serve it.

    Each run rebuilds its database (an empty one, or one an earlier demo wrote).
    It keeps the API keys saved in the profiles operator, provider, buyer and issuer.
    A database that another demo is building or serving is refused, untouched.
    Ctrl-C while it builds leaves a partly built database (exit 130; rerun to redo it).
    Ctrl-C while it serves stops the server; the data stays.
    """
    sock = bind(host, port) if serve else None  # before any work: a busy port fails now
    try:
        _demo(db_url, sock, as_json, host, port, seed, scale, requests)
    finally:
        if sock is not None:
            sock.close()


def _demo(
    db_url: str | None,
    sock: socket.socket | None,
    as_json: bool,
    host: str,
    port: int,
    seed: int,
    scale: int,
    requests: int | None,
) -> None:
    from suanli.cli.admin import safe_url
    from suanli.cli.config import save_profiles
    from suanli.cli.output import console, emit_json, progress_bar, table
    from suanli.demo.lock import DemoBusyError, DemoLock
    from suanli.demo.runner import run_demo
    from suanli.store import Database

    db = Database(db_url)
    where = safe_url(db.url)
    try:
        try:
            lock = DemoLock.acquire(db)
        except DemoBusyError as busy:
            holder = f"pid {busy.pid}" if busy.pid else "another process"
            raise CliError(
                f"{where} is in use by another suanli demo ({holder}): stop that one first "
                "(Ctrl-C where it runs), or give this one another database with --db"
            ) from None
        try:
            saved = saved_keys()
            try:
                earlier = _reset(db)
                with progress_bar(transient=as_json) as bar:
                    task = bar.add_task("replaying a day of demand", total=None)

                    def progress(done: int, total: int) -> None:
                        bar.update(task, completed=done, total=total)

                    run = run_demo(
                        db,
                        seed=seed,
                        scale=scale,
                        progress=progress,
                        requests=requests,
                        secrets=saved,
                    )
            except BaseException as exc:
                if not interrupted(exc):
                    raise
                Console(stderr=True, highlight=False, soft_wrap=True).print(
                    f"interrupted: {where} holds a partly built demo exchange; run "
                    "`suanli demo` again to start over cleanly"
                )
                raise typer.Exit(INTERRUPTED) from None
            url = f"http://{host}:{port}"
            path = save_profiles(
                {role: {"url": url, "key": run.keys[role]} for role in ROLES}, "buyer"
            )
            serving = sock is not None
            later = "suanli serve" + (f" --db {where}" if db_url else "")
            later += f" --host {host}" if host != "127.0.0.1" else ""
            later += f" --port {port}" if port != 8000 else ""
            lines = try_next(run.tour, url, None if serving else later)
            _keys_notice(run, saved, earlier)
            if as_json:
                emit_json(
                    {
                        **run.summary.model_dump(mode="json"),
                        "tour": {
                            **run.tour.model_dump(mode="json"),
                            "console": f"{url}/console/",
                            "try_next": [command for command, _ in lines],
                        },
                        "api_keys": {
                            "kept": run.kept,
                            "new": [r for r in ROLES if r not in run.kept],
                        },
                        "profiles": str(path),
                    }
                )
            else:
                _print(run.summary)
                console().print(
                    f"profiles operator / provider / buyer / issuer saved in {path} "
                    "(switch with `suanli profile use NAME`)"
                )
                if serving:
                    console().print(f"console: {url}/console/ — log in with a role's API key:")
                    table(["role", "API key"], [(role, run.keys[role]) for role in ROLES])
                _print_next(lines)
            if sock is not None:
                _serve(db, sock, run, url, where)
        finally:
            lock.release()
    finally:
        db.dispose()
