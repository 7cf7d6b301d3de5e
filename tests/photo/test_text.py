"""Clean Pixel Data on photos: the burned-in text detector runs on them too."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from medscrub.pipeline import TEXT_NOT_CHECKED, Pipeline
from medscrub.profile import Profile
from medscrub_testing.samples import make_photo_jpeg
from tests.conftest import needs_tesseract

pytestmark = needs_tesseract


def test_patient_sticker_on_a_wound_photo_is_redacted(tmp_path: Path) -> None:
    data = make_photo_jpeg(tmp_path / "wound.jpg").read_bytes()
    profile = Profile(options=frozenset({"clean_pixel_data"}))
    cleaned = Pipeline(profile, phi_terms=["QUIXOTE", "ZEBULON"]).redact_photo_bytes(data)
    text = [r for r in cleaned.regions if r.kind == "text"]
    assert len(text) >= 2 and all(r.y1 <= 40 for r in text)  # the sticker's two lines
    out = np.asarray(Image.open(io.BytesIO(cleaned.data)).convert("L"), dtype=int)
    before = np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=int)
    for region in text:
        box = (slice(region.y0, region.y1), slice(region.x0, region.x1))
        assert before[box].mean() > 100  # the white sticker with its text
        assert out[box].mean() < 4  # filled black (a JPEG re-encode rings at the edges)
    assert np.abs(out[60:, :] - before[60:, :]).mean() < 2  # the wound stays
    assert TEXT_NOT_CHECKED not in cleaned.warnings and cleaned.reencoded


def _png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "PNG")
    return buf.getvalue()


def _labelled_radiograph() -> np.ndarray:
    """A greyscale (single-channel) picture of a radiograph with a name and a birth date
    written on it, as a PNG export of a viewer would be."""
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:480, 0:400]
    body = 90 + 70 * np.exp(-((yy - 260) ** 2 / 2e4 + (xx - 200) ** 2 / 9e3))
    image = np.clip(body + rng.normal(0, 6, body.shape), 0, 255).astype(np.uint8)
    picture = Image.fromarray(image)
    draw = ImageDraw.Draw(picture)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 15)
    draw.text((6, 4), "FAKEWORTH ZEPHYRA [F] 03.09.2012", font=font, fill=255)
    draw.text((6, 24), "DOB: 07.22.1943", font=font, fill=255)
    return np.asarray(picture)


def test_text_on_a_greyscale_photo_is_redacted() -> None:
    image = _labelled_radiograph()
    cleaned = Pipeline(Profile(options=frozenset({"clean_pixel_data"}))).redact_photo_bytes(
        _png(image))
    out = np.asarray(Image.open(io.BytesIO(cleaned.data)))
    assert out.shape == image.shape  # still one channel
    assert len(cleaned.regions) >= 2
    assert (out[6:18, 8:250] == 0).all() and (out[26:38, 8:130] == 0).all()
    assert np.array_equal(out[100:], image[100:])  # the anatomy stays


def test_a_photo_with_no_text_is_not_touched_in_all_text_mode(tmp_path: Path) -> None:
    source = np.asarray(Image.open(io.BytesIO(make_photo_jpeg(tmp_path / "w.jpg")
                                              .read_bytes())).convert("RGB"))
    wound = source[60:, :]  # the wound without its sticker, enlarged as a phone would take it
    photo = np.asarray(Image.fromarray(wound).resize((1200, 675), Image.Resampling.BICUBIC))
    cleaned = Pipeline(Profile.preset("share")).redact_photo_bytes(_png(photo))
    assert [r for r in cleaned.regions if r.kind == "text"] == []


def _scanned_form() -> tuple[np.ndarray, list[tuple[str, tuple[int, int, int, int]]]]:
    """A scanned requisition form: labels in a column, each value written further along its
    row on a rule; returns the page and each value's box (x0, y0, x1, y1)."""
    page = Image.new("L", (1000, 620), 250)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype("/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
                              26)
    values = []
    for i, (label, value) in enumerate((("Name:", "Jane Q. Doe"), ("MRN:", "4821337"),
                                        ("Exam:", "CT chest with contrast"))):
        y = 120 + 90 * i
        draw.text((60, y), label, font=font, fill=20)
        draw.line((240, y + 32, 900, y + 32), fill=60, width=2)
        draw.text((260, y), value, font=font, fill=30)
        values.append((value, draw.textbbox((260, y), value, font=font)))
    rng = np.random.default_rng(5)
    noisy = np.asarray(page, dtype=np.float64) + rng.normal(0, 5, (620, 1000))
    return np.clip(noisy, 0, 255).astype(np.uint8), values


def test_a_value_written_along_the_row_of_a_form_label_is_redacted() -> None:
    """On a form the value starts well past its label ("Name:" ... "Jane Q. Doe"), read as
    a line of its own that names nobody by itself: it is the label's value, so it goes.
    A field whose label identifies nothing ("Exam:") keeps its value."""
    page, values = _scanned_form()
    cleaned = Pipeline(Profile(options=frozenset({"clean_pixel_data"}))).redact_photo_bytes(
        _png(page))
    out = np.asarray(Image.open(io.BytesIO(cleaned.data)).convert("L"))
    gone = {value: bool((out[y0:y1, x0:x1] < 8).mean() > 0.9)
            for value, (x0, y0, x1, y1) in values}
    assert gone == {"Jane Q. Doe": True, "4821337": True, "CT chest with contrast": False}
