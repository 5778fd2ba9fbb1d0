"""Why a demand waits, in words a buyer reads: English and Chinese, from one place.

A :class:`Reason` is the English sentence (it *is* a ``str``, so logs, tests and old
callers see plain text) and carries its Chinese twin in ``zh``. Every sentence the
engine and the exchange give a waiting buyer is built by a function here, so both
languages say the same thing and agree in number ("1 pool has", "2 pools have").
"""

from __future__ import annotations

from collections.abc import Iterable

from suanli.kit.money import yuan

__all__ = [
    "Reason",
    "back_in_queue",
    "beyond_largest",
    "capacity_changed",
    "fit_gang",
    "fit_single",
    "nearest_offer",
    "no_capacity",
    "not_before",
    "off_model",
    "off_price",
    "off_region",
    "off_shape",
    "plain",
    "wallet_short",
    "zh_of",
]

FABRIC_ZH = {"none": "无", "ethernet": "以太网", "roce": "RoCE", "infiniband": "InfiniBand"}


class Reason(str):
    """An English sentence (the ``str`` itself) with its Chinese twin in :attr:`zh`."""

    zh: str

    def __new__(cls, en: str, zh: str) -> Reason:
        made = super().__new__(cls, en)
        made.zh = zh
        return made

    def __reduce__(self) -> tuple[type[Reason], tuple[str, str]]:
        return (Reason, (str(self), self.zh))


def zh_of(text: str) -> str:
    """The Chinese of a reason; a plain string (a message without a twin) stays as is."""
    return text.zh if isinstance(text, Reason) else text


def plain(en: str, zh: str) -> Reason:
    return Reason(en, zh)


def _pools(n: int, singular: str, plural: str) -> str:
    """'1 pool has', '3 pools have': the count with its noun and verb in agreement."""
    return f"{n} pool {singular}" if n == 1 else f"{n} pools {plural}"


def no_capacity() -> Reason:
    return Reason("no capacity is listed on the exchange", "交易所上还没有挂牌的算力")


def off_model(
    excluded: int, models: Iterable[str], min_memory_gb: int | None, min_tflops: float | None
) -> Reason:
    en, zh = [], []
    names = "/".join(sorted(models))
    if names:
        en.append(names)
        zh.append(names)
    if min_memory_gb is not None:
        en.append(f">= {min_memory_gb} GB per card")
        zh.append(f"每卡显存 ≥ {min_memory_gb} GB")
    if min_tflops is not None:
        en.append(f">= {min_tflops:g} TFLOPS per card")
        zh.append(f"每卡算力 ≥ {min_tflops:g} TFLOPS")
    return Reason(
        f"{_pools(excluded, 'offers', 'offer')} no accelerator matching {', '.join(en)}",
        f"{excluded} 个资源池没有符合 {'，'.join(zh)} 的加速卡",
    )


def off_region(excluded: int, provinces: Iterable[str]) -> Reason:
    where = "/".join(sorted(provinces))
    return Reason(
        f"{_pools(excluded, 'is', 'are')} outside {where}",
        f"{excluded} 个资源池不在 {where}",
    )


def off_price(excluded: int, max_price_fen: int) -> Reason:
    cap = yuan(max_price_fen)
    return Reason(
        f"{_pools(excluded, 'costs', 'cost')} more than {cap}/card-hour",
        f"{excluded} 个资源池每卡时价格高于 {cap}",
    )


def off_shape(excluded: int, per_node: int, fabric: str | None) -> Reason:
    """Pools whose nodes are too small or, for a gang, not linked well enough."""
    en = f"{_pools(excluded, 'has', 'have')} fewer than {per_node} cards per node"
    zh = f"{excluded} 个资源池每节点不足 {per_node} 张卡"
    if fabric is not None:
        en += f" or no {fabric} between nodes" if fabric != "none" else ""
        zh += f"，或节点间没有 {FABRIC_ZH.get(fabric, fabric)} 互联" if fabric != "none" else ""
    return Reason(en, zh)


def describe(
    cards: int, per_node: int, share: float | None, cpu_cores: float, memory_gib: float
) -> tuple[str, str]:
    """The per-node shape in words: ('8 free cards', '8 张空闲卡')."""
    en, zh = [], []
    if share is not None:
        en.append(f"{share:g} of a free GPU")
        zh.append(f"{share:g} 张空闲 GPU")
    elif cards:
        en.append(f"{per_node} free card{'s' if per_node != 1 else ''}")
        zh.append(f"{per_node} 张空闲卡")
    if cpu_cores:
        en.append(f"{cpu_cores:g} free CPU cores")
        zh.append(f"{cpu_cores:g} 个空闲 CPU 核")
    if memory_gib:
        en.append(f"{memory_gib:g} GiB free memory")
        zh.append(f"{memory_gib:g} GiB 空闲内存")
    return " and ".join(en), "和".join(zh)


def fit_single(pools: int, shape: tuple[str, str]) -> Reason:
    pool = "matching pool" if pools == 1 else "matching pools"
    verb = "has" if pools == 1 else "have"
    return Reason(
        f"{pools} {pool} {verb} no node with {shape[0]}",
        f"{pools} 个符合条件的资源池目前没有一个节点有 {shape[1]}",
    )


def fit_gang(pools: int, nodes: int, shape: tuple[str, str]) -> Reason:
    pool = "matching pool" if pools == 1 else "matching pools"
    verb = "lacks" if pools == 1 else "lack"
    return Reason(
        f"{pools} {pool} {verb} {nodes} nodes with {shape[0]} each",
        f"{pools} 个符合条件的资源池目前凑不出 {nodes} 个各有 {shape[1]} 的节点",
    )


def nearest_offer(
    free: int, model: str, label: str, province: str, price_fen: int, label_zh: str | None = None
) -> Reason:
    price = yuan(price_fen)
    return Reason(
        f"{free} free {model} at {label} ({province}), {price}/card-hour",
        f"{label_zh or label}（{province}）有 {free} 张空闲 {model}，每卡时 {price}",
    )


def not_before(iso: str) -> Reason:
    return Reason(f"not before {iso}", f"{iso} 之前不开始")


def capacity_changed() -> Reason:
    return Reason(
        "capacity changed while placing; it will be tried again",
        "放置时可用容量发生了变化，稍后会再试",
    )


def wallet_short(message: str) -> Reason:
    """The wallet cannot pay the escrow (``message`` says by how much)."""
    return Reason(message, f"钱包余额不足以支付托管金额：{message}")


def back_in_queue(reason: str) -> Reason:
    return Reason(f"back in the queue: {reason}", f"已重新排队：{zh_of(reason)}")


def beyond_largest(cards: int, models: str, fabric: str | None, largest: int, where: str) -> Reason:
    """A request no listed pool could ever hold, even spread over its nodes."""
    of = f" of {models}" if models else ""
    of_zh = f" {models} " if models else ""
    if fabric:
        of += f" linked by {fabric}"
        of_zh = f"以 {FABRIC_ZH.get(fabric, fabric)} 互联的{of_zh or ' '}"
    return Reason(
        f"no listed pool{of} could ever hold {cards:,} cards in one place: "
        f"the most possible is {largest:,} ({where}); ask for at most {largest:,}",
        f"没有任何挂牌的{of_zh}资源池能在一处容纳 {cards:,} 张卡：最多 {largest:,} 张"
        f"（{where}），请把卡数减到 {largest:,} 以内",
    )
