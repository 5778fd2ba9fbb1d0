"""Invoices and statements for people and spreadsheets: CSV and printable HTML.

* CSV: one row per line and a ``TOTAL`` row; every amount twice, in yuan with two
  decimals (``1234.50``, no currency sign or separators, so spreadsheets read numbers)
  and in fen. Text cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``,
  ``@``) get a leading apostrophe.
* HTML: one self-contained page (inline CSS, no scripts, no fonts or images, no link
  to anything), headings in Chinese and English, laid out for A4 under ``@media
  print``. Every name is HTML-escaped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape

from suanli.billing.schemas import InvoiceOut, StatementOut
from suanli.kit.clock import as_utc
from suanli.kit.money import yuan

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def yuan_plain(fen: int) -> str:
    """``123456`` -> ``"1234.56"``; ``-5`` -> ``"-0.05"``."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA) else value


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()


def _money(fen: int) -> tuple[str, int]:
    return yuan_plain(fen), fen


# -- invoices -----------------------------------------------------------------------------
INVOICE_COLUMNS = (
    "invoice",
    "line",
    "lease_id",
    "center_id",
    "center",
    "model",
    "cards",
    "card_seconds",
    "card_hours",
    "unit_price_yuan",
    "unit_price_fen",
    "charge_yuan",
    "charge_fen",
    "voucher_yuan",
    "voucher_fen",
    "net_yuan",
    "net_fen",
    "program_id",
)


def invoice_csv(invoice: InvoiceOut) -> str:
    """One row per line, then ``TOTAL`` (see the module docstring)."""
    rows: list[Sequence[object]] = [
        (
            invoice.number,
            n,
            line.lease_id,
            line.center_id,
            _text(line.center_name),
            _text(line.model),
            line.cards,
            line.card_seconds,
            line.card_hours,
            *_money(line.price_fen),
            *_money(line.charge_fen),
            *_money(line.voucher_fen),
            *_money(line.net_fen),
            line.program_id,
        )
        for n, line in enumerate(invoice.lines, start=1)
    ]
    seconds = sum(line.card_seconds for line in invoice.lines)
    rows.append(
        (
            invoice.number,
            "TOTAL",
            None,
            None,
            None,
            None,
            sum(line.cards for line in invoice.lines),
            seconds,
            sum((line.card_hours for line in invoice.lines), start=0),
            None,
            None,
            *_money(invoice.gross_fen),
            *_money(invoice.voucher_fen),
            *_money(invoice.net_fen),
            None,
        )
    )
    return _csv(INVOICE_COLUMNS, rows)


_STYLE = """
*{box-sizing:border-box}
body{font-family:"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
 color:#111;margin:2em auto;max-width:60em;padding:0 1em;font-size:14px}
h1{font-size:1.6em;margin:0 0 .2em}
h2{font-size:1.15em;margin:1.6em 0 .4em}
.sub{color:#555;margin:0 0 1.2em}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #bbb;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f0f0f0;font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.total td{font-weight:700;background:#fafafa}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1.5em;margin:0}
dt{color:#555}dd{margin:0}
.note{color:#555;font-size:.9em;margin-top:1.5em}
@media print{
 @page{size:A4;margin:15mm}
 body{margin:0;max-width:none;font-size:10.5pt}
 th{background:#eee !important;-webkit-print-color-adjust:exact;print-color-adjust:exact}
 tr{page-break-inside:avoid}
 thead{display:table-header-group}
}
"""


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}</body>\n</html>\n"
    )


def _cells(values: Sequence[object], numeric: Sequence[bool], tag: str = "td") -> str:
    out = []
    for value, num in zip(values, numeric, strict=True):
        cls = ' class="n"' if num else ""
        out.append(f"<{tag}{cls}>{escape(str(value))}</{tag}>")
    return "".join(out)


