"""Vendor overlays: text at an extreme value with an outline at the other, over anatomy."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

import medscrub.detectors.text as text_detector
import medscrub.detectors.text.reading as text_reading
from medscrub.detectors import Context
from medscrub.detectors.text import TextDetector
from medscrub.detectors.text.proposal import Ink, propose
from medscrub_testing.textset import TextCase, generate_text_set
from tests.conftest import needs_tesseract

_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
_TOP = 1023  # 10 bits stored


def _overlay_image(outline: bool, text: str = "Name: DOE JANE"
                   ) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A noisy 10-bit 'radiograph' whose noise and a saturated block reach both extremes,
    with one line of bold `text` at the maximum (outlined at 0 when `outline`)."""
    rng = np.random.default_rng(7)
    image = np.clip(rng.normal(500, 180, size=(200, 360)), 0, _TOP)
    image[120:190, 20:120] = _TOP  # saturated bone / collimation: broad, not thin
    mask = Image.new("L", (360, 200), 0)
    ImageDraw.Draw(mask).text((40, 40), text, font=ImageFont.truetype(_BOLD, 18), fill=255)
    glyphs = np.asarray(mask) > 127
    if outline:
        grown = np.zeros_like(glyphs)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                grown |= np.roll(np.roll(glyphs, dy, axis=0), dx, axis=1)
        image[grown] = 0
    image[glyphs] = _TOP
    ys, xs = np.nonzero(glyphs)
    return (image.astype(np.uint16)[np.newaxis, ..., np.newaxis],
            (int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1))


def test_outlined_strokes_at_an_extreme_are_kept_and_noise_there_is_not() -> None:
    frames, (y0, x0, y1, x1) = _overlay_image(outline=True)
    ink = Ink.of(frames, 10)
    strokes = ink.extremes[..., 0] > 0
    inside = strokes[y0 - 2 : y1 + 2, x0 - 2 : x1 + 2].sum()
    assert inside > 0.3 * (frames[0, y0:y1, x0:x1, 0] == _TOP).sum()
    assert strokes.sum() - inside <= 0.02 * strokes.sum()  # specks and the block are gone
    overlay = [b for b in propose(ink) if b.extreme == 1]
    assert any(b.y0 <= y0 and b.x0 <= x0 and b.y1 >= y1 and b.x1 >= x1 for b in overlay)


def test_the_overlay_cue_stands_on_the_outline() -> None:
    """The same text without its outline keeps almost nothing (only strokes that happen
    to lie by noise at the other extreme): the stroke cues are left to find it."""
    with_outline = Ink.of(_overlay_image(outline=True)[0], 10).extremes
    without = Ink.of(_overlay_image(outline=False)[0], 10).extremes
    assert (without > 0).sum() <= 0.05 * (with_outline > 0).sum()


def _redacted_in_phi_mode(case: TextCase) -> np.ndarray:
    """The pixels of `case` under the PHI regions found in phi mode (no header hints)."""
    ds = case.dataset
    frames = ds.pixel_array[np.newaxis, ..., np.newaxis]
    regions = TextDetector().detect(frames, Context(
        photometric=ds.PhotometricInterpretation, modality=ds.Modality,
        bits_stored=ds.BitsStored, mode="phi"))
    mask = np.zeros(frames.shape[1:3], bool)
    for r in regions:
        if r.phi:
            mask[r.y0 : r.y1, r.x0 : r.x1] = True
    return mask


@needs_tesseract
@pytest.mark.parametrize("index", [9, 19])
def test_overlay_lines_over_anatomy_are_redacted(index: int) -> None:
    """Generated vendor overlays (bold outlined text over busy anatomy): every PHI line is
    redacted in phi mode (without the overlay cue, at least one line of each is missed)."""
    case = generate_text_set(0, index + 1)[index]
    assert case.kind == "overlay"
    mask = _redacted_in_phi_mode(case)
    covered = [float(mask[b.y0 : b.y1, b.x0 : b.x1].mean()) for b in case.boxes if b.phi]
    assert min(covered) >= 0.9, covered


