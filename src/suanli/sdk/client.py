"""``Client``: one method per API call, pydantic models in and out.

Every non-2xx answer raises :class:`ApiError` carrying the status, the error code and
the server's message. Pass ``transport`` (for example ``httpx.ASGITransport`` or
``httpx.MockTransport``) to talk to an app without a network.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from suanli.billing.schemas import (
    InvoiceIn,
    InvoiceOut,
    InvoiceSummary,
    PayoutIn,
    PayoutOut,
    PayoutResult,
    StatementOut,
)
from suanli.capacity.schemas import (
    CenterIn,
    CenterOut,
    CenterPatch,
    OfferOut,
    PoolIn,
    PoolOut,
    PoolPatch,
)
from suanli.exchange.agents import AgentLeaseOut, HeartbeatIn, HeartbeatOut
from suanli.exchange.earnings import EarningsSeries
from suanli.exchange.overview import Overview
from suanli.exchange.prices import PriceIndex
from suanli.exchange.quotes import Quote
from suanli.exchange.reports import UtilizationReport
from suanli.exchange.schemas import (
    EndIn,
    LeaseOut,
    RequestIn,
    RequestOut,
    StartIn,
    UsageIn,
    UsageOut,
)
from suanli.exchange.series import UtilizationSeries
from suanli.ledger.audit import LedgerAudit
from suanli.ledger.schemas import TopupIn, TopupOut, WalletOut
from suanli.orgs.schemas import KeyIn, KeyOut, OrgIn, OrgOut
from suanli.vouchers.report import VoucherReport
from suanli.vouchers.schemas import (
    ClawbackIn,
    ClawbackOut,
    FlagOut,
    FlagResolveIn,
    GrantDecisionIn,
    GrantIn,
    GrantOut,
    ProgramIn,
    ProgramOut,
    RedemptionOut,
    RevokeIn,
)

M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    """The API answered with an error status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{message} (HTTP {status})")
        self.status = status
        self.code = code
        self.message = message


