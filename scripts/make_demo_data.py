"""Derive the small data files packaged in ``suanli/demo/data`` from the real data.

Reads the public data in the shared data folder (default ``../shared/data`` beside the
checkout, see its README.md) and writes, deterministically:

- ``centers.csv``       Chinese intelligent computing centers (slim copy + accelerator plan)
- ``node_shapes.csv``   GPU node shapes aggregated from two Alibaba fleets (+ typical
                        shapes of domestic accelerator servers)
- ``accelerators.csv``  per-model specs and list price in fen per card-hour
- ``philly_2017-10-05.csv``  one busy day of the Microsoft Philly job trace

Every rule and assumption applied here is described in ``suanli/demo/data/README.md``.
Usage: ``python scripts/make_demo_data.py [--src ../shared/data] [--out src/suanli/demo/data]``
"""

from __future__ import annotations

import argparse
import csv
import statistics
from collections import Counter
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SRC = ROOT.parent / "shared" / "data"
DEFAULT_OUT = ROOT / "src" / "suanli" / "demo" / "data"

PHILLY_DAY = "2017-10-05"

# Trace model name -> catalog id. "GPU-series-1" and "MISC" are undisclosed in the traces;
# the mapping of those is an assumption (see the data README).
SPOT_MODEL = {
    "A10": "A10",
    "A100-SXM4-80GB": "A100-80GB",
    "A800-SXM4-80GB": "A800",
    "H800": "H800",
    "GPU-series-2": "H20",  # 8-card, 192-vCPU hosts like the H800's: the China-market H20
}
PAI_MODEL = {
    "P100": "P100",
    "T4": "T4",
    "V100M32": "V100",
    "V100": "V100-16GB",
    "MISC": "RTX4090",
}

# Typical servers of the domestic accelerators (not in any trace): cards, vCPU, memory GB.
DOMESTIC_SHAPES = {
    "Ascend910B": (8, 192, 1024),  # Atlas 800T A2: 8 NPUs, 4x Kunpeng 920 48-core
    "Ascend910C": (8, 192, 1536),  # CloudMatrix 384 compute node: 8 NPUs, 4x Kunpeng 920
    "DCU-K100": (8, 128, 1024),  # Sugon 8-DCU server, 2x Hygon 32-core (SMT2)
    "MLU370": (8, 112, 768),  # 8x MLU370-X8 4U server, 2x Xeon 28-core (HT)
    "P800": (8, 192, 1024),  # Kunlunxin P800 8-card server, 2x Xeon 48-core (HT)
}

# model -> (vendor, domestic, dense FP16 tensor TFLOPS, memory GB): the figures of the
# suanli.catalog.accelerators table (which cites a source for each), copied here.
SPECS: dict[str, tuple[str, bool, float, int]] = {
    "H100": ("NVIDIA", False, 989.4, 80),
    "H800": ("NVIDIA", False, 989.4, 80),
    "H20": ("NVIDIA", False, 148.0, 96),
    "A100-80GB": ("NVIDIA", False, 312.0, 80),
    "A800": ("NVIDIA", False, 312.0, 80),
    "L40S": ("NVIDIA", False, 362.05, 48),
    "L20": ("NVIDIA", False, 119.5, 48),
    "RTX4090": ("NVIDIA", False, 165.2, 24),
    "V100": ("NVIDIA", False, 125.0, 32),
    "V100-16GB": ("NVIDIA", False, 125.0, 16),
    "T4": ("NVIDIA", False, 65.0, 16),
    "A10": ("NVIDIA", False, 125.0, 24),
    "P100": ("NVIDIA", False, 18.7, 16),
    "Ascend910B": ("Huawei", True, 313.0, 64),
    "Ascend910C": ("Huawei", True, 752.0, 128),
    "DCU-K100": ("Hygon", True, 100.0, 64),
    "MLU370": ("Cambricon", True, 96.0, 48),
    "P800": ("Kunlunxin", True, 345.0, 96),
}

