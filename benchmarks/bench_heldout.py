"""Burned-in text on held-out data: medscrub as it is, on the overlay set.

The set (:mod:`medscrub_testing.overlayset`, 60 files by default) was written apart
from the text detector and from :mod:`medscrub_testing.textset`: vendor-style
overlays drawn straight over synthetic anatomy (no banner), glyphs at the extreme
stored value with a dark one-pixel outline, CT/MR/MG/DX/CR in MONOCHROME1 and 2 with
10, 12 or 16 bits stored, a line along the left edge in a third of the files.

The set is written to a temporary folder and cleaned by :meth:`medscrub.Pipeline.run`
with the ``standard`` preset (text mode ``phi``: only identifying lines go) and the
``share`` preset (every text line goes). Each output's pixels are read back and
compared with its input's:

* **PHI removed**: a PHI box counts as removed when at least 90 % of its pixels
  changed or hold the fill value (the stored value that displays black, which the
  glyph outlines also hold); **covered**: all of them did;
* **other kept**: non-PHI boxes (``L``, ``kVp 120``...) of which under 10 % of the
  pixels changed (the ``share`` preset is meant to remove them);
* **over**: the fraction of the pixels outside every text box that changed;
  **over >4px**: the same, counting only pixels more than 4 px from every box
  (the margin of a redacted line excluded);
* **quar./failed**: files not written (their boxes are left out of the ratios);
* **files/s**: DICOM files over the run's wall time, in this process (``--jobs 0``).

Below the table: PHI removed by modality and by what a line shows, the slowest
file, and the reasons of files not written.

Run from the project root::

    .venv/bin/python benchmarks/bench_heldout.py [--count 60] [--seed 0] [--jobs 0]

The exit code is always 0: this is a report, not a test.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydicom.filereader import dcmread

from medscrub import Outcome, Pipeline, Profile, SecretKey
from medscrub.redact import black_value
from medscrub_testing.overlayset import OverlayBox, load_overlay_ground_truth, write_overlay_set

KEY = "bench-heldout-key-0123456789abcdef"
PRESETS = ("standard", "share")
REMOVED = 0.9  # a PHI box is removed when this fraction of its pixels changed or is filled
KEPT = 0.1  # a non-PHI box is kept when under this fraction of its pixels changed
FAR = 4  # pixels: "over >4px" leaves out this margin around every box


@dataclass
class Tally:
    """What one preset did to the whole set."""

    phi: int = 0
    removed: int = 0
    covered: int = 0
    other: int = 0
    kept: int = 0
    outside: int = 0
    outside_changed: int = 0
    far: int = 0
    far_changed: int = 0
    files: int = 0
    seconds: float = 0.0
    not_written: list[str] = field(default_factory=list)
    quarantined: int = 0
    failed: int = 0
    slowest: tuple[float, str] = (0.0, "")
    # PHI boxes, and those removed, by ("modality", CT...) and by ("line", what it shows)
    groups: Counter[tuple[str, str]] = field(default_factory=Counter)
    groups_removed: Counter[tuple[str, str]] = field(default_factory=Counter)


def kind_of(box: OverlayBox) -> str:
    """What a PHI line shows, for the breakdown (a turned line is its own kind)."""
    return "vertical" if box.vertical else box.fields[0]


def score(tally: Tally, modality: str, before: npt.NDArray[np.integer],
          after: npt.NDArray[np.integer], fill: int, boxes: list[OverlayBox]) -> None:
    """Add one file's boxes and pixels to `tally`."""
    changed = after != before
    gone = changed | (after == fill)
    inside = np.zeros(before.shape, dtype=bool)
    near = np.zeros(before.shape, dtype=bool)
    for box in boxes:
        inside[box.y0:box.y1, box.x0:box.x1] = True
        near[max(0, box.y0 - FAR):box.y1 + FAR, max(0, box.x0 - FAR):box.x1 + FAR] = True
        if box.phi:
            share = float(gone[box.y0:box.y1, box.x0:box.x1].mean())
            groups = (("modality", modality), ("line", kind_of(box)))
            tally.phi += 1
            tally.groups.update(groups)
            if share >= REMOVED:
                tally.removed += 1
                tally.groups_removed.update(groups)
            tally.covered += share == 1.0
        else:
            tally.other += 1
            tally.kept += float(changed[box.y0:box.y1, box.x0:box.x1].mean()) < KEPT
    tally.outside += int((~inside).sum())
    tally.outside_changed += int((changed & ~inside).sum())
    tally.far += int((~near).sum())
    tally.far_changed += int((changed & ~near).sum())


