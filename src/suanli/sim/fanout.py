"""Where replays run: in this process, over a local process pool, or on a Ray cluster.

Every backend is a :class:`concurrent.futures.Executor` whose workers first receive the
trace through ``initializer(*initargs)``, so the study and the sweeps submit the same
module-level functions to any of them:

- ``workers=1``: each call runs at once in this process;
- ``workers=N`` (default: one per CPU): a :class:`~concurrent.futures.ProcessPoolExecutor`;
- ``ray_address``: Ray (``pip install -e '.[ray]'``). ``"local"`` starts a Ray instance
  on this machine for the run; anything else is the address of a running cluster
  (``ray://host:10001`` or ``host:6379``), whose workers must have suanli installed. The
  trace goes to the object store once and each task receives it from there.

Results never depend on the backend: each replay is a pure function of its arguments.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

RAY_HINT = "Ray is not installed: pip install -e '.[ray]'"


class Inline(Executor):
    """Runs each call at once, in this process."""

    def __init__(self, initializer: Callable[..., None], initargs: tuple[Any, ...]) -> None:
        initializer(*initargs)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # pragma: no cover - handed to the caller
            future.set_exception(exc)
        return future


def _on_ray(
    initializer: Callable[..., None], fn: Callable[..., Any], n_init: int, *rest: Any
) -> Any:
    """A Ray task: the first ``n_init`` of ``rest`` are the initializer's (Ray hands them
    over from the object store, as top-level arguments), the others ``fn``'s."""
    initializer(*rest[:n_init])
    return fn(*rest[n_init:])


class RayExecutor(Executor):
    """Submits each call as a Ray task; the futures are Ray's own."""

    def __init__(
        self, address: str, initializer: Callable[..., None], initargs: tuple[Any, ...]
    ) -> None:
        try:
            import ray
        except ImportError as exc:
            raise RuntimeError(RAY_HINT) from exc
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            ray.init(
                address=None if address == "local" else address,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
            self._started = True
        self._task = ray.remote(_on_ray)
        self._initializer = initializer
        self._initargs = tuple(ray.put(a) for a in initargs)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if kwargs:
            raise TypeError("Ray tasks here take positional arguments only")
        init = self._initargs
        ref = self._task.remote(self._initializer, fn, len(init), *init, *args)
        future: Future[Any] = ref.future()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._started:
            self._ray.shutdown()
            self._started = False


def executor(
    initializer: Callable[..., None],
    initargs: tuple[Any, ...],
    *,
    workers: int | None = None,
    ray_address: str | None = None,
) -> Executor:
    """The executor for ``workers`` local processes, or for the Ray cluster at
    ``ray_address`` (see the module docstring)."""
    if ray_address is not None:
        return RayExecutor(ray_address, initializer, initargs)
    workers = workers or os.cpu_count() or 1
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if workers == 1:
        return Inline(initializer, initargs)
    return ProcessPoolExecutor(workers, initializer=initializer, initargs=initargs)
