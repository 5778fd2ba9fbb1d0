"""Invoices: what a buyer was billed for the leases that ended in a period.

Rules:

1. Only a period that has ended may be invoiced (409 otherwise): its leases are final.
2. One invoice per buyer and period. Issuing it again returns the first one, unchanged
   (idempotent); the buyer's organization row is locked while issuing, so two
   concurrent calls cannot both write one.
3. One line per lease of the buyer that ended in the period and is on no invoice yet
   (a lease is billed once, even if periods given as start/end overlap).
4. A line bills the lease's charge (``lease.charged_fen``, what the capture moved), less
   the voucher's share (``lease.subsidy_fen``, paid by the program named on the line):
   ``net = charge - voucher``. The invoice totals are the sums of its lines. Both
   equations are also database check constraints. A voucher clawed back after issue
   does not change an issued invoice.
5. A period with no ended leases gives a zero bill (it documents that nothing was
   billed, and later calls for the period keep returning it).

Visibility: buyers read and issue their own invoices; the operator all (and must name
the buyer when issuing). Other tenants' invoices answer 404.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from suanli.billing import periods
from suanli.billing.periods import Period
from suanli.billing.schemas import InvoiceIn, InvoiceLineOut, InvoiceOut, InvoiceSummary, card_hours
from suanli.kit.clock import Clock
from suanli.kit.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from suanli.kit.money import CNY
from suanli.orgs.auth import Principal, Scope
from suanli.store import billing_repo, orgs_repo
from suanli.store.models import Invoice, InvoiceLine
from suanli.vocab import OrgRole


def invoice_number(invoice_id: int, period: Period) -> str:
    """``INV-202611-000042``: the period's month and the invoice id; unique because the
    id is."""
    return f"INV-{period.month_tag}-{invoice_id:06d}"


class Invoices:
    """Issue and read invoices for one caller (``principal`` None = the system)."""

    def __init__(self, session: Session, clock: Clock, principal: Principal | None) -> None:
        self.session = session
        self.clock = clock
        self.principal = principal

    def _require(self) -> None:
        if self.principal is not None:
            self.principal.require(Scope.BILLING_READ)

    def _buyer_id(self, asked: int | None) -> int:
        """Whose invoice: the caller's own, or anyone's for the operator (who must say)."""
        p = self.principal
        if p is not None and not p.is_operator:
            if asked not in (None, p.org_id):
                raise NotFoundError("organization", asked)
            org = orgs_repo.by_id(self.session, p.org_id)
            if org is None or org.role is not OrgRole.BUYER:
                raise PermissionDeniedError(
                    f"organization {p.org_id} is a {p.role}; invoices bill buyers"
                )
            return p.org_id
        if asked is None:
            raise ValidationError("an operator issuing an invoice must name its buyer_id")
        org = orgs_repo.by_id(self.session, asked)
        if org is None:
            raise ValidationError(f"buyer_id: organization {asked} does not exist")
        if org.role is not OrgRole.BUYER:
            raise ValidationError(f"buyer_id: organization {asked} is a {org.role}, not a buyer")
        return asked

    # -- issuing ------------------------------------------------------------------------
    def issue(self, data: InvoiceIn) -> Invoice:
        """The buyer's invoice for the period: the existing one, or a new one."""
        self._require()
        buyer_id = self._buyer_id(data.buyer_id)
        period = periods.resolve(data.period, data.start, data.end)
        now = self.clock.now()
        if period.end > now:
            raise ConflictError(
                f"period {period.label} has not ended (it ends {period.end.isoformat()}); "
                "only ended periods are invoiced"
            )
        billing_repo.lock_buyer(self.session, buyer_id)
        existing = billing_repo.invoice_for_period(self.session, buyer_id, period.start, period.end)
        if existing is not None:
            return existing
        leases = billing_repo.uninvoiced_leases(self.session, buyer_id, period.start, period.end)
        ids = [lease.id for lease in leases]
        usage = billing_repo.usage_totals(self.session, ids)
        programs = billing_repo.redemption_programs(self.session, ids)
        gross = sum(lease.charged_fen for lease in leases)
        voucher = sum(lease.subsidy_fen for lease in leases)
        invoice = Invoice(
            number=f"INV-NEW-{uuid.uuid4().hex[:24]}",  # replaced once the id is known
            buyer_id=buyer_id,
            period_start=period.start,
            period_end=period.end,
            currency=CNY,
            gross_fen=gross,
            voucher_fen=voucher,
            net_fen=gross - voucher,
            issued_at=now,
        )
        self.session.add(invoice)
        self.session.flush()
        invoice.number = invoice_number(invoice.id, period)
        self.session.add_all(
            InvoiceLine(
                invoice_id=invoice.id,
                lease_id=lease.id,
                center_id=lease.center_id,
                model=lease.model,
                cards=lease.cards,
                card_seconds=usage[lease.id],
                price_fen=lease.price_fen,
                charge_fen=lease.charged_fen,
                voucher_fen=lease.subsidy_fen,
                net_fen=lease.charged_fen - lease.subsidy_fen,
                program_id=programs.get(lease.id),
            )
            for lease in leases
        )
        self.session.flush()
        return invoice

    # -- reading ------------------------------------------------------------------------
    def get(self, invoice_id: int) -> Invoice:
        self._require()
        invoice = billing_repo.invoice(self.session, invoice_id)
        p = self.principal
        if invoice is None or (
            p is not None and not p.is_operator and invoice.buyer_id != p.org_id
        ):
            raise NotFoundError("invoice", invoice_id)
        return invoice

    def listing(self, *, buyer_id: int | None = None, limit: int = 200) -> list[Invoice]:
        """Newest period first. The operator may filter by buyer; others see their own."""
        self._require()
        p = self.principal
        if p is not None and not p.is_operator:
            if buyer_id not in (None, p.org_id):
                raise NotFoundError("organization", buyer_id)
            buyer_id = p.org_id
        return billing_repo.invoices(self.session, buyer_id=buyer_id, limit=limit)


