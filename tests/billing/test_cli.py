"""``suanli invoice``, ``suanli statement`` and ``suanli payout`` over the SDK, against
the app in process (no network) on the billing clock."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.harness import ENV, AppTransport, Cli
from conftest import row_counts
from suanli.api.app import create_app
from suanli.capacity.schemas import CenterIn, PoolIn
from suanli.cli import context
from suanli.exchange.schemas import RequestIn, UsageIn
from suanli.kit.clock import ManualClock
from suanli.orgs.schemas import OrgIn
from suanli.orgs.service import create_key, create_org
from suanli.sdk.client import Client
from suanli.store import Database
from suanli.vocab import OrgRole

from .conftest import DEC_1


@dataclass
class Keys:
    operator: str
    provider: str
    buyer: str
    provider_id: int
    buyer_id: int


@pytest.fixture
def billing_cli(
    db: Database, clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Cli, Keys]:
    """The CLI on an in-process app, with one lease that ended in November 2026:
    4 cards metered 4 card-hours at ¥10 (¥40 charged, ¥38 earned)."""
    api = create_app(db, clock=clock)

    def make_client(url: str, key: str | None) -> Client:
        return Client("http://testserver", key, transport=AppTransport(api))

    monkeypatch.setattr(context, "make_client", make_client)
    monkeypatch.setenv("SUANLI_CONFIG", str(tmp_path / "config.json"))
    monkeypatch.setenv("COLUMNS", "200")
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    with db.transaction() as session:
        org = create_org(session, clock, name="operator", role=OrgRole.OPERATOR)
        operator = create_key(session, clock, org.id, "tests").secret
    with make_client("", operator) as op:
        provider_org = op.create_org(OrgIn(name="Guiyang Compute", role=OrgRole.PROVIDER))
        buyer_org = op.create_org(OrgIn(name="Lanting AI", role=OrgRole.BUYER))
        provider = op.create_key(provider_org.id).key
        buyer = op.create_key(buyer_org.id).key
    with make_client("", provider) as p, make_client("", buyer) as b:
        center = p.register_center(
            CenterIn(name="Guiyang-2", province="贵州", city="贵阳", pue="1.2", rack_kw="20")
        )
        p.add_pool(
            center.id,
            PoolIn(
                name="h800-a",
                model="H800",
                nodes=1,
                cards_per_node=8,
                inter_node="infiniband",
                intra_node="nvlink",
                price_fen=1000,
            ),
        )
        b.topup(100_000)
        lease_id = b.submit_request(RequestIn(cards=4, duration_s=7200)).lease_id
        assert lease_id is not None
        p.start_lease(lease_id)
        clock.advance(3600)
        now = clock.now()
        p.record_usage(
            lease_id,
            UsageIn(
                card_seconds=14_400,
                period_start=now - timedelta(hours=1),
                period_end=now,
                external_id="m",
            ),
        )
        p.complete_lease(lease_id)
    return (
        Cli(CliRunner(), db.url, clock, []),
        Keys(operator, provider, buyer, provider_org.id, buyer_org.id),
    )


def test_invoices_from_the_command_line(
    billing_cli: tuple[Cli, Keys], db: Database, tmp_path: Path
) -> None:
    cli, keys = billing_cli
    before = row_counts(db)
    running = cli("invoice", "issue", "--period", "2026-11", key=keys.buyer, code=1)
    assert "has not ended" in running.stderr
    assert row_counts(db) == before

    cli.clock.set(DEC_1)
    issued = cli.json("invoice", "issue", "--period", "2026-11", key=keys.buyer)
    assert (issued["gross_fen"], issued["net_fen"], len(issued["lines"])) == (4000, 4000, 1)
    again = cli.json(
        "invoice", "issue", "--period", "2026-11", "--buyer", str(keys.buyer_id), key=keys.operator
    )
    assert again == issued
    [listed] = cli.json("invoice", "list", key=keys.buyer)
    assert listed["number"] == issued["number"]
    assert cli.json("invoice", "show", str(issued["id"]), key=keys.buyer) == issued
    shown = cli("invoice", "show", str(issued["id"]), key=keys.buyer).stdout
    assert issued["number"] in shown
    assert "¥40.00" in shown
    assert issued["number"] in cli("invoice", "list", key=keys.buyer).stdout

    out = tmp_path / "invoice.csv"
    cli(
        "invoice", "export", str(issued["id"]), "--format", "csv", "--out", str(out), key=keys.buyer
    )
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["line"], r["net_yuan"]) for r in rows] == [("1", "40.00"), ("TOTAL", "40.00")]
    page = cli("invoice", "export", str(issued["id"]), "--format", "html", key=keys.buyer).stdout
    assert "发票 Invoice" in page
    assert (
        "not found" in cli("invoice", "show", str(issued["id"]), key=keys.provider, code=1).stderr
    )


def test_statements_and_payouts_from_the_command_line(
    billing_cli: tuple[Cli, Keys], db: Database, tmp_path: Path
) -> None:
    cli, keys = billing_cli
    paid = cli.json("payout", "--amount", "10", "--to", "ICBC 6222", key=keys.provider)
    assert (paid["amount_fen"], paid["earnings_fen"]) == (1000, 2800)
    said = cli("payout", "--amount", "1.50", "--to", "ICBC 6222", key=keys.provider).stdout
    assert "paid out ¥1.50 to ICBC 6222" in said
    assert "¥26.50" in said
    payouts = cli.json("payout", "list", key=keys.provider)
    assert [p["amount_fen"] for p in payouts] == [150, 1000]
    assert "ICBC 6222" in cli("payout", "list", key=keys.provider).stdout

    cli.clock.set(DEC_1)
    statement = cli.json("statement", "--period", "2026-11", key=keys.provider)
    assert (statement["net_fen"], statement["payouts_fen"]) == (3800, 1150)
    assert statement["closing_earnings_fen"] == 2650
    by_operator = cli.json(
        "statement", "--period", "2026-11", "--provider", str(keys.provider_id), key=keys.operator
    )
    assert by_operator == statement
    assert "closing earnings" in cli("statement", "--period", "2026-11", key=keys.provider).stdout
    out = tmp_path / "statement.html"
    cli(
        *("statement", "--period", "2026-11", "--format", "html", "--out", str(out)),
        key=keys.provider,
    )
    assert "对账单 Statement" in out.read_text(encoding="utf-8")
    text = cli("statement", "--period", "2026-11", "--format", "csv", key=keys.provider).stdout
    assert text.splitlines()[-1].startswith(f"{keys.provider_id},TOTAL,")


BAD_INPUT = [
    (("invoice", "issue", "--period", "2026-13"), "--period: '2026-13' is not a month"),
    (("invoice", "issue"), "give --period"),
    (("invoice", "issue", "--from", "2026-11-01"), "give --period"),
    (("invoice", "issue", "--from", "2026-11-02", "--to", "2026-11-01"), "--to must be after"),
    (("statement", "--period", "2026-13"), "--period: '2026-13' is not a month"),
    (("statement", "--period", "2026-11", "--json", "--format", "csv"), "not both"),
    (("statement", "--period", "2026-11", "--out", "x.csv"), "--out needs --format"),
    (("payout", "--amount", "-5", "--to", "acct"), "--amount must be more than ¥0"),
    (("payout", "--amount", "0", "--to", "acct"), "--amount must be more than ¥0"),
    (("payout", "--amount", "abc", "--to", "acct"), "not an amount in yuan"),
    (("payout", "--amount", "0.001", "--to", "acct"), "fractions of a fen"),
    (("payout", "--amount", "5"), "needs --amount YUAN and --to ACCOUNT"),
    (("payout", "--amount", "5", "--to", " "), "--to must name a bank account"),
    (("payout", "--amount", "5", "list"), "belong to a payout"),
    (("payout", "--amount", "1000", "--to", "acct"), "cannot cover a payout of ¥1,000.00"),
]


def test_bad_input_is_one_line_and_writes_nothing(
    billing_cli: tuple[Cli, Keys], db: Database
) -> None:
    cli, keys = billing_cli
    before = row_counts(db)
    for args, words in BAD_INPUT:
        result = cli(*args, key=keys.provider if args[0] != "invoice" else keys.buyer, code=1)
        assert words in result.stderr, (args, result.stderr)
    assert row_counts(db) == before
