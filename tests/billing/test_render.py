"""Exports: CSV that parses and adds up, HTML that stands alone and escapes names."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

from conftest import Market, Party
from suanli.billing.render import yuan_plain
from suanli.store import Database

from .conftest import DEC_1
from .world import TOPUP, Supply, run_lease, supply, voucher_program

EVIL_BUYER = '<script>alert("buyer")</script> & Sons'
EVIL_CENTER = "=1+1 <img src=x onerror=alert(1)>"


def test_yuan_plain() -> None:
    assert [yuan_plain(f) for f in (0, 5, 100, 123456, -5, -12345)] == [
        "0.00",
        "0.05",
        "1.00",
        "1234.56",
        "-0.05",
        "-123.45",
    ]


def _world(market: Market, db: Database) -> tuple[Supply, Party]:
    where = supply(market, center_name=EVIL_CENTER)
    buyer = market.buyer(name=EVIL_BUYER, topup_fen=TOPUP)
    run_lease(market, where, buyer, cards=4, card_seconds=14_400, use_voucher=False)
    voucher_program(db, market.clock, buyer.org_id)
    run_lease(market, where, buyer, cards=2, card_seconds=5_000)
    market.clock.set(DEC_1)
    return where, buyer


def assert_standalone(page: str) -> None:
    lowered = page.lower()
    assert lowered.startswith("<!doctype html>")
    for outside in ("http", "//", "url(", "@import", "<script", "<img", "<link", "<iframe"):
        assert outside not in lowered, outside
    for tag in re.findall(r"<[^>]*>", lowered):  # no attribute loads anything
        assert "src=" not in tag and "href=" not in tag, tag
    assert "@media print" in page
    assert '<meta charset="utf-8">' in page


def test_invoice_csv_parses_and_adds_up(market: Market, db: Database) -> None:
    _, buyer = _world(market, db)
    invoice = buyer.client.issue_invoice("2026-11")
    http = market.http()
    auth = {"Authorization": f"Bearer {buyer.key}"}
    response = http.get(f"/v1/invoices/{invoice.id}.csv", headers=auth)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="{invoice.number}.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    *lines, total = rows
    assert [r["line"] for r in rows] == ["1", "2", "TOTAL"]
    assert {r["invoice"] for r in rows} == {invoice.number}
    assert lines[0]["center"] == "'" + EVIL_CENTER  # not a formula in a spreadsheet
    for column in ("charge", "voucher", "net"):
        assert sum(int(r[f"{column}_fen"]) for r in lines) == int(total[f"{column}_fen"])
        for row in rows:
            assert Decimal(row[f"{column}_yuan"]) * 100 == int(row[f"{column}_fen"])
    assert (int(total["charge_fen"]), int(total["voucher_fen"]), int(total["net_fen"])) == (
        5389,
        417,
        4972,
    )
    assert total["net_yuan"] == "49.72"
    assert [r["unit_price_yuan"] for r in lines] == ["10.00", "10.00"]
    assert int(total["card_seconds"]) == 19_400
    assert buyer.client.invoice_csv(invoice.id) == response.text


def test_invoice_html_is_standalone_and_escaped(market: Market, db: Database) -> None:
    _, buyer = _world(market, db)
    invoice = buyer.client.issue_invoice("2026-11")
    response = market.http().get(
        f"/v1/invoices/{invoice.id}.html",
        headers={"Authorization": f"Bearer {buyer.key}"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert_standalone(page)
    assert "发票 Invoice" in page
    assert invoice.number in page
    assert "&lt;script&gt;alert(&quot;buyer&quot;)&lt;/script&gt; &amp; Sons" in page
    assert "=1+1 &lt;img src=x onerror=alert(1)&gt;" in page
    assert "¥49.72" in page and "¥53.89" in page and "¥4.17" in page


def test_statement_exports(market: Market, db: Database) -> None:
    where, _ = _world(market, db)
    provider = where.provider
    provider.client.payout(100, "acct <b>1</b>")  # on 1 December
    text = provider.client.statement_csv("2026-11")
    rows = list(csv.DictReader(io.StringIO(text)))
    *lines, total = rows
    assert total["line"] == "TOTAL"
    for column in ("charge", "voucher", "fee", "net"):
        assert sum(int(r[f"{column}_fen"]) for r in lines) == int(total[f"{column}_fen"])
    statement = provider.client.statement("2026-11")
    assert int(total["net_fen"]) == statement.net_fen == 3800 + 1320
    page = provider.client.statement_html("2026-11")
    assert_standalone(page)
    assert "对账单 Statement" in page
    assert "=1+1 &lt;img" in page
    december = provider.client.statement_html("2026-12")
    assert_standalone(december)
    assert "acct &lt;b&gt;1&lt;/b&gt;" in december
    assert "进行中 still running" in december
