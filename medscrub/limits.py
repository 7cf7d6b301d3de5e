"""Bounds on what one input may cost: bytes, decoded pixels, nesting, seconds.

A hostile or broken file can declare absurd sizes (a 4 GB element, a billion
frames, sequences nested a thousand deep) or make a decoder loop. Every file is
held to :class:`Limits`; going over one is a clear :class:`LimitExceeded` (the
file fails alone), never a MemoryError or a hung batch.

The limits in force are set per file with :func:`applied`; the readers
(:mod:`medscrub.dicom.elements`, :mod:`medscrub.dicom.pixels`) ask :func:`active`.
:func:`time_limit` bounds the wall time of one file: a watchdog thread raises
:class:`TimeLimitExceeded` in the thread that runs over (at its next Python
instruction; a worker process stuck inside C code is ended by the pool's hard
watchdog instead).
"""

from __future__ import annotations

import ctypes
import dataclasses
import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from medscrub.errors import ProfileError, UnsupportedInputError

__all__ = [
    "DEFAULT_LIMITS",
    "LimitExceeded",
    "Limits",
    "TimeLimitExceeded",
    "active",
    "applied",
    "time_limit",
]

_MB = 1 << 20


class LimitExceeded(UnsupportedInputError):
    """An input is larger or deeper than the limits in force allow."""


class TimeLimitExceeded(BaseException):
    """One file took longer than its time limit.

    A BaseException, so the broad ``except Exception`` around decoders cannot
    swallow it; :meth:`medscrub.pipeline.Pipeline.process_file` turns it into
    a failed file.
    """


@dataclass(frozen=True, slots=True)
class Limits:
    """What one file may cost; the defaults suit a 24 GB, 2-core machine.

    Attributes
    ----------
    file_mb : int
        Size of the input file.
    element_mb : int
        Any one header element's value (Pixel Data is bounded by the pixel limits).
    decoded_mb : int
        Decoded pixel data: frames x rows x columns x samples x bytes per sample.
    pixels : int
        Frames x rows x columns.
    depth : int
        Sequence nesting depth.
    seconds : float
        Wall time for one file, all stages included.
    """

    file_mb: int = 4096
    element_mb: int = 256
    decoded_mb: int = 2048
    pixels: int = 1 << 30
    depth: int = 32
    seconds: float = 300.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if not getattr(self, f.name) > 0:
                raise ProfileError(f"limit {f.name} must be positive")

    @classmethod
    def parse(cls, specs: Iterable[str], base: Limits | None = None) -> Limits:
        """Limits from ``name=value`` strings (``decoded_mb=4096``), over `base`."""
        names = {f.name: f.type for f in dataclasses.fields(cls)}
        changes: dict[str, Any] = {}
        for spec in specs:
            name, _, value = spec.partition("=")
            name = name.strip().replace("-", "_")
            if name not in names:
                raise ProfileError(f"unknown limit {name!r} (known: {', '.join(names)})")
            try:
                changes[name] = float(value) if name == "seconds" else int(value)
            except ValueError:
                raise ProfileError(f"limit {name} needs a number, not {value!r}") from None
        return dataclasses.replace(base or cls(), **changes)

    def check_file(self, size: int) -> None:
        """Refuse an input file larger than `file_mb`."""
        if size > self.file_mb * _MB:
            raise LimitExceeded(f"file is {_mb(size)} MB, over the {self.file_mb} MB limit "
                                "(limit file_mb)")

    def check_element(self, tag: int, length: int) -> None:
        """Refuse a header element value longer than `element_mb`."""
        if length > self.element_mb * _MB:
            raise LimitExceeded(
                f"element ({tag >> 16:04X},{tag & 0xFFFF:04X}) is {_mb(length)} MB, over the "
                f"{self.element_mb} MB limit (limit element_mb)"
            )

    def check_pixels(self, frames: int, rows: int, columns: int, samples: int,
                     bits_allocated: int) -> None:
        """Refuse pixel data whose decoded size is over `pixels` or `decoded_mb`."""
        count = max(frames, 1) * rows * columns
        if count > self.pixels:
            raise LimitExceeded(
                f"{frames} frame(s) of {rows}x{columns} is {count} pixels, over the "
                f"{self.pixels} limit (limit pixels)"
            )
        size = count * max(samples, 1) * max(1, (bits_allocated + 7) // 8)
        if size > self.decoded_mb * _MB:
            raise LimitExceeded(f"decoded pixel data would be {_mb(size)} MB, over the "
                                f"{self.decoded_mb} MB limit (limit decoded_mb)")


def _mb(size: int) -> str:
    return f"{size / _MB:.0f}"


DEFAULT_LIMITS = Limits()
_ACTIVE: ContextVar[Limits] = ContextVar("medscrub_limits", default=DEFAULT_LIMITS)


def active() -> Limits:
    """The limits in force for the file being processed in this thread."""
    return _ACTIVE.get()


@contextmanager
def applied(limits: Limits) -> Iterator[Limits]:
    """Make `limits` the ones in force inside the block (this thread only)."""
    token = _ACTIVE.set(limits)
    try:
        yield limits
    finally:
        _ACTIVE.reset(token)


class _Watchdog:
    """One daemon thread per process that interrupts threads past their deadline."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deadlines: dict[int, float] = {}
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float) -> int:
        ident = threading.get_ident()
        with self._lock:
            self._deadlines[ident] = time.monotonic() + seconds
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._watch, name="medscrub-watchdog",
                                                daemon=True)
                self._thread.start()
        self._wake.set()
        return ident

    def disarm(self, ident: int) -> None:
        # An interruption sent before this takes the lock is raised at the Python call
        # below, so it leaves from here, never later; none is sent once the deadline is
        # gone. (It is never cancelled: PyThreadState_SetAsyncExc(id, NULL) leaves CPython
        # 3.11 checking for it at every call from then on.)
        with self._lock:
            self._deadlines.pop(ident, None)
            _deliver()

    def _watch(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                for ident, deadline in list(self._deadlines.items()):
                    if now >= deadline:
                        del self._deadlines[ident]
                        _interrupt(ident, TimeLimitExceeded)
                wait = min((d - now for d in self._deadlines.values()), default=None)
                self._wake.clear()
            self._wake.wait(None if wait is None else max(wait, 0.01))


def _deliver() -> None:
    """Nothing: entering a Python function is where a pending interruption is raised."""


def _interrupt(ident: int, exc: type[BaseException]) -> None:
    """Raise `exc` in thread `ident` at its next call or loop step."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(exc))


_WATCHDOG = _Watchdog()


def _fresh_watchdog() -> None:
    global _WATCHDOG
    _WATCHDOG = _Watchdog()  # a forked child has no watchdog thread and maybe a held lock


os.register_at_fork(after_in_child=_fresh_watchdog)


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`TimeLimitExceeded` in this thread if the block runs over `seconds`."""
    ident = _WATCHDOG.arm(seconds)
    try:
        yield
    finally:
        _WATCHDOG.disarm(ident)
