"""TextDetector on generated images whose burned-in text boxes are known exactly."""

from __future__ import annotations

import io
import time

import numpy as np
import numpy.typing as npt
import pytest
from pydicom.dataset import FileDataset

from medscrub.detectors import Context
from medscrub.detectors.text import TextDetector
from medscrub.dicom.elements import parse_file
from medscrub.hints import PhiHints
from medscrub.model import Region
from medscrub.redact import as_frames
from medscrub_testing.samples import (
    TextBox,
    make_secondary_capture_with_boxes,
    make_us_cine_with_boxes,
)
from tests.conftest import needs_tesseract

pytestmark = needs_tesseract

MIN_COVER = 0.9
SAMPLES = {"us": make_us_cine_with_boxes, "sc": make_secondary_capture_with_boxes}


def _hints(ds: FileDataset) -> PhiHints:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return PhiHints.from_node(parse_file(buf.getvalue())[1])


def _frames(ds: FileDataset) -> npt.NDArray[np.uint8]:
    return as_frames(ds.pixel_array, samples_last=int(ds.get("NumberOfFrames", 1)) == 1)


def _cover(box: TextBox, regions: list[Region]) -> float:
    """Fraction of `box` covered by `regions`."""
    mask = np.zeros((box.y1 - box.y0, box.x1 - box.x0), bool)
    for r in regions:
        mask[max(r.y0 - box.y0, 0) : max(r.y1 - box.y0, 0),
             max(r.x0 - box.x0, 0) : max(r.x1 - box.x0, 0)] = True
    return float(mask.mean())


@pytest.fixture(scope="module", params=sorted(SAMPLES))
def sample(request: pytest.FixtureRequest) -> tuple[npt.NDArray[np.uint8], list[TextBox], Context]:
    ds, boxes = SAMPLES[request.param](0)
    context = Context(
        photometric=str(ds.PhotometricInterpretation), modality=str(ds.Modality),
        bits_stored=int(ds.BitsStored), hints=_hints(ds), mode="phi",
    )
    return _frames(ds), boxes, context


@pytest.fixture(scope="module")
def detector() -> TextDetector:
    return TextDetector()


def _detect(
    detector: TextDetector, frames: npt.NDArray[np.uint8], context: Context
) -> list[Region]:
    start = time.perf_counter()
    regions = list(detector.detect(frames, context))
    print(f"detect {frames.shape} {context.mode}: {time.perf_counter() - start:.3f} s")
    return regions


def test_phi_mode_covers_phi_and_keeps_other_text(
    detector: TextDetector, sample: tuple[npt.NDArray[np.uint8], list[TextBox], Context]
) -> None:
    frames, boxes, context = sample
    regions = _detect(detector, frames, context)
    phi = [r for r in regions if r.phi]
    assert all(r.kind == "text" and r.detector == "tesseract" and r.frames is None
               for r in regions)
    for i, box in enumerate(boxes):
        if box.phi:
            assert _cover(box, phi) >= MIN_COVER, f"PHI box {i} not covered"
        else:
            assert _cover(box, phi) == 0.0, f"non-PHI box {i} redacted"
            assert _cover(box, regions) > 0.5, f"non-PHI box {i} not found as text"


def test_all_text_mode_covers_every_box(
    detector: TextDetector, sample: tuple[npt.NDArray[np.uint8], list[TextBox], Context]
) -> None:
    frames, boxes, context = sample
    regions = _detect(detector, frames, Context(
        photometric=context.photometric, bits_stored=context.bits_stored, mode="all-text"))
    assert all(r.phi for r in regions)
    for i, box in enumerate(boxes):
        assert _cover(box, regions) >= MIN_COVER, f"box {i} not covered"


def test_phi_mode_without_hints_uses_generic_patterns(
    detector: TextDetector, sample: tuple[npt.NDArray[np.uint8], list[TextBox], Context]
) -> None:
    frames, boxes, context = sample
    regions = detector.detect(frames, Context(photometric=context.photometric, mode="phi"))
    phi = [r for r in regions if r.phi]
    for i, box in enumerate(boxes):
        digits = sum(ch.isdigit() for ch in box.text)
        if digits >= 8:  # IDs and compact dates need no hint
            assert _cover(box, phi) >= MIN_COVER, f"box {i} not covered"
        if not box.phi:
            assert _cover(box, phi) == 0.0, f"non-PHI box {i} redacted"


@pytest.mark.parametrize(
    "frames",
    [
        np.zeros((1, 128, 160, 1), np.uint8),
        np.random.default_rng(0).integers(0, 256, (1, 128, 160, 1), dtype=np.uint8),
        np.random.default_rng(1).integers(0, 4096, (1, 128, 160, 1)).astype(np.uint16),
        np.random.default_rng(2).integers(0, 256, (12, 96, 128, 3), dtype=np.uint8),
    ],
    ids=["blank", "noise", "noise-16bit", "noise-cine"],
)
def test_no_text_no_regions(detector: TextDetector, frames: npt.NDArray[np.generic]) -> None:
    assert detector.detect(frames, Context(mode="all-text", bits_stored=12)) == []


def test_text_changing_across_frames_is_read(detector: TextDetector) -> None:
    ds, _ = make_us_cine_with_boxes(0, frames=6)
    frames = _frames(ds).copy()
    frames[3:, 90:140, 40:220] = 0  # from frame 3 on, a dark patch ...
    frames[3:, 105:118, 80:166] = frames[0, 3:16, 2:88]  # ... shows the name
    regions = detector.detect(frames, Context(photometric="RGB", hints=PhiHints(
        names=frozenset({"QUIXOTE", "ZEBULON"}))))
    moved = TextBox(105, 82, 118, 166, True, "")
    assert _cover(moved, [r for r in regions if r.phi]) >= MIN_COVER


def test_rejects_wrong_shape(detector: TextDetector) -> None:
    with pytest.raises(ValueError, match="n_frames"):
        detector.detect(np.zeros((8, 8), np.uint8), Context())


def test_crops_read_before_are_not_read_again(
    sample: tuple[npt.NDArray[np.uint8], list[TextBox], Context],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import medscrub.detectors.text.reading as text

    frames, _boxes, context = sample
    reads: list[int] = []
    real = text.read_words

    def counted(image: npt.NDArray[np.uint8]):  # type: ignore[no-untyped-def]
        reads.append(image.size)
        return real(image)

    monkeypatch.setattr(text, "read_words", counted)
    detector = TextDetector()
    first = detector.detect(frames, context)
    assert reads
    first_pixels = sum(reads)
    # the next slice of a series: the same banner over the same corner
    reads.clear()
    assert detector.detect(frames.copy(), context) == first
    assert reads == []
    # after a redaction only what it changed is read again
    changed = frames.copy()
    target = next(r for r in first if r.phi)
    changed[:, target.y0 : target.y1, target.x0 : target.x1] = 0
    assert target not in detector.detect(changed, context)
    assert sum(reads) < first_pixels / 2  # with its second readings, where it reads no text
    # another detector remembers nothing
    reads.clear()
    assert TextDetector().detect(frames, context) == first
    assert reads