# -- views --------------------------------------------------------------------------------
def invoice_summary(session: Session, invoice: Invoice, line_count: int) -> InvoiceSummary:
    return InvoiceSummary(
        id=invoice.id,
        number=invoice.number,
        buyer_id=invoice.buyer_id,
        buyer_name=billing_repo.org_name(session, invoice.buyer_id),
        period=Period(invoice.period_start, invoice.period_end).label,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        currency=invoice.currency,
        gross_fen=invoice.gross_fen,
        voucher_fen=invoice.voucher_fen,
        net_fen=invoice.net_fen,
        line_count=line_count,
        issued_at=invoice.issued_at,
    )


def invoice_out(session: Session, invoice: Invoice) -> InvoiceOut:
    """An invoice with its lines and the names people read on it."""
    lines = billing_repo.invoice_lines(session, invoice.id)
    names = billing_repo.center_names(session, [line.center_id for line in lines])
    summary = invoice_summary(session, invoice, len(lines))
    return InvoiceOut(
        **summary.model_dump(),
        lines=[
            InvoiceLineOut(
                id=line.id,
                lease_id=line.lease_id,
                center_id=line.center_id,
                center_name=names.get(line.center_id, ""),
                model=line.model,
                cards=line.cards,
                card_seconds=line.card_seconds,
                card_hours=card_hours(line.card_seconds),
                price_fen=line.price_fen,
                charge_fen=line.charge_fen,
                voucher_fen=line.voucher_fen,
                net_fen=line.net_fen,
                program_id=line.program_id,
            )
            for line in lines
        ],
    )


def invoice_summaries(session: Session, invoices: list[Invoice]) -> list[InvoiceSummary]:
    counts = billing_repo.line_counts(session, [invoice.id for invoice in invoices])
    return [invoice_summary(session, inv, counts.get(inv.id, 0)) for inv in invoices]
