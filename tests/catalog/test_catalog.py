"""Tests for the accelerator catalog: ids, sources, SCU arithmetic, aliases, errors."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from suanli.catalog import (
    ALIASES,
    DOMESTIC_VENDORS,
    REQUIRED_SOURCE_KEYS,
    Accelerator,
    Interconnect,
    Source,
    UnknownAcceleratorError,
    all_accelerators,
    get,
    models,
    scu,
)

pytestmark = pytest.mark.filterwarnings("error")

REQUIRED_IDS = (
    "H100",
    "H800",
    "H20",
    "A100-80GB",
    "A800",
    "L40S",
    "L20",
    "RTX4090",
    "V100",
    "V100-16GB",
    "T4",
    "A10",
    "P100",
    "Ascend910B",
    "Ascend910C",
    "DCU-K100",
    "MLU370",
    "P800",
)

ALL = all_accelerators()


def _ids(acc: Accelerator) -> str:
    return acc.model


@pytest.mark.parametrize("model", REQUIRED_IDS)
def test_required_id_present(model: str) -> None:
    assert model in models()
    assert get(model).model == model


def test_ids_unique() -> None:
    ids = models()
    assert len(ids) == len(set(ids))
    assert len({m.casefold() for m in ids}) == len(ids)


def test_order_is_stable() -> None:
    assert all_accelerators() is all_accelerators()
    assert models() == tuple(acc.model for acc in all_accelerators())


@pytest.mark.parametrize("acc", ALL, ids=_ids)
def test_every_figure_has_https_source(acc: Accelerator) -> None:
    for key in REQUIRED_SOURCE_KEYS:
        assert key in acc.sources, f"{acc.model} lacks a source for {key}"
    for key, src in acc.sources.items():
        assert src.url.startswith("https://"), f"{acc.model}.{key}: {src.url}"
        assert len(src.url) > len("https://") + 3


@pytest.mark.parametrize("acc", ALL, ids=_ids)
def test_figures_positive_and_exact(acc: Accelerator) -> None:
    assert acc.memory_gb > 0
    assert isinstance(acc.fp16_tflops, Decimal)
    assert acc.fp16_tflops > 0
    assert acc.interconnect_gb_s > 0
    assert isinstance(acc.interconnect, Interconnect)
    assert 2010 <= acc.year <= 2030


@pytest.mark.parametrize("acc", ALL, ids=_ids)
def test_scu_factor_is_tflops_over_100(acc: Accelerator) -> None:
    assert acc.scu_per_card_hour == acc.fp16_tflops / Decimal("100")


@pytest.mark.parametrize(
    ("model", "factor"),
    [
        ("H100", Decimal("9.894")),
        ("A100-80GB", Decimal("3.12")),
        ("T4", Decimal("0.65")),
        ("V100", Decimal("1.25")),
        ("L40S", Decimal("3.6205")),
    ],
)
def test_scu_known_values(model: str, factor: Decimal) -> None:
    assert get(model).scu_per_card_hour == factor
    assert scu(model, Decimal("1")) == factor
    assert scu(model, Decimal("2.5")) == factor * Decimal("2.5")
    assert scu(model, Decimal("0")) == 0


@pytest.mark.parametrize("bad", [Decimal("-1"), Decimal("NaN"), Decimal("Infinity")])
def test_scu_rejects_bad_hours(bad: Decimal) -> None:
    with pytest.raises(ValueError, match="card_hours"):
        scu("H100", bad)


def test_scu_rejects_float() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        scu("H100", 1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("alias", "model"),
    [
        ("A100-SXM4-80GB", "A100-80GB"),
        ("A800-SXM4-80GB", "A800"),
        ("V100M32", "V100"),
        ("V100M16", "V100-16GB"),
        ("RTX 4090", "RTX4090"),
        ("910B", "Ascend910B"),
        ("K100", "DCU-K100"),
        ("K100_AI", "DCU-K100-AI"),
        ("H100-SXM", "H100"),
        ("NVIDIA H100", "H100"),
        ("L40s", "L40S"),
        ("l40s", "L40S"),
        ("h100", "H100"),
        ("  rtx   4090 ", "RTX4090"),
        ("NVIDIA H100 80GB HBM3", "H100"),
        ("Tesla V100-SXM2-32GB", "V100"),
        ("Tesla V100-SXM2-16GB", "V100-16GB"),
        ("Tesla T4", "T4"),
        ("NVIDIA A10", "A10"),
        ("NVIDIA GeForce RTX 4090", "RTX4090"),
        ("Tesla P100-PCIE-16GB", "P100"),
        ("NVIDIA L20", "L20"),
        ("NVIDIA H20", "H20"),
        ("NVIDIA H800", "H800"),
        ("MLU370-X8", "MLU370"),
        ("P800 OAM", "P800"),
        ("Ascend 910C", "Ascend910C"),
        ("NVIDIA A800-SXM4-80GB", "A800"),
    ],
)
def test_alias_resolves(alias: str, model: str) -> None:
    assert get(alias).model == model


@pytest.mark.parametrize(("alias", "model"), sorted(ALIASES.items()))
def test_every_declared_alias_resolves(alias: str, model: str) -> None:
    assert get(alias) is get(model)


@pytest.mark.parametrize("name", ["B200", "A100", "910B4", "A10G", "", "   ", "H100X"])
def test_unknown_model_raises_naming_it(name: str) -> None:
    with pytest.raises(UnknownAcceleratorError) as info:
        get(name)
    err = info.value
    assert isinstance(err, ValueError)
    assert repr(name) in str(err)
    assert err.model == name
    for known in ("H100", "Ascend910B", "P800"):
        assert known in str(err)
    assert err.known == models()


@pytest.mark.parametrize("acc", ALL, ids=_ids)
def test_domestic_flag_matches_vendor(acc: Accelerator) -> None:
    assert acc.domestic == (acc.vendor in DOMESTIC_VENDORS)


@pytest.mark.parametrize(
    ("model", "domestic"),
    [
        ("H100", False),
        ("H20", False),
        ("RTX4090", False),
        ("Ascend910B", True),
        ("Ascend910C", True),
        ("DCU-K100", True),
        ("MLU370", True),
        ("P800", True),
    ],
)
def test_domestic_flags(model: str, domestic: bool) -> None:
    assert get(model).domestic is domestic


@pytest.mark.parametrize(
    ("model", "memory_gb", "tflops"),
    [
        ("H100", 80, Decimal("989.4")),
        ("H20", 96, Decimal("148")),
        ("A800", 80, Decimal("312")),
        ("V100-16GB", 16, Decimal("125")),
        ("MLU370", 48, Decimal("96")),
    ],
)
def test_known_specs(model: str, memory_gb: int, tflops: Decimal) -> None:
    acc = get(model)
    assert acc.memory_gb == memory_gb
    assert acc.fp16_tflops == tflops


def test_china_variants_differ_only_in_interconnect() -> None:
    assert get("H800").fp16_tflops == get("H100").fp16_tflops
    assert get("H800").interconnect_gb_s < get("H100").interconnect_gb_s
    assert get("A800").fp16_tflops == get("A100-80GB").fp16_tflops
    assert get("A800").interconnect_gb_s < get("A100-80GB").interconnect_gb_s


def test_accelerator_is_frozen_and_hashable() -> None:
    acc = get("H100")
    with pytest.raises(dataclasses.FrozenInstanceError):
        acc.memory_gb = 1  # type: ignore[misc]
    assert hash(acc) == hash(get("h100"))


def _valid_kwargs() -> dict[str, object]:
    src = Source("https://example.org/spec")
    return {
        "model": "X1",
        "name": "Example X1",
        "vendor": "NVIDIA",
        "memory_gb": 16,
        "fp16_tflops": Decimal("10"),
        "interconnect": Interconnect.PCIE,
        "interconnect_gb_s": 64,
        "domestic": False,
        "year": 2020,
        "sources": dict.fromkeys(REQUIRED_SOURCE_KEYS, src),
    }


def test_valid_row_constructs() -> None:
    acc = Accelerator(**_valid_kwargs())  # type: ignore[arg-type]
    assert acc.scu_per_card_hour == Decimal("0.1")


@pytest.mark.parametrize(
    ("field_name", "value", "message"),
    [
        ("memory_gb", 0, "memory_gb"),
        ("fp16_tflops", Decimal("0"), "fp16_tflops"),
        ("fp16_tflops", Decimal("NaN"), "fp16_tflops"),
        ("interconnect_gb_s", -1, "interconnect_gb_s"),
        ("domestic", True, "domestic"),
        ("year", 1999, "year"),
        ("model", " X1", "model"),
        ("sources", {}, "missing sources"),
        ("sources", {k: Source("http://x.org") for k in REQUIRED_SOURCE_KEYS}, "https"),
    ],
)
def test_invalid_row_rejected(field_name: str, value: object, message: str) -> None:
    kwargs = _valid_kwargs()
    kwargs[field_name] = value
    with pytest.raises(ValueError, match=message):
        Accelerator(**kwargs)  # type: ignore[arg-type]


def test_aliases_are_read_only() -> None:
    with pytest.raises(TypeError):
        ALIASES["foo"] = "H100"  # type: ignore[index]
