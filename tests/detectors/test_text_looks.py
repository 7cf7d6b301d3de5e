"""The text detector's looks at one image: verification after redaction, asking again."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

import medscrub.detectors.text as text_detector
from medscrub.detectors import Context
from medscrub.detectors.text import TextDetector
from medscrub.detectors.text.decision import Word, region
from medscrub.detectors.text.proposal import Box, Ink, propose
from medscrub.model import Region
from medscrub.redact import redact
from medscrub_testing.textset import generate_text_set
from tests.conftest import needs_tesseract

_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def _overlay_case(index: int = 9) -> tuple[np.ndarray, Context]:
    case = generate_text_set(0, index + 1)[index]
    assert case.kind == "overlay"
    ds = case.dataset
    frames = ds.pixel_array[np.newaxis, ..., np.newaxis].copy()
    return frames, Context(photometric=ds.PhotometricInterpretation, modality=ds.Modality,
                           bits_stored=ds.BitsStored, mode="all-text")


def _counted_proposals(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []

    def counted(ink: Ink) -> list[Box]:
        calls.append(1)
        return propose(ink)

    monkeypatch.setattr(text_detector, "propose", counted)
    return calls


@needs_tesseract
def test_asking_again_about_an_unchanged_image_gives_the_same_answer() -> None:
    frames, context = _overlay_case()
    detector = TextDetector()
    first = detector.detect(frames, context)
    assert first
    assert detector.detect(frames, context) == first


@needs_tesseract
def test_a_look_after_redaction_reads_the_first_looks_candidates_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Verification: after the regions found are filled, the next look reuses the first
    look's candidates and value mapping (the filled text no longer sets the extremes),
    reads what the fill changed with the fill blanked, and finds nothing left."""
    calls = _counted_proposals(monkeypatch)
    frames, context = _overlay_case()
    detector = TextDetector()
    found = detector.detect(frames, context)
    assert found
    redact(frames, list(found), fill=(0.0,), out=frames)
    assert detector.detect(frames, context) == []
    assert len(calls) == 1
    other, _ = _overlay_case(19)  # another image: a first look again
    detector.detect(other, context)
    assert len(calls) == 2