def _table(
    headers: Sequence[str],
    numeric: Sequence[bool],
    rows: Iterable[Sequence[object]],
    total: Sequence[object] | None = None,
) -> str:
    parts = ["<table>\n<thead><tr>", _cells(headers, numeric, "th"), "</tr></thead>\n<tbody>\n"]
    for row in rows:
        parts.append(f"<tr>{_cells(row, numeric)}</tr>\n")
    if total is not None:
        parts.append(f'<tr class="total">{_cells(total, numeric)}</tr>\n')
    parts.append("</tbody>\n</table>\n")
    return "".join(parts)


def _facts(pairs: Iterable[tuple[str, object]]) -> str:
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in pairs)
    return f"<dl>{items}</dl>\n"


def _when(value: datetime) -> str:
    return as_utc(value).strftime("%Y-%m-%d %H:%M UTC")


def invoice_html(invoice: InvoiceOut) -> str:
    """The invoice as one printable page."""
    headers = (
        "# 序号",
        "租约 Lease",
        "数据中心 Center",
        "型号 Model",
        "卡数 Cards",
        "卡时 Card-hours",
        "单价 Price / card-h",
        "费用 Charge",
        "算力券 Voucher",
        "应付 Net",
    )
    numeric = (True, True, False, False, True, True, True, True, True, True)
    rows = [
        (
            n,
            line.lease_id,
            line.center_name,
            line.model,
            line.cards,
            line.card_hours,
            yuan(line.price_fen),
            yuan(line.charge_fen),
            yuan(line.voucher_fen),
            yuan(line.net_fen),
        )
        for n, line in enumerate(invoice.lines, start=1)
    ]
    total = (
        "",
        "合计 Total",
        "",
        "",
        sum(line.cards for line in invoice.lines),
        sum((line.card_hours for line in invoice.lines), start=0),
        "",
        yuan(invoice.gross_fen),
        yuan(invoice.voucher_fen),
        yuan(invoice.net_fen),
    )
    body = (
        f"<h1>发票 Invoice {escape(invoice.number)}</h1>\n"
        f'<p class="sub">算力租用 GPU compute rental · {escape(invoice.period)}</p>\n'
        + _facts(
            [
                ("发票号 Number", invoice.number),
                ("买方 Buyer", f"{invoice.buyer_name} (#{invoice.buyer_id})"),
                ("账期 Period", f"{_when(invoice.period_start)} – {_when(invoice.period_end)}"),
                ("开具 Issued", _when(invoice.issued_at)),
                ("币种 Currency", invoice.currency),
                ("总额 Gross", yuan(invoice.gross_fen)),
                ("算力券抵扣 Voucher", yuan(invoice.voucher_fen)),
                ("应付 Net due", yuan(invoice.net_fen)),
            ]
        )
        + "<h2>明细 Lines</h2>\n"
        + _table(headers, numeric, rows, total)
        + '<p class="note">每行一个租约；应付 = 费用 − 算力券。'
        "One line per lease; net = charge − voucher. Amounts in yuan (¥).</p>\n"
    )
    return _page(f"发票 Invoice {invoice.number}", body)


# -- statements ---------------------------------------------------------------------------
STATEMENT_COLUMNS = (
    "provider_id",
    "line",
    "lease_id",
    "buyer_id",
    "center_id",
    "center",
    "model",
    "cards",
    "card_seconds",
    "card_hours",
    "ended_at",
    "charge_yuan",
    "charge_fen",
    "voucher_yuan",
    "voucher_fen",
    "fee_yuan",
    "fee_fen",
    "net_yuan",
    "net_fen",
    "capture_transaction_id",
)


def statement_csv(statement: StatementOut) -> str:
    """One row per lease, then ``TOTAL``."""
    rows: list[Sequence[object]] = [
        (
            statement.provider_id,
            n,
            line.lease_id,
            line.buyer_id,
            line.center_id,
            _text(line.center_name),
            _text(line.model),
            line.cards,
            line.card_seconds,
            line.card_hours,
            as_utc(line.ended_at).isoformat(),
            *_money(line.charge_fen),
            *_money(line.voucher_fen),
            *_money(line.fee_fen),
            *_money(line.net_fen),
            line.capture_transaction_id,
        )
        for n, line in enumerate(statement.lines, start=1)
    ]
    rows.append(
        (
            statement.provider_id,
            "TOTAL",
            None,
            None,
            None,
            None,
            None,
            sum(line.cards for line in statement.lines),
            sum(line.card_seconds for line in statement.lines),
            sum((line.card_hours for line in statement.lines), start=0),
            None,
            *_money(statement.gross_fen),
            *_money(statement.voucher_fen),
            *_money(statement.fee_fen),
            *_money(statement.net_fen),
            None,
        )
    )
    return _csv(STATEMENT_COLUMNS, rows)


