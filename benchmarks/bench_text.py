"""Burned-in text: recall and precision of PHI boxes, and images/s, on the evaluation set.

Writes the generated set of :mod:`medscrub.textset` (``--count`` cases of nine kinds:
ultrasound banners, CT/MR/CR exports with label blocks, 3-D renderings,
screenshots, low-contrast, coloured and rotated text), runs the whole pipeline
with Clean Pixel Data in ``phi`` mode on every file, and scores the regions each
audit record lists against the ground truth:

* recall: PHI boxes covered to at least 90 % of their area;
* non-PHI kept: non-PHI annotations (measurements, markers) covered under 10 %;
* throughput: images/s of the pipeline, one process.

Files the pipeline quarantines (text still found after redaction) are not written;
they are counted apart and not scored.

Run from the project root::

    .venv/bin/python benchmarks/bench_text.py --count 60
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
import pydicom

from medscrub.keys import SecretKey
from medscrub.model import Outcome, Region
from medscrub.pipeline import Pipeline
from medscrub.profile import Profile
from medscrub.textset import TEXT_GROUND_TRUTH_NAME, load_text_ground_truth, write_text_set

COVERED, TOUCHED = 0.9, 0.1


def coverage(regions: tuple[Region, ...], shape: tuple[int, int],
             box: tuple[int, int, int, int]) -> float:
    """Fraction of `box` inside the union of `regions`."""
    mask = np.zeros(shape, dtype=bool)
    for r in regions:
        mask[r.y0:r.y1, r.x0:r.x1] = True
    y0, x0, y1, x1 = box
    return float(mask[y0:y1, x0:x1].mean())


def main() -> None:
    """Generate the set, run the pipeline, print the scores per kind and in all."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=60, help="cases in the set")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    pipeline = Pipeline(Profile(options=frozenset({"clean_pixel_data"})),
                        key=SecretKey.from_text("benchmark-key-0123456789"))
    scores: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    with tempfile.TemporaryDirectory(prefix="medscrub-text-") as tmp:
        root = Path(tmp)
        paths = [p for p in write_text_set(root / "in", args.seed, args.count)
                 if p.suffix == ".dcm"]
        truth = load_text_ground_truth(root / "in" / TEXT_GROUND_TRUTH_NAME)
        start = time.perf_counter()
        results = [pipeline.process_file(p, p.name, root / "out")[0] for p in paths]
        seconds = time.perf_counter() - start
        quarantined = sum(r.outcome is Outcome.QUARANTINED for r in results)
        for path, result in zip(paths, results, strict=True):
            if result.outcome is not Outcome.CLEANED:
                continue
            kind = path.stem.split("_", 1)[1]
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            shape = (int(ds.Rows), int(ds.Columns))
            score = scores[kind]
            for box, _frames in truth[path.name]:
                share = coverage(result.regions, shape, (box.y0, box.x0, box.y1, box.x1))
                if box.phi:
                    score[0] += 1
                    score[1] += share >= COVERED
                else:
                    score[2] += 1
                    score[3] += share < TOUCHED
    print(f"{'kind':<14}{'PHI recall':>14}{'non-PHI kept':>16}")
    for kind, (phi, found, other, kept) in sorted(scores.items()):
        print(f"{kind:<14}{found:>8}/{phi:<5}{kept:>10}/{other:<5}")
    phi, found, other, kept = (sum(s[i] for s in scores.values()) for i in range(4))
    print(f"recall {found / phi:.3f}  non-PHI kept {kept / other:.3f}  "
          f"{len(paths) / seconds:.2f} images/s ({len(paths)} images, {seconds:.1f} s); "
          f"{quarantined} quarantined (not written, not scored)")


if __name__ == "__main__":
    main()
