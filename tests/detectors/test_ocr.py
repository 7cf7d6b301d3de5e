"""The OCR engine: Tesseract in process (tesserocr) or as a program (pytesseract)."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from medscrub.detectors import ocr
from tests.conftest import needs_tesseract

needs_tesserocr = pytest.mark.skipif(importlib.util.find_spec("tesserocr") is None,
                                     reason="tesserocr is not installed")


@pytest.fixture(autouse=True)
def fresh_tessdata() -> Iterator[None]:
    ocr._tessdata.cache_clear()
    yield
    ocr._tessdata.cache_clear()


def page(text: str) -> np.ndarray:
    """Dark text on white, 28-pixel glyphs: what the detector hands over."""
    image = Image.new("L", (40 + 20 * len(text), 70), 255)
    font = ImageFont.load_default(size=32)
    ImageDraw.Draw(image).text((20, 15), text, fill=0, font=font)
    return np.asarray(image, dtype=np.uint8)


@needs_tesseract
@needs_tesserocr
def test_both_ways_read_the_same_words() -> None:
    image = page("MRN FK4553082")
    assert ocr.engine_name() == "tesserocr"
    in_process = [w.text for w in ocr.read_words(image) if w.conf >= 0]
    by_program = [w.text for w in ocr._by_program(image) if w.conf >= 0]
    assert "FK4553082" in in_process
    assert in_process == [t for t in by_program if t.strip()]


@needs_tesseract
def test_word_boxes_lie_on_the_text() -> None:
    image = page("DOB 1990-10-16")
    words = [w for w in ocr.read_words(image) if w.text.strip()]
    assert words
    ink_rows = np.flatnonzero((image < 128).any(axis=1))
    for word in words:
        assert ink_rows[0] - 4 <= word.top and word.top + word.height <= ink_rows[-1] + 4


@needs_tesseract
def test_language_data_found_from_the_environment(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    found = ocr._tessdata()
    assert found and (Path(found) / "eng.traineddata").is_file()
    ocr._tessdata.cache_clear()
    shutil.copy(Path(found) / "eng.traineddata", tmp_path / "eng.traineddata")
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    assert ocr._tessdata() == str(tmp_path)


def test_without_tesseract_or_bindings_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ocr.shutil, "which", lambda _name: None)
    monkeypatch.setattr(ocr, "find_spec", lambda _name: None)
    missing = ocr.ocr_missing()
    assert any("apt-get install tesseract-ocr" in m for m in missing)
    assert any("pip install tesserocr" in m for m in missing)
    assert ocr.engine_name() == "pytesseract"  # no language data, no bindings
