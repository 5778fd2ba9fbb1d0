"""The README's tour, command by command, against a served demo.

The commands are read from the bash blocks of the README's "A tour" and "Vouchers,
billing and audit" sections (so the README and this test cannot drift apart) and run in
order through the real CLI, against ``suanli demo`` serving the suite's database
(SQLite, or PostgreSQL when the run names one) with its profiles in a temporary
``SUANLI_CONFIG``. Each command must exit 0 and do what the README says it does: the
spot checks below are keyed by the command, and each must find its command.

Bash makes the words of each line (quotes, ``$LEASE``, ``$(...)``, comments), as in the
reader's shell; ``$LEASE`` is the lease id that ``request submit`` printed, as the
README says. The demo replays only the day's first requests (``--requests``): the
tour's ids do not depend on the replay.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.demo.demo_process import CLEARED, SMALL, demo, demo_env, free_port
from typer.testing import CliRunner

from suanli.cli.main import app
from suanli.store import Database
from suanli.store.models import Center, Invoice, Lease, Pool, VoucherGrant, VoucherRedemption
from suanli.vocab import GrantStatus, LeaseStatus

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"
SECTIONS = ("## A tour", "### Vouchers, billing and audit")


def tour_commands(text: str) -> list[str]:
    """The command lines of the bash blocks in :data:`SECTIONS`, in order; a line ending
    in a backslash continues on the next; comment-only lines are left out."""
    commands: list[str] = []
    section, fence, pending = "", None, ""
    for line in text.splitlines():
        if fence is None:
            if line.startswith("#"):
                section = line.strip()
            elif line.startswith("```"):
                fence = line[3:].strip()
            continue
        if line.startswith("```"):
            fence = None
            continue
        if section not in SECTIONS or fence != "bash":
            continue
        joined = pending + line
        if joined.endswith("\\"):
            pending = joined[:-1]
            continue
        pending = ""
        if joined.strip() and not joined.strip().startswith("#"):
            commands.append(" ".join(joined.split()))
    return commands


def words(line: str, env: dict[str, str]) -> list[str]:
    """The words bash makes of ``line`` (no globbing)."""
    done = subprocess.run(
        ["bash", "-c", "set -f; printf '%s\\0' " + line],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split("\0")[:-1]


@dataclass
class Tour:
    """What the checks see: the database, the demo's tour ids and the tour's lease."""

    db: Database
    ids: dict[str, Any]
    workdir: Path
    lease: int | None = None
    seen: set[str] = field(default_factory=set)

    def one(self, model: type[Any], ident: int) -> Any:
        with self.db.transaction() as session:
            found = session.get(model, ident)
            assert found is not None, f"no {model.__name__} {ident}"
            session.expunge(found)
            return found


def _center(t: Tour, out: str) -> None:
    assert t.ids["next_center_id"] == 102 and "center 102  Guiyang-2" in out
    center = t.one(Center, 102)
    assert (center.name, center.province, center.provider_id) == (
        "Guiyang-2",
        "贵州",
        t.ids["provider_id"],
    )


def _pool(t: Tour, out: str) -> None:
    with t.db.transaction() as session:
        pool = session.scalars(select(Pool).where(Pool.center_id == 102)).one()
    assert (pool.name, pool.model, pool.nodes * pool.cards_per_node) == ("h800-a", "H800", 32)
    assert pool.price_fen == 1150 and pool.inter_node == "infiniband"


def _topup(t: Tour, out: str) -> None:
    assert "topped up ¥50,000.00" in out, out


def _offers(t: Tour, out: str) -> None:
    rows = [line for line in out.splitlines() if "H800" in line]
    assert len(rows) == 1 and "Guiyang-2" in rows[0] and "¥11.50" in rows[0], out


def _submit(t: Tour, out: str) -> None:
    found = re.search(r"^lease\s+(\d+)\s*$", out, re.M)
    assert found is not None, out
    t.lease = int(found.group(1))
    assert re.search(r"placed at\s+center 102, pool \d+ \(H800\)", out), out
    lease = t.one(Lease, t.lease)
    pool = t.one(Pool, lease.pool_id)
    assert (lease.status, lease.center_id, pool.name) == (LeaseStatus.PLACED, 102, "h800-a")
    assert (lease.buyer_id, lease.provider_id) == (t.ids["buyer_id"], t.ids["provider_id"])


def _show_tour_lease(t: Tour, out: str) -> None:
    assert f"lease {t.lease}" in out and "center 102" in out and "placed" in out


def _show_first_lease(t: Tour, out: str) -> None:
    assert t.ids["lease_id"] == 1 and "lease 1" in out
    assert "completed" in out and "demo-1" in out  # its metered use
    first = t.one(Lease, 1)
    assert first.buyer_id == t.ids["buyer_id"] and first.provider_id == t.ids["provider_id"]
    assert first.charged_fen > 0 and first.subsidy_fen > 0


def _lease_status(status: LeaseStatus) -> Callable[[Tour, str], None]:
    def check(t: Tour, out: str) -> None:
        assert t.lease is not None and t.one(Lease, t.lease).status is status, out

    return check


def _completed(t: Tour, out: str) -> None:
    _lease_status(LeaseStatus.COMPLETED)(t, out)
    assert t.one(Lease, t.lease or 0).charged_fen == 0  # no use was reported


def _program(t: Tour, out: str) -> None:
    assert t.ids["next_program_id"] == 4 and "voucher program 4: Hangzhou AI 2026-2030" in out


def _apply(t: Tour, out: str) -> None:
    assert t.ids["next_grant_id"] == 8 and "voucher grant 8" in out
    grant = t.one(VoucherGrant, 8)
    assert (grant.program_id, grant.buyer_id, grant.status) == (
        4,
        t.ids["buyer_id"],
        GrantStatus.APPLIED,
    )


def _waiting(t: Tour, out: str) -> None:
    assert re.search(r"^\s*│\s*8\s*│\s*4\s*│", out, re.M), out


def _approve(t: Tour, out: str) -> None:
    grant = t.one(VoucherGrant, 8)
    assert grant.status is GrantStatus.APPROVED
    assert grant.released_fen * 2 == grant.approved_fen == 20_000_000


def _release(t: Tour, out: str) -> None:
    assert t.ids["grant_id"] == 6 and "released" in out
    grant = t.one(VoucherGrant, 6)
    assert grant.buyer_id == t.ids["buyer_id"]
    assert grant.released_fen == grant.approved_fen and grant.tranches == []


def _clawback(t: Tour, out: str) -> None:
    assert t.ids["redemption_id"] == 1 and "clawed back" in out
    redemption = t.one(VoucherRedemption, 1)
    assert redemption.lease_id == 1 and redemption.clawed_back_fen == redemption.amount_fen > 0


def _invoices(t: Tour, out: str) -> None:
    assert "INV-" in out


def _export(t: Tour, out: str) -> None:
    invoice = t.one(Invoice, 1)
    assert t.ids["invoice_id"] == 1 and invoice.buyer_id == t.ids["buyer_id"]
    html = (t.workdir / "inv.html").read_text(encoding="utf-8")
    assert invoice.number in html and html.lstrip().lower().startswith("<!doctype html")


def _payout(t: Tour, out: str) -> None:
    assert "paid out ¥100.00 to ICBC 6222..." in out


def _statement(t: Tour, out: str) -> None:
    assert re.search(r"^payouts\s+¥100\.00", out, re.M), out


def _voucher_report(t: Tour, out: str) -> None:
    programs = json.loads(out)["programs"]
    assert len(programs) == 4
    assert all(p["within_budget"] and p["within_caps"] for p in programs)


def _audit(t: Tour, out: str) -> None:
    assert json.loads(out)["ok"] is True


CHECKS: dict[str, Callable[[Tour, str], None]] = {
    'center register "Guiyang-2"': _center,
    "pool add 102 h800-a": _pool,
    "offers --model H800 --province 贵州": _offers,
    "wallet topup 50000": _topup,
    "request submit": _submit,
    "lease show $LEASE": _show_tour_lease,
    "lease show 1": _show_first_lease,
    "lease start $LEASE": _lease_status(LeaseStatus.RUNNING),
    "lease complete $LEASE": _completed,
    "voucher program create": _program,
    "voucher grant apply 4": _apply,
    "voucher grant list --status applied": _waiting,
    "voucher grant approve 8": _approve,
    "voucher grant release 6": _release,
    "voucher clawback 1": _clawback,
    "invoice list": _invoices,
    "invoice export 1": _export,
    "payout --amount 100": _payout,
    "statement --period": _statement,
    "report vouchers --json": _voucher_report,
    "audit ledger --json": _audit,
}


def test_the_commands_come_from_the_tour_sections() -> None:
    commands = tour_commands(README.read_text(encoding="utf-8"))
    assert len(commands) > 30
    assert all(c.startswith("suanli ") for c in commands), commands
    assert any(c.startswith("suanli lease start $LEASE") for c in commands)
    pool = [c for c in commands if c.startswith("suanli pool add 102 h800-a")]
    assert len(pool) == 1 and "--inter infiniband" in pool[0]


def test_the_readme_tour_runs_against_the_demo(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands = tour_commands(README.read_text(encoding="utf-8"))
    env = demo_env(tmp_path / "config.json")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ["--db", db.url, "--port", str(port), "--json", *SMALL]
    with demo(args, env, tmp_path / "demo") as running:
        found = running.json()
        ids = found["tour"]
        assert ids["buyer"].startswith("Qingluan Vision") and ids["lease_id"] == 1
        assert ids["provider"].startswith("Hangzhou Data Group")
        assert ids["issuer"].startswith("Hangzhou Municipal Bureau")
        assert ids["console"] == f"{url}/console/"
        assert {"suanli lease show 1", "suanli invoice show 1"} <= set(ids["try_next"])
        assert found["api_keys"] == {"kept": [], "new": ["operator", "provider", "buyer", "issuer"]}
        running.serving(url)

        workdir = tmp_path / "work"
        workdir.mkdir()
        monkeypatch.chdir(workdir)
        tour = Tour(db, ids, workdir)
        cli: dict[str, str | None] = dict.fromkeys(CLEARED)
        cli.update(env)
        cli["SUANLI_DATABASE_URL"] = db.url  # where `report vouchers` and `audit` read
        runner = CliRunner()
        for command in commands:
            shell = {**env, "LEASE": str(tour.lease or "")}
            argv = words(command, shell)
            assert argv[0] == "suanli", command
            result = runner.invoke(app, argv[1:], env=cli)
            out = result.output
            assert result.exit_code == 0, (
                f"{command}\n-> exit {result.exit_code}\n{out}\nthe demo said:\n{running.stderr}"
            )
            if argv[1:3] == ["profile", "use"]:
                assert f"default profile: {argv[3]}" in out
            for key, check in CHECKS.items():
                if command.removeprefix("suanli ").startswith(key):
                    check(tour, out)
                    tour.seen.add(key)
        assert tour.seen == set(CHECKS), f"steps the README lost: {set(CHECKS) - tour.seen}"

        assert running.interrupt() == 0
        assert "server stopped; the demo's data stays in" in running.stderr
