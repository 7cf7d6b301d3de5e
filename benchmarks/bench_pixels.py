"""End-to-end pixel path throughput: decode -> redact -> encode, per transfer syntax.

Builds the sample ultrasound cine (RGB, burned-in banner) at ``--frames`` frames
of 480 x 640 in each transfer syntax medscrub writes back (Explicit VR Little
Endian, RLE, JPEG-LS lossless, JPEG 2000 lossless) and JPEG baseline (lossy,
written back uncompressed by default), then times, in one run and on the same
files, the header-only path and the full pixel path (a recipe rule redacting the
banner on every frame). Prints files/s and MB/s of decoded frame data for each
syntax, and the ratio of the pixel path to the header path.

Run from the project root::

    .venv/bin/python benchmarks/bench_pixels.py --frames 60 --copies 4
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    RLELossless,
)

from medscrub.keys import SecretKey
from medscrub.pipeline import Pipeline
from medscrub.profile import PixelRule, Profile
from medscrub_testing.samples import make_us_cine_with_boxes, to_jpeg_baseline

ROWS, COLUMNS = 480, 640
SYNTAXES: tuple[UID, ...] = (
    ExplicitVRLittleEndian,
    RLELossless,
    JPEGLSLossless,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
)


def make_files(
    root: Path, syntax: UID, frames: int, copies: int
) -> tuple[list[Path], tuple[int, int, int, int]]:
    """Write `copies` cines in `syntax`; return the paths and the banner box."""
    ds, boxes = make_us_cine_with_boxes(0, frames=frames, rows=ROWS, columns=COLUMNS)
    if syntax == JPEGBaseline8Bit:
        to_jpeg_baseline(ds, ds.pixel_array)
    elif syntax != ExplicitVRLittleEndian:
        ds.compress(syntax, generate_instance_uid=False)
    folder = root / syntax.name.replace(" ", "_")
    folder.mkdir(parents=True)
    paths = []
    for i in range(copies):
        path = folder / f"cine{i}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    y0 = min(b.y0 for b in boxes)
    y1 = max(b.y1 for b in boxes)
    return paths, (y0, 0, y1, COLUMNS)


def best_time(pipeline: Pipeline, paths: list[Path], out: Path, repeat: int) -> float:
    """Best wall time of processing every path, over `repeat` runs."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for path in paths:
            result, _ = pipeline.process_file(path, path.name, out)
            if result.output is None:
                raise SystemExit(f"{path.name}: {result.outcome.value}: {result.reason}")
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    """Generate, time and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60, help="frames per cine")
    parser.add_argument("--copies", type=int, default=4, help="files per syntax")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    key = SecretKey.from_text("benchmark-key-0123456789")
    frame_mb = args.frames * ROWS * COLUMNS * 3 / 1e6
    print(f"{args.copies} cines per syntax, {args.frames} frames of {ROWS}x{COLUMNS} RGB "
          f"({frame_mb:.1f} MB decoded each)")
    print(f"{'transfer syntax':<46}{'header files/s':>15}{'pixel files/s':>15}"
          f"{'pixel MB/s':>12}{'pixel/header':>14}")
    with tempfile.TemporaryDirectory(prefix="medscrub-pixels-") as tmp:
        root = Path(tmp)
        for syntax in SYNTAXES:
            paths, box = make_files(root / "in", syntax, args.frames, args.copies)
            header = Pipeline(Profile.preset("basic"), key=key)  # pixels untouched
            pixels = Pipeline(Profile(pixel_rules=(PixelRule(boxes=(box,)),)), key=key)
            out = root / "out" / syntax.name.replace(" ", "_")
            t_header = best_time(header, paths, out / "h", args.repeat)
            t_pixels = best_time(pixels, paths, out / "p", args.repeat)
            n = len(paths)
            print(f"{syntax.name:<46}{n / t_header:>15.1f}{n / t_pixels:>15.2f}"
                  f"{n * frame_mb / t_pixels:>12.1f}{t_header / t_pixels:>14.3f}")


if __name__ == "__main__":
    main()
