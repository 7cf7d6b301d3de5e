"""The held-out overlay set (medscrub_testing.overlayset): its ground truth is exact.

Checked from the pixels, not from the generator's own bookkeeping: every pixel the
text changed lies in exactly one box, each box touches changed pixels on all four of
its sides and its one-pixel surrounding ring is untouched (so no smaller box holds
the line and no other line reaches it); glyphs sit at the extreme stored value that
displays white with a one-pixel outline at the other extreme; the header holds the
values the PHI lines show, read back from the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from itertools import product
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from pydicom.filereader import dcmread

from medscrub_testing import overlayset
from medscrub_testing.overlayset import (
    GROUND_TRUTH_NAME,
    OverlayBox,
    OverlayCase,
    generate_overlay_set,
    load_overlay_ground_truth,
    write_overlay_set,
)

_MONTHS = {m: i for i, m in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)}
_Match = re.Match[str]
#: The date spellings the set must show, each with how to read it (two-digit years: 20yy).
_DATE_FORMS: dict[str, tuple[re.Pattern[str], Callable[[_Match], date]]] = {
    "06/16/1976": (re.compile(r"\b(\d\d)/(\d\d)/(\d{4})\b"),
                   lambda m: date(int(m[3]), int(m[1]), int(m[2]))),
    "16.06.1976": (re.compile(r"\b(\d\d)\.(\d\d)\.(\d{4})\b"),
                   lambda m: date(int(m[3]), int(m[2]), int(m[1]))),
    "1976-06-16": (re.compile(r"\b(\d{4})-(\d\d)-(\d\d)\b"),
                   lambda m: date(int(m[1]), int(m[2]), int(m[3]))),
    "24-MAY-02": (re.compile(r"\b(\d\d)-([A-Z]{3})-(\d\d)\b"),
                  lambda m: date(2000 + int(m[3]), _MONTHS[m[2]], int(m[1]))),
    "2013 Jul 13": (re.compile(r"\b(\d{4}) ([A-Z][a-z]{2}) (\d\d)\b"),
                    lambda m: date(int(m[1]), _MONTHS[m[2].upper()], int(m[3]))),
    "13 JUL 2013": (re.compile(r"\b(\d\d) ([A-Z]{3}) (\d{4})\b"),
                    lambda m: date(int(m[3]), _MONTHS[m[2]], int(m[1]))),
}


@pytest.fixture(scope="module")
def cases() -> list[OverlayCase]:
    return generate_overlay_set(seed=0, count=60)


def _pixels(case: OverlayCase) -> npt.NDArray[np.uint16]:
    ds = case.dataset
    return np.frombuffer(ds.PixelData, dtype="<u2").reshape(int(ds.Rows), int(ds.Columns))


def _extremes(case: OverlayCase) -> tuple[int, int]:
    """(white, black) as stored: the extremes of Bits Stored, by photometric."""
    top = (1 << int(case.dataset.BitsStored)) - 1
    return (0, top) if case.dataset.PhotometricInterpretation == "MONOCHROME1" else (top, 0)


def _grow(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """`mask` dilated by one pixel in all eight directions (same shape)."""
    around = np.pad(mask, 1)
    out = np.zeros_like(mask)
    for dy in range(3):
        for dx in range(3):
            out |= around[dy:dy + mask.shape[0], dx:dx + mask.shape[1]]
    return out


def _dates(text: str) -> dict[str, date]:
    found: dict[str, date] = {}
    for form, (pattern, read) in _DATE_FORMS.items():
        match = pattern.search(text)
        if match:
            found[form] = read(match)
    return found


def _header_date(value: str) -> date:
    return date(int(value[:4]), int(value[4:6]), int(value[6:8]))


def test_same_bytes_for_a_seed(cases: list[OverlayCase]) -> None:
    first, second = generate_overlay_set(seed=0, count=10), generate_overlay_set(seed=0, count=10)
    assert [c.to_bytes() for c in first] == [c.to_bytes() for c in second]
    # case i does not depend on how many cases are asked for
    assert [c.to_bytes() for c in first] == [c.to_bytes() for c in cases[:10]]
    assert [c.boxes for c in first] == [c.boxes for c in cases[:10]]
    assert generate_overlay_set(seed=1, count=1)[0].to_bytes() != cases[0].to_bytes()


def test_written_files_and_ground_truth(tmp_path: Path, cases: list[OverlayCase]) -> None:
    written = write_overlay_set(tmp_path, seed=0, count=3)
    assert [p.name for p in written] == sorted(
        [f"{c.name}.dcm" for c in cases[:3]] + [GROUND_TRUTH_NAME])
    truth = load_overlay_ground_truth(tmp_path)
    for case in cases[:3]:
        path = tmp_path / f"{case.name}.dcm"
        assert path.read_bytes() == case.to_bytes()
        assert truth[path.name] == list(case.boxes)
        back = dcmread(path)
        assert np.array_equal(back.pixel_array, _pixels(case))


def test_boxes_tight_inside_and_apart(cases: list[OverlayCase]) -> None:
    for case in cases:
        pixels = _pixels(case)
        rows, cols = pixels.shape
        changed = pixels != case.anatomy
        owned = np.zeros(pixels.shape, dtype=np.int64)
        assert case.boxes, case.name
        for box in case.boxes:
            assert 0 <= box.y0 < box.y1 <= rows and 0 <= box.x0 < box.x1 <= cols, box
            inside = changed[box.y0:box.y1, box.x0:box.x1]
            # each side of the box holds a changed pixel: no smaller box contains them all
            assert inside[0].any() and inside[-1].any(), (case.name, box)
            assert inside[:, 0].any() and inside[:, -1].any(), (case.name, box)
            ring = np.zeros(pixels.shape, dtype=bool)
            ring[max(0, box.y0 - 1):box.y1 + 1, max(0, box.x0 - 1):box.x1 + 1] = True
            ring[box.y0:box.y1, box.x0:box.x1] = False
            assert not changed[ring].any(), (case.name, box)
            owned[box.y0:box.y1, box.x0:box.x1] += 1
        assert owned.max() == 1, case.name  # no two boxes overlap
        assert not changed[owned == 0].any(), case.name  # no text outside the boxes


def test_glyphs_at_the_extreme_with_a_dark_outline(cases: list[OverlayCase]) -> None:
    for case in cases:
        pixels = _pixels(case)
        white, black = _extremes(case)
        top = max(white, black)
        # the anatomy takes neither extreme, so every glyph and outline pixel changed
        assert int(case.anatomy.min()) > 0 and int(case.anatomy.max()) < top, case.name
        assert int(pixels.max()) <= top
        for box in case.boxes:
            region = pixels[box.y0:box.y1, box.x0:box.x1]
            changed = region != case.anatomy[box.y0:box.y1, box.x0:box.x1]
            glyph, outline = region == white, region == black
            assert glyph.any(), (case.name, box)
            assert np.array_equal(changed, glyph | outline), (case.name, box)
            # the one-pixel ring around the glyphs is exactly the outline
            assert np.array_equal(_grow(glyph) & ~glyph, outline), (case.name, box)


def test_text_height_10_to_16(cases: list[OverlayCase]) -> None:
    heights = {b.y1 - b.y0 - 2 for c in cases for b in c.boxes if not b.vertical}
    caps = {b.y1 - b.y0 - 2 for c in cases for b in c.boxes
            if not b.vertical and b.text in ("L", "R")}  # a lone capital: its height exactly
    assert caps and min(caps) >= 10 and max(caps) <= 17
    assert min(heights) >= 10 and max(heights) <= 26


def test_header_matches_the_phi_lines(cases: list[OverlayCase]) -> None:
    forms: set[str] = set()
    fields: set[str] = set()
    for case in cases:
        ds = case.dataset
        family, given = str(ds.PatientName).split("^")
        birth, study = _header_date(ds.PatientBirthDate), _header_date(ds.StudyDate)
        age = study.year - birth.year - ((study.month, study.day) < (birth.month, birth.day))
        assert ds.PatientAge == f"{age:03d}Y"
        shown = {f for box in case.boxes for f in box.fields}
        assert {"PatientName", "PatientID"} <= shown, case.name
        for box in case.boxes:
            text = box.text
            if not box.phi:
                assert not box.fields and family not in text and ds.PatientID not in text
                continue
            fields.update(box.fields)
            dates = _dates(text)
            forms.update(dates)
            for keyword in box.fields:
                if keyword == "PatientName":
                    assert family in text and (box.vertical or given in text), text
                elif keyword == "PatientID":
                    assert re.search(rf"(?<!\d){ds.PatientID}(?!\d)", text), text
                elif keyword == "PatientBirthDate":
                    assert list(dates.values()) == [birth], text
                elif keyword == "StudyDate":
                    assert list(dates.values()) == [study], text
                elif keyword == "StudyTime":
                    assert f" {ds.StudyTime[:2]}:{ds.StudyTime[2:4]}" in text, text
                elif keyword == "PatientAge":
                    assert ds.PatientAge in text, text
                elif keyword == "PatientSex":
                    assert re.search(rf"\b{ds.PatientSex}$", text), text
                else:
                    assert keyword == "InstitutionName" and text == ds.InstitutionName, text
    assert forms == set(_DATE_FORMS)
    assert fields == {"PatientName", "PatientID", "PatientBirthDate", "PatientAge",
                      "PatientSex", "StudyDate", "StudyTime", "InstitutionName"}
    # every case has a patient of its own
    assert len({str(c.dataset.PatientName) for c in cases}) == len(cases)
    assert len({c.dataset.PatientID for c in cases}) == len(cases)


def test_every_combination_in_60(cases: list[OverlayCase]) -> None:
    seen = [(c.dataset.Modality, c.dataset.PhotometricInterpretation,
             int(c.dataset.BitsStored)) for c in cases]
    expected = set(product(("CT", "MR", "MG", "DX", "CR"), ("MONOCHROME2", "MONOCHROME1"),
                           (10, 12, 16)))
    assert set(seen) == expected
    for case in cases:
        ds = case.dataset
        assert (ds.BitsAllocated, ds.HighBit, ds.PixelRepresentation) == (
            16, ds.BitsStored - 1, 0)
        assert 256 <= ds.Rows <= 972 and 256 <= ds.Columns <= 972
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    # the anatomy often uses a part of the stored range only (10 bits stored, values to 255)
    assert any(int(c.dataset.BitsStored) == 10 and int(c.anatomy.max()) <= 255 for c in cases)


def test_a_vertical_line_along_the_left_edge(cases: list[OverlayCase]) -> None:
    vertical = [(c, b) for c in cases for b in c.boxes if b.vertical]
    assert len(vertical) >= 10
    for case, box in vertical:
        family = str(case.dataset.PatientName).split("^")[0]
        assert box.text == f"{family} {case.dataset.PatientID}"
        assert box.x0 <= 5 and (box.y1 - box.y0) > 3 * (box.x1 - box.x0)


def test_anatomy_never_flat(cases: list[OverlayCase]) -> None:
    for case in cases:
        a = case.anatomy.astype(np.int64)
        rows, cols = (s // 16 * 16 for s in a.shape)
        tiles = a[:rows, :cols].reshape(rows // 16, 16, cols // 16, 16)
        spread = tiles.max(axis=(1, 3)) - tiles.min(axis=(1, 3))
        assert spread.min() >= 2, case.name


def test_fonts_named_bold_sans_and_a_missing_one_named(monkeypatch: pytest.MonkeyPatch) -> None:
    packages = {"fonts-dejavu-core", "fonts-liberation", "fonts-liberation2",
                "fonts-freefont-ttf"}
    for path, package in overlayset.FONT_FILES:
        assert path.startswith("/usr/share/fonts/truetype/") and package in packages
        assert "Bold" in Path(path).name and "Serif" not in path and "Oblique" not in path
    missing = "/usr/share/fonts/truetype/nowhere/NoSuchSans-Bold.ttf"
    monkeypatch.setattr(overlayset, "FONT_FILES",
                        ((missing, "fonts-nowhere"), *overlayset.FONT_FILES))
    with pytest.raises(FileNotFoundError, match=r"NoSuchSans-Bold\.ttf.*fonts-nowhere"):
        generate_overlay_set(seed=0, count=1)


def test_box_dict_round_trip() -> None:
    box = OverlayBox(1, 2, 13, 40, True, "ID: 123", ("PatientID",), False)
    assert OverlayBox.from_dict(box.to_dict()) == box
