"""A detector's answer is checked before any pixel changes: a misbehaving model fails the
file with a one-line reason naming it, and never blacks out an image."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pydicom
import pytest
from PIL import Image

import medscrub.detectors as registry
from medscrub.detectors import Context
from medscrub.detectors.faces import BlazeFaceDetector, CenterFaceDetector
from medscrub.detectors.plausibility import LIMITS, detect_checked, implausibility, load
from medscrub.dicom.pixels import decode_frames
from medscrub.model import Outcome, Region
from medscrub.pipeline import Pipeline
from medscrub.profile import Profile
from medscrub.redact import as_frames
from medscrub_testing.faceset import FaceSample, face_set, negative_set
from medscrub_testing.vendor import pydicom_test_files
from tests.stubs import StubDetector

SHAPE = (1, 400, 600, 3)
FACES = frozenset({"clean_recognizable_visual_features"})
TEXT = frozenset({"clean_pixel_data"})


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[None]:
    registry.reload_plugins()
    yield
    registry.reload_plugins()


def face(y0: int, x0: int, y1: int, x1: int, **fields: Any) -> Region:
    return Region(y0, x0, y1, x1, kind="face", detector="stub", **fields)


@pytest.mark.parametrize(("regions", "reason"), [
    ([face(-5, 10, 50, 60)], "outside the 400x600 image"),
    ([face(10, 10, 50, 601)], "outside the 400x600 image"),
    ([face(50, 10, 50, 60)], "or empty"),
    ([face(10, 10, 50, 60, score=float("nan"))], "score that is not a number"),
    ([face(10, 10, 50, 60, score=7.0)], "score that is not a number"),
    ([face(10, 10, 50, 60, frames=slice(0, 3))], "outside the image's 1"),
    ([face(10.5, 10, 50, 60)], "not whole numbers"),  # type: ignore[arg-type]
    (["a face"], "not a Region (str)"),
    ([face(0, 0, 400, 600)], "face regions cover 100% of a frame, more than 50%"),
    ([face(0, 0, 300, 600)], "face regions cover 75% of a frame"),
    ([face(y, x, y + 8, x + 8) for y in range(0, 400, 20) for x in range(0, 600, 100)][:51],
     "51 face regions on one frame, more than 50"),
    ([Region(0, 0, 400, 600, kind="text", detector="stub")], "text regions cover 100%"),
])
def test_implausible_answers_are_named(regions: list[Any], reason: str) -> None:
    assert reason in implausibility(regions, SHAPE)


def test_plausible_answers_pass() -> None:
    faces = [face(10, 10, 110, 90), face(200, 300, 300, 380, score=0.4)]
    lines = [Region(y, 5, y + 12, 300, kind="text", detector="stub", phi=y < 50)
             for y in range(0, 400, 16)]  # a page of text lines: 25, half the width
    assert implausibility(faces + lines, SHAPE) == ""
    assert load(faces + lines, SHAPE) == {"face": (2, 16000 / 240000),
                                          "text": (25, 25 * 12 * 295 / 240000)}


def test_a_mask_counts_only_its_pixels() -> None:
    mask = np.zeros((400, 600), bool)
    mask[:100] = True
    whole = face(0, 0, 400, 600, mask=mask)
    assert implausibility([whole], SHAPE) == ""
    assert "mask whose shape" in implausibility([face(0, 0, 10, 10, mask=mask)], SHAPE)


def test_each_frame_is_held_to_the_limits_on_its_own() -> None:
    shape = (4, 100, 100, 1)
    per_frame = [face(0, 0, 40, 100, frames=slice(f, f + 1)) for f in range(4)]
    assert implausibility(per_frame, shape) == ""  # 40 % of each frame
    everywhere = face(50, 0, 70, 100)  # frames=None: on every frame
    assert "cover 60%" in implausibility([*per_frame, everywhere], shape)
    assert LIMITS["face"].cover == 0.5


class _Absurd(StubDetector):
    """A face model gone wrong: one "face" the size of the picture."""

    name: ClassVar[str] = "absurd-faces"
    finds: ClassVar[frozenset[str]] = frozenset({"face"})

    def detect(self, frames: npt.NDArray[Any], context: Context) -> Sequence[Region]:
        _, rows, cols, _ = frames.shape
        return [Region(0, 0, rows, cols, kind="face", detector=self.name, score=0.99)]


class _NotANumber(_Absurd):
    """A text detector whose scores went NaN."""

    name: ClassVar[str] = "nan-text"
    finds: ClassVar[frozenset[str]] = frozenset({"text"})

    def detect(self, frames: npt.NDArray[Any], context: Context) -> Sequence[Region]:
        return [Region(5, 5, 20, 80, kind="text", detector=self.name, score=float("nan"))]


class _Crashing(_Absurd):
    name: ClassVar[str] = "crashing-faces"

    def detect(self, frames: npt.NDArray[Any], context: Context) -> Sequence[Region]:
        raise OverflowError("cannot convert float infinity to integer")


def _png(image: npt.NDArray[np.uint8]) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize(("stub", "options", "reason"), [
    (_Absurd, FACES, "detector 'absurd-faces' gave an implausible answer (face regions "
                     "cover 100% of a frame, more than 50%); image not changed"),
    (_NotANumber, TEXT, "detector 'nan-text' gave an implausible answer (a score that is "
                        "not a number from 0 to 1); image not changed"),
    (_Crashing, FACES, "detector 'crashing-faces' failed (OverflowError); image not changed"),
])
def test_a_misbehaving_detector_fails_the_file_and_writes_nothing(
    stub: type[_Absurd], options: frozenset[str], reason: str, samples: Path, tmp_path: Path
) -> None:
    registry.register_detector(stub)
    role = "text" if options == TEXT else "face"
    src = tmp_path / "in"
    src.mkdir()
    wound = (samples / "photos" / "wound.jpg").read_bytes()
    (src / "wound.jpg").write_bytes(wound)
    ct = samples / "case_01" / "CT" / "CT000001.dcm"
    (src / "ct.dcm").write_bytes(ct.read_bytes())
    out = tmp_path / "out"
    summary = Pipeline(Profile(options=options, detectors={role: (stub.name,)})).run(src, out)
    by_name = {r.input: r for r in summary.results}
    photo = by_name["wound.jpg"]
    assert photo.outcome is Outcome.QUARANTINED and photo.stage == "pixels"
    assert photo.reason == reason
    assert not (out / "wound.jpg").exists()
    assert (src / "wound.jpg").read_bytes() == wound
    if options == TEXT:  # the CT is scanned for text too, and fails the same way
        assert by_name["ct.dcm"].reason == reason and not (out / "ct.dcm").exists()
    else:  # a CT slice cannot show a face: the stub is never asked
        assert by_name["ct.dcm"].outcome is Outcome.CLEANED


@pytest.fixture(scope="module")
def faces() -> dict[str, FaceSample]:
    return {s.name: s for s in face_set() + negative_set()}


def _dicom_frames() -> list[tuple[npt.NDArray[Any], Context]]:
    """Frames of real vendor files of several sizes, depths and colour models."""
    root = pydicom_test_files()
    found = []
    for name in ("CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "SC_rgb_rle_16bit_2frame.dcm",
                 "examples_ybr_color.dcm", "SC_rgb_small_odd.dcm"):
        ds = pydicom.dcmread(root / name)
        pixels = decode_frames(ds)
        photometric = "RGB" if pixels.photometric.startswith("YBR") else pixels.photometric
        found.append((pixels.frames, Context(photometric=photometric,
                                             bits_stored=pixels.bits_stored)))
    return found


@pytest.mark.parametrize("detector", [CenterFaceDetector(), BlazeFaceDetector()],
                         ids=lambda d: d.name)
def test_a_face_model_answers_the_same_whatever_ran_before(
    detector: CenterFaceDetector | BlazeFaceDetector, faces: dict[str, FaceSample]
) -> None:
    no_face = faces["chelsea"]  # a cat: no human face
    one_face = faces["astronaut-h96"]
    photo = Context(photometric="RGB")

    def look(sample: FaceSample) -> list[Region]:
        return detect_checked(detector, as_frames(sample.image), photo)

    first = (look(no_face), look(one_face))
    assert first[0] == [] and len(first[1]) == 1
    for frames, context in _dicom_frames():  # DICOM frames of other sizes and kinds
        detect_checked(detector, frames, context)
    for sample in list(faces.values())[::7]:  # then photos of other sizes
        look(sample)
    assert (look(no_face), look(one_face)) == first


def test_text_allowed_to_stay_is_not_held_to_the_limits() -> None:
    grain = [Region(y, x, y + 9, x + 9, kind="text", detector="stub", phi=False)
             for y in range(0, 400, 10) for x in range(0, 600, 10)]  # a textured photo
    assert implausibility(grain, SHAPE) == ""
    assert "2400 text regions on one frame" in implausibility(
        grain, SHAPE, Context(mode="all-text"))