@needs_tesseract
def test_a_label_up_the_edge_beside_level_lines_is_redacted() -> None:
    """11-pixel overlay text with a turned label up the left edge, which the overlay mask
    joins to the level lines beside it: the label is still read turned and redacted (it
    was lost while side text could not cross level lines: 0.29 of it covered)."""
    case = generate_text_set(0, 90)[89]
    assert case.kind == "overlay"
    mask = _redacted_in_phi_mode(case)
    turned = [b for b in case.boxes if b.phi and b.y1 - b.y0 > 3 * (b.x1 - b.x0)]
    assert turned
    assert all(mask[b.y0 : b.y1, b.x0 : b.x1].mean() >= 0.9 for b in turned)



def _turned_overlay_boxes(index: int) -> tuple[list[tuple[int, int, int, int]],
                                               list[tuple[int, int, int, int]]]:
    """Generated overlay case `index`: its turned overlay candidates and turned lines."""
    case = generate_text_set(0, index + 1)[index]
    ds = case.dataset
    boxes = propose(Ink.of(ds.pixel_array[np.newaxis, ..., np.newaxis], ds.BitsStored))
    return ([(b.y0, b.x0, b.y1, b.x1) for b in boxes if b.extreme and b.turns],
            [(b.y0, b.x0, b.y1, b.x1) for b in case.boxes if b.y1 - b.y0 > 3 * (b.x1 - b.x0)])


@pytest.mark.parametrize("index", [9, 19])
def test_columns_through_stacked_lines_are_not_proposed_as_side_text(index: int) -> None:
    """Cut across stacked level lines, glyphs one above the other stand upright like a
    turned line; such columns (each read both ways at both extremes: 14 and 36 of them
    here before) are not proposed where no line is turned."""
    turned, truth = _turned_overlay_boxes(index)
    assert truth == []
    assert turned == []


def test_a_turned_label_beside_stacked_lines_is_still_proposed() -> None:
    turned, truth = _turned_overlay_boxes(89)
    assert len(truth) == 1
    y0, x0, y1, x1 = truth[0]
    assert any(b[0] <= y0 and b[1] <= x0 and b[2] >= y1 and b[3] >= x1 for b in turned)


def _overlay_crops_read(monkeypatch: pytest.MonkeyPatch, text: str) -> tuple[int, int]:
    """Detect in phi mode on one outlined overlay line reading `text`: how many of its
    overlay candidates' mask crops and grey-ramp crops were read."""
    masks: set[int] = set()
    ramps: set[int] = set()
    near_extremes = Ink._near_extremes

    def noted(ink: Ink, box: object) -> list:
        crops = near_extremes(ink, box)
        masks.add(id(crops[0][0]))
        ramps.update(id(planes) for planes, _ in crops[1:])
        return crops

    read: list[int] = []

    def counted(tasks: list) -> dict:
        read.extend(id(task.crop[0]) for task in tasks)
        return text_reading.read_crops(tasks)

    monkeypatch.setattr(Ink, "_near_extremes", noted)
    monkeypatch.setattr(text_detector, "read_crops", counted)
    frames, _ = _overlay_image(outline=True, text=text)
    TextDetector().detect(frames, Context(bits_stored=10, mode="phi"))
    return sum(i in masks for i in read), sum(i in ramps for i in read)


@needs_tesseract
def test_an_overlay_line_read_as_phi_from_its_mask_is_not_read_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Its grey ramps are read only where the masks' readings leave the line: a PHI line
    read from its glyphs' mask is done, and so is its twin on the outline's mask (read
    "Nemes DOE JANIE"), whose strokes that line's region covers; a line read as no
    identifier is read the other ways."""
    masks, ramps = _overlay_crops_read(monkeypatch, "Name: DOE JANE")
    assert masks == 2 and ramps == 0
    masks, ramps = _overlay_crops_read(monkeypatch, "kVp 120 mAs 5")
    assert masks == 2 and ramps == 4


@needs_tesseract
def test_an_age_and_sex_field_without_a_label_is_redacted() -> None:
    """A vendor's "077Y F" field (age and sex, no label) on an outlined overlay line over
    noise: redacted in phi mode; "kVp 120 mAs 5" beside it in the same style is kept."""
    for text, redacted in (("077Y F", True), ("kVp 120 mAs 5", False)):
        frames, (y0, x0, y1, x1) = _overlay_image(outline=True, text=text)
        regions = TextDetector().detect(frames, Context(bits_stored=10, mode="phi"))
        covered = np.zeros(frames.shape[1:3], bool)
        for r in regions:
            if r.phi:
                covered[r.y0 : r.y1, r.x0 : r.x1] = True
        assert bool(covered[y0:y1, x0:x1].mean() >= 0.9) is redacted, text