class Client:
    """A connection to one suanli exchange as one organization (its API key)."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- plumbing ---------------------------------------------------------------------
    def _send(
        self,
        method: str,
        path: str,
        *,
        body: BaseModel | None = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        headers = {}
        if method == "POST":
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        content = body.model_dump_json(exclude_unset=True) if body is not None else None
        if content is not None:
            headers["Content-Type"] = "application/json"
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(
                method, path, content=content, params=clean, headers=headers
            )
        except httpx.HTTPError as exc:
            raise ApiError(0, "unreachable", f"cannot reach {self._http.base_url}: {exc}") from exc
        if response.is_error:
            try:
                error = response.json()["error"]
                raise ApiError(response.status_code, error["code"], error["message"])
            except (ValueError, KeyError, TypeError):
                raise ApiError(response.status_code, "http_error", response.text[:200]) from None
        return response.json()

    def _one(self, model: type[M], method: str, path: str, **kw: Any) -> M:
        return model.model_validate(self._send(method, path, **kw))

    def _many(self, model: type[M], path: str, **kw: Any) -> list[M]:
        return TypeAdapter(list[model]).validate_python(self._send("GET", path, **kw))  # type: ignore[valid-type]

    # -- health and organizations -----------------------------------------------------
    def healthz(self) -> dict[str, str]:
        result: dict[str, str] = self._send("GET", "/healthz")
        return result

    def me(self) -> OrgOut:
        return self._one(OrgOut, "GET", "/v1/orgs/me")

    def create_org(self, org: OrgIn, *, idempotency_key: str | None = None) -> OrgOut:
        return self._one(OrgOut, "POST", "/v1/orgs", body=org, idempotency_key=idempotency_key)

    def list_orgs(self) -> list[OrgOut]:
        return self._many(OrgOut, "/v1/orgs")

    def create_key(self, org_id: int, label: str = "") -> KeyOut:
        return self._one(KeyOut, "POST", f"/v1/orgs/{org_id}/keys", body=KeyIn(label=label))

    # -- capacity ---------------------------------------------------------------------
    def register_center(self, center: CenterIn, *, idempotency_key: str | None = None) -> CenterOut:
        return self._one(
            CenterOut, "POST", "/v1/centers", body=center, idempotency_key=idempotency_key
        )

    def list_centers(self) -> list[CenterOut]:
        return self._many(CenterOut, "/v1/centers")

    def get_center(self, center_id: int) -> CenterOut:
        return self._one(CenterOut, "GET", f"/v1/centers/{center_id}")

    def update_center(self, center_id: int, patch: CenterPatch) -> CenterOut:
        return self._one(CenterOut, "PATCH", f"/v1/centers/{center_id}", body=patch)

    def add_pool(
        self, center_id: int, pool: PoolIn, *, idempotency_key: str | None = None
    ) -> PoolOut:
        return self._one(
            PoolOut,
            "POST",
            f"/v1/centers/{center_id}/pools",
            body=pool,
            idempotency_key=idempotency_key,
        )

    def list_pools(self, center_id: int | None = None) -> list[PoolOut]:
        return self._many(PoolOut, "/v1/pools", params={"center_id": center_id})

    def get_pool(self, pool_id: int) -> PoolOut:
        return self._one(PoolOut, "GET", f"/v1/pools/{pool_id}")

    def update_pool(self, pool_id: int, patch: PoolPatch) -> PoolOut:
        return self._one(PoolOut, "PATCH", f"/v1/pools/{pool_id}", body=patch)

    def offers(
        self,
        *,
        model: str | None = None,
        province: str | None = None,
        min_free: int | None = None,
        max_price_fen: int | None = None,
        min_memory_gb: int | None = None,
        inter_node: str | None = None,
        region: str | None = None,
    ) -> list[OfferOut]:
        params = {
            "model": model,
            "province": province,
            "min_free": min_free,
            "max_price_fen": max_price_fen,
            "min_memory_gb": min_memory_gb,
            "inter_node": inter_node,
            "region": region,
        }
        return self._many(OfferOut, "/v1/offers", params=params)

    # -- requests and leases ----------------------------------------------------------
    def submit_request(
        self, request: RequestIn, *, idempotency_key: str | None = None
    ) -> RequestOut:
        return self._one(
            RequestOut, "POST", "/v1/requests", body=request, idempotency_key=idempotency_key
        )

    def quote(self, request: RequestIn) -> Quote:
        """Where ``request`` would be placed now and what it would cost, with and without
        the buyer's vouchers; nothing is stored (buyers only)."""
        return self._one(Quote, "POST", "/v1/quotes", body=request)

    def list_requests(self, status: str | None = None, limit: int = 200) -> list[RequestOut]:
        return self._many(RequestOut, "/v1/requests", params={"status": status, "limit": limit})

    def get_request(self, request_id: int) -> RequestOut:
        return self._one(RequestOut, "GET", f"/v1/requests/{request_id}")

    def cancel_request(self, request_id: int, reason: str = "") -> RequestOut:
        body = EndIn(reason=reason) if reason else None
        return self._one(RequestOut, "POST", f"/v1/requests/{request_id}/cancel", body=body)

    def list_leases(
        self, status: str | None = None, center_id: int | None = None, limit: int = 200
    ) -> list[LeaseOut]:
        params = {"status": status, "center_id": center_id, "limit": limit}
        return self._many(LeaseOut, "/v1/leases", params=params)

    def get_lease(self, lease_id: int) -> LeaseOut:
        return self._one(LeaseOut, "GET", f"/v1/leases/{lease_id}")

    def start_lease(self, lease_id: int, *, at: datetime | None = None) -> LeaseOut:
        body = StartIn(at=at) if at is not None else None
        return self._one(LeaseOut, "POST", f"/v1/leases/{lease_id}/start", body=body)

    def preempt_lease(self, lease_id: int, reason: str = "") -> LeaseOut:
        body = EndIn(reason=reason)
        return self._one(LeaseOut, "POST", f"/v1/leases/{lease_id}/preempt", body=body)

    # -- the center agent -------------------------------------------------------------
    def heartbeat(self, beat: HeartbeatIn) -> HeartbeatOut:
        return self._one(HeartbeatOut, "POST", "/v1/agent/heartbeat", body=beat)

    def agent_leases(self, center_id: int) -> list[AgentLeaseOut]:
        return self._many(AgentLeaseOut, "/v1/agent/leases", params={"center_id": center_id})

    def record_usage(self, lease_id: int, usage: UsageIn) -> UsageOut:
        return self._one(UsageOut, "POST", f"/v1/leases/{lease_id}/usage", body=usage)

    def list_usage(self, lease_id: int) -> list[UsageOut]:
        return self._many(UsageOut, f"/v1/leases/{lease_id}/usage")

    def complete_lease(self, lease_id: int, reason: str = "") -> LeaseOut:
        body = EndIn(reason=reason) if reason else None
        return self._one(LeaseOut, "POST", f"/v1/leases/{lease_id}/complete", body=body)

    def fail_lease(self, lease_id: int, reason: str) -> LeaseOut:
        return self._one(LeaseOut, "POST", f"/v1/leases/{lease_id}/fail", body=EndIn(reason=reason))

    # -- money and reports ------------------------------------------------------------
    def wallet(self, org_id: int | None = None) -> WalletOut:
        return self._one(WalletOut, "GET", "/v1/wallet", params={"org_id": org_id})

    def topup(
        self,
        amount_fen: int,
        *,
        org_id: int | None = None,
        memo: str = "top-up",
        counterparty: str | None = None,
    ) -> TopupOut:
        body = TopupIn(amount_fen=amount_fen, org_id=org_id, memo=memo, counterparty=counterparty)
        return self._one(TopupOut, "POST", "/v1/wallet/topup", body=body)

    def utilization(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        by: str = "province",
    ) -> UtilizationReport:
        params = {
            "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None,
            "by": by,
        }
        return self._one(UtilizationReport, "GET", "/v1/reports/utilization", params=params)

    @staticmethod
    def _window_params(
        start: datetime | None, end: datetime | None, step_s: int | None
    ) -> dict[str, Any]:
        return {
            "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None,
            "step_s": step_s,
        }

    def utilization_series(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        step_s: int | None = None,
    ) -> UtilizationSeries:
        """Allocated / available card-hours per bucket (default: the last day by hour)."""
        params = self._window_params(start, end, step_s)
        return self._one(UtilizationSeries, "GET", "/v1/reports/utilization/series", params=params)

    def overview(self) -> Overview:
        """Centers, cards, allocation, the queue and utilization now, by province."""
        return self._one(Overview, "GET", "/v1/reports/overview")

    def prices(self) -> PriceIndex:
        """The price index per accelerator model (any key)."""
        return self._one(PriceIndex, "GET", "/v1/reports/prices")

    def earnings(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        step_s: int | None = None,
        provider_id: int | None = None,
    ) -> EarningsSeries:
        """Providers' net earnings per bucket (providers: own; the operator: all or one)."""
        params = {**self._window_params(start, end, step_s), "provider_id": provider_id}
        return self._one(EarningsSeries, "GET", "/v1/reports/earnings", params=params)

    # -- billing ----------------------------------------------------------------------
    def _text(self, path: str, params: dict[str, Any] | None = None) -> str:
        """GET a text document (CSV, HTML); errors raise :class:`ApiError` as usual."""
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.get(path, params=clean)
        except httpx.HTTPError as exc:
            raise ApiError(0, "unreachable", f"cannot reach {self._http.base_url}: {exc}") from exc
        if response.is_error:
            try:
                error = response.json()["error"]
                raise ApiError(response.status_code, error["code"], error["message"])
            except (ValueError, KeyError, TypeError):
                raise ApiError(response.status_code, "http_error", response.text[:200]) from None
        return response.text

    def issue_invoice(
        self,
        period: str | None = None,
        *,
        buyer_id: int | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> InvoiceOut:
        """Issue (or get the already issued) invoice for a month ``YYYY-MM`` or
        ``[start, end)``; the operator names the buyer."""
        body = InvoiceIn(buyer_id=buyer_id, period=period, start=start, end=end)
        return self._one(
            InvoiceOut, "POST", "/v1/invoices", body=body, idempotency_key=idempotency_key
        )

    def list_invoices(
        self, *, buyer_id: int | None = None, limit: int = 200
    ) -> list[InvoiceSummary]:
        return self._many(
            InvoiceSummary, "/v1/invoices", params={"buyer_id": buyer_id, "limit": limit}
        )

    def get_invoice(self, invoice_id: int) -> InvoiceOut:
        return self._one(InvoiceOut, "GET", f"/v1/invoices/{invoice_id}")

    def invoice_csv(self, invoice_id: int) -> str:
        return self._text(f"/v1/invoices/{invoice_id}.csv")

    def invoice_html(self, invoice_id: int) -> str:
        return self._text(f"/v1/invoices/{invoice_id}.html")

    @staticmethod
    def _period_params(
        period: str | None,
        provider_id: int | None,
        start: datetime | None,
        end: datetime | None,
    ) -> dict[str, Any]:
        return {
            "period": period,
            "provider_id": provider_id,
            "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None,
        }

    def statement(
        self,
        period: str | None = None,
        *,
        provider_id: int | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> StatementOut:
        """A provider's statement for a month or ``[start, end)`` (operator: name it)."""
        params = self._period_params(period, provider_id, start, end)
        return self._one(StatementOut, "GET", "/v1/statements", params=params)

    def statement_csv(
        self,
        period: str | None = None,
        *,
        provider_id: int | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> str:
        return self._text(
            "/v1/statements.csv", self._period_params(period, provider_id, start, end)
        )

    def statement_html(
        self,
        period: str | None = None,
        *,
        provider_id: int | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> str:
        return self._text(
            "/v1/statements.html", self._period_params(period, provider_id, start, end)
        )

    def payout(
        self,
        amount_fen: int,
        counterparty: str,
        *,
        provider_id: int | None = None,
        idempotency_key: str | None = None,
    ) -> PayoutResult:
        """Pay earnings out to ``counterparty`` (a bank account)."""
        body = PayoutIn(amount_fen=amount_fen, counterparty=counterparty, provider_id=provider_id)
        return self._one(
            PayoutResult, "POST", "/v1/payouts", body=body, idempotency_key=idempotency_key
        )

    def list_payouts(self, *, provider_id: int | None = None, limit: int = 200) -> list[PayoutOut]:
        return self._many(
            PayoutOut, "/v1/payouts", params={"provider_id": provider_id, "limit": limit}
        )

    # -- audit and voucher reports --------------------------------------------------------
    def voucher_report(self, *, program_id: int | None = None) -> VoucherReport:
        """Voucher programs' money, promises, caps and prices (issuers: their own)."""
        params = {"program_id": program_id}
        return self._one(VoucherReport, "GET", "/v1/reports/vouchers", params=params)

    def audit_ledger(self) -> LedgerAudit:
        """The books checked from the data (operator only)."""
        return self._one(LedgerAudit, "GET", "/v1/audit/ledger")

    # -- vouchers ---------------------------------------------------------------------
    def create_program(
        self,
        program: ProgramIn,
        *,
        issuer_id: int | None = None,
        idempotency_key: str | None = None,
    ) -> ProgramOut:
        """Create a voucher program (issuers; the operator names ``issuer_id``)."""
        return self._one(
            ProgramOut,
            "POST",
            "/v1/vouchers/programs",
            body=program,
            params={"issuer_id": issuer_id},
            idempotency_key=idempotency_key,
        )

    def list_programs(self, *, mine: bool = False) -> list[ProgramOut]:
        return self._many(
            ProgramOut, "/v1/vouchers/programs", params={"mine": "true" if mine else None}
        )

    def get_program(self, program_id: int) -> ProgramOut:
        return self._one(ProgramOut, "GET", f"/v1/vouchers/programs/{program_id}")

    def close_program(self, program_id: int) -> ProgramOut:
        return self._one(ProgramOut, "POST", f"/v1/vouchers/programs/{program_id}/close")

    def apply_grant(self, grant: GrantIn, *, idempotency_key: str | None = None) -> GrantOut:
        return self._one(
            GrantOut, "POST", "/v1/vouchers/grants", body=grant, idempotency_key=idempotency_key
        )

    def list_grants(
        self, *, program_id: int | None = None, status: str | None = None
    ) -> list[GrantOut]:
        params = {"program_id": program_id, "status": status}
        return self._many(GrantOut, "/v1/vouchers/grants", params=params)

    def get_grant(self, grant_id: int) -> GrantOut:
        return self._one(GrantOut, "GET", f"/v1/vouchers/grants/{grant_id}")

    def decide_grant(self, grant_id: int, decision: GrantDecisionIn) -> GrantOut:
        """Approve or reject an application (the program's issuer)."""
        return self._one(
            GrantOut, "POST", f"/v1/vouchers/grants/{grant_id}/decision", body=decision
        )

    def release_tranche(self, grant_id: int) -> GrantOut:
        return self._one(GrantOut, "POST", f"/v1/vouchers/grants/{grant_id}/release")

    def revoke_grant(self, grant_id: int, revoke: RevokeIn) -> GrantOut:
        return self._one(GrantOut, "POST", f"/v1/vouchers/grants/{grant_id}/revoke", body=revoke)

    def list_redemptions(self, *, program_id: int | None = None) -> list[RedemptionOut]:
        return self._many(
            RedemptionOut, "/v1/vouchers/redemptions", params={"program_id": program_id}
        )

    def claw_back(
        self, redemption_id: int, clawback: ClawbackIn, *, idempotency_key: str | None = None
    ) -> ClawbackOut:
        return self._one(
            ClawbackOut,
            "POST",
            f"/v1/vouchers/redemptions/{redemption_id}/clawback",
            body=clawback,
            idempotency_key=idempotency_key,
        )

    def list_flags(self, *, status: str | None = None, kind: str | None = None) -> list[FlagOut]:
        return self._many(FlagOut, "/v1/vouchers/flags", params={"status": status, "kind": kind})

    def get_flag(self, flag_id: int) -> FlagOut:
        return self._one(FlagOut, "GET", f"/v1/vouchers/flags/{flag_id}")

    def resolve_flag(self, flag_id: int, resolution: FlagResolveIn) -> FlagOut:
        return self._one(FlagOut, "POST", f"/v1/vouchers/flags/{flag_id}/resolve", body=resolution)

    def scan_flags(self) -> list[FlagOut]:
        """Run the money-flowback scan (issuers, the operator); the flags you may see."""
        found = self._send("POST", "/v1/vouchers/flags/scan")
        return TypeAdapter(list[FlagOut]).validate_python(found)
