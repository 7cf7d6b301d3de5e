"""Face detectors: recall on the generated set, no false positives, frames in any form."""

from __future__ import annotations

import numpy as np
import pytest

import medscrub.detectors as registry
from medscrub.detectors import Context, Detector
from medscrub.detectors.faces import BlazeFaceDetector, CenterFaceDetector, head_area, rgb8
from medscrub.model import Region
from medscrub.redact import as_frames
from medscrub_testing.faceset import FaceSample, face_set, negative_set

#: A spread of the evaluation set: sizes from 24 px, tilts to 30 degrees, profile,
#: grayscale, covered faces, two faces, a 12-megapixel background, different people.
CASES = ("astronaut-h24", "astronaut-h64", "astronaut-h40-r-30", "astronaut-h96-r+30",
         "astronaut-h32-gray", "profile-h32", "profile-h96-r-15", "astronaut-mask",
         "profile-mask", "two-faces", "two-faces-small", "large-background", "lfw05-h40-r+12",
         "lfw20-h28-r+28")


@pytest.fixture(scope="module")
def cases() -> list[FaceSample]:
    chosen = [s for s in face_set() if s.name in CASES]
    assert len(chosen) == len(CASES)
    return chosen


def covered(face: tuple[int, int, int, int], found: list[Region], margin: float) -> float:
    """The fraction of a ground-truth face box inside the head areas of `found`."""
    y0, x0, y1, x1 = face
    mask = np.zeros((y1, x1), bool)
    for region in found:
        head = head_area(region, margin, y1, x1)
        mask[head.y0:head.y1, head.x0:head.x1] = True
    return float(mask[y0:y1, x0:x1].mean())


def test_detectors_meet_the_protocol_and_are_registered() -> None:
    registry.reload_plugins()
    assert isinstance(CenterFaceDetector(), Detector)
    assert isinstance(BlazeFaceDetector(), Detector)
    status = {name: ok for name, ok, _ in registry.detector_status()}
    assert status["centerface"] and status["blazeface"]


def test_centerface_covers_every_face_of_the_spread(cases: list[FaceSample]) -> None:
    detector = CenterFaceDetector()
    for sample in cases:
        found = list(detector.detect(as_frames(sample.image), Context(photometric="RGB")))
        assert all(r.kind == "face" and r.detector == "centerface" for r in found)
        assert len(found) == len(sample.faces), sample.name
        for face in sample.faces:
            assert covered(face, found, 0.5) == 1.0, sample.name


def test_blazeface_finds_clear_faces(cases: list[FaceSample]) -> None:
    detector = BlazeFaceDetector()
    for sample in cases:
        if sample.name not in ("astronaut-h64", "profile-h96-r-15", "two-faces"):
            continue
        found = list(detector.detect(as_frames(sample.image), Context(photometric="RGB")))
        for face in sample.faces:
            assert covered(face, found, 0.5) > 0.9, sample.name


def test_no_face_found_where_there_is_none() -> None:
    detector = CenterFaceDetector()
    for sample in negative_set()[::2]:
        assert detector.detect(as_frames(sample.image), Context(photometric="RGB")) == [], (
            sample.name)


def test_each_frame_of_a_stack_is_searched(cases: list[FaceSample]) -> None:
    face = next(s for s in cases if s.name == "astronaut-h64")
    empty = negative_set()[0].image
    stack = np.stack([empty, face.image, empty])
    found = CenterFaceDetector().detect(stack, Context(photometric="RGB"))
    assert [r.frames for r in found] == [slice(1, 2)]


def test_wide_grayscale_and_monochrome1_are_shown_as_8_bit(cases: list[FaceSample]) -> None:
    sample = next(s for s in cases if s.name == "astronaut-h64")
    grey = sample.image[..., 0].astype(np.uint16) * 16 + 100  # 12-bit data
    detector = CenterFaceDetector()
    found = detector.detect(grey[np.newaxis, :, :, np.newaxis],
                            Context(photometric="MONOCHROME2", bits_stored=12))
    assert covered(sample.faces[0], list(found), 0.5) == 1.0
    inverted = (4095 - grey)[np.newaxis, :, :, np.newaxis]
    shown = rgb8(inverted[0], "MONOCHROME1", 12)
    assert shown.shape == (*grey.shape, 3) and shown.dtype == np.uint8
    found = detector.detect(inverted, Context(photometric="MONOCHROME1", bits_stored=12))
    assert covered(sample.faces[0], list(found), 0.5) == 1.0


def test_head_area_grows_more_upwards_and_stays_inside() -> None:
    face = Region(100, 100, 140, 132, kind="face", detector="centerface", score=0.9)
    head = head_area(face, 0.5, 480, 640)
    assert (head.y0, head.x0, head.y1, head.x1) == (60, 84, 160, 148)
    assert (head.kind, head.detector, head.score) == ("face", "centerface", 0.9)
    clipped = head_area(Region(5, 600, 45, 640, kind="face"), 0.5, 480, 640)
    assert (clipped.y0, clipped.x1) == (0, 640)
