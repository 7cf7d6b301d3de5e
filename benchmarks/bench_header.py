"""Header-only throughput: medscrub against dicognito and a plain pydicom round trip.

Generates ``--files`` single-frame DICOM files (CT 256x256 and MR 192x192, 16-bit,
with the fake PHI of :mod:`medscrub_testing.samples` in the header: private blocks,
nested sequences, an overlay, an icon image) and times three tools over the
same files, each writing every file to its own output folder:

* ``medscrub``: :meth:`medscrub.pipeline.Pipeline.run` on the folder (read,
  clean the header, verify, write atomically, one audit record per file);
* ``dicognito``: ``dcmread`` + ``Anonymizer.anonymize`` + ``save_as`` per file;
* ``pydicom round trip``: ``dcmread`` + ``save_as`` per file (the floor any
  pydicom-based tool starts from).

All tools run in one process, interleaved (a, b, c, a, b, c, ...) ``--repeat``
times; the best time of each is reported, with the speed ratios of medscrub
against the goals (>= 5x dicognito, >= 1x the pydicom round trip). Generating the
files is not timed. The exit code is always 0: this is a report, not a test.

Run from the project root::

    .venv/bin/python benchmarks/bench_header.py --files 2000
"""

from __future__ import annotations

import argparse
import gc
import platform
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dicognito
import pydicom
from dicognito.anonymizer import Anonymizer

import medscrub
from medscrub.keys import SecretKey
from medscrub.pipeline import Pipeline
from medscrub.profile import Profile
from medscrub_testing.samples import make_ct, make_mr

KEY_TEXT = "benchmark-key-0123456789"
CT_SERIES = 1
MR_SERIES = 2
#: (label, minimum speed ratio medscrub / tool) for the tools medscrub is judged against.
GOALS = (("dicognito", 5.0), ("pydicom round trip", 1.0))

#: A timed tool: (input folder, output folder, scratch folder for side files such as logs).
Tool = Callable[[Path, Path, Path], None]


@dataclass
class Timing:
    """Wall times of one tool over all repeats."""

    name: str
    seconds: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        """The fastest run (the least disturbed by other load on the machine)."""
        return min(self.seconds)


def reset(folder: Path) -> None:
    """Empty `folder` (creating it if needed)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)


def generate(src: Path, count: int) -> int:
    """Write `count` DICOM files (CT and MR alternating) into `src`; return total bytes."""
    reset(src)
    total = 0
    for i in range(count):
        instance = i // 2 + 1
        if i % 2 == 0:
            ds = make_ct(i, instance=instance, series=CT_SERIES)
        else:
            ds = make_mr(i, instance=instance, series=MR_SERIES)
        path = src / f"IM{i:06d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        total += path.stat().st_size
    return total


def run_medscrub(src: Path, out: Path, scratch: Path) -> None:
    """Pipeline.run over the folder; the audit log goes to `scratch`."""
    pipeline = Pipeline(Profile.preset("basic"), key=SecretKey.from_text(KEY_TEXT))  # headers
    summary = pipeline.run(src, out, audit=scratch / "medscrub.audit.jsonl")
    if summary.counts != {"cleaned": len(summary.results)}:
        print(f"  warning: medscrub did not clean every file: {summary.counts}")


def run_dicognito(src: Path, out: Path, scratch: Path) -> None:
    """dcmread, anonymize and save_as each file with one Anonymizer."""
    anonymizer = Anonymizer()
    for path in sorted(src.iterdir()):
        ds = pydicom.dcmread(path)
        anonymizer.anonymize(ds)
        ds.save_as(out / path.name)


def run_round_trip(src: Path, out: Path, scratch: Path) -> None:
    """dcmread and save_as each file unchanged."""
    for path in sorted(src.iterdir()):
        ds = pydicom.dcmread(path)
        ds.save_as(out / path.name)


TOOLS: dict[str, Tool] = {
    "medscrub": run_medscrub,
    "dicognito": run_dicognito,
    "pydicom round trip": run_round_trip,
}


def measure(work: Path, repeat: int) -> dict[str, Timing]:
    """Time every tool `repeat` times, interleaved, over the files in ``work/src``."""
    src = work / "src"
    timings = {name: Timing(name) for name in TOOLS}
    for round_no in range(1, repeat + 1):
        for slot, (name, tool) in enumerate(TOOLS.items()):
            out = work / f"out{slot}"
            scratch = work / f"scratch{slot}"
            reset(out)
            reset(scratch)
            gc.collect()
            start = time.perf_counter()
            tool(src, out, scratch)
            elapsed = time.perf_counter() - start
            timings[name].seconds.append(elapsed)
            print(f"  round {round_no}: {name:<20} {elapsed:8.3f} s")
    return timings


def report(timings: dict[str, Timing], files: int) -> None:
    """Print the table of best times and the ratios against the goals."""
    print()
    print(f"{'tool':<20} {'files':>6} {'best s':>9} {'files/s':>9}   all runs (s)")
    for t in timings.values():
        runs = ", ".join(f"{s:.3f}" for s in t.seconds)
        print(f"{t.name:<20} {files:>6} {t.best:>9.3f} {files / t.best:>9.1f}   {runs}")
    print()
    ours = timings["medscrub"].best
    for name, goal in GOALS:
        ratio = timings[name].best / ours
        verdict = "PASS" if ratio >= goal else "MISS"
        label = f"medscrub / {name}"
        print(f"{label:<32} {ratio:6.2f}x   (goal >= {goal:.1f})  {verdict}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000, help="files to generate (2000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds per tool (3)")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="folder for inputs and outputs (kept); a removed temporary folder if omitted",
    )
    args = parser.parse_args()
    if args.files < 1 or args.repeat < 1:
        parser.error("--files and --repeat must be at least 1")
    return args


def bench(work: Path, files: int, repeat: int) -> None:
    print(
        f"python {platform.python_version()}, pydicom {pydicom.__version__}, "
        f"dicognito {dicognito.__version__}, medscrub {medscrub.__version__}"
    )
    start = time.perf_counter()
    size = generate(work / "src", files)
    print(
        f"generated {files} files ({size / 2**20:.1f} MiB) in {work / 'src'} "
        f"in {time.perf_counter() - start:.1f} s (not timed)"
    )
    report(measure(work, repeat), files)


def main() -> int:
    args = parse_args()
    # Libraries warn on odd values; printing thousands of warnings would skew the times.
    warnings.simplefilter("ignore")
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        bench(args.workdir, args.files, args.repeat)
    else:
        with tempfile.TemporaryDirectory(prefix="medscrub-bench-") as tmp:
            bench(Path(tmp), args.files, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