def measure(preset: str, src: Path, out: Path, truth: dict[str, list[OverlayBox]],
            jobs: int) -> Tally:
    """Clean `src` into `out` with `preset` and score every output against its input."""
    pipeline = Pipeline(Profile.preset(preset), key=SecretKey.from_text(KEY))
    summary = pipeline.run(src, out, audit=out.with_suffix(".audit.jsonl"), jobs=jobs,
                           resume=False)
    tally = Tally(seconds=summary.seconds)
    for result in summary.results:
        if result.input not in truth:  # the ground-truth file itself (skipped)
            continue
        tally.files += 1
        tally.slowest = max(tally.slowest, (result.seconds, result.input))
        if result.outcome is not Outcome.CLEANED or result.output is None:
            tally.quarantined += result.outcome is Outcome.QUARANTINED
            tally.failed += result.outcome is Outcome.FAILED
            tally.not_written.append(f"{result.input}: {result.outcome.value} in "
                                     f"{result.stage} ({result.reason})")
            continue
        original = dcmread(src / result.input)
        cleaned = dcmread(out / result.output)
        photometric = str(original.PhotometricInterpretation)
        bits = int(original.BitsStored)
        fill = int(black_value(np.uint16, photometric, bits, 0)[0])
        score(tally, str(original.Modality), original.pixel_array, cleaned.pixel_array, fill,
              truth[result.input])
    return tally


def ratio(part: int, whole: int) -> str:
    return f"{part}/{whole} {part / whole:6.1%}" if whole else "-"


def report(tallies: dict[str, Tally], count: int, seed: int) -> None:
    """Print the table and the breakdowns."""
    print(f"held-out overlay set: {count} files, seed {seed}")
    head = (f"{'preset':9} {'PHI removed':>15} {'covered':>15} {'other kept':>14} "
            f"{'over':>7} {'over >4px':>9} {'quar.':>5} {'failed':>6} {'files/s':>7}")
    print(head)
    print("-" * len(head))
    for preset, t in tallies.items():
        over = t.outside_changed / t.outside if t.outside else 0.0
        far = t.far_changed / t.far if t.far else 0.0
        print(f"{preset:9} {ratio(t.removed, t.phi):>15} {ratio(t.covered, t.phi):>15} "
              f"{ratio(t.kept, t.other):>14} {over:7.2%} {far:9.2%} {t.quarantined:5d} "
              f"{t.failed:6d} {t.files / t.seconds if t.seconds else 0.0:7.2f}")
    for title in ("modality", "line"):
        keys = sorted({g for t in tallies.values() for g in t.groups if g[0] == title})
        print(f"\nPHI removed by {title}:")
        for key in keys:
            cells = "  ".join(f"{preset} {ratio(t.groups_removed[key], t.groups[key]):>13}"
                              for preset, t in tallies.items())
            print(f"  {key[1]:17} {cells}")
    for preset, t in tallies.items():
        print(f"\n{preset}: slowest file {t.slowest[1]} ({t.slowest[0]:.2f} s)")
        for line in t.not_written:
            print(f"  not written: {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=60, help="files in the set (default 60)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the set (default 0)")
    parser.add_argument("--jobs", type=int, default=0,
                        help="worker processes for Pipeline.run (default 0: this process)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_heldout_") as tmp:
        src = Path(tmp) / "in"
        write_overlay_set(src, seed=args.seed, count=args.count)
        truth = load_overlay_ground_truth(src)
        tallies = {preset: measure(preset, src, Path(tmp) / preset, truth, args.jobs)
                   for preset in PRESETS}
    report(tallies, args.count, args.seed)


if __name__ == "__main__":
    main()
