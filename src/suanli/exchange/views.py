"""Turning stored requests and leases into their API shapes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from suanli.exchange.schemas import AllocationOut, LeaseOut, RequestOut, TransitionOut, UsageOut
from suanli.store import work_repo
from suanli.store.models import Lease, Request, UsageRecord

NO_LEASE = 0
"""``lease_id`` for :func:`request_out` of a request known to have no lease."""


def request_out(session: Session, request: Request, lease_id: int | None = None) -> RequestOut:
    """The API shape of ``request``; its latest lease is looked up unless given."""
    if lease_id is None:
        lease_id = work_repo.latest_lease_ids(session, [request.id]).get(request.id)
    elif lease_id == NO_LEASE:
        lease_id = None
    return RequestOut(
        id=request.id,
        buyer_id=request.buyer_id,
        cards=request.cards,
        cards_per_node=request.cards_per_node,
        inter_node=request.inter_node,
        accepted_models=list(request.accepted_models or []),
        min_memory_gb=request.min_memory_gb,
        min_tflops=request.min_tflops,
        provinces=list(request.provinces or []),
        max_price_fen=request.max_price_fen,
        duration_s=request.duration_s,
        earliest_start=request.earliest_start,
        interruptible=request.interruptible,
        use_voucher=request.use_voucher,
        workload=dict(request.workload or {}),
        attempts=request.attempts,
        status=request.status,
        reasons=list(request.reasons or []),
        nearest=list(request.nearest or []),
        reasons_zh=list(request.reasons_zh or request.reasons or []),
        nearest_zh=list(request.nearest_zh or request.nearest or []),
        lease_id=lease_id,
        created_at=request.created_at,
        updated_at=request.updated_at,
    )


def requests_out(session: Session, requests: list[Request]) -> list[RequestOut]:
    leases = work_repo.latest_lease_ids(session, [r.id for r in requests])
    return [request_out(session, r, leases.get(r.id)) for r in requests]


def lease_out(session: Session, lease: Lease, *, detail: bool = True) -> LeaseOut:
    allocations = work_repo.allocations(session, lease.id) if detail else []
    transitions = work_repo.transitions(session, lease.id) if detail else []
    return LeaseOut(
        id=lease.id,
        request_id=lease.request_id,
        buyer_id=lease.buyer_id,
        provider_id=lease.provider_id,
        center_id=lease.center_id,
        pool_id=lease.pool_id,
        model=lease.model,
        cards=lease.cards,
        duration_s=lease.duration_s,
        price_fen=lease.price_fen,
        hold_fen=lease.hold_fen,
        charged_fen=lease.charged_fen,
        subsidy_fen=lease.subsidy_fen,
        voucher_note=lease.voucher_note,
        usage_card_seconds=work_repo.usage_total(session, lease.id),
        status=lease.status,
        placed_at=lease.placed_at,
        started_at=lease.started_at,
        ended_at=lease.ended_at,
        end_reason=lease.end_reason,
        allocations=[AllocationOut(node_id=a.node_id, cards=a.cards) for a in allocations],
        transitions=[
            TransitionOut(
                from_status=t.from_status, to_status=t.to_status, at=t.at, reason=t.reason
            )
            for t in transitions
        ],
    )


def usage_out(record: UsageRecord) -> UsageOut:
    return UsageOut(
        id=record.id,
        lease_id=record.lease_id,
        external_id=record.external_id,
        card_seconds=record.card_seconds,
        period_start=record.period_start,
        period_end=record.period_end,
        source=record.source,
        charge_transaction_id=record.charge_transaction_id,
    )
