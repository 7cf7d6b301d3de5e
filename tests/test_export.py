"""Export: pictures with no metadata, the window applied, the same redaction as redact."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from medscrub.cli.main import main
from medscrub.export import ExportSettings, export_path
from medscrub.keys import SecretKey
from medscrub.model import Outcome
from medscrub.photo.jpeg import segments
from medscrub.photo.metadata import _png_chunks
from medscrub.pipeline import Pipeline
from medscrub.profile import PixelRule, Profile
from medscrub.render import render_dicom
from medscrub.review import write_review
from medscrub.run import RunSummary
from medscrub_testing.samples import (
    FAKE_PHI_STRINGS,
    PATIENT_DIR,
    make_cr_monochrome1,
    make_ct,
    make_mr,
    make_us_cine_with_boxes,
)
from tests.conftest import KEY_TEXT, needs_tesseract

BASIC = Profile()
US_BANNER = (3, 2, 29, 184)
BANNER_RULE = Profile(pixel_rules=(PixelRule(boxes=(US_BANNER,), modality="US"),))


def _export(src: Path, out: Path, profile: Profile = BASIC, **settings: Any) -> RunSummary:
    return export_path(src, out, settings=ExportSettings(**settings), profile=profile,
                       key=SecretKey.from_text(KEY_TEXT))


def _one(folder: Path, name: str, ds: Dataset) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    ds.save_as(folder / name, enforce_file_format=True)
    return folder / name


def _pixels(path: Path) -> np.ndarray[Any, Any]:
    return np.asarray(Image.open(path))


def _linear(values: np.ndarray[Any, Any], center: float, width: float) -> np.ndarray[Any, Any]:
    """PS3.3 C.11.2.1.2.1 LINEAR windowing to 0..255, written out independently."""
    lo, hi = center - 0.5 - (width - 1) / 2, center - 0.5 + (width - 1) / 2
    out = ((values - (center - 0.5)) / (width - 1) + 0.5) * 255
    out = np.where(values <= lo, 0, np.where(values > hi, 255, out))
    return np.rint(out)


@pytest.mark.parametrize("image_format", ["png", "jpeg"])
def test_pictures_carry_no_metadata(samples: Path, tmp_path: Path, image_format: str) -> None:
    src = samples / PATIENT_DIR
    run = _export(src / "CT", tmp_path / "out", image_format=image_format)
    assert run.counts == {"cleaned": 3}
    pictures = sorted((tmp_path / "out").iterdir())
    assert [p.suffix for p in pictures] == [".png" if image_format == "png" else ".jpg"] * 3
    for path in pictures:
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            assert len(image.getexif()) == 0
            assert not {"exif", "icc_profile", "comment", "xmp", "dpi"} & set(image.info)
            assert not getattr(image, "text", {})
        if image_format == "png":
            assert set(_png_chunks(data)) == {b"IHDR", b"IDAT", b"IEND"}
        else:  # APP0 is the bare JFIF header; no APP1 (EXIF, XMP), APP2 (ICC), COM
            markers = [segment.marker for segment in segments(data)]
            assert not [m for m in markers if 0xE1 <= m <= 0xEF or m == 0xFE], markers
        assert not [s for s in FAKE_PHI_STRINGS if s.encode() in data]


def test_header_window_and_rescale_are_applied(samples: Path, tmp_path: Path) -> None:
    src = samples / PATIENT_DIR / "CT" / "CT000001.dcm"
    _export(src, tmp_path / "out")
    ds = pydicom.dcmread(src)
    hu = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    expected = _linear(hu, float(ds.WindowCenter), float(ds.WindowWidth))
    shown = _pixels(tmp_path / "out" / "CT000001.png")
    assert shown.dtype == np.uint8 and shown.shape == hu.shape
    assert np.abs(shown.astype(float) - expected).max() <= 1


def test_chosen_window_and_monochrome1(tmp_path: Path) -> None:
    _one(tmp_path / "in", "ct.dcm", make_ct(0, instance=1))
    _one(tmp_path / "in", "cr.dcm", make_cr_monochrome1(0))
    _export(tmp_path / "in", tmp_path / "out", window=(300.0, 1500.0))
    ct = pydicom.dcmread(tmp_path / "in" / "ct.dcm")
    hu = ct.pixel_array * float(ct.RescaleSlope) + float(ct.RescaleIntercept)
    shown = _pixels(tmp_path / "out" / "ct.png").astype(float)
    assert np.abs(shown - _linear(hu, 300.0, 1500.0)).max() <= 1
    cr = pydicom.dcmread(tmp_path / "in" / "cr.dcm")  # MONOCHROME1: high values show dark
    inverted = 255 - _linear(cr.pixel_array.astype(float), 300.0, 1500.0)
    assert np.abs(_pixels(tmp_path / "out" / "cr.png").astype(float) - inverted).max() <= 1


def test_voi_lut_and_full_range(tmp_path: Path) -> None:
    ct = make_ct(0, instance=1)
    lut = Dataset()
    lut.add_new(0x00283002, "US", [2, 0, 8])  # two entries from 0: 0 -> 0, >= 1 -> 255
    lut.add_new(0x00283006, "US", [0, 255])
    ct.VOILUTSequence = Sequence([lut])
    _one(tmp_path / "in", "lut.dcm", ct)
    mr = make_mr(0, instance=1)
    del mr.WindowCenter, mr.WindowWidth
    _one(tmp_path / "in", "mr.dcm", mr)
    _export(tmp_path / "in", tmp_path / "out")
    hu = ct.pixel_array * float(ct.RescaleSlope) + float(ct.RescaleIntercept)
    assert np.array_equal(_pixels(tmp_path / "out" / "lut.png"), np.where(hu >= 1, 255, 0))
    stored = mr.pixel_array.astype(float)
    spread = (stored - stored.min()) * 255 / (stored.max() - stored.min())
    assert np.abs(_pixels(tmp_path / "out" / "mr.png") - np.rint(spread)).max() <= 1


def test_same_redaction_as_redact(tmp_path: Path) -> None:
    us, _boxes = make_us_cine_with_boxes(0)
    src = _one(tmp_path / "in", "cine.dcm", us)
    Pipeline(BANNER_RULE, key=SecretKey.from_text(KEY_TEXT)).run(src, tmp_path / "redacted")
    cleaned = (tmp_path / "redacted" / "cine.dcm").read_bytes()
    run = _export(src, tmp_path / "out", BANNER_RULE)
    [result] = run.results
    assert result.outcome is Outcome.CLEANED and result.output == "cine.png"
    assert [(r.y0, r.x0, r.y1, r.x1) for r in result.regions] == [US_BANNER]
    shown = _pixels(tmp_path / "out" / "cine.png")
    assert np.array_equal(shown, render_dicom(cleaned, frame="middle").frames[0])
    y0, x0, y1, x1 = US_BANNER
    assert not shown[y0:y1, x0:x1].any()  # black where the banner was
    original = render_dicom(src.read_bytes(), frame="middle").frames[0]
    assert original[y0:y1, x0:x1].any()


def test_all_frames(tmp_path: Path) -> None:
    us, _boxes = make_us_cine_with_boxes(0)
    src = _one(tmp_path / "in", "cine.dcm", us)
    run = _export(src, tmp_path / "out", BANNER_RULE, all_frames=True)
    assert run.results[0].output == "cine/"
    frames = sorted((tmp_path / "out" / "cine").iterdir())
    assert [p.name for p in frames] == [f"frame{i:04d}.png" for i in range(1, 9)]
    stored = us.pixel_array
    for i, path in enumerate(frames):
        shown = _pixels(path)
        y0, x0, y1, x1 = US_BANNER
        assert not shown[y0:y1, x0:x1].any()
        outside = np.ones(shown.shape[:2], bool)
        outside[y0:y1, x0:x1] = False
        assert np.array_equal(shown[outside], stored[i][outside])


def test_a_file_that_cannot_be_cleaned_gives_no_picture(tmp_path: Path) -> None:
    _one(tmp_path / "in", "named.dcm", make_ct(0, instance=1))  # its comments name the patient
    keep_comments = Profile(tag_actions={0x00104000: "K"})
    run = _export(tmp_path / "in", tmp_path / "out", keep_comments)
    [result] = run.results
    assert result.outcome is Outcome.QUARANTINED and result.output is None
    assert list((tmp_path / "out").iterdir()) == []
    assert '"outcome": "quarantined"' in Path(str(run.audit)).read_text()


def test_renaming_profile_renames(tmp_path: Path) -> None:
    _one(tmp_path / "in" / "DOE^JOHN", "ct.dcm", make_ct(0, instance=1))
    run = _export(tmp_path / "in", tmp_path / "out", Profile(rename=True))
    [picture] = list((tmp_path / "out").iterdir())
    assert picture.suffix == ".png" and "DOE" not in picture.name and "ct" not in picture.stem
    assert run.results[0].output == picture.name


@needs_tesseract
def test_share_export_matches_share_redact(samples: Path, tmp_path: Path) -> None:
    src = samples / PATIENT_DIR / "US" / "cine.dcm"
    share = Profile.preset("share")
    redacted = Pipeline(share, key=SecretKey.from_text(KEY_TEXT)).run(src, tmp_path / "r")
    [cleaned] = redacted.results
    run = export_path(src, tmp_path / "out", key=SecretKey.from_text(KEY_TEXT))  # share
    [exported] = run.results
    assert exported.outcome is cleaned.outcome is Outcome.CLEANED
    assert exported.regions == cleaned.regions and exported.regions
    assert exported.output == str(cleaned.output).replace(".dcm", ".png")
    picture = _pixels(tmp_path / "out" / str(exported.output))
    dicom = (tmp_path / "r" / str(cleaned.output)).read_bytes()
    assert np.array_equal(picture, render_dicom(dicom, frame="middle").frames[0])


def test_command_line(samples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(["export", str(samples / PATIENT_DIR / "MR"), "-o", str(out), "--profile",
                 "basic", "--format", "jpeg", "--window", "2000", "1000", "--key", KEY_TEXT,
                 "-j", "0"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "2 exported, 0 skipped, 0 failed, 0 quarantined" in printed
    assert sorted(p.name for p in out.iterdir()) == ["IM0001.jpg", "IM0002.jpg"]
    assert f"medscrub review {out}" in printed
    with pytest.raises(SystemExit):
        main(["export", str(samples), "-o", str(tmp_path / "o2"), "--quality", "100"])


def test_photos_become_plain_pictures(samples: Path, tmp_path: Path) -> None:
    run = _export(samples / "photos", tmp_path / "out")
    assert run.counts == {"cleaned": 2}
    assert sorted(str(r.output) for r in run.results) == ["rash.png", "wound.png"]
    for name, original in (("rash.png", "rash.png"), ("wound.png", "wound.jpg")):
        data = (tmp_path / "out" / name).read_bytes()
        assert set(_png_chunks(data)) == {b"IHDR", b"IDAT", b"IEND"}
        source = (samples / "photos" / original).read_bytes()
        with Image.open(io.BytesIO(source)) as image:
            expected = np.asarray(image.convert("RGB"))
        assert np.array_equal(_pixels(tmp_path / "out" / name), expected)


def test_exported_frames_are_reviewed(tmp_path: Path) -> None:
    us, _boxes = make_us_cine_with_boxes(0)
    src = _one(tmp_path / "in", "cine.dcm", us)
    run = _export(src, tmp_path / "out", BANNER_RULE, all_frames=True)
    page = write_review(run.audit, run.output, tmp_path / "review.html")  # type: ignore[arg-type]
    assert (page.cards, page.not_shown) == (1, 0)
    text = page.path.read_text(encoding="utf-8")
    data = text[text.index('type="application/json">') + 24:]
    [item] = json.loads(data[:data.index("</script>")])["items"]
    assert (item["name"], item["frames"], item["frame"]) == ("cine/", 8, 3)
    assert [r["box"] for r in item["regions"]] == [list(US_BANNER)]
