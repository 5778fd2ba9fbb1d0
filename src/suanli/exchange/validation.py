"""Checks on a request that need the catalog and the map, beyond field ranges."""

from __future__ import annotations

from typing import Any

from suanli import catalog
from suanli.catalog.regions import province_zh, provinces_in
from suanli.engine import INTER_NODE_RANK
from suanli.exchange.schemas import RequestIn
from suanli.kit.errors import ValidationError


def validate_request(data: RequestIn) -> dict[str, Any]:
    """The request's stored fields, canonicalized; 422 with the reason if one is wrong."""
    models = []
    for name in data.accepted_models:
        try:
            models.append(catalog.get(name).model)
        except catalog.UnknownAcceleratorError as exc:
            raise ValidationError(str(exc)) from exc
    provinces: set[str] = set()
    try:
        provinces.update(province_zh(p) for p in data.provinces)
        for region in data.regions:
            provinces.update(provinces_in(region))
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    if data.inter_node is not None and data.inter_node not in INTER_NODE_RANK:
        raise ValidationError(
            f"unknown inter_node {data.inter_node!r}; use one of {', '.join(INTER_NODE_RANK)}"
        )
    gang = data.cards_per_node is not None and data.cards_per_node < data.cards
    open_shape = data.cards_per_node is None and data.cards > 1
    return {
        "cards": data.cards,
        "cards_per_node": data.cards_per_node,  # == cards: all on one node, as asked
        "inter_node": (data.inter_node or "ethernet")
        if gang
        else (data.inter_node if open_shape else None),
        "accepted_models": sorted(set(models)),
        "min_memory_gb": data.min_memory_gb,
        "min_tflops": data.min_tflops,
        "provinces": sorted(provinces),
        "max_price_fen": data.max_price_fen,
        "duration_s": data.duration_s,
        "earliest_start": data.earliest_start,
        "interruptible": data.interruptible,
        "use_voucher": data.use_voucher,
        "workload": data.workload.model_dump(exclude_none=True) if data.workload else {},
    }