# Price observations (accelerator column of gpu_rental_prices.csv) -> catalog id.
PRICE_NAMES = {"RTX 4090": "RTX4090", "T4 16GB": "T4", "A800 80GB": "A800", "H20 96GB": "H20"}
# Same chip and memory as an observed model: take its price.
PRICE_TWINS = {"A100-80GB": "A800"}
# Anchor: an 8-card H100 server at ~CNY 72,500/month (2024-25), 730 h/month.
ANCHOR_FEN = 72_500 * 100 / (8 * 730)
ANCHOR_TFLOPS, ANCHOR_MEM = 989.4, 80
DOMESTIC_FACTOR = 0.75


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    print(f"wrote {path.name}: {len(rows)} rows, {path.stat().st_size} bytes")


def accelerator_plan(accelerators: str, operator: str) -> tuple[list[str], bool]:
    """Domestic models a center lists, and whether it also lists NVIDIA pools."""
    acc, op = accelerators.lower(), operator.lower()
    sugon = "sugon" in op or "曙光" in op
    domestic: list[str] = []
    if "cloudmatrix" in acc or "new-generation ascend" in acc:
        domestic.append("Ascend910C")
    elif "ascend" in acc or "huawei" in acc:
        domestic.append("Ascend910B")
    if "kunlun" in acc or "baidu" in op:
        domestic.append("P800")
    if "cambricon" in acc:
        domestic.append("MLU370")
    if "hygon" in acc or "dcu" in acc or sugon:
        domestic.append("DCU-K100")
    if not domestic and ("domestic" in acc or "enflame" in acc):
        domestic.append("Ascend910B")  # unnamed domestic family, or Enflame (not in catalog)
    if not domestic:
        nvidia = True
    elif acc:  # the source names the accelerators: NVIDIA only if it also says GPU
        nvidia = "gpu" in acc or "other card pools" in acc
    else:  # inferred from the operator: Baidu runs NVIDIA beside Kunlunxin, Sugon does not
        nvidia = not sugon
    return domestic, nvidia


def make_centers(src: Path, out: Path) -> None:
    rows = []
    for r in _rows(src / "china" / "china_ai_centers.csv"):
        domestic, nvidia = accelerator_plan(r["accelerators"], r["operator"])
        rows.append(
            [
                r["name_zh"],
                r["name_en"],
                r["province"],
                r["city"],
                r["operator"],
                r["capacity_pflops"],
                r["accelerators"],
                r["year"],
                r["status"],
                ";".join(domestic),
                "yes" if nvidia else "no",
                r["source_url"],
            ]
        )
    header = "name_zh,name_en,province,city,operator,capacity_pflops,accelerators,year,status"
    _write(
        out / "centers.csv",
        [*header.split(","), "domestic_models", "nvidia_pools", "source_url"],
        rows,
    )


