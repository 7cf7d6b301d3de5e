"""Clean Pixel Data on photos: the burned-in text detector runs on them too."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

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
