"""``Client``: one method per API call, pydantic models in and out.

Every error answer raises :class:`ApiError` carrying the status, the error code and
the server's message. When no suanli answers, a subclass says so:
:class:`UnreachableError` (no HTTP answer at all: refused, unknown host, timed out) and
:class:`NotSuanliError` (something answered, but not a suanli exchange).

Pass ``transport`` (for example ``httpx.ASGITransport`` or ``httpx.MockTransport``) to
talk to an app without a network.
"""

from __future__ import annotations

import re
import socket
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

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
from suanli.exchange.schemas import (
    EndIn,
    LeaseOut,
    RequestIn,
    RequestOut,
    StartIn,
    UsageIn,
    UsageOut,
)
from suanli.ledger.schemas import TopupIn, TopupOut, WalletOut
from suanli.orgs.schemas import KeyIn, KeyOut, OrgIn, OrgOut
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

if TYPE_CHECKING:
    # These answers are defined next to the server code that builds them, whose modules
    # import the database layer and the engine: they are imported where a call needs
    # them, so that importing the SDK stays light.
    from suanli.exchange.agents import AgentLeaseOut, HeartbeatIn, HeartbeatOut
    from suanli.exchange.earnings import EarningsSeries
    from suanli.exchange.overview import Overview
    from suanli.exchange.prices import PriceIndex
    from suanli.exchange.quotes import Quote
    from suanli.exchange.reports import UtilizationReport
    from suanli.exchange.series import UtilizationSeries
    from suanli.ledger.audit import LedgerAudit
    from suanli.vouchers.report import VoucherReport

M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    """The exchange refused or failed a call: ``status`` (HTTP), ``code`` and ``message``.

    An answer in suanli's shape, ``{"error": {"code", "message"}}``, carries the server's
    code and message. The subclasses below say that no suanli answered at all.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{message} (HTTP {status})" if status else message)
        self.status = status
        self.code = code
        self.message = message


class UnreachableError(ApiError):
    """No HTTP answer from ``url``: status 0, code ``unreachable``.

    ``kind`` names the case: ``refused`` (nothing listens there), ``unknown_host``,
    ``timeout``, ``bad_url`` (not an ``http://`` or ``https://`` URL) or ``other``;
    ``reason`` says it in a few words. The message is ``cannot reach URL (reason)``.
    """

    def __init__(self, url: str, kind: str, reason: str) -> None:
        super().__init__(0, "unreachable", f"cannot reach {url} ({reason})")
        self.url = url
        self.kind = kind
        self.reason = reason


class NotSuanliError(ApiError):
    """Something answered at ``url``, but not a suanli exchange: code ``not_suanli``.

    Raised for an answer that is neither suanli's JSON nor its error shape (an HTML page,
    ``{"detail": "Not Found"}``, a redirect) when the server's ``/healthz`` does not
    answer like suanli's either. ``status`` is the answer's HTTP status; ``detail``
    describes the answer. The message is ``no suanli API at URL (detail)``.
    """

    def __init__(self, url: str, status: int, detail: str) -> None:
        super().__init__(status, "not_suanli", f"no suanli API at {url} ({detail})")
        self.url = url
        self.detail = detail


def _clip(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _unreachable(url: str, exc: httpx.HTTPError) -> UnreachableError:
    """What kept the request from getting any answer, in a few words."""
    causes: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(causes) < 10:
        causes.append(seen)
        seen = seen.__cause__ or seen.__context__
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return UnreachableError(url, "refused", "connection refused")
    if any(isinstance(c, socket.gaierror) for c in causes):
        host = httpx.URL(url).host or url
        return UnreachableError(url, "unknown_host", f"unknown host {host}")
    if isinstance(exc, httpx.TimeoutException):
        return UnreachableError(url, "timeout", "no answer in time")
    if isinstance(exc, httpx.UnsupportedProtocol):
        return UnreachableError(url, "bad_url", "the URL must start with http:// or https://")
    detail = str(exc).strip() or type(exc).__name__
    return UnreachableError(url, "other", _clip(detail, 120))


def _suanli_error(response: httpx.Response) -> tuple[str, str] | None:
    """``(code, message)`` when the body is suanli's ``{"error": {"code", "message"}}``."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    code, message = error.get("code"), error.get("message")
    if isinstance(code, str) and isinstance(message, str):
        return code, message
    return None


