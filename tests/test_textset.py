"""Tests of the burned-in text evaluation set generator."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from pydicom import dcmread

import medscrub_testing.textset as textset
from medscrub_testing.textset import (
    FONT_ROOT,
    FONTS,
    KINDS,
    TEXT_GROUND_TRUTH_NAME,
    MissingFontError,
    TextCase,
    generate_text_set,
    load_text_ground_truth,
    write_text_set,
)

COUNT = 2 * len(KINDS)


@pytest.fixture(scope="module")
def cases() -> list[TextCase]:
    return generate_text_set(0, COUNT)


@pytest.fixture(scope="module")
def clean() -> list[TextCase]:
    return generate_text_set(0, COUNT, burn_text=False)


def _frames(case: TextCase) -> npt.NDArray[np.integer]:
    """Pixels as (frames, rows, cols, channels)."""
    arr = case.dataset.pixel_array
    if int(case.dataset.get("NumberOfFrames", 1)) == 1:
        arr = arr[None]
    if int(case.dataset.SamplesPerPixel) == 1:
        arr = arr[..., None]
    return np.asarray(arr)


def test_deterministic(cases: list[TextCase]) -> None:
    again = generate_text_set(0, COUNT)
    for a, b in zip(cases, again, strict=True):
        assert a.dataset.PixelData == b.dataset.PixelData
        assert a.boxes == b.boxes
        assert a.frames == b.frames
        assert a.dataset.PatientName == b.dataset.PatientName
    other = generate_text_set(1, COUNT)
    pairs = list(zip(cases, other, strict=True))
    assert any(a.dataset.PixelData != b.dataset.PixelData for a, b in pairs)
    assert any(a.boxes != b.boxes for a, b in pairs)


def test_every_kind_and_format(cases: list[TextCase]) -> None:
    assert {c.kind for c in cases} == set(KINDS)
    formats = {(str(c.dataset.PhotometricInterpretation), int(c.dataset.BitsStored),
                int(c.dataset.PixelRepresentation)) for c in cases}
    assert ("MONOCHROME2", 16, 1) in formats
    assert ("MONOCHROME2", 12, 0) in formats
    assert ("MONOCHROME1", 12, 0) in formats
    assert ("RGB", 8, 0) in formats
    cines = [c for c in cases if c.kind == "us_cine"]
    assert all(8 <= int(c.dataset.NumberOfFrames) <= 20 for c in cines)
    assert all(any(f is not None for f in c.frames) for c in cines)
    ct = next(c for c in cases if c.kind == "ct")
    assert (ct.dataset.Rows, ct.dataset.Columns) == (512, 512)
    assert ct.dataset.RescaleIntercept == -1024


def test_boxes_inside_and_tight(cases: list[TextCase], clean: list[TextCase]) -> None:
    for case, ref in zip(cases, clean, strict=True):
        assert case.boxes == ref.boxes
        img, bg = _frames(case), _frames(ref)
        diff = (img != bg).any(axis=-1)  # (frames, rows, cols)
        n, rows, cols = diff.shape
        covered = np.zeros_like(diff)
        for box, frames in zip(case.boxes, case.frames, strict=True):
            assert 0 <= box.y0 < box.y1 <= rows and 0 <= box.x0 < box.x1 <= cols
            fr = frames or slice(0, n)
            assert 0 <= fr.start < fr.stop <= n
            inside = diff[fr, box.y0 : box.y1, box.x0 : box.x1].any(axis=0)
            # Tight: the text changed pixels on every edge row/column of the box.
            assert inside[0].any() and inside[-1].any(), (case.name, box)
            assert inside[:, 0].any() and inside[:, -1].any(), (case.name, box)
            covered[fr, box.y0 : box.y1, box.x0 : box.x1] = True
            # Just outside the box, at least one side is untouched background.
            sides = [
                diff[fr, box.y0 - 1, box.x0 : box.x1] if box.y0 > 0 else None,
                diff[fr, box.y1, box.x0 : box.x1] if box.y1 < rows else None,
                diff[fr, box.y0 : box.y1, box.x0 - 1] if box.x0 > 0 else None,
                diff[fr, box.y0 : box.y1, box.x1] if box.x1 < cols else None,
            ]
            assert any(s is not None and not s.any() for s in sides), (case.name, box)
        # Every pixel the text changed, in every frame, lies in a box of that frame.
        assert not (diff & ~covered).any(), case.name


def test_fonts_and_glyph_heights(cases: list[TextCase]) -> None:
    fonts = {f for c in cases for f in c.fonts}
    assert len(fonts) >= 3
    extents = [(b.y1 - b.y0, b.x1 - b.x0) for c in cases for b in c.boxes]
    assert all(max(h, w) >= 7 for h, w in extents)
    heights = [h for h, w in extents if w > h]
    assert any(7 <= h < 12 for h in heights)
    assert any(h >= 12 for h in heights)


def test_phi_matches_header(cases: list[TextCase]) -> None:
    for case in cases:
        ds = case.dataset
        family, pid = str(ds.PatientName.family_name), str(ds.PatientID)
        phi = [b.text.upper() for b in case.boxes if b.phi]
        assert any(family in t for t in phi), case.name
        assert any(pid in t for t in phi), case.name
        assert any(not b.phi for b in case.boxes), case.name
        for b in case.boxes:
            if not b.phi:
                assert family not in b.text.upper() and pid not in b.text
        assert ds.BurnedInAnnotation == "YES"
        assert ds.PatientBirthDate and ds.StudyDate and ds.InstitutionName


def test_write_round_trip(tmp_path: Path) -> None:
    count = len(KINDS)
    written = write_text_set(tmp_path, seed=3, count=count)
    assert len(written) == count + 1
    truth = load_text_ground_truth(tmp_path)
    raw = json.loads((tmp_path / TEXT_GROUND_TRUTH_NAME).read_text(encoding="utf-8"))
    assert set(raw) == set(truth)
    for case in generate_text_set(3, count):
        name = f"{case.name}.dcm"
        ds = dcmread(tmp_path / name)
        assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
        assert ds.PixelData == case.dataset.PixelData
        assert ds.PatientID == case.dataset.PatientID
        assert truth[name] == list(zip(case.boxes, case.frames, strict=True))


def _font_tree(root: Path, names: tuple[str, ...]) -> Path:
    """A font folder holding links to the installed `names`."""
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).symlink_to(FONT_ROOT / name)
    return root


def _case_bytes(cases: list[TextCase]) -> list[bytes]:
    return [bytes(case.dataset.PixelData) for case in cases]


def test_fonts_are_a_fixed_list_whatever_else_is_installed(
    cases: list[TextCase], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(FONTS) == len(set(FONTS)) == 62 and list(FONTS) == sorted(FONTS)
    assert {font for case in cases for font in case.fonts} <= {Path(f).name for f in FONTS}
    root = _font_tree(tmp_path / "fonts", FONTS)
    # a machine with more fonts: hand-lettered and comic faces beside the listed ones
    for extra in ("humor-sans/Humor-Sans.ttf", "dkg-handwriting/DkgHandwriting.ttf",
                  "aaa/AAA-First.ttf"):
        (root / extra).parent.mkdir(parents=True)
        (root / extra).symlink_to(FONT_ROOT / "freefont/FreeSerifItalic.ttf")
    monkeypatch.setattr(textset, "FONT_ROOT", root)
    again = generate_text_set(0, len(KINDS))
    assert _case_bytes(again) == _case_bytes(cases[:len(KINDS)])
    assert [c.fonts for c in again] == [c.fonts for c in cases[:len(KINDS)]]


def test_a_missing_font_stops_the_set_with_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = "liberation2/LiberationSans-Bold.ttf"
    root = _font_tree(tmp_path / "fonts", tuple(f for f in FONTS if f != missing))
    monkeypatch.setattr(textset, "FONT_ROOT", root)
    with pytest.raises(MissingFontError, match=f"first: {missing}.*fonts-liberation2"):
        generate_text_set(0, 1)