@needs_tesseract
def test_a_changed_question_is_a_first_look(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same pixels asked about in phi mode after all-text: proposed and read afresh
    (nothing is held back as found before)."""
    calls = _counted_proposals(monkeypatch)
    frames, context = _overlay_case()
    detector = TextDetector()
    assert detector.detect(frames, context)
    phi_mode = Context(photometric=context.photometric, bits_stored=context.bits_stored,
                       mode="phi")
    marked = detector.detect(frames, phi_mode)
    assert len(calls) == 2
    assert any(r.phi for r in marked) and any(not r.phi for r in marked)


def test_a_run_is_reported_inside_its_candidate() -> None:
    """A word whose box Tesseract stretched past its crop (into the mosaic) is cut to the
    candidate (plus the margin), whether or not the run is PHI."""
    box = Box(100, 50, 124, 250)
    stretched = [Word("DOE", -30.0, 4.0, 60.0, 80.0, 90.0)]
    for phi in (True, False):
        for whole_line in (True, False):
            r = region(stretched, box, (400, 400), phi, "tesseract", whole_line=whole_line)
            assert isinstance(r, Region)
            assert box.y0 - 2 <= r.y0 and r.y1 <= box.y1 + 2
            assert box.x0 - 2 <= r.x0 and r.x1 <= box.x1 + 2
    kept_to_words = region(stretched, box, (400, 400), True, "tesseract", whole_line=False)
    assert kept_to_words.x1 == 50 + 80 + 2  # its own words: not stretched to the line's end


@needs_tesseract
def test_anti_aliased_overlay_text_is_read_where_only_glyph_cores_reach_the_extreme() -> None:
    """Small anti-aliased glyphs at the maximum with an outline at 0 over noisy anatomy,
    where few glyph pixels are within 2 % of the extreme: the line is covered."""
    rng = np.random.default_rng(3)
    top = 4095
    anatomy = np.clip(rng.normal(2000, 600, size=(160, 420)), 0, top)
    glyphs = Image.new("L", (420, 160), 0)
    ImageDraw.Draw(glyphs).text((30, 60), "Name: PLACEBO ZEPHYRA", fill=255,
                                font=ImageFont.truetype(_BOLD, 13))
    alpha = np.asarray(glyphs, dtype=np.float64) / 255.0
    grown = np.asarray(Image.fromarray((alpha > 0.1).astype(np.uint8) * 255).filter(
        ImageFilter.MaxFilter(3)), dtype=bool)
    image = np.where(grown & (alpha <= 0.1), 0.0, anatomy)
    image = alpha * top + (1 - alpha) * image
    frames = image.astype(np.uint16)[np.newaxis, ..., np.newaxis]
    regions = TextDetector().detect(frames, Context(bits_stored=12, mode="phi"))
    ys, xs = np.nonzero(alpha > 0.5)
    mask = np.zeros(image.shape, bool)
    for r in regions:
        if r.phi:
            mask[r.y0 : r.y1, r.x0 : r.x1] = True
    assert mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].mean() >= 0.9


def test_a_mark_of_one_or_two_glyphs_is_not_a_line() -> None:
    """Side markers and lone glyphs cover their own glyphs, not their candidate's length;
    a run of three alphanumerics or more covers the line."""
    box = Box(100, 50, 124, 250)

    def width(*words: Word) -> int:
        r = region(list(words), box, (400, 400), True, "tesseract")
        return r.x1 - r.x0

    assert width(Word("L", 4, 4, 20, 14, 95.0)) == 10 + 4
    assert width(Word("4", 4, 4, 20, 14, 90.0), Word("'", 4, 16, 8, 18, 20.0)) == 14 + 4
    line = box.x1 - box.x0 - 4 + 4  # the strokes (padding off) and the margins
    assert width(Word("kVp:", 4, 4, 20, 40, 90.0), Word("70", 4, 44, 20, 60, 90.0)) == line
    assert width(Word("F3X", 4, 4, 20, 30, 90.0)) == line


def test_a_label_read_without_its_value_reaches_over_the_value() -> None:
    """"Sex:" read alone in a candidate the overlay mask cut at the colon: the value is on
    the same line to its right, so the PHI region reaches five line heights past the
    label; a label read with its value, or a line that is not PHI, keeps to its candidate."""
    box = Box(100, 50, 114, 90)  # 10-px text, PAD around it
    bare = [Word("Sex:", 2.0, 2.0, 12.0, 36.0, 80.0)]
    reached = region(bare, box, (400, 400), True, "tesseract")
    assert reached.x1 == 50 + 36 + 5 * 10 + 2
    with_value = [*bare, Word("F", 2.0, 30.0, 12.0, 36.0, 80.0)]
    assert region(with_value, box, (400, 400), True, "tesseract").x1 == box.x1 - 2 + 2
    assert region(bare, box, (400, 400), False, "tesseract").x1 == 50 + 36 + 2


def test_a_phi_line_ends_at_its_strokes_not_at_the_reach_of_their_dilation() -> None:
    """Lines are found on strokes dilated four columns and one row each way: a PHI line's
    region runs from its first to its last stroke, column and row (plus the margin), not
    to the dilated box's ends."""
    import cv2

    from medscrub.detectors.text.proposal import Ink, propose

    image = np.full((120, 320), 40, np.uint8)
    cv2.putText(image, "DOE JANE 4821337", (30, 60), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 230, 1)
    rows, columns = (np.flatnonzero((image > 128).any(axis=a)) for a in (1, 0))
    first, last = int(columns[0]), int(columns[-1]) + 1
    ink = Ink.of(image[np.newaxis, ..., np.newaxis], 8)
    [line] = [b for b in propose(ink) if not b.extreme and b.y0 < 60 < b.y1]
    assert line.strokes is not None
    top, start, bottom, end = line.strokes
    assert first - 2 <= start and end <= last + 2  # its strokes (and their edges)
    assert rows[0] - 2 <= top and bottom <= rows[-1] + 3
    assert line.x0 < start - 2 and line.x1 > end + 2  # its box reaches on
    assert line.y0 + 2 < top and line.y1 - 2 > bottom  # (by the dilation, past the padding)
    word = [Word("DOE", 4.0, float(start - line.x0), 16.0, float(start - line.x0 + 30), 90.0)]
    found = region(word, line, image.shape, True, "tesseract")
    assert (found.x0, found.x1) == (start - 2, end + 2)
    assert (found.y0, found.y1) == (top - 2, bottom + 2)
