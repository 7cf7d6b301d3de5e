"""How many regions, and how much of a frame, the detectors redact on real and generated images.

The limits of :mod:`medscrub.detectors.plausibility` come from this: for each
region kind it prints the most regions to redact one frame got and the largest
fraction of a frame they covered, over

* the sample images, pydicom's test files and pydicom-data's vendor files;
* the real radiographs with burned-in text in ``../shared/data/outside-images``
  (when present; never copied);
* the generated burned-in text set and the generated face sets;

under the ``standard`` profile (text in ``phi`` mode) and ``share`` (all text),
beside the limit in force and its margin (limit / largest seen)::

    python benchmarks/bench_plausibility.py [--text-count 60]
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2

import medscrub.pipeline as pipeline_module
from medscrub.detectors import Context, Detector
from medscrub.detectors.plausibility import LIMITS, load
from medscrub.model import Region
from medscrub.pipeline import Pipeline
from medscrub.profile import Profile
from medscrub_testing.faceset import face_set, negative_set
from medscrub_testing.textset import write_text_set
from medscrub_testing.vendor import pydicom_data_files, pydicom_test_files

_HERE = Path(__file__).resolve().parent.parent


def _face_folder(scratch: Path) -> Path:
    folder = scratch / "faces"
    folder.mkdir()
    for sample in face_set() + negative_set():
        cv2.imwrite(str(folder / f"{sample.name}.png"), sample.image[..., ::-1])
    return folder


class _Recorder:
    """Wraps the pipeline's detector call and keeps the largest load per kind."""

    def __init__(self, checked: Callable[..., list[Region]]) -> None:
        self.checked = checked
        self.current = ""
        self.most: dict[str, tuple[int, str]] = {}
        self.widest: dict[str, tuple[float, str]] = {}

    def __call__(self, detector: Detector, frames: Any, context: Context) -> list[Region]:
        found = self.checked(detector, frames, context)
        for kind, (count, cover) in load(context.redacted(found), frames.shape).items():
            if count > self.most.get(kind, (0, ""))[0]:
                self.most[kind] = (count, self.current)
            if cover > self.widest.get(kind, (0.0, ""))[0]:
                self.widest[kind] = (cover, self.current)
        return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text-count", type=int, default=60, help="generated text cases")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        write_text_set(scratch / "text", count=args.text_count)
        folders = {
            "samples": _HERE / "sample_images",
            "pydicom": pydicom_test_files(),
            "pydicom-data": pydicom_data_files(),
            "outside": _HERE.parent / "shared" / "data" / "outside-images",
            "text set": scratch / "text",
            "face sets": _face_folder(scratch),
        }
        recorder = _Recorder(pipeline_module.detect_checked)
        pipeline_module.detect_checked = recorder  # type: ignore[assignment]
        for preset in ("standard", "share"):
            pipeline = Pipeline(Profile.preset(preset))
            for name, folder in folders.items():
                if folder is None or not folder.is_dir():
                    print(f"({name}: not here)")
                    continue
                recorder.current = f"{name} ({preset})"
                out = scratch / "out" / preset / name.replace(" ", "-")
                pipeline.run(folder, out, audit=scratch / f"{preset}-{out.name}.jsonl",
                             resume=False, keep_results=False)
    print(f"{'kind':6} {'most regions':>12} {'limit':>6} {'margin':>7}  "
          f"{'widest cover':>12} {'limit':>6} {'margin':>7}  where")
    for kind in sorted(recorder.most):
        limit = LIMITS.get(kind, LIMITS[""])
        count, where_count = recorder.most[kind]
        cover, where_cover = recorder.widest[kind]
        print(f"{kind:6} {count:12d} {limit.regions:6d} {limit.regions / count:6.1f}x  "
              f"{cover:12.3f} {limit.cover:6.2f} {limit.cover / cover:6.1f}x  "
              f"{where_count} / {where_cover}")


if __name__ == "__main__":
    main()
