"""Dask distributed clusters as executors for whole archives (``medscrub[dask]``).

``medscrub redact IN -o OUT --scheduler tcp://HOST:PORT`` and
``Pipeline.run(..., executor=client)`` send batches of file paths to the
cluster's workers; results come back to the one audit log. Every worker must
see IN and OUT at the same paths (a shared file system). A worker lost
mid-run costs nothing: Dask runs its batches again elsewhere, outputs are
written atomically and are the same bytes whoever writes them, and audit
records are written only by the caller, once per file.
"""

from __future__ import annotations

import os
from concurrent.futures import Executor
from typing import Any

from medscrub._optional import import_optional

__all__ = ["connect", "executor_for"]


def connect(address: str) -> Any:
    """A ``distributed.Client`` of the scheduler at `address` (``tcp://host:port``)."""
    distributed = import_optional("distributed", "dask")
    return distributed.Client(address)


def executor_for(target: Executor | Any) -> tuple[Executor, int]:
    """An executor for `target` and how many tasks it runs at once.

    `target` is a ``distributed.Client`` (its executor submits impure tasks, so a
    batch sent again is run again) or any :class:`concurrent.futures.Executor`.
    """
    if isinstance(target, Executor):
        return target, int(getattr(target, "_max_workers", 0) or os.cpu_count() or 1)
    if hasattr(target, "get_executor") and hasattr(target, "nthreads"):
        threads = sum(target.nthreads().values())
        return target.get_executor(pure=False), max(1, threads)
    raise TypeError(f"not an executor or a distributed.Client: {type(target).__name__}")
