"""Billing: buyers' invoices, providers' statements, payouts; CSV and HTML exports."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from suanli.api.context import Ctx
from suanli.api.errors import errors
from suanli.api.params import PathId
from suanli.billing import periods, render
from suanli.billing.invoices import Invoices, invoice_out, invoice_summaries
from suanli.billing.payouts import Payouts
from suanli.billing.schemas import (
    InvoiceIn,
    InvoiceOut,
    InvoiceSummary,
    PayoutIn,
    PayoutOut,
    PayoutResult,
    StatementOut,
)
from suanli.billing.statements import statement
from suanli.kit.bounds import Id, Instant, Line
from suanli.orgs.auth import Principal

router = APIRouter(responses=errors(403))

CSV = "text/csv; charset=utf-8"
HTML = "text/html; charset=utf-8"


def _file(content: str, media_type: str, filename: str, *, download: bool) -> Response:
    disposition = "attachment" if download else "inline"
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{filename}"'},
    )


# -- invoices -----------------------------------------------------------------------------
@router.post(
    "/v1/invoices",
    status_code=201,
    response_model=InvoiceOut,
    tags=["billing"],
    responses=errors(404, 409),
)
def issue_invoice(body: InvoiceIn, ctx: Ctx) -> JSONResponse:
    """Issue the caller's (operator: ``buyer_id``'s) invoice for an ended period; the
    same buyer and period again return the invoice already issued."""

    def work(session: Session, principal: Principal) -> InvoiceOut:
        invoice = Invoices(session, ctx.state.clock, principal).issue(body)
        return invoice_out(session, invoice)

    return ctx.create(body, work)


@router.get(
    "/v1/invoices", response_model=list[InvoiceSummary], tags=["billing"], responses=errors(404)
)
def list_invoices(
    ctx: Ctx,
    buyer_id: Id | None = None,
    limit: int = Query(default=200, ge=1, le=5000),
) -> list[InvoiceSummary]:
    def work(session: Session, principal: Principal) -> list[InvoiceSummary]:
        found = Invoices(session, ctx.state.clock, principal).listing(
            buyer_id=buyer_id, limit=limit
        )
        return invoice_summaries(session, found)

    return ctx.run(work)


def _invoice(ctx: Ctx, invoice_id: int) -> InvoiceOut:
    def work(session: Session, principal: Principal) -> InvoiceOut:
        return invoice_out(session, Invoices(session, ctx.state.clock, principal).get(invoice_id))

    return ctx.run(work)


T = TypeVar("T")


class Export(StrEnum):
    """The file formats of invoices and statements."""

    CSV = "csv"
    HTML = "html"


_EXPORTS = {  # format -> media type, downloaded (CSV) or shown (printable HTML)
    Export.CSV: (CSV, True),
    Export.HTML: (HTML, False),
}
_EXPORT_DOCS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}, "text/html": {}}}
}


def _export(
    fmt: Export, found: T, as_csv: Callable[[T], str], as_html: Callable[[T], str], stem: str
) -> Response:
    """``found`` rendered in the asked format (only that one is rendered)."""
    media, download = _EXPORTS[fmt]
    content = (as_csv if fmt is Export.CSV else as_html)(found)
    return _file(content, media, f"{stem}.{fmt.value}", download=download)


@router.get(
    "/v1/invoices/{invoice_id:int}.{fmt}",
    response_class=Response,
    tags=["billing"],
    responses={**_EXPORT_DOCS, **errors(404)},
)
def export_invoice(invoice_id: PathId, fmt: Export, ctx: Ctx) -> Response:
    """An invoice as CSV (a download) or as a printable HTML page."""
    invoice = _invoice(ctx, invoice_id)
    return _export(fmt, invoice, render.invoice_csv, render.invoice_html, invoice.number)


@router.get(
    "/v1/invoices/{invoice_id:int}",
    response_model=InvoiceOut,
    tags=["billing"],
    responses=errors(404),
)
def get_invoice(invoice_id: PathId, ctx: Ctx) -> InvoiceOut:
    return _invoice(ctx, invoice_id)


# -- statements ---------------------------------------------------------------------------
def _statement(
    ctx: Ctx,
    period: str | None,
    start: Instant | None,
    end: Instant | None,
    provider_id: Id | None,
) -> StatementOut:
    def work(session: Session, principal: Principal) -> StatementOut:
        span = periods.resolve(period, start, end)
        return statement(session, ctx.state.clock, principal, span, provider_id)

    return ctx.run(work)


Period = Annotated[Line | None, Query(max_length=32, description="a calendar month, YYYY-MM")]


@router.get(
    "/v1/statements",
    response_model=StatementOut,
    tags=["billing"],
    responses=errors(404),
)
def get_statement(
    ctx: Ctx,
    period: Period = None,
    start: Instant | None = None,
    end: Instant | None = None,
    provider_id: Id | None = None,
) -> StatementOut:
    """A provider's statement (operator: ``provider_id``'s) for a month or
    ``[start, end)``; a running period gives the statement so far."""
    return _statement(ctx, period, start, end, provider_id)


@router.get(
    "/v1/statements.{fmt}",
    response_class=Response,
    tags=["billing"],
    responses={**_EXPORT_DOCS, **errors(404)},
)
def export_statement(
    fmt: Export,
    ctx: Ctx,
    period: Period = None,
    start: Instant | None = None,
    end: Instant | None = None,
    provider_id: Id | None = None,
) -> Response:
    """A statement as CSV (a download) or as a printable HTML page."""
    found = _statement(ctx, period, start, end, provider_id)
    stem = f"statement-{found.provider_id}-{found.period_start.date()}"
    return _export(fmt, found, render.statement_csv, render.statement_html, stem)


# -- payouts ------------------------------------------------------------------------------
@router.post(
    "/v1/payouts",
    status_code=201,
    response_model=PayoutResult,
    tags=["billing"],
    responses=errors(402, 404),
)
def pay_out(body: PayoutIn, ctx: Ctx) -> JSONResponse:
    """Pay a provider's earnings out to ``counterparty`` (a bank account)."""
    return ctx.create(body, lambda s, p: Payouts(s, ctx.state.clock, p).pay_out(body))


@router.get("/v1/payouts", response_model=list[PayoutOut], tags=["billing"], responses=errors(404))
def list_payouts(
    ctx: Ctx,
    provider_id: Id | None = None,
    limit: int = Query(default=200, ge=1, le=5000),
) -> list[PayoutOut]:
    return ctx.run(
        lambda s, p: Payouts(s, ctx.state.clock, p).listing(provider_id=provider_id, limit=limit)
    )
