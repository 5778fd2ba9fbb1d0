"""The accelerator catalog: every card model the exchange can rent out, with cited specs.

Each :class:`Accelerator` row holds the figures the exchange prices and places by: memory,
dense FP16/BF16 tensor throughput, the intra-node link between cards, and the launch year.
Every figure has a :class:`Source` beside it, keyed by the figure's name.

**SCU (standard compute unit).** The exchange prices work in SCUs, not in raw card-hours, so
that an hour on an old card and an hour on a new one can be compared: one SCU is 100 dense
FP16 TFLOPS delivered for one hour. A card-hour on a card with ``fp16_tflops`` dense TFLOPS is
worth ``fp16_tflops / 100`` SCU (an H100 SXM card-hour is 9.894 SCU, a T4 card-hour 0.65 SCU).
Dense means *without* 2:4 structured sparsity: where a vendor publishes only the sparse
figure, the table halves it and says so in the source note.

Conventions used throughout the table:

* ``memory_gb`` is the vendor's nominal on-card memory in GB.
* ``fp16_tflops`` is the dense FP16 (or BF16, where that is what is published) tensor/matrix
  throughput with FP32 accumulate where the vendor distinguishes; which of FP16/BF16 the
  vendor publishes is said in the note.
* ``interconnect_gb_s`` is the per-card intra-node bandwidth, both directions summed, in GB/s
  (PCIe Gen3 x16 = 32, PCIe Gen4 x16 = 64, PCIe Gen5 x16 = 128, NVLink on H100 SXM = 900).

Lookups accept the canonical id (``"H100"``) or any alias seen in real traces
(``"A100-SXM4-80GB"``, ``"Tesla V100-SXM2-32GB"``, ``"910B"``), case-insensitively; see
:func:`get`. No floats appear here: every number is a :class:`~decimal.Decimal` built from a
string, or an int.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Final

__all__ = [
    "ALIASES",
    "DOMESTIC_VENDORS",
    "REQUIRED_SOURCE_KEYS",
    "SCU_TFLOPS",
    "Accelerator",
    "Interconnect",
    "Source",
    "UnknownAcceleratorError",
    "all_accelerators",
    "get",
    "models",
    "scu",
]

SCU_TFLOPS: Final = Decimal("100")
"""Dense FP16 TFLOPS that make up one SCU when delivered for one hour."""

DOMESTIC_VENDORS: Final = frozenset({"Huawei", "Hygon", "Cambricon", "Kunlunxin"})
"""Vendors headquartered in mainland China; ``Accelerator.domestic`` must agree with this."""

REQUIRED_SOURCE_KEYS: Final = ("memory_gb", "fp16_tflops", "interconnect", "year")
"""Figures every row must cite. ``interconnect`` covers both the link kind and its GB/s."""


class Interconnect(StrEnum):
    """The link that joins the cards inside one server (not the network between servers)."""

    PCIE = "pcie"
    """No card-to-card fabric: cards talk through the PCIe host link (and switches)."""
    NVLINK = "nvlink"
    """NVIDIA NVLink, usually all-to-all through NVSwitch on SXM baseboards."""
    HCCS = "hccs"
    """Huawei Cache Coherence System: Ascend 910/910B chip-to-chip links, full mesh in 8-NPU
    servers."""
    UB = "ub"
    """Huawei Unified Bus: the Ascend 910C scale-up fabric of CloudMatrix384 supernodes."""
    XGMI = "xgmi"
    """AMD Infinity Fabric (xGMI) links, as on AMD-derived GPUs."""
    MLU_LINK = "mlu-link"
    """Cambricon MLU-Link: card-to-card links through an MLU-Link bridge."""
    XPU_LINK = "xpu-link"
    """Kunlunxin XPU Link: chip-to-chip links between Kunlunxin OAM modules."""


@dataclass(frozen=True, slots=True)
class Source:
    """Where a figure comes from: an https URL, and a note on how the figure was read."""

    url: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Accelerator:
    """One accelerator model as the exchange rents it out.

    Invariants, checked on construction (``ValueError`` otherwise):

    * ``model`` is a non-empty canonical id without surrounding whitespace;
    * ``memory_gb``, ``interconnect_gb_s`` are positive; ``fp16_tflops`` is a finite, positive
      Decimal (dense, no sparsity);
    * ``domestic`` is true exactly when ``vendor`` is in :data:`DOMESTIC_VENDORS`;
    * ``year`` is a plausible launch year (2010 or later);
    * ``sources`` has an entry for every key in :data:`REQUIRED_SOURCE_KEYS` and every source
      URL is https.
    """

    model: str
    name: str
    vendor: str
    memory_gb: int
    fp16_tflops: Decimal
    interconnect: Interconnect
    interconnect_gb_s: int
    domestic: bool
    year: int
    sources: dict[str, Source] = field(hash=False)

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not self.model or self.model != self.model.strip():
            problems.append("model must be a non-empty id without surrounding whitespace")
        if self.memory_gb <= 0:
            problems.append("memory_gb must be positive")
        if not isinstance(self.fp16_tflops, Decimal):
            problems.append("fp16_tflops must be a Decimal")
        elif not self.fp16_tflops.is_finite() or self.fp16_tflops <= 0:
            problems.append("fp16_tflops must be finite and positive")
        if self.interconnect_gb_s <= 0:
            problems.append("interconnect_gb_s must be positive")
        if self.domestic != (self.vendor in DOMESTIC_VENDORS):
            problems.append(f"domestic={self.domestic} disagrees with vendor {self.vendor!r}")
        if self.year < 2010:
            problems.append("year must be 2010 or later")
        missing = [key for key in REQUIRED_SOURCE_KEYS if key not in self.sources]
        if missing:
            problems.append(f"missing sources for {', '.join(missing)}")
        insecure = [key for key, src in self.sources.items() if not src.url.startswith("https://")]
        if insecure:
            problems.append(f"non-https source URL for {', '.join(insecure)}")
        if problems:
            raise ValueError(f"invalid accelerator {self.model!r}: {'; '.join(problems)}")

    @property
    def scu_per_card_hour(self) -> Decimal:
        """SCUs earned by one hour on one card: ``fp16_tflops / 100``."""
        return self.fp16_tflops / SCU_TFLOPS


class UnknownAcceleratorError(ValueError):
    """Raised by :func:`get` for a name that is neither a canonical id nor an alias."""

    def __init__(self, model: str, known: tuple[str, ...]) -> None:
        self.model = model
        self.known = known
        super().__init__(f"unknown accelerator model {model!r}; known models: {', '.join(known)}")


# ---------------------------------------------------------------------------------------------
# Source URLs used by more than one row.
# ---------------------------------------------------------------------------------------------

_GLENN_H100 = "https://glennklockwood.com/garden/processors/h100"
_HPCTECH_H100 = "https://archive-lib.hpctech.co.jp/gpuproduct/nvidia-h100.html"
_AIWIKI_H800 = "https://aiwiki.ai/wiki/nvidia_h800"
_AIWIKI_A800 = "https://aiwiki.ai/wiki/nvidia_a800"
_GLENN_A100 = "https://glennklockwood.com/garden/processors/A100"
_LLM_CAL = (
    "https://github.com/FlyTOmeLight/llm-cal/blob/HEAD/src/llm_cal/hardware/gpu_database.yaml"
)
_MULLET_L40S = "https://www.mullet.se/product.html?product_id=355414"
_TECHCITY_L20 = "https://technical.city/pl/video/L20"
_WAREDB_4090 = "https://waredb.com/processor/nvidia-geforce-rtx-4090"
_NV_VOLTA_TENSOR = "https://developer.nvidia.com/programming-tensor-cores-cuda-9-0"
_TOMSHW_V100 = (
    "https://tomshw.it/hardware/storia-delle-gpu-nvidia/architettura-volta-ecco-tesla-v100"
)
_SYSRQ_T4 = "https://sysrqmts.com/en/gpus/nvidia/tesla/t4"
_SYSRQ_A10 = "https://sysrqmts.com/ru/gpus/compare/nvidia-a10-pcie-vs-nvidia-quadro-rtx-4000"
_GITEE_910B = "https://ai.gitee.com/docs/compute/clusters_gpu/ascend_gpu"
_ARXIV_CM384 = "https://arxiv.org/abs/2506.12708"
_HUAWEI_ROADMAP = "https://reportify.ai/social-media/721274785461778"
_HBLAS_DCU = "https://github.com/wangzy0327/hblas-bench/blob/HEAD/DCU-bench.md"
_MIRROR_K100 = (
    "https://github.com/charlesqing/mirrorfrog/blob/HEAD/docs/cards/others/hygon-dcu-k100.md"
)
_MIRROR_P800 = (
    "https://github.com/charlesqing/mirrorfrog/blob/HEAD/docs/cards/others/kunlun-p800.md"
)
_CAMBRICON_370 = "https://cambricon.com/index.php?a=lists&c=index&catid=406&m=content"
_ERNIE_XPU = "https://github.com/PaddlePaddle/ERNIE/blob/HEAD/docs/devices/README_XPU.md"

_UNVERIFIED = "UNVERIFIED: "

# ---------------------------------------------------------------------------------------------
# The table. Order is stable and is the order of all_accelerators() and models().
# ---------------------------------------------------------------------------------------------

_TABLE: tuple[Accelerator, ...] = (
    Accelerator(
        model="H100",
        name="NVIDIA H100 SXM5 80GB",
        vendor="NVIDIA",
        memory_gb=80,
        fp16_tflops=Decimal("989.4"),
        interconnect=Interconnect.NVLINK,
        interconnect_gb_s=900,
        domestic=False,
        year=2022,
        sources={
            "memory_gb": Source(_HPCTECH_H100, "H100 SXM: 80 GB HBM3 (NVIDIA datasheet table)."),
            "fp16_tflops": Source(
                _GLENN_H100,
                "FP16/BF16 matrix 989.4 dense, 1978.9 sparse. The NVIDIA datasheet lists only "
                "'1,979 TFLOPS*' with sparsity (see hpctech copy); halved = dense.",
            ),
            "interconnect": Source(_GLENN_H100, "900 GB/s NVLink (4th gen), bidirectional."),
            "year": Source("https://www.pcmag.com/encyclopedia/term/h100", "Introduced 2022."),
        },
    ),
    Accelerator(
        model="H800",
        name="NVIDIA H800 SXM5 80GB",
        vendor="NVIDIA",
        memory_gb=80,
        fp16_tflops=Decimal("989.4"),
        interconnect=Interconnect.NVLINK,
        interconnect_gb_s=400,
        domestic=False,
        year=2023,
        sources={
            "memory_gb": Source(_LLM_CAL, "H800: 80 GB HBM, same as H100 SXM."),
            "fp16_tflops": Source(
                _AIWIKI_H800,
                "Same GH100 silicon as H100; only NVLink and FP64 were cut, so dense FP16/BF16 "
                "equals H100 SXM (989.4). NVIDIA's H800 sheet shows 1,979 with sparsity; halved.",
            ),
            "interconnect": Source(
                _AIWIKI_H800, "NVLink cut to 400 GB/s aggregate bidirectional (H100: 900)."
            ),
            "year": Source(_AIWIKI_H800, "Launched 2023-03-21."),
        },
    ),
    Accelerator(
        model="H20",
        name="NVIDIA H20 96GB",
        vendor="NVIDIA",
        memory_gb=96,
        fp16_tflops=Decimal("148"),
        interconnect=Interconnect.NVLINK,
        interconnect_gb_s=900,
        domestic=False,
        year=2024,
        sources={
            "memory_gb": Source("https://willitrunai.com/es/gpus/h20-96gb", "96 GB HBM3."),
            "fp16_tflops": Source(
                "https://zangshuxian.com/new/674733024499207168",
                "FP16 dense (稠密) 148 TFLOPS; BF16 the same. Not a sparsity figure.",
            ),
            "interconnect": Source(
                "https://willitrunai.com/es/gpus/h20-96gb", "NVLink 4.0, 900 GB/s retained."
            ),
            "year": Source(_LLM_CAL, "Released 2024 as the China-compliant successor to H800."),
        },
    ),
    Accelerator(
        model="A100-80GB",
        name="NVIDIA A100 SXM4 80GB",
        vendor="NVIDIA",
        memory_gb=80,
        fp16_tflops=Decimal("312"),
        interconnect=Interconnect.NVLINK,
        interconnect_gb_s=600,
        domestic=False,
        year=2020,
        sources={
            "memory_gb": Source(_GLENN_A100, "A100 80G SXM4: 80 GB HBM2e."),
            "fp16_tflops": Source(
                _GLENN_A100, "FP16 and BF16 matrix 312 dense, 624 sparse (NVIDIA datasheet)."
            ),
            "interconnect": Source(_GLENN_A100, "NVLink 300+300 GB/s = 600 GB/s bidirectional."),
            "year": Source(
                "https://huggingface.co/spaces/lambdabrendan/Lambda-LLM-Calculator/blame/main/"
                "data/gpu_specs.csv",
                "A100 SXM4 80 GB released 2020-11-16.",
            ),
        },
    ),
    Accelerator(
        model="A800",
        name="NVIDIA A800 SXM4 80GB",
        vendor="NVIDIA",
        memory_gb=80,
        fp16_tflops=Decimal("312"),
        interconnect=Interconnect.NVLINK,
        interconnect_gb_s=400,
        domestic=False,
        year=2022,
        sources={
            "memory_gb": Source(
                "https://hmc-tech.com/gpu/nvidia-a800-vs-nvidia-t40", "A800: 80 GB HBM2e."
            ),
            "fp16_tflops": Source(
                _AIWIKI_A800,
                "Same GA100 as A100, compute unchanged: 312 dense FP16/BF16 (hmc-tech lists "
                "311.87 dense, 623.74 sparse).",
            ),
            "interconnect": Source(_AIWIKI_A800, "NVLink reduced from 600 to 400 GB/s."),
            "year": Source(_AIWIKI_A800, "Confirmed by NVIDIA 2022-11-07; in production Q3 2022."),
        },
    ),
    Accelerator(
        model="L40S",
        name="NVIDIA L40S 48GB",
        vendor="NVIDIA",
        memory_gb=48,
        fp16_tflops=Decimal("362.05"),
        interconnect=Interconnect.PCIE,
        interconnect_gb_s=64,
        domestic=False,
        year=2023,
        sources={
            "memory_gb": Source(_MULLET_L40S, "48 GB GDDR6 with ECC (datasheet table)."),
            "fp16_tflops": Source(
                _MULLET_L40S, "FP16 and BF16 Tensor Core 362.05 dense | 733* with sparsity."
            ),
            "interconnect": Source(
                _MULLET_L40S, "PCIe Gen4 x16: 64 GB/s bidirectional; no NVLink."
            ),
            "year": Source("https://grokipedia.com/page/NVIDIA_L4_vs_L40S", "Announced 2023-08."),
        },
    ),
    Accelerator(
        model="L20",
        name="NVIDIA L20 48GB",
        vendor="NVIDIA",
        memory_gb=48,
        fp16_tflops=Decimal("119.5"),
        interconnect=Interconnect.PCIE,
        interconnect_gb_s=64,
        domestic=False,
        year=2023,
        sources={
            "memory_gb": Source(_TECHCITY_L20, "48 GB GDDR6."),
            "fp16_tflops": Source(
                "https://github.com/DefTruth/CUDA-Learn-Notes/blob/HEAD/hgemm/README.md",
                "Theoretical Tensor Core FP16 119.5 TFLOPS; the author measures ~115 TFLOPS with "
                "a dense HGEMM, so 119.5 is the dense figure (one third-party sheet calls it "
                "the sparse one; that is contradicted by this measurement).",
            ),
            "interconnect": Source(_TECHCITY_L20, "PCIe 4.0 x16 (64 GB/s bidirectional)."),
            "year": Source(_TECHCITY_L20, "On sale from 2023-11-16."),
        },
    ),
    Accelerator(
        model="RTX4090",
        name="NVIDIA GeForce RTX 4090 24GB",
        vendor="NVIDIA",
        memory_gb=24,
        fp16_tflops=Decimal("165.2"),
        interconnect=Interconnect.PCIE,
        interconnect_gb_s=64,
        domestic=False,
        year=2022,
        sources={
            "memory_gb": Source(_WAREDB_4090, "24 GB GDDR6X."),
            "fp16_tflops": Source(
                _WAREDB_4090,
                "FP16/BF16 tensor 165.15 dense, 330.30 sparse: the FP32-accumulate rate, the "
                "one comparable with datacenter cards (FP16-accumulate is 2x on GeForce).",
            ),
            "interconnect": Source(
                "https://vicadia.com/nvidia-geforce-rtx-40-series-specs-release-date-price/",
                "RTX 40 series stays on PCIe Gen 4 (x16 = 64 GB/s); no NVLink.",
            ),
            "year": Source(
                "https://www.pcgamer.com/"
                "nvidia-geforce-rtx-4090-release-date-price-specs-performance/",
                "Released 2022-10-12.",
            ),
        },
    ),
    Accelerator(
        model="V100",
        name="NVIDIA Tesla V100 SXM2 32GB",
        vendor="NVIDIA",
        memory_gb=32,
        fp16_tflops=Decimal("125"),
        interconnect=Interconnect.NVLINK,
        interconnect_gb_s=300,
        domestic=False,
        year=2018,
        sources={
            "memory_gb": Source(
                "https://www.gamersnexus.net/news-pc/3270-nvidia-tesla-v100-accelerator-32gb-hbm2",
                "V100 memory doubled to 32 GB HBM2 (GTC 2018); rest of the GPU unchanged.",
            ),
            "fp16_tflops": Source(
                _NV_VOLTA_TENSOR,
                "Up to 125 Tensor TFLOPS (FP16 multiply, FP32 accumulate); Volta has no sparsity.",
            ),
            "interconnect": Source(_TOMSHW_V100, "NVLink 2nd gen, 300 GB/s."),
            "year": Source(
                "https://www.gamersnexus.net/news-pc/3270-nvidia-tesla-v100-accelerator-32gb-hbm2",
                "32 GB V100 announced at GTC 2018.",
            ),
        },
    ),
    Accelerator(
        model="V100-16GB",
        name="NVIDIA Tesla V100 SXM2 16GB",
        vendor="NVIDIA",
        memory_gb=16,
        fp16_tflops=Decimal("125"),
        interconnect=Interconnect.NVLINK,
        interconnect_gb_s=300,
        domestic=False,
        year=2017,
        sources={
            "memory_gb": Source(_TOMSHW_V100, "16 GB HBM2 at 900 GB/s."),
            "fp16_tflops": Source(
                _NV_VOLTA_TENSOR,
                "Up to 125 Tensor TFLOPS (FP16 multiply, FP32 accumulate); Volta has no sparsity.",
            ),
            "interconnect": Source(_TOMSHW_V100, "NVLink 2nd gen, 300 GB/s."),
            "year": Source(_TOMSHW_V100, "Unveiled at GTC, May 2017."),
        },
    ),
    Accelerator(
        model="T4",
        name="NVIDIA Tesla T4 16GB",
        vendor="NVIDIA",
        memory_gb=16,
        fp16_tflops=Decimal("65"),
        interconnect=Interconnect.PCIE,
        interconnect_gb_s=32,
        domestic=False,
        year=2018,
        sources={
            "memory_gb": Source(_SYSRQ_T4, "16 GB GDDR6."),
            "fp16_tflops": Source(
                _SYSRQ_T4,
                "FP16 65.13 TFLOPS (Tensor Core, mixed precision; NVIDIA quotes 65). Turing has "
                "no sparsity.",
            ),
            "interconnect": Source(_SYSRQ_T4, "PCIe 3.0 x16 (32 GB/s bidirectional)."),
            "year": Source(_SYSRQ_T4, "Released 2018-09-13."),
        },
    ),
    Accelerator(
        model="A10",
        name="NVIDIA A10 24GB",
        vendor="NVIDIA",
        memory_gb=24,
        fp16_tflops=Decimal("125"),
        interconnect=Interconnect.PCIE,
        interconnect_gb_s=64,
        domestic=False,
        year=2021,
        sources={
            "memory_gb": Source(_SYSRQ_A10, "24 GB GDDR6."),
            "fp16_tflops": Source(
                _LLM_CAL,
                "A10: 125 TFLOPS dense FP16/BF16 tensor, per the NVIDIA A10 datasheet "
                "(125 TF dense | 250 TF with sparsity).",
            ),
            "interconnect": Source(_SYSRQ_A10, "PCIe 4.0 x16 (64 GB/s bidirectional); no NVLink."),
            "year": Source(_SYSRQ_A10, "Released 2021-04-12."),
        },
    ),
    Accelerator(
        model="P100",
        name="NVIDIA Tesla P100 PCIe 16GB",
        vendor="NVIDIA",
        memory_gb=16,
        fp16_tflops=Decimal("18.7"),
        interconnect=Interconnect.PCIE,
        interconnect_gb_s=32,
        domestic=False,
        year=2016,
        sources={
            "memory_gb": Source(
                "https://cputronic.com/gpu/nvidia-tesla-p100-pcie-16-gb", "16 GB HBM2."
            ),
            "fp16_tflops": Source(
                "https://www.tomshardware.com/news/nvidia-tesla-p100-pcie-gpu,32119.html",
                "PCIe variant: 18.7 TFLOPS half precision (no tensor cores: packed FP16 on CUDA "
                "cores). The SXM2/NVLink P100 is 21.2; we list the PCIe card.",
            ),
            "interconnect": Source(
                "https://cputronic.com/gpu/nvidia-tesla-p100-pcie-16-gb",
                "PCIe 3.0 x16 (32 GB/s bidirectional).",
            ),
            "year": Source(
                "https://cputronic.com/gpu/nvidia-tesla-p100-pcie-16-gb", "Launched June 2016."
            ),
        },
    ),
    Accelerator(
        model="Ascend910B",
        name="Huawei Ascend 910B (910B3, 64GB)",
        vendor="Huawei",
        memory_gb=64,
        fp16_tflops=Decimal("313"),
        interconnect=Interconnect.HCCS,
        interconnect_gb_s=392,
        domestic=True,
        year=2023,
        sources={
            "memory_gb": Source(_GITEE_910B, "64 GB HBM2e (a rental provider's 910B spec page)."),
            "fp16_tflops": Source(
                _LLM_CAL,
                "910B3 variant: FP16 313 TFLOPS (Huawei publishes FP16 only; no sparsity). "
                "Variants differ: 910B1 414, 910B2 376, 910B3 313, 910B4 280 (32 GB). Huawei "
                "has no public per-variant datasheet; figures are community-compiled.",
            ),
            "interconnect": Source(
                _GITEE_910B,
                "HCCS, 8 NPUs fully meshed per server. " + _UNVERIFIED + "392 GB/s is the "
                "commonly quoted 7 links x 56 GB/s; no Huawei datasheet found for it.",
            ),
            "year": Source(
                "https://locsic.com/thinking/kadc2026-ascend-supernode-architecture/",
                "910B generation 2023-2024.",
            ),
        },
    ),
    Accelerator(
        model="Ascend910C",
        name="Huawei Ascend 910C",
        vendor="Huawei",
        memory_gb=128,
        fp16_tflops=Decimal("752"),
        interconnect=Interconnect.UB,
        interconnect_gb_s=784,
        domestic=True,
        year=2025,
        sources={
            "memory_gb": Source(
                "https://chinaresearchcollective.substack.com/p/"
                "huawei-ascend-cloudmatrix-384-supernode",
                "~48 TB HBM over 384 NPUs in CloudMatrix384, i.e. 128 GB per 910C (2 dies x 64 "
                "GB, per Huawei's CloudMatrix384 paper, arXiv 2506.12708).",
            ),
            "fp16_tflops": Source(
                _ARXIV_CM384,
                "Huawei's CloudMatrix384 paper: dual-die package, up to 752 TFLOPS dense "
                "BF16/FP16. Huawei's 2025 roadmap rounds this to '800 TFLOPS FP16'.",
            ),
            "interconnect": Source(
                _HUAWEI_ROADMAP,
                "Huawei Connect 2025 roadmap: 910C interconnect 784 GB/s (UB plane, >392 GB/s "
                "each way per the CloudMatrix384 paper).",
            ),
            "year": Source(_HUAWEI_ROADMAP, "910C launched Q1 2025 per Huawei's roadmap."),
        },
    ),
    Accelerator(
        model="DCU-K100",
        name="Hygon DCU K100 64GB",
        vendor="Hygon",
        memory_gb=64,
        fp16_tflops=Decimal("100"),
        interconnect=Interconnect.PCIE,
        interconnect_gb_s=64,
        domestic=True,
        year=2023,
        sources={
            "memory_gb": Source(_HBLAS_DCU, "Table of official K100 / K100 AI specs: 64 GB."),
            "fp16_tflops": Source(
                _HBLAS_DCU,
                "K100 (HPC SKU, not K100_AI): FP16 100 TFLOPS, no matrix cores, so no sparsity. "
                "The K100_AI SKU is a separate row (196).",
            ),
            "interconnect": Source(
                _HBLAS_DCU,
                "PCIe card. " + _UNVERIFIED + "the PCIe generation is not in any source found; "
                "Gen4 x16 (64 GB/s) is assumed as a floor.",
            ),
            "year": Source(
                _MIRROR_K100,
                _UNVERIFIED + "K100 dated 2023 (深算二号) by a community page; Hygon's naming "
                "of DCU generations is inconsistent across public material.",
            ),
        },
    ),
    Accelerator(
        model="DCU-K100-AI",
        name="Hygon DCU K100_AI 64GB",
        vendor="Hygon",
        memory_gb=64,
        fp16_tflops=Decimal("196"),
        interconnect=Interconnect.PCIE,
        interconnect_gb_s=64,
        domestic=True,
        year=2024,
        sources={
            "memory_gb": Source(_HBLAS_DCU, "K100 AI: 64 GB at 896 GB/s."),
            "fp16_tflops": Source(
                _HBLAS_DCU,
                "K100 AI: FP16 196 and BF16 196 TFLOPS (official table reproduced by the "
                "author); no sparsity claimed. Other community pages say 192-200.",
            ),
            "interconnect": Source(
                _HBLAS_DCU,
                "PCIe card. " + _UNVERIFIED + "one community page claims PCIe 5.0 (128 GB/s); "
                "not confirmed, Gen4 x16 (64 GB/s) is assumed as a floor.",
            ),
            "year": Source(_MIRROR_K100, _UNVERIFIED + "K100 AI version on sale 2024."),
        },
    ),
    Accelerator(
        model="MLU370",
        name="Cambricon MLU370-X8 48GB",
        vendor="Cambricon",
        memory_gb=48,
        fp16_tflops=Decimal("96"),
        interconnect=Interconnect.MLU_LINK,
        interconnect_gb_s=200,
        domestic=True,
        year=2022,
        sources={
            "memory_gb": Source(_CAMBRICON_370, "MLU370-X8 (not S4/X4): 48 GB LPDDR5, 614.4 GB/s."),
            "fp16_tflops": Source(
                _CAMBRICON_370,
                "MLU370-X8 peak FP16 96 and BF16 96 TFLOPS (vendor; no sparsity claimed).",
            ),
            "interconnect": Source(
                _CAMBRICON_370,
                "MLU-Link bridge, 4 cards / 8 chips fully connected, 200 GB/s per card (~3.1x "
                "PCIe 4.0), per Cambricon's X8 launch release.",
            ),
            "year": Source(
                _CAMBRICON_370,
                "X8 launched 2022-03 (release mirrored at "
                "http://www.rencaizhenjiang.com/news/hard/20220324/124384.html).",
            ),
        },
    ),
    Accelerator(
        model="P800",
        name="Kunlunxin P800 (OAM) 96GB",
        vendor="Kunlunxin",
        memory_gb=96,
        fp16_tflops=Decimal("345"),
        interconnect=Interconnect.PCIE,
        interconnect_gb_s=128,
        domestic=True,
        year=2024,
        sources={
            "memory_gb": Source(
                _ERNIE_XPU, "Baidu's ERNIE docs: 'KunlunxinP800 96GB'; xpu_smi shows 98304 MiB."
            ),
            "fp16_tflops": Source(
                _MIRROR_P800,
                _UNVERIFIED + "FP16 345 TFLOPS is the press-reported figure; Kunlunxin publishes "
                "no datasheet, and sparsity is not mentioned (taken as dense).",
            ),
            "interconnect": Source(
                _ERNIE_XPU,
                _UNVERIFIED + "8-card P800 OAM servers also have Kunlunxin XPU Link, but no "
                "bandwidth was found; only the PCIe Gen5 x16 host link (128 GB/s) is counted.",
            ),
            "year": Source("https://reportify.ai/news/1186334856787922944", "P800 launched 2024."),
        },
    ),
)

# ---------------------------------------------------------------------------------------------
# Aliases: names seen in traces, nvidia-smi/npu-smi/xpu_smi output and listings -> canonical id.
# Matching is case-insensitive and whitespace-collapsed (see _key).
# ---------------------------------------------------------------------------------------------

_ALIASES: dict[str, str] = {
    # H100
    "H100-SXM": "H100",
    "H100-SXM5": "H100",
    "H100 SXM": "H100",
    "H100 SXM5": "H100",
    "H100-80GB": "H100",
    "H100-SXM5-80GB": "H100",
    "NVIDIA H100": "H100",
    "NVIDIA H100 80GB HBM3": "H100",
    # H800
    "H800-SXM": "H800",
    "H800-SXM5": "H800",
    "H800-80GB": "H800",
    "NVIDIA H800": "H800",
    "NVIDIA H800 80GB HBM3": "H800",
    # H20
    "H20-96GB": "H20",
    "H20-96G": "H20",
    "NVIDIA H20": "H20",
    # A100 80GB SXM4 (bare "A100" is ambiguous with the 40GB card and is not an alias)
    "A100-SXM4-80GB": "A100-80GB",
    "NVIDIA A100-SXM4-80GB": "A100-80GB",
    "A100 80GB": "A100-80GB",
    "A100-80G": "A100-80GB",
    "A100-SXM-80GB": "A100-80GB",
    # A800
    "A800-SXM4-80GB": "A800",
    "NVIDIA A800-SXM4-80GB": "A800",
    "A800-80GB": "A800",
    "A800 80GB": "A800",
    # L40S ("L40s" matches the id case-insensitively)
    "L40-S": "L40S",
    "NVIDIA L40S": "L40S",
    # L20
    "L20-48GB": "L20",
    "NVIDIA L20": "L20",
    # RTX 4090
    "RTX 4090": "RTX4090",
    "RTX-4090": "RTX4090",
    "4090": "RTX4090",
    "GeForce RTX 4090": "RTX4090",
    "NVIDIA GeForce RTX 4090": "RTX4090",
    # V100 32GB SXM2
    "V100M32": "V100",
    "V100-32GB": "V100",
    "V100 32GB": "V100",
    "V100-SXM2-32GB": "V100",
    "Tesla V100-SXM2-32GB": "V100",
    # V100 16GB SXM2
    "V100M16": "V100-16GB",
    "V100 16GB": "V100-16GB",
    "V100-SXM2-16GB": "V100-16GB",
    "Tesla V100-SXM2-16GB": "V100-16GB",
    # T4
    "Tesla T4": "T4",
    "NVIDIA T4": "T4",
    "T4-16GB": "T4",
    # A10 (not A10G, which is a different AWS-only part)
    "NVIDIA A10": "A10",
    "A10-24GB": "A10",
    # P100 16GB PCIe
    "P100-16GB": "P100",
    "P100-PCIE-16GB": "P100",
    "Tesla P100-PCIE-16GB": "P100",
    "Tesla P100": "P100",
    # Ascend 910B (the 64 GB training parts; 910B4 is 32 GB and not an alias)
    "910B": "Ascend910B",
    "910B3": "Ascend910B",
    "Ascend 910B": "Ascend910B",
    "Ascend-910B": "Ascend910B",
    "Ascend910B3": "Ascend910B",
    "Ascend 910B3": "Ascend910B",
    "昇腾910B": "Ascend910B",
    # Ascend 910C
    "910C": "Ascend910C",
    "Ascend 910C": "Ascend910C",
    "Ascend-910C": "Ascend910C",
    "昇腾910C": "Ascend910C",
    # Hygon DCU K100 (HPC SKU)
    "K100": "DCU-K100",
    "DCU K100": "DCU-K100",
    "Hygon K100": "DCU-K100",
    "Hygon DCU K100": "DCU-K100",
    # Hygon DCU K100_AI
    "K100_AI": "DCU-K100-AI",
    "K100-AI": "DCU-K100-AI",
    "K100AI": "DCU-K100-AI",
    "K100 AI": "DCU-K100-AI",
    "DCU K100_AI": "DCU-K100-AI",
    "Hygon K100-AI": "DCU-K100-AI",
    "Hygon K100_AI": "DCU-K100-AI",
    # Cambricon MLU370-X8
    "MLU370-X8": "MLU370",
    "MLU370 X8": "MLU370",
    "MLU370X8": "MLU370",
    "Cambricon MLU370-X8": "MLU370",
    # Kunlunxin P800
    "Kunlunxin P800": "P800",
    "KunlunxinP800": "P800",
    "Kunlun P800": "P800",
    "Kunlun-P800": "P800",
    "P800 OAM": "P800",
    "昆仑芯P800": "P800",
    "昆仑芯 P800": "P800",
}

ALIASES: Final[Mapping[str, str]] = MappingProxyType(_ALIASES)
"""Read-only alias -> canonical id map (aliases as written; lookups ignore case)."""

# Vendor words that traces put in front of a model name ("NVIDIA A10", "Tesla T4").
_VENDOR_PREFIXES: tuple[str, ...] = (
    "nvidia ",
    "tesla ",
    "geforce ",
    "huawei ",
    "hygon ",
    "cambricon ",
    "kunlunxin ",
)


def _key(name: str) -> str:
    """Normalize a name for lookup: collapse whitespace, ignore case."""
    return " ".join(name.split()).casefold()


def _build_index() -> tuple[dict[str, Accelerator], dict[str, str]]:
    by_id: dict[str, Accelerator] = {}
    for acc in _TABLE:
        if acc.model in by_id:
            raise ValueError(f"duplicate accelerator id {acc.model!r}")
        by_id[acc.model] = acc
    index: dict[str, str] = {}
    for acc in _TABLE:
        key = _key(acc.model)
        if key in index:
            raise ValueError(f"accelerator ids {index[key]!r} and {acc.model!r} collide")
        index[key] = acc.model
    for alias, target in _ALIASES.items():
        if target not in by_id:
            raise ValueError(f"alias {alias!r} points at unknown id {target!r}")
        key = _key(alias)
        if index.get(key, target) != target:
            raise ValueError(f"alias {alias!r} collides with {index[key]!r}")
        index[key] = target
    return by_id, index


_BY_ID, _INDEX = _build_index()
_MODELS: tuple[str, ...] = tuple(acc.model for acc in _TABLE)


def get(model: str) -> Accelerator:
    """Return the accelerator for a canonical id or alias, ignoring case and extra spaces.

    A leading vendor word ("NVIDIA", "Tesla", "GeForce", ...) is also tolerated, so the names
    nvidia-smi prints resolve. Raises :class:`UnknownAcceleratorError` (a ``ValueError``)
    naming the model and listing the known ids.
    """
    key = _key(model)
    target = _INDEX.get(key)
    if target is None:
        for prefix in _VENDOR_PREFIXES:
            if key.startswith(prefix):
                target = _INDEX.get(key.removeprefix(prefix).strip())
                if target is not None:
                    break
    if target is None:
        raise UnknownAcceleratorError(model, _MODELS)
    return _BY_ID[target]


def all_accelerators() -> tuple[Accelerator, ...]:
    """Every accelerator in the catalog, in table order (stable across calls)."""
    return _TABLE


def models() -> tuple[str, ...]:
    """The canonical ids, in table order."""
    return _MODELS


def scu(model: str, card_hours: Decimal) -> Decimal:
    """SCUs delivered by ``card_hours`` hours on one card (or card-hours summed) of ``model``.

    ``card_hours`` must be a finite, non-negative Decimal; floats are refused so that no
    binary rounding leaks into money.
    """
    if not isinstance(card_hours, Decimal):
        raise TypeError(f"card_hours must be a Decimal, not {type(card_hours).__name__}")
    if not card_hours.is_finite() or card_hours < 0:
        raise ValueError(f"card_hours must be finite and non-negative, got {card_hours}")
    return get(model).scu_per_card_hour * card_hours
