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

from suanli.engine.demand import MILLI

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

ClassKey = tuple[int, int, int, tuple[int, ...]]

UNKNOWN = int(np.iinfo(np.int64).min)
"""A class part (see :mod:`suanli.engine.byclass`) not worked out yet."""
UNFIT = UNKNOWN + 1
"""The part of a kind that does not fit the demand."""


class NodeClasses:
    """Interns class keys to dense ids; holds plugins' per-class memos in :attr:`memo`.

    Each class also has a *kind*: its key with the pool replaced by the pool's model, so
    nodes of one model and shape in the same state share a kind across pools (what the
    class-scope plugins of :mod:`suanli.engine.byclass` score). The snapshot tells the
    registry each pool's model (:meth:`bind`) before interning.
    """

    def __init__(self) -> None:
        self.ids: dict[ClassKey, int] = {}
        """Class ids by key."""
        self.keys: list[ClassKey] = []
        self.whole: list[int] = []
        """Wholly free GPUs of a node in each class."""
        self.kind: list[int] = []
        """The kind of each class."""
        self._kinds: dict[ClassKey, int] = {}
        self.pool_model: list[int] = []
        self.memo: dict[Hashable, object] = {}

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def kinds(self) -> int:
        """Kinds interned so far."""
        return len(self._kinds)

    def bind(self, pool_model: list[int]) -> None:
        """Each pool row's model index (once, before the first class is interned)."""
        if not self.pool_model:
            self.pool_model = list(pool_model)

    def intern(self, key: ClassKey) -> int:
        found = self.ids.get(key)
        if found is None:
            found = len(self.keys)
            self.ids[key] = found
            self.keys.append(key)
            self.whole.append(key[3].count(MILLI))
            kind = (self.pool_model[key[0]], key[1], key[2], key[3])
            self.kind.append(self._kinds.setdefault(kind, len(self._kinds)))
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
