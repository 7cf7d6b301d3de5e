"""Throughput of the redaction kernel (:func:`medscrub.redact.redact`) against ``np.copyto``.

Two stacks, filled with random pixels (generating them is not timed):

* ``cine``: 200 frames of 600x800 RGB, uint8 (288 MB), an ultrasound/endoscopy loop;
* ``ct``: a 300x512x512 int16 volume (157 MB).

For 1, 10 and 200 random boxes (fixed seed, 12-60 rows by 40-300 columns, the
size of burned-in text, every box on every frame) and each method, the kernel
redacts the stack in place (``out=frames``); the best of ``--repeat`` runs is
reported as GB/s of frame data (the stack's size over the time), next to
``np.copyto`` of the same stack into a second array, measured in the same run,
and their ratio. The goal for solid fill is a ratio of at least 0.5. A kernel
that touches a small part of the stack can exceed the copy's speed, since the
copy reads and writes every byte. The ``path`` column tells which fill path
:func:`medscrub.redact._prefers_mask` took.

``--calibrate`` instead times the two fill paths (per-box slices, one mask)
against each other over a grid of frame counts and box counts, the
measurements behind the rule in :func:`medscrub.redact._prefers_mask`. The
exit code is always 0: this is a report, not a test.

Run from the project root (about a minute; ``--calibrate`` about 30 s)::

    .venv/bin/python benchmarks/bench_kernel.py
    .venv/bin/python benchmarks/bench_kernel.py --repeat 5 --methods fill
    .venv/bin/python benchmarks/bench_kernel.py --calibrate
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from medscrub.model import Region
from medscrub.redact import (
    METHODS,
    _fill_mask,
    _fill_row,
    _fill_slices,
    _plan,
    _prefers_mask,
    redact,
)

Array = npt.NDArray[Any]
STACKS = {"cine": ((200, 600, 800, 3), np.uint8), "ct": ((300, 512, 512, 1), np.int16)}
REGION_COUNTS = (1, 10, 200)


def make_stack(shape: tuple[int, ...], dtype: Any, seed: int = 0) -> Array:
    """Random pixels in the low 12 bits (or all 8): every page written, as decoded data."""
    rng = np.random.default_rng(seed)
    high = 256 if np.dtype(dtype).itemsize == 1 else 4096
    return rng.integers(0, high, shape, dtype=dtype)


def random_boxes(count: int, rows: int, cols: int, seed: int) -> list[Region]:
    """`count` text-sized boxes inside a rows x cols image, on every frame."""
    rng = np.random.default_rng(seed)
    heights = rng.integers(12, 61, count)
    widths = rng.integers(40, 301, count)
    ys = rng.integers(0, rows - heights + 1)
    xs = rng.integers(0, cols - widths + 1)
    return [
        Region(int(y), int(x), int(y + h), int(x + w))
        for y, x, h, w in zip(ys, xs, heights, widths, strict=True)
    ]


def best_of(repeat: int, func: Callable[..., object], *args: Any, **kwargs: Any) -> float:
    """The shortest of `repeat` timed calls ``func(*args, **kwargs)``, seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return min(times)


def report(repeat: int, methods: list[str]) -> None:
    """The kernel's throughput per stack, region count and method, against np.copyto."""
    print(f"best of {repeat}; GB/s = frame data / time; ratio = kernel / np.copyto\n")
    print(
        f"{'stack':5} {'regions':>7} {'method':9} {'ms':>9} {'GB/s':>8} {'copy GB/s':>9}"
        f" {'ratio':>7}  path"
    )
    for name, (shape, dtype) in STACKS.items():
        report_stack(name, make_stack(shape, dtype), repeat, methods)


def report_stack(name: str, frames: Array, repeat: int, methods: list[str]) -> None:
    n, rows, cols, samples = frames.shape
    size_gb = frames.nbytes / 1e9
    copy_s = best_of(repeat, np.copyto, np.empty_like(frames), frames)
    for count in REGION_COUNTS:
        regions = random_boxes(count, rows, cols, seed=count)
        (boxes,) = _plan(regions, n, rows, cols, 0).values()
        mask = _prefers_mask(boxes, n * samples * frames.itemsize)
        for method in methods:
            seconds = best_of(repeat, redact, frames, regions, method=method, fill=0, out=frames)
            path = ("mask" if mask else "slices") if method == "fill" else ""
            print(
                f"{name:5} {count:7d} {method:9} {seconds * 1e3:9.1f} {size_gb / seconds:8.1f}"
                f" {size_gb / copy_s:9.1f} {copy_s / seconds:7.2f}  {path}"
            )


def calibrate(repeat: int) -> None:
    """Time both fill paths over frame counts and box counts."""
    print(f"fill paths, best of {repeat} (ms); 'rule' is what _prefers_mask picks\n")
    print(
        f"{'stack':5} {'frames':>6} {'boxes':>5} {'MB under boxes':>14} {'slices':>8}"
        f" {'mask':>8}  {'faster':6} rule"
    )
    for name, (shape, dtype) in STACKS.items():
        calibrate_stack(name, make_stack(shape, dtype), repeat)


def calibrate_stack(name: str, full: Array, repeat: int) -> None:
    _, rows, cols, samples = full.shape
    row = _fill_row(0, full.dtype, cols, samples)
    for n in (1, 10, full.shape[0]):
        frames = full[:n]
        depth = n * samples * frames.itemsize
        for count in (1, 4, 8, 16, 32, 64, 200):
            regions = random_boxes(count, rows, cols, seed=count)
            (boxes,) = _plan(regions, n, rows, cols, 0).values()
            under = sum(b.area for b in boxes) * depth / 2**20
            slices = best_of(repeat, _fill_slices, frames, boxes, row)
            mask = best_of(repeat, _fill_mask, frames, boxes, row)
            faster = "mask" if mask < slices else "slices"
            rule = "mask" if _prefers_mask(boxes, depth) else "slices"
            print(
                f"{name:5} {n:6d} {count:5d} {under:14.1f} {slices * 1e3:8.2f}"
                f" {mask * 1e3:8.2f}  {faster:6} {rule}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per case (best kept)")
    parser.add_argument(
        "--methods", nargs="+", choices=METHODS, default=list(METHODS), help="methods to time"
    )
    parser.add_argument(
        "--calibrate", action="store_true", help="time the two fill paths instead (slices, mask)"
    )
    args = parser.parse_args(argv)
    print(
        f"numpy {np.__version__}, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}"
    )
    if args.calibrate:
        calibrate(args.repeat)
    else:
        report(args.repeat, args.methods)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
