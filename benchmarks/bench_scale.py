"""Scaling: files/s with 1 and 2 worker processes, and a Dask cluster against the local pool.

Generates ``--files`` single-frame DICOM files (CT 256x256 and MR 192x192, 16-bit, with
the fake PHI of :mod:`medscrub_testing.samples`) and times :meth:`medscrub.pipeline.Pipeline.run`
over the same folder in several set-ups, each writing to its own output folder:

* header path (Basic Profile): ``jobs=1`` and ``jobs=2``;
* full pixel path (``clean_pixel_data``: every image decoded, searched for burned-in text
  with tesseract, redacted, verified, encoded) on ``--pixel-files`` images with burned-in
  names, IDs and dates (ultrasound cines and viewer screenshots, alternating):
  ``jobs=1`` and ``jobs=2``;
* header path on a Dask ``LocalCluster`` (2 worker processes, 1 thread each; with
  ``medscrub[dask]``) against the local pool with ``jobs=2``.

Set-ups run interleaved ``--repeat`` times; the best time of each is kept (the run least
disturbed by other load on the machine). Printed: files/s per set-up, the speed-up from
1 to 2 jobs (goal >= 1.8x on 2 cores) and Dask against the local pool (goal: within 20 %).
Generating files and starting the cluster are not timed. The exit code is always 0.

Run from the project root::

    .venv/bin/python benchmarks/bench_scale.py --files 1000 --pixel-files 40
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import medscrub
from medscrub.keys import SecretKey
from medscrub.pipeline import Pipeline
from medscrub.profile import Profile
from medscrub_testing.samples import (
    make_ct,
    make_mr,
    make_secondary_capture_with_boxes,
    make_us_cine_with_boxes,
)

KEY_TEXT = "benchmark-key-0123456789"
HEADER = Profile()
PIXELS = Profile().with_options(["clean_pixel_data"])


def generate(src: Path, count: int, *, burned_in: bool = False) -> None:
    """Write `count` DICOM files into `src`: CT and MR alternating, or (`burned_in`)
    ultrasound cines and screenshots with burned-in text."""
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    for i in range(count):
        if burned_in:
            make = make_us_cine_with_boxes if i % 2 == 0 else make_secondary_capture_with_boxes
            ds = make(i, instance=i // 2 + 1)[0]
        else:
            ds = (make_ct if i % 2 == 0 else make_mr)(i, instance=i // 2 + 1)
        ds.save_as(src / f"IM{i:06d}.dcm", enforce_file_format=True)


def timed(src: Path, out: Path, profile: Profile, **run: Any) -> float:
    """Seconds for one fresh run of the whole folder."""
    shutil.rmtree(out, ignore_errors=True)
    audit = out.with_name(out.name + ".audit.jsonl")
    audit.unlink(missing_ok=True)
    gc.collect()
    start = time.perf_counter()
    summary = Pipeline(profile, key=SecretKey.from_text(KEY_TEXT)).run(src, out, **run)
    seconds = time.perf_counter() - start
    if not summary.ok:
        print(f"  warning: not every file came out clean: {summary.counts}")
    return seconds


def dask_client(stack: ExitStack) -> Any | None:
    """A 2-worker LocalCluster client, or None without medscrub[dask]."""
    try:
        import distributed
    except ImportError:
        print("distributed is not installed (pip install 'medscrub[dask]'): no Dask set-up")
        return None
    cluster = stack.enter_context(distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None))
    return stack.enter_context(distributed.Client(cluster))


def measure(work: Path, files: int, pixel_files: int, repeat: int,
            stack: ExitStack | None) -> dict[str, tuple[int, list[float]]]:
    """Interleaved rounds of every set-up: name -> (files, seconds per round).

    The local pools are timed first, with no cluster running (an idle LocalCluster
    still takes some of the two cores); then, with `stack` given, a 2-worker
    LocalCluster is started and timed against the local pool, both while it runs.
    """
    src, pix = work / "src", work / "pixels"
    generate(src, files)
    generate(pix, pixel_files, burned_in=True)
    local: dict[str, tuple[int, Callable[[Path], float]]] = {
        "header, jobs=1": (files, lambda out: timed(src, out, HEADER, jobs=1)),
        "header, jobs=2": (files, lambda out: timed(src, out, HEADER, jobs=2)),
        "pixels, jobs=1": (pixel_files, lambda out: timed(pix, out, PIXELS, jobs=1)),
        "pixels, jobs=2": (pixel_files, lambda out: timed(pix, out, PIXELS, jobs=2)),
    }
    seconds = rounds(work, local, repeat)
    client = dask_client(stack) if stack is not None else None
    if client is not None:
        seconds.update(rounds(work, {
            "header, jobs=2, cluster up": (files, lambda out: timed(src, out, HEADER, jobs=2)),
            "header, dask 2 workers": (files, lambda out: timed(src, out, HEADER,
                                                              executor=client)),
        }, repeat))
    counts = {**{name: count for name, (count, _) in local.items()},
              "header, jobs=2, cluster up": files, "header, dask 2 workers": files}
    return {name: (counts[name], runs) for name, runs in seconds.items()}


def rounds(work: Path, setups: dict[str, tuple[int, Callable[[Path], float]]],
           repeat: int) -> dict[str, list[float]]:
    """`repeat` rounds of `setups`, interleaved: name -> seconds per round."""
    seconds: dict[str, list[float]] = {name: [] for name in setups}
    for round_no in range(1, repeat + 1):
        for slot, (name, (count, run)) in enumerate(setups.items()):
            took = run(work / f"out{slot}")
            seconds[name].append(took)
            print(f"  round {round_no}: {name:<26} {took:8.3f} s  {count / took:8.1f} files/s")
    return seconds


def report(results: dict[str, tuple[int, list[float]]]) -> None:
    print()
    print(f"{'set-up':<26} {'files':>6} {'best s':>9} {'files/s':>9}   all runs (s)")
    rate = {}
    for name, (count, runs) in results.items():
        best = min(runs)
        rate[name] = count / best
        listed = ", ".join(f"{s:.3f}" for s in runs)
        print(f"{name:<26} {count:>6} {best:>9.3f} {rate[name]:>9.1f}   {listed}")
    print()
    for path in ("header", "pixels"):
        speedup = rate[f"{path}, jobs=2"] / rate[f"{path}, jobs=1"]
        verdict = "PASS" if speedup >= 1.8 else "MISS"
        print(f"{path} path, jobs 2 / jobs 1: {speedup:5.2f}x   (goal >= 1.8)  {verdict}")
    if "header, dask 2 workers" in rate:
        ratio = rate["header, dask 2 workers"] / rate["header, jobs=2, cluster up"]
        verdict = "PASS" if ratio >= 0.8 else "MISS"
        print(f"header path, dask / local pool: {ratio:5.2f}x   (goal >= 0.8)  {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1000, help="header-path files (1000)")
    parser.add_argument("--pixel-files", type=int, default=40, help="pixel-path files (40)")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds per set-up (3)")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask set-up")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"python {platform.python_version()}, medscrub {medscrub.__version__}, "
          f"{os.cpu_count()} cores")
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="medscrub-bench-") as tmp:
        report(measure(Path(tmp), args.files, args.pixel_files, args.repeat,
                       None if args.no_dask else stack))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
