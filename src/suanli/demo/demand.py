"""Demo demand: one real busy day of GPU jobs, bought by fictional Chinese SMEs.

The jobs are the 3,205 submitted on 2017-10-05 to Microsoft's Philly cluster (packaged as
``data/philly_2017-10-05.csv``, see ``data/README.md``). Each job becomes one request with
the trace's GPU count and duration, unchanged (jobs may run past the day's end): up to 8
cards on one node, more as a gang of 8-card nodes over InfiniBand.

Who buys and what they accept is a seeded demand model (integers only):

- Buyers (:func:`demo_buyers`): 40 fictional firms (any likeness to a real firm is
  unintended), SMEs, start-ups and small labs across 30 provinces; more are generated for
  ``scale`` > 1. Each job goes to a buyer by a Zipf-like weight (a few buyers are busy).
- Each buyer has a focus: inference (SMEs mostly), fine-tuning (labs mostly) or flexible,
  with a preferred set of 2-4 models: inference on RTX4090/L20/L40S/A10/T4, fine-tuning on
  A800/A100-80GB/H800/H20/Ascend910B, gangs on A800/A100-80GB/H800/H20.
- A 1-card job is inference or fine-tuning by the buyer's focus (85/15 or 80/20; flexible
  buyers mostly accept any model); 2-8 cards is fine-tuning, more is a training gang.
  Some requests (15-30%, by the busiest buyers' focus) accept any model with enough
  memory (``min_memory_gb``) instead of a list.
- About 30% of requests are restricted to a province: the buyer's own (two in three) or
  another province of its region that has an active computing center.
- About 85% set a max price: 105-135% of the typical list price of what they accept (the
  dearest accepted model, or the median of all models with enough memory); interruptible
  requests cap at 70-100% of it instead. About 25% are interruptible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from random import Random

from suanli.catalog.regions import provinces_in, region_of
from suanli.demo.fleet import accelerators, read_data_csv

__all__ = ["DAY", "BuyerSpec", "DemandItem", "demo_buyers", "philly_day"]

DAY = date(2017, 10, 5)
DAY_SECONDS = 86_400
INFERENCE_MODELS = ("RTX4090", "L20", "L40S", "A10", "T4")
FINETUNE_MODELS = ("A800", "A100-80GB", "H800", "H20", "Ascend910B")
GANG_MODELS = ("A800", "A100-80GB", "H800", "H20")


@dataclass(frozen=True, slots=True)
class DemandItem:
    """One request to rent accelerators."""

    offset_s: int  # seconds after the start of the replayed day
    buyer: int  # index of the buying firm
    cards: int
    cards_per_node: int | None  # None: all cards on one node; else a gang of nodes
    inter_node: str | None  # required inter-node interconnect for gangs, else None
    duration_s: int
    accepted_models: tuple[str, ...]  # empty = any
    min_memory_gb: int | None
    province: str | None  # Chinese short province name, or None = anywhere
    max_price_fen: int | None  # per card-hour
    interruptible: bool


@dataclass(frozen=True, slots=True)
class BuyerSpec:
    """A fictional buying firm."""

    name: str
    name_zh: str
    province: str  # Chinese short name
    city: str
    kind: str  # "sme" | "startup" | "lab"


# Chinese name | English name | province | city | kind
_BUYER_TABLE = """
青鸾视觉科技有限公司 | Qingluan Vision Technology Co., Ltd. | 浙江 | 杭州 | startup
墨羽数据服务有限公司 | Moyu Data Services Co., Ltd. | 北京 | 北京 | sme
松果语言智能科技有限公司 | Songguo Language AI Co., Ltd. | 北京 | 北京 | startup
知了问答网络科技有限公司 | Zhiliao Q&A Network Technology Co., Ltd. | 广东 | 深圳 | startup
蓝鲸跃迁医疗影像科技有限公司 | Lanjing Medical Imaging Co., Ltd. | 上海 | 上海 | sme
小满农业遥感科技有限公司 | Xiaoman Agri Remote Sensing Co., Ltd. | 河南 | 郑州 | sme
锦鲤电商智能有限公司 | Jinli E-commerce AI Co., Ltd. | 浙江 | 金华 | sme
赤兔物流算法科技有限公司 | Chitu Logistics Algorithms Co., Ltd. | 湖北 | 武汉 | sme
白泽法律智能科技有限公司 | Baize Legal AI Co., Ltd. | 四川 | 成都 | startup
听澜语音科技有限公司 | Tinglan Speech Technology Co., Ltd. | 安徽 | 合肥 | startup
山海绘境游戏科技有限公司 | Shanhai Huijing Games Co., Ltd. | 广东 | 广州 | sme
织梦短视频科技有限公司 | Zhimeng Short Video Co., Ltd. | 湖南 | 长沙 | sme
北辰具身智能实验室 | Beichen Embodied AI Lab | 天津 | 天津 | lab
星槎自动驾驶仿真科技有限公司 | Xingcha Driving Simulation Co., Ltd. | 江苏 | 苏州 | startup
鹿鸣生物计算科技有限公司 | Luming Biocomputing Co., Ltd. | 上海 | 上海 | startup
渔舟海洋数据科技有限公司 | Yuzhou Ocean Data Co., Ltd. | 山东 | 青岛 | sme
秦川工业质检智能有限公司 | Qinchuan Industrial Inspection AI Co., Ltd. | 陕西 | 西安 | sme
巴渝方言语音实验室 | Bayu Dialect Speech Lab | 重庆 | 重庆 | lab
闽江智能客服科技有限公司 | Minjiang Customer Service AI Co., Ltd. | 福建 | 福州 | sme
豫章古籍数字化实验室 | Yuzhang Ancient Texts Digitization Lab | 江西 | 南昌 | lab
冰城冰雪文旅科技有限公司 | Bingcheng Snow Tourism Tech Co., Ltd. | 黑龙江 | 哈尔滨 | sme
辽河装备智造科技有限公司 | Liaohe Smart Manufacturing Co., Ltd. | 辽宁 | 沈阳 | sme
长白林草遥感实验室 | Changbai Forest Remote Sensing Lab | 吉林 | 长春 | lab
黄河金融风控科技有限公司 | Huanghe Risk Control AI Co., Ltd. | 山东 | 济南 | sme
太行能源预测科技有限公司 | Taihang Energy Forecasting Co., Ltd. | 山西 | 太原 | sme
燕赵智慧农业科技有限公司 | Yanzhao Smart Agriculture Co., Ltd. | 河北 | 石家庄 | sme
漓江多语翻译科技有限公司 | Lijiang Multilingual Translation Co., Ltd. | 广西 | 南宁 | startup
椰风跨境电商智能有限公司 | Yefeng Cross-border E-commerce AI Co., Ltd. | 海南 | 海口 | sme
黔岭大数据科技有限公司 | Qianling Big Data Co., Ltd. | 贵州 | 贵阳 | sme
滇红茶园视觉检测科技有限公司 | Dianhong Tea Garden Vision Co., Ltd. | 云南 | 昆明 | sme
丝路跨语种智能科技有限公司 | Silu Cross-lingual AI Co., Ltd. | 新疆 | 乌鲁木齐 | startup
陇原文博数字科技有限公司 | Longyuan Heritage Digital Co., Ltd. | 甘肃 | 兰州 | sme
贺兰葡萄园智能科技有限公司 | Helan Vineyard AI Co., Ltd. | 宁夏 | 银川 | sme
牧歌畜牧智能科技有限公司 | Muge Livestock AI Co., Ltd. | 内蒙古 | 呼和浩特 | sme
钱塘潮大模型科技有限公司 | Qiantangchao LLM Technology Co., Ltd. | 浙江 | 杭州 | startup
湾区芯片验证实验室 | Wanqu Chip Verification Lab | 广东 | 深圳 | lab
楚天机器人科技有限公司 | Chutian Robotics Co., Ltd. | 湖北 | 武汉 | startup
金陵墨香写作科技有限公司 | Jinling Moxiang Writing AI Co., Ltd. | 江苏 | 南京 | startup
京西蜂鸟多模态实验室 | Jingxi Fengniao Multimodal Lab | 北京 | 北京 | lab
沪上画境AIGC科技有限公司 | Hushang Huajing AIGC Co., Ltd. | 上海 | 上海 | startup
"""
_BUYERS: tuple[tuple[str, ...], ...] = tuple(
    tuple(cell.strip() for cell in line.split("|")) for line in _BUYER_TABLE.strip().splitlines()
)
_PREFIXES = (
    ("启航", "Qihang"), ("飞鸿", "Feihong"), ("晨曦", "Chenxi"), ("青禾", "Qinghe"),
    ("远山", "Yuanshan"), ("星河", "Xinghe"), ("若水", "Ruoshui"), ("清风", "Qingfeng"),
    ("明镜", "Mingjing"), ("拾光", "Shiguang"), ("半夏", "Banxia"), ("听雨", "Tingyu"),
    ("观澜", "Guanlan"), ("凌云", "Lingyun"), ("知行", "Zhixing"), ("弈秋", "Yiqiu"),
)  # fmt: skip
_FIELDS = (
    ("视觉", "Vision"), ("语音", "Speech"), ("数据", "Data"), ("推荐", "Recommender"),
    ("医疗影像", "Medical Imaging"), ("文本", "Text AI"), ("机器人", "Robotics"),
    ("制药", "Drug Discovery"), ("教育", "EdTech"), ("金融", "Fintech"),
)  # fmt: skip
_KIND_SUFFIX = {
    "sme": ("科技有限公司", "Technology Co., Ltd."),
    "startup": ("智能科技有限公司", "AI Co., Ltd."),
    "lab": ("实验室", "Lab"),
}


def demo_buyers(n: int = 40, seed: int = 7) -> list[BuyerSpec]:
    """``n`` fictional buyers; the 40 hand-written firms (in seeded order), then generated
    ones. ``demo_buyers(n, seed)`` is a prefix of ``demo_buyers(m, seed)`` for n <= m."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = Random(f"suanli-buyers:{seed}")
    written = list(_BUYERS)
    rng.shuffle(written)
    buyers = [BuyerSpec(en, zh, prov, city, kind) for zh, en, prov, city, kind in written]
    prefixes, fields = list(_PREFIXES), list(_FIELDS)
    rng.shuffle(prefixes)
    rng.shuffle(fields)
    for j in range(max(0, n - len(buyers))):
        (p_zh, p_en), (f_zh, f_en) = prefixes[j % 16], fields[j // 16 % 10]
        home = _BUYERS[rng.randrange(len(_BUYERS))]
        kind = ("sme", "sme", "startup", "startup", "lab")[rng.randrange(5)]
        s_zh, s_en = _KIND_SUFFIX[kind]
        branch = j // 160
        zh = p_zh + f_zh + s_zh + (f"第{branch + 1}分部" if branch else "")
        en = f"{p_en} {f_en} {s_en}" + (f" (Branch {branch + 1})" if branch else "")
        buyers.append(BuyerSpec(en, zh, home[2], home[3], kind))
    return buyers[:n]


@dataclass(frozen=True, slots=True)
class _Profile:
    focus: str  # "inference" | "finetune" | "flexible"
    weight: int  # how busy (Zipf-like)
    inference: tuple[str, ...]
    finetune: tuple[str, ...]
    gang: tuple[str, ...]
    interruptible: int  # per mille
    near: tuple[str, ...]  # provinces to restrict to: own first, then neighbours


@cache
def _active_provinces() -> frozenset[str]:
    return frozenset(
        r["province"] for r in read_data_csv("centers.csv") if r["status"] != "planned"
    )


def _subset(rng: Random, models: tuple[str, ...]) -> tuple[str, ...]:
    picked = set(rng.sample(models, rng.randint(2, min(4, len(models)))))
    return tuple(m for m in models if m in picked)


def _profile(buyer: BuyerSpec, rank: int, rng: Random) -> _Profile:
    focuses = {
        "sme": ("inference",) * 6 + ("finetune",) * 2 + ("flexible",) * 2,
        "startup": ("inference",) * 5 + ("finetune",) * 3 + ("flexible",) * 2,
        "lab": ("inference",) * 1 + ("finetune",) * 6 + ("flexible",) * 3,
    }[buyer.kind]
    active = _active_provinces()
    region = region_of(buyer.province)
    others = [p for p in provinces_in(region) if p in active and p != buyer.province]
    rng.shuffle(others)
    own = [buyer.province] if buyer.province in active else []
    return _Profile(
        focus=focuses[rng.randrange(len(focuses))],
        weight=1000 // (rank + 2),
        inference=_subset(rng, INFERENCE_MODELS),
        finetune=_subset(rng, FINETUNE_MODELS),
        gang=_subset(rng, GANG_MODELS),
        interruptible=(150, 200, 250, 300, 350)[rng.randrange(5)],
        near=tuple(own + others) or (buyer.province,),
    )


def _profiles(buyers: list[BuyerSpec], first: int, seed: int) -> list[_Profile]:
    """Profiles of ``buyers``, numbered from ``first``; busyness ranks are shuffled
    within the group."""
    ranks = list(range(len(buyers)))
    Random(f"suanli-ranks:{seed}:{first}").shuffle(ranks)
    return [
        _profile(b, rank, Random(f"suanli-profile:{seed}:{first + i}"))
        for i, (b, rank) in enumerate(zip(buyers, ranks, strict=True))
    ]


def _choose_buyer(rng: Random, profiles: list[_Profile]) -> int:
    ticket = rng.randrange(sum(p.weight for p in profiles))
    for index, profile in enumerate(profiles):
        ticket -= profile.weight
        if ticket < 0:
            return index
    raise AssertionError("unreachable")  # pragma: no cover


def _typical_price(accepted: tuple[str, ...], min_memory_gb: int | None) -> int:
    info = accelerators()
    if accepted:
        return max(info[m].price_fen for m in accepted)
    fits = sorted(a.price_fen for a in info.values() if a.memory_gb >= (min_memory_gb or 0))
    return fits[len(fits) // 2]


def _request(
    offset: int, cards: int, duration: int, buyer: int, p: _Profile, rng: Random
) -> DemandItem:
    roll = rng.randrange(100)
    if cards > 8:
        work = "gang"
    elif cards > 1:
        work = "finetune"
    elif p.focus == "inference":
        work = "inference" if roll < 85 else "finetune"
    elif p.focus == "finetune":
        work = "finetune" if roll < 80 else "inference"
    else:
        work = ("any", "any", "any", "any", "inference", "finetune")[roll % 6]
    any_model = work == "any" or rng.randrange(100) < 8
    accepted: tuple[str, ...] = ()
    min_memory: int | None = None
    if any_model:
        sizes = {"inference": (16, 24, 24), "any": (16, 24, 48)}.get(work, (48, 64, 80))
        min_memory = sizes[rng.randrange(3)]
    else:
        accepted = {"inference": p.inference, "finetune": p.finetune, "gang": p.gang}[work]
    province = None
    if rng.randrange(1000) < 300:
        province = p.near[0] if rng.randrange(3) or len(p.near) == 1 else rng.choice(p.near[1:])
    interruptible = rng.randrange(1000) < p.interruptible
    max_price = None
    if rng.randrange(100) < 85:
        pct = rng.randint(70, 100) if interruptible else rng.randint(105, 135)
        max_price = (_typical_price(accepted, min_memory) * pct + 50) // 100
    gang = cards > 8
    return DemandItem(
        offset_s=offset,
        buyer=buyer,
        cards=cards,
        cards_per_node=8 if gang else None,
        inter_node="infiniband" if gang else None,
        duration_s=duration,
        accepted_models=accepted,
        min_memory_gb=min_memory,
        province=province,
        max_price_fen=max_price,
        interruptible=interruptible,
    )


@cache
def _jobs() -> tuple[tuple[int, int, int], ...]:
    """(offset_s, cards, duration_s) of the packaged day, in submission order."""
    rows = read_data_csv(f"philly_{DAY.isoformat()}.csv")
    return tuple((int(r["offset_s"]), int(r["num_gpus"]), int(r["duration_s"])) for r in rows)


def philly_day(
    day: date | None = None, *, n_buyers: int = 40, seed: int = 7, scale: int = 1
) -> list[DemandItem]:
    """The requests of one replayed day, sorted by offset; deterministic for the arguments.

    ``day`` must be None or 2017-10-05 (the one day packaged). With ``scale`` = k > 1,
    k copies of the day are overlaid: copy c (0-based) jitters each offset by up to
    +-30 minutes (kept within the day) and draws its buyers from indices
    ``c * n_buyers .. (c + 1) * n_buyers - 1``; :func:`demo_buyers` with
    ``n_buyers * scale`` names them all.
    """
    if day is not None and day != DAY:
        raise ValueError(f"only {DAY.isoformat()} of the Philly trace is packaged, not {day}")
    if n_buyers < 1 or scale < 1:
        raise ValueError(f"n_buyers and scale must be >= 1, got {n_buyers} and {scale}")
    buyers = demo_buyers(n_buyers * scale, seed)
    items: list[tuple[int, int, int, DemandItem]] = []
    for copy in range(scale):
        rng = Random(f"suanli-demand:{seed}:{copy}")
        first = copy * n_buyers
        group = _profiles(buyers[first : first + n_buyers], first, seed)
        for row, (offset, cards, duration) in enumerate(_jobs()):
            if copy:
                offset = min(DAY_SECONDS - 1, max(0, offset + rng.randint(-1800, 1800)))
            local = _choose_buyer(rng, group)
            item = _request(offset, cards, duration, first + local, group[local], rng)
            items.append((offset, copy, row, item))
    items.sort(key=lambda entry: entry[:3])
    return [entry[3] for entry in items]
