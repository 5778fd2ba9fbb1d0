"""The legacy whole-card view of a snapshot: ``snap.node_free``.

The first engine kept one number per node, its free cards, and callers read and wrote it
directly (``snap.node_free[row] += cards``). The snapshot now keeps milli-GPU per GPU;
this view derives the old number (GPUs that are wholly free) and turns writes into
:meth:`Snapshot.set_whole_free`, so old callers keep working unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from suanli.engine.snapshot import Snapshot


class WholeCards:
    """Free whole cards per node row, read from and written to the GPU matrix."""

    def __init__(self, snap: Snapshot) -> None:
        self._snap = snap

    def _values(self) -> npt.NDArray[np.int64]:
        return self._snap.whole_free()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> npt.NDArray[Any]:
        values = self._values()
        return values if dtype is None else values.astype(dtype)

    def __len__(self) -> int:
        return self._snap.nodes

    def __iter__(self) -> Iterator[int]:
        return iter(self._values().tolist())

    def __getitem__(self, row: int) -> int:
        return int(self._values()[row])

    def __setitem__(self, row: int, value: int) -> None:
        self._snap.set_whole_free(int(row), int(value))

    def sum(self) -> int:
        return int(self._values().sum())

    def copy(self) -> npt.NDArray[np.int64]:
        return self._values()

    def tolist(self) -> list[int]:
        return [int(v) for v in self._values().tolist()]