def make_node_shapes(src: Path, out: Path) -> None:
    shapes: Counter[tuple[str, str, str, int, int, int]] = Counter()
    for r in _rows(src / "fleet" / "alibaba_spot_gpu_2026_nodes.csv"):
        model = SPOT_MODEL.get(r["gpu_model"])
        cards, cpu = int(r["gpu_capacity_num"]), int(r["cpu_num"])
        if r["gpu_model"] == "GPU-series-1":
            model = "L40S" if cards == 8 else "L20"
        if model is None or cards == 0:
            raise ValueError(f"unmapped spot GPU model {r['gpu_model']!r}")
        memory = cpu * (8 if cards == 8 else 4)  # the trace has no memory column
        shapes["alibaba_spot_gpu_2026", r["gpu_model"], model, cards, cpu, memory] += 1
    pai_path = src / "fleet" / "alibaba_pai_2020_machines.csv"
    with pai_path.open(newline="", encoding="utf-8") as fh:
        for _machine, gpu_type, cap_cpu, cap_mem, cap_gpu in csv.reader(fh):
            if gpu_type == "CPU" or int(cap_gpu) == 0:
                continue
            model = PAI_MODEL[gpu_type]
            key = ("alibaba_pai_2020", gpu_type, model, int(cap_gpu), int(cap_cpu), int(cap_mem))
            shapes[key] += 1
    rows: list[list[object]] = [[*k, n] for k, n in sorted(shapes.items())]
    h800 = [k for k in shapes if k[2] == "H800"]
    if len(h800) != 1:
        raise ValueError("expected one H800 node shape")
    _, _, _, cards, cpu, memory = h800[0]
    rows.append(["assumed", "H800", "H100", cards, cpu, memory, round(shapes[h800[0]] / 3)])
    for model, (cards, cpu, memory) in DOMESTIC_SHAPES.items():
        rows.append(["typical-server", "", model, cards, cpu, memory, 0])
    header = ["source", "trace_model", "model", "cards_per_node", "cpu", "memory_gb", "nodes"]
    _write(out / "node_shapes.csv", header, rows)


def make_accelerators(src: Path, out: Path) -> None:
    observed: dict[str, list[float]] = {}
    for r in _rows(src / "china" / "gpu_rental_prices.csv"):
        model = PRICE_NAMES.get(r["accelerator"])
        try:
            price = float(r["price_cny_per_card_hour"])
        except ValueError:
            continue  # ranges ("8-12"), bounds ("<10") and empty cells are not used
        if model is not None:
            observed.setdefault(model, []).append(price)
    rows: list[list[object]] = []
    for model, (vendor, domestic, tflops, memory) in SPECS.items():
        if model in observed:
            obs = observed[model]
            fen = statistics.median(obs) * 100
            basis = f"median of {len(obs)} observed"
        elif model in PRICE_TWINS:
            twin = PRICE_TWINS[model]
            fen = statistics.median(observed[twin]) * 100
            basis = f"as {twin} (same chip and memory)"
        else:
            rel = 0.6 * tflops / ANCHOR_TFLOPS + 0.4 * memory / ANCHOR_MEM
            fen = ANCHOR_FEN * rel * (DOMESTIC_FACTOR if domestic else 1.0)
            basis = "rule: H100 anchor x TFLOPS/memory" + (" x domestic 0.75" if domestic else "")
        rows.append([model, vendor, "yes" if domestic else "no", tflops, memory, round(fen), basis])
    header = ["model", "vendor", "domestic", "fp16_tflops", "memory_gb", "price_fen", "basis"]
    _write(out / "accelerators.csv", header, rows)


def make_philly_day(src: Path, out: Path) -> None:
    midnight = datetime.fromisoformat(PHILLY_DAY)
    jobs: list[tuple[int, int, int, str, int]] = []
    path = src / "philly" / "philly_jobs_2017-09-04_to_2017-10-15.csv"
    for line, r in enumerate(_rows(path), start=2):
        if not r["timestamp"].startswith(PHILLY_DAY):
            continue
        offset = int((datetime.fromisoformat(r["timestamp"]) - midnight).total_seconds())
        duration = float(r["duration"])
        if duration != int(duration):
            raise ValueError(f"non-integer duration on line {line}")
        jobs.append((offset, int(r["num_gpus"]), int(duration), r["cluster"], line))
    jobs.sort(key=lambda job: (job[0], job[4]))
    header = ["offset_s", "num_gpus", "duration_s", "vc", "source_line"]
    _write(out / f"philly_{PHILLY_DAY}.csv", header, [list(job) for job in jobs])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--src", type=Path, default=DEFAULT_SRC)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    make_centers(args.src, args.out)
    make_node_shapes(args.src, args.out)
    make_accelerators(args.src, args.out)
    make_philly_day(args.src, args.out)


if __name__ == "__main__":
    main()