def _describe_answer(response: httpx.Response) -> str:
    """``GET /path answered HTTP 404 with <what the body is>``, on one short line."""
    request = f"{response.request.method} {response.request.url.path}"
    status = f"HTTP {response.status_code}"
    if response.is_redirect:
        location = response.headers.get("location", "")
        return f"{request} answered {status}, a redirect to {_clip(location, 100)}"
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    text = response.text.strip()
    if not text:
        what = "an empty body"
    elif "html" in kind or text[:15].lower().startswith(("<!doctype html", "<html")):
        title = re.search(r"<title[^>]*>(.*?)</title>", text, flags=re.IGNORECASE | re.DOTALL)
        what = f'an HTML page "{_clip(title.group(1), 60)}"' if title else "an HTML page"
    else:
        what = _clip(text)
    return f"{request} answered {status} with {what}"


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
        self._url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self._url, headers=headers, timeout=timeout, transport=transport
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- plumbing ---------------------------------------------------------------------
    def _request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """One request, its answer checked: an error raises :class:`ApiError` (or
        :class:`UnreachableError` / :class:`NotSuanliError`), and so does a redirect."""
        try:
            response = self._http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise _unreachable(self._url, exc) from exc
        if response.is_success:
            return response
        error = _suanli_error(response)
        if error is not None:
            raise ApiError(response.status_code, *error)
        raise self._not_suanli(response)

    def _not_suanli(self, response: httpx.Response) -> ApiError:
        """The error for an answer not in suanli's shape: :class:`NotSuanliError` unless
        ``/healthz`` says a suanli exchange is there after all (a server error, or a
        route this older or newer exchange does not have)."""
        detail = _describe_answer(response)
        if response.status_code >= 500:
            return ApiError(
                response.status_code, "server_error", f"the server at {self._url} failed: {detail}"
            )
        version = self._suanli_version() if response.status_code >= 400 else None
        if version is None:
            return NotSuanliError(self._url, response.status_code, detail)
        if response.status_code in (404, 405):
            return ApiError(
                response.status_code,
                "no_route",
                f"the exchange at {self._url} (suanli {version}) has no "
                f"{response.request.method} {response.request.url.path} "
                f"(HTTP {response.status_code}); is it older than this client?",
            )
        return ApiError(response.status_code, "http_error", detail)

    def _suanli_version(self) -> str | None:
        """The version ``/healthz`` reports, if it answers like suanli's; else None."""
        try:
            body = self._http.get("/healthz").json()
        except (httpx.HTTPError, ValueError):
            return None
        if isinstance(body, dict) and {"status", "version", "database"} <= body.keys():
            return str(body["version"])
        return None

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
        response = self._request(method, path, content=content, params=clean, headers=headers)
        try:
            return response.json()
        except ValueError:
            raise NotSuanliError(
                self._url, response.status_code, _describe_answer(response)
            ) from None

    def _unreadable(self, method: str, path: str, exc: ValidationError) -> ApiError:
        """A JSON answer that is not the document this call returns."""
        version = self._suanli_version()
        if version is None:
            detail = f"{method} {path} answered with JSON that is not suanli's"
            return NotSuanliError(self._url, 200, detail)
        first = exc.errors()[0] if exc.error_count() else None
        where = ".".join(str(p) for p in first["loc"]) if first else ""
        problem = f"{where}: {first['msg']}" if first else str(exc)
        return ApiError(
            200,
            "unexpected_answer",
            f"the exchange at {self._url} (suanli {version}) answered {method} {path} with "
            f"a document this client cannot read ({_clip(problem)}); is it another version?",
        )

    def _one(self, model: type[M], method: str, path: str, **kw: Any) -> M:
        data = self._send(method, path, **kw)
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise self._unreadable(method, path, exc) from None

    def _many(self, model: type[M], path: str, **kw: Any) -> list[M]:
        data = self._send("GET", path, **kw)
        try:
            return TypeAdapter(list[model]).validate_python(data)  # type: ignore[valid-type]
        except ValidationError as exc:
            raise self._unreadable("GET", path, exc) from None

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
        from suanli.exchange.quotes import Quote

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
        from suanli.exchange.agents import HeartbeatOut

        return self._one(HeartbeatOut, "POST", "/v1/agent/heartbeat", body=beat)

    def agent_leases(self, center_id: int) -> list[AgentLeaseOut]:
        from suanli.exchange.agents import AgentLeaseOut

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
        from suanli.exchange.reports import UtilizationReport

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
        from suanli.exchange.series import UtilizationSeries

        return self._one(UtilizationSeries, "GET", "/v1/reports/utilization/series", params=params)

    def overview(self) -> Overview:
        """Centers, cards, allocation, the queue and utilization now, by province."""
        from suanli.exchange.overview import Overview

        return self._one(Overview, "GET", "/v1/reports/overview")

    def prices(self) -> PriceIndex:
        """The price index per accelerator model (any key)."""
        from suanli.exchange.prices import PriceIndex

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
        from suanli.exchange.earnings import EarningsSeries

        return self._one(EarningsSeries, "GET", "/v1/reports/earnings", params=params)

    # -- billing ----------------------------------------------------------------------
    def _text(self, path: str, params: dict[str, Any] | None = None) -> str:
        """GET a text document (CSV, HTML); errors raise :class:`ApiError` as usual."""
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        return self._request("GET", path, params=clean).text

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
        from suanli.vouchers.report import VoucherReport

        return self._one(VoucherReport, "GET", "/v1/reports/vouchers", params=params)

    def audit_ledger(self) -> LedgerAudit:
        """The books checked from the data (operator only)."""
        from suanli.ledger.audit import LedgerAudit

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