def statement_html(statement: StatementOut) -> str:
    """The statement as one printable page."""
    s = statement
    state = "已结束 closed" if s.complete else "进行中 still running"
    summary = _facts(
        [
            ("服务商 Provider", f"{s.provider_name} (#{s.provider_id})"),
            ("账期 Period", f"{_when(s.period_start)} – {_when(s.period_end)} ({state})"),
            ("期初收益 Opening earnings", yuan(s.opening_earnings_fen)),
            ("本期净收益 Net earned", yuan(s.net_fen)),
            ("调整 Adjustments", yuan(s.adjustments_fen)),
            ("提现 Payouts", yuan(-s.payouts_fen)),
            ("期末收益 Closing earnings", yuan(s.closing_earnings_fen)),
        ]
    )
    models = _table(
        ("型号 Model", "租约 Leases", "卡时 Card-hours", "费用 Charge", "净收益 Net"),
        (False, True, True, True, True),
        [
            (m.model, m.leases, m.card_hours, yuan(m.charge_fen), yuan(m.net_fen))
            for m in s.by_model
        ],
    )
    lines = _table(
        (
            "租约 Lease",
            "买方 Buyer",
            "数据中心 Center",
            "型号 Model",
            "卡时 Card-hours",
            "结束 Ended",
            "费用 Charge",
            "其中算力券 Voucher",
            "平台费 Fee",
            "净收益 Net",
        ),
        (True, True, False, False, True, False, True, True, True, True),
        [
            (
                line.lease_id,
                line.buyer_id,
                line.center_name,
                line.model,
                line.card_hours,
                _when(line.ended_at),
                yuan(line.charge_fen),
                yuan(line.voucher_fen),
                yuan(line.fee_fen),
                yuan(line.net_fen),
            )
            for line in s.lines
        ],
        (
            "合计 Total",
            "",
            "",
            "",
            sum((line.card_hours for line in s.lines), start=0),
            "",
            yuan(s.gross_fen),
            yuan(s.voucher_fen),
            yuan(s.fee_fen),
            yuan(s.net_fen),
        ),
    )
    payouts = _table(
        ("交易 Transaction", "时间 When", "收款账户 To account", "金额 Amount"),
        (True, False, False, True),
        [
            (p.transaction_id, _when(p.created_at), p.counterparty or "", yuan(p.amount_fen))
            for p in s.payouts
        ],
    )
    body = (
        f"<h1>对账单 Statement · {escape(s.provider_name)}</h1>\n"
        f'<p class="sub">服务商结算 Provider settlement · {escape(s.period)}</p>\n'
        + summary
        + "<h2>按型号 By model</h2>\n"
        + models
        + "<h2>租约明细 Leases</h2>\n"
        + lines
        + "<h2>提现 Payouts</h2>\n"
        + payouts
    )
    if s.adjustments:
        body += "<h2>调整 Adjustments</h2>\n" + _table(
            ("交易 Transaction", "类型 Kind", "说明 Memo", "金额 Amount"),
            (True, False, False, True),
            [(a.transaction_id, a.kind, a.memo, yuan(a.amount_fen)) for a in s.adjustments],
        )
    body += (
        '<p class="note">期末 = 期初 + 净收益 + 调整 − 提现。'
        "Closing = opening + net + adjustments − payouts. Amounts in yuan (¥).</p>\n"
    )
    return _page(f"对账单 Statement {s.provider_name} {s.period}", body)
