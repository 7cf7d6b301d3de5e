"""Scan, export and review page throughput, against baselines measured in the same run.

Generates ``--files`` single-frame DICOM files (CT 256x256 and MR 192x192, 16-bit,
with the fake PHI of :mod:`medscrub_testing.samples`) and times, in one process:

* ``pydicom read``: ``dcmread`` of every file, pixel data included (the floor of
  any tool that looks at each file);
* ``scan --no-pixels``: :func:`medscrub.scan.scan_path` without the detectors;
* ``redact``: :meth:`medscrub.pipeline.Pipeline.run`, Basic Profile, in-process;
* ``export``: :func:`medscrub.export.export_path`, Basic Profile, PNG (the same
  cleaning, then render and encode);
* ``review page``: :func:`medscrub.review.write_review` over the redact output.

Each is run ``--repeat`` times, interleaved; the best time is reported, with the
ratios scan / pydicom read, export / redact and the review page's time per output.
The exit code is always 0: this is a report, not a test.

Run from the project root::

    .venv/bin/python benchmarks/bench_review.py --files 500
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pydicom

from medscrub.export import ExportSettings, export_path
from medscrub.keys import SecretKey
from medscrub.pipeline import Pipeline
from medscrub.profile import Profile
from medscrub.review import write_review
from medscrub.scan import scan_path
from medscrub_testing.samples import make_ct, make_mr

KEY = SecretKey.from_text("benchmark-key-0123456789")


def generate(src: Path, count: int) -> None:
    """Write `count` files, CT and MR alternating, into `src`."""
    src.mkdir(parents=True)
    for i in range(count):
        ds = make_ct(0, instance=i + 1) if i % 2 == 0 else make_mr(0, instance=i + 1)
        ds.save_as(src / f"{i:06d}.dcm", enforce_file_format=True)


def read_all(src: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in sorted(src.iterdir()):
            _ = pydicom.dcmread(path).PixelData


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        src = root / "in"
        generate(src, args.files)
        best: dict[str, float] = {}

        def run(name: str, job: Callable[[], object], *clear: Path) -> None:
            for path in clear:
                shutil.rmtree(path, ignore_errors=True)
                path.with_name(path.name + ".audit.jsonl").unlink(missing_ok=True)
            best[name] = min(best.get(name, float("inf")), timed(job))

        for _ in range(args.repeat):
            run("pydicom read", lambda: read_all(src))
            run("scan --no-pixels", lambda: scan_path(src, pixels=False))
            run("redact", lambda: Pipeline(Profile(), key=KEY).run(src, root / "red"),
                root / "red")
            run("export", lambda: export_path(src, root / "png", profile=Profile(), key=KEY,
                                              settings=ExportSettings("png")), root / "png")
            run("review page", lambda: write_review(root / "red.audit.jsonl", root / "red",
                                                    root / "review.html"))
        size = (root / "review.html").stat().st_size
    n = args.files
    print(f"{n} files (CT 256x256 and MR 192x192, 16-bit), best of {args.repeat}")
    for name, seconds in best.items():
        print(f"  {name:<18} {seconds:7.2f} s  {n / seconds:8.1f} files/s")
    scan_ratio = best["scan --no-pixels"] / best["pydicom read"]
    print(f"scan --no-pixels / pydicom read: {scan_ratio:.2f}x the time")
    print(f"export / redact:                 {best['export'] / best['redact']:.2f}x the time")
    print(f"review page: {1000 * best['review page'] / n:.1f} ms per output, "
          f"{size / n / 1024:.1f} KiB per output in the page")


if __name__ == "__main__":
    main()
