"""Node classes: nodes of one pool with identical free capacity share a class id.

A class key is ``(pool row, free CPU, free memory, free milli-GPU per GPU sorted high to
low)``. Two nodes of one class are interchangeable for every capacity-based score, so a
score plugin can compute once per class and reuse it for all members, and for every later
node that reaches the same state. Ids are interned and never reused, so anything computed
for an id stays true; copies of a snapshot share their registry.

:class:`ClassTable` is the usual memo: one value per class id, grown on demand.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

ClassKey = tuple[int, int, int, tuple[int, ...]]


class NodeClasses:
    """Interns class keys to dense ids; holds plugins' per-class memos in :attr:`memo`."""

    def __init__(self) -> None:
        self._ids: dict[ClassKey, int] = {}
        self.keys: list[ClassKey] = []
        self.memo: dict[Hashable, object] = {}

    def __len__(self) -> int:
        return len(self.keys)

    def intern(self, key: ClassKey) -> int:
        found = self._ids.get(key)
        if found is None:
            found = len(self.keys)
            self._ids[key] = found
            self.keys.append(key)
        return found


class ClassTable:
    """A float per class id; NaN until set. Grows with the registry."""

    def __init__(self) -> None:
        self.values: FloatArray = np.full(64, np.nan)

    def get(self, ids: IntArray) -> FloatArray:
        top = int(ids.max(initial=-1)) + 1
        if top > self.values.shape[0]:
            grown = np.full(max(top, 2 * self.values.shape[0]), np.nan)
            grown[: self.values.shape[0]] = self.values
            self.values = grown
        return self.values[ids]

    def put(self, ids: IntArray, values: FloatArray) -> None:
        self.get(ids)
        self.values[ids] = values


def table(classes: NodeClasses, key: Hashable) -> ClassTable:
    """The registry's memo table for ``key``, created empty on first use."""
    found = classes.memo.get(key)
    if not isinstance(found, ClassTable):
        found = ClassTable()
        classes.memo[key] = found
    return found
