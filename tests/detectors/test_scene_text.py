"""Text lines in photos from the learned line model: found where text is, nowhere else,
and a model that misbehaves fails the file instead of touching it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

import medscrub.detectors.scene_text as scene_text
from medscrub.detectors import Context
from medscrub.detectors.text import TextDetector
from medscrub.errors import DetectorError
from medscrub_testing.faceset import negative_set
from tests.conftest import needs_tesseract

_BOLD = "/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf"


def _label(size: tuple[int, int], lines: list[tuple[int, int, str]]
           ) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Dark text on a pale, noisy label, and the box of each line's ink."""
    rng = np.random.default_rng(5)
    base = np.clip(rng.normal(200, 12, (*size, 3)), 0, 255).astype(np.uint8)
    picture = Image.fromarray(base)
    draw = ImageDraw.Draw(picture)
    font = ImageFont.truetype(_BOLD, 22)
    boxes = []
    for y, x, text in lines:
        draw.text((x, y), text, font=font, fill=(20, 20, 30))
        left, top, right, bottom = draw.textbbox((x, y), text, font=font)
        boxes.append((top, left, bottom, right))
    return np.asarray(picture), boxes


def test_lines_are_found_where_the_text_is() -> None:
    image, truth = _label((360, 640), [(40, 30, "PATIENT: DOE JANE"), (90, 30, "MRN 4821337"),
                                       (250, 300, "DOB 06/16/1976")])
    found = scene_text.text_lines(image)
    assert len(found) == len(truth)
    for (y0, x0, y1, x1, tilt), (ty0, tx0, ty1, tx1) in zip(found, truth, strict=True):
        assert abs(tilt) < 2  # level text
        assert y0 <= ty0 and x0 <= tx0 and y1 >= ty1 and x1 >= tx1  # the whole line ...
        assert (y1 - y0) <= 2 * (ty1 - ty0) and (x1 - x0) <= (tx1 - tx0) + 40  # ... tightly


@needs_tesseract
def test_pictures_without_text_give_no_text_even_in_all_text_mode() -> None:
    """The line model proposes a few boxes on flat panels or a cat's face; reading them
    finds no text, so nothing of these 13 pictures is redacted."""
    proposed = 0
    for sample in negative_set():
        proposed += len(scene_text.text_lines(sample.image))
        context = Context(photometric="RGB", bits_stored=8, photo=True, mode="all-text")
        assert TextDetector().detect(sample.image[None], context) == [], sample.name
    assert proposed <= 2 * len(negative_set())


class _Broken:
    def run(self, _names: Any, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        _, _, h, w = feeds["x"].shape
        return [np.full((1, 1, h, w), np.nan, np.float32)]


def test_a_model_that_returns_no_probabilities_is_an_error(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scene_text, "session", lambda _name: _Broken())
    with pytest.raises(DetectorError, match="no probability map"):
        scene_text.text_lines(_label((200, 300), [(20, 20, "TEXT")])[0])


@needs_tesseract
def test_a_tilted_label_on_a_wound_photo_is_read_levelled() -> None:
    """A sticker turned 20 degrees on a wound photo: its lines are read levelled (by the
    tilt of the line the model found) and its identifiers go in phi mode; read as the
    upright box around them, they come out as noise."""
    label = Image.new("RGB", (380, 110), (245, 245, 240))
    draw = ImageDraw.Draw(label)
    font = ImageFont.truetype(_BOLD, 26)
    draw.text((12, 10), "MRN 7734521", font=font, fill=(10, 10, 10))
    draw.text((12, 58), "DOB 06/16/1976", font=font, fill=(10, 10, 10))
    ink = Image.new("L", label.size, 0)
    ImageDraw.Draw(ink).text((12, 10), "MRN 7734521", font=font, fill=255)
    ImageDraw.Draw(ink).text((12, 58), "DOB 06/16/1976", font=font, fill=255)
    photo = Image.open("sample_images/photos/wound.jpg").convert("RGB").resize((1200, 900))
    shape = Image.new("L", label.size, 255).rotate(20, expand=True)
    photo.paste(label.rotate(20, expand=True), (500, 400), shape)
    where = Image.new("L", photo.size, 0)
    where.paste(ink.rotate(20, expand=True), (500, 400))
    ys, xs = np.nonzero(np.asarray(where) > 127)
    regions = TextDetector().detect(np.asarray(photo)[None], Context(
        photometric="RGB", bits_stored=8, photo=True, mode="phi"))
    mask = np.zeros((900, 1200), bool)
    for r in regions:
        if r.phi:
            mask[r.y0 : r.y1, r.x0 : r.x1] = True
    assert mask[ys, xs].mean() >= 0.95
