"""An ordered, crash-isolated map over worker processes or any executor.

:func:`ordered_map` applies a picklable function to items, here, on worker
processes of its own, or on a given :class:`concurrent.futures.Executor` (a
Dask cluster's). It sends batches (sized from the time items took so far),
keeps a bounded window of batches in flight so the items can stream from a
generator, and yields results in the order of the items. It knows nothing of
what the function does.

An item can crash or hang the process that handles it (a decoder in C meeting
hostile bytes). The map's own worker processes arm a hard watchdog per item
(:func:`faulthandler.dump_traceback_later` with ``exit=True``, a C thread that
needs no GIL) and die with their parent. A batch whose worker died or was lost
is sent again one item at a time on a fresh pool: the item that kills its
worker again gets ``lost(item)`` as its result, and the others their own.
"""

from __future__ import annotations

import ctypes
import faulthandler
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import IO, Generic, TypeVar

import cv2

__all__ = ["ordered_map"]

T = TypeVar("T")
R = TypeVar("R")

#: Batches are sized to take about this long (seconds), from the time items took so far:
#: long enough that sending a batch costs little, short enough to share the last
#: items among the workers. A remote task costs more to send than a local one.
LOCAL_BATCH_SECONDS = 0.05
REMOTE_BATCH_SECONDS = 0.2
MAX_BATCH = 64
#: Batches in flight per worker: enough to keep every worker busy, few enough to stream.
IN_FLIGHT_PER_WORKER = 4
#: Set in every worker before a batch: one Tesseract (OpenMP) thread per process.
WORKER_ENVIRONMENT: Mapping[str, str] = {"OMP_THREAD_LIMIT": "1"}

#: Set in the map's own worker processes: the sink of the hard watchdog's traceback.
_HARD_WATCHDOG: IO[str] | None = None


def _run_batch(fn: Callable[[T], R], batch: list[T],
               hard_seconds: float | None) -> tuple[list[R], float]:
    """Apply `fn` to a batch in a worker; return the results and the seconds taken."""
    os.environ.update(WORKER_ENVIRONMENT)
    start = time.perf_counter()
    results = []
    for item in batch:
        if _HARD_WATCHDOG is not None and hard_seconds is not None:
            faulthandler.dump_traceback_later(hard_seconds, exit=True, file=_HARD_WATCHDOG)
        try:
            results.append(fn(item))
        finally:
            if _HARD_WATCHDOG is not None and hard_seconds is not None:
                faulthandler.cancel_dump_traceback_later()
    return results, time.perf_counter() - start


def _start_worker(parent: int) -> None:
    """Set up one of the map's own worker processes."""
    global _HARD_WATCHDOG
    if sys.platform.startswith("linux"):  # die with the parent, even on SIGKILL
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)
    _HARD_WATCHDOG = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process


class _Pacer:
    """Batch sizes from the mean time per item so far (one item until a batch is back)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.items = 0
        self.spent = 0.0

    def add(self, count: int, seconds: float) -> None:
        self.items += count
        self.spent += seconds

    def size(self) -> int:
        if not self.items:
            return 1
        per_item = max(self.spent / self.items, 1e-6)
        return max(1, min(MAX_BATCH, round(self.seconds / per_item)))


def _batches(items: Iterable[T], pacer: _Pacer) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= pacer.size():
            yield batch
            batch = []
    if batch:
        yield batch


class _Pool(Generic[T, R]):
    """An executor that is replaced when one of its processes dies (the map's own),
    or used as given."""

    def __init__(self, fn: Callable[[T], R], lost: Callable[[T], R], jobs: int,
                 executor: Executor | None, hard_seconds: float | None) -> None:
        self.fn, self.lost, self._jobs = fn, lost, jobs
        self.own = executor is None
        self.hard_seconds = hard_seconds if self.own else None
        self.executor = self._new() if executor is None else executor
        self.pacer = _Pacer(LOCAL_BATCH_SECONDS if self.own else REMOTE_BATCH_SECONDS)

    def _new(self) -> Executor:
        return ProcessPoolExecutor(self._jobs, initializer=_start_worker,
                                   initargs=(os.getpid(),))

    def submit(self, batch: list[T]) -> Future[tuple[list[R], float]]:
        return self.executor.submit(_run_batch, self.fn, batch, self.hard_seconds)

    def failed(self, executor: Executor) -> None:
        """A batch sent to `executor` failed: replace it if it is ours and still in use."""
        if self.own and executor is self.executor:
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = self._new()

    def close(self) -> None:
        if self.own:
            self.executor.shutdown(wait=True)

    def collect(self, batch: list[T], executor: Executor,
                future: Future[tuple[list[R], float]]) -> list[R]:
        try:
            results, seconds = future.result()
        except Exception:  # the worker died or was lost (the function itself never raises)
            self.failed(executor)
            return [self.alone(item) for item in batch]
        self.pacer.add(len(results), seconds)
        return results

    def alone(self, item: T) -> R:
        executor = self.executor
        try:
            return self.submit([item]).result()[0][0]
        except Exception:
            self.failed(executor)
            return self.lost(item)


def ordered_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    lost: Callable[[T], R],
    jobs: int = 0,
    executor: Executor | None = None,
    slots: int = 1,
    hard_seconds: float | None = None,
) -> Iterator[R]:
    """Yield ``fn(item)`` for every item, in the order of `items`.

    Parameters
    ----------
    fn : callable
        Picklable (a module-level function or a :func:`functools.partial` of one)
        and never raising: a failure is part of its result.
    items : iterable
        Read lazily; at most ``IN_FLIGHT_PER_WORKER`` batches per worker are in flight.
    lost : callable
        The result of an item whose worker died twice while handling it.
    jobs : int
        0 (and no `executor`): here, in this process. N >= 1: N worker processes
        of the map's own, forked with OpenCV set to one thread (changing it in a
        forked child can hang on the parent's thread pool).
    executor : concurrent.futures.Executor, optional
        Use it as given (`slots` workers) instead of processes of the map's own.
    hard_seconds : float, optional
        In the map's own workers, an item still running after this long ends its
        process (and gets ``lost(item)``).
    """
    if executor is None and jobs <= 0:
        yield from map(fn, items)
        return
    threads = cv2.getNumThreads()
    if executor is None:
        cv2.setNumThreads(1)
    pool = _Pool(fn, lost, jobs, executor, hard_seconds)
    window = IN_FLIGHT_PER_WORKER * (jobs if executor is None else slots)
    pending: deque[tuple[list[T], Executor, Future[tuple[list[R], float]]]] = deque()
    try:
        for batch in _batches(items, pool.pacer):
            try:
                pending.append((batch, pool.executor, pool.submit(batch)))
            except RuntimeError:  # the pool broke since the last batch
                pool.failed(pool.executor)
                pending.append((batch, pool.executor, pool.submit(batch)))
            if len(pending) >= window:
                yield from pool.collect(*pending.popleft())
        while pending:
            yield from pool.collect(*pending.popleft())
    finally:
        pool.close()
        cv2.setNumThreads(threads)
