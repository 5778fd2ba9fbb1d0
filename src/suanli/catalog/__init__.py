"""The catalog: static reference data the exchange prices and places by.

``suanli.catalog.accelerators`` lists the accelerator models (GPUs/NPUs) that computing
centers rent out through the exchange, with memory, dense FP16/BF16 TFLOPS, intra-node
interconnect and launch year, each figure with a cited source. It also defines the SCU
(standard compute unit) in which the exchange prices work: one SCU is 100 dense FP16 TFLOPS
for one hour, so one card-hour is worth ``fp16_tflops / 100`` SCU.

``suanli.catalog.regions`` (imported on its own) maps the provinces of mainland China to
English names and geographic regions.
"""

from suanli.catalog.accelerators import (
    ALIASES,
    DOMESTIC_VENDORS,
    REQUIRED_SOURCE_KEYS,
    SCU_TFLOPS,
    Accelerator,
    Interconnect,
    Source,
    UnknownAcceleratorError,
    all_accelerators,
    get,
    models,
    scu,
)

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
