"""Clean Pixel Data end to end: burned-in text found, redacted in every frame, verified."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest

import medscrub.detectors as registry
from medscrub.detectors import Context
from medscrub.detectors.text import TextDetector
from medscrub.keys import SecretKey
from medscrub.model import Outcome, Region
from medscrub.pipeline import FACES_NOT_CHECKED, TEXT_NOT_CHECKED, Pipeline
from medscrub.profile import PIXEL_OPTIONS, Profile
from medscrub_testing.samples import PATIENT_DIR, load_ground_truth
from tests.conftest import KEY_TEXT, needs_tesseract

CASES = ["US/cine.dcm", "SC/SC0001.dcm"]


def run(samples: Path, rel: str, out: Path, **profile: object) -> tuple[object, Path]:
    options = frozenset({"clean_pixel_data"})
    pipeline = Pipeline(Profile(options=options, **profile),  # type: ignore[arg-type]
                        key=SecretKey.from_text(KEY_TEXT))
    result, _ = pipeline.process_file(samples / PATIENT_DIR / rel, rel, out)
    return result, out / rel


def boxes(samples: Path, rel: str) -> list[tuple[int, int, int, int, bool]]:
    truth = load_ground_truth(samples / "ground_truth.json")[f"{PATIENT_DIR}/{rel}"]
    return [(b.y0, b.x0, b.y1, b.x1, b.phi) for b in truth]


def black(arr: np.ndarray, box: tuple[int, int, int, int, bool]) -> bool:
    y0, x0, y1, x1, _ = box
    return bool(np.all(arr[..., y0:y1, x0:x1, :] == 0))


@needs_tesseract
@pytest.mark.parametrize("rel", CASES)
def test_phi_mode_removes_identifying_text_and_keeps_the_rest(
    samples: Path, tmp_path: Path, rel: str
) -> None:
    result, path = run(samples, rel, tmp_path)
    assert result.outcome is Outcome.CLEANED, result.reason
    before = pydicom.dcmread(samples / PATIENT_DIR / rel).pixel_array
    after = pydicom.dcmread(path).pixel_array
    before, after = before.reshape(-1, *before.shape[-3:]), after.reshape(-1, *after.shape[-3:])
    for box in boxes(samples, rel):
        y0, x0, y1, x1, phi = box
        if phi:
            assert black(after, box), f"PHI text left at {box}"
        else:
            assert np.array_equal(after[:, y0:y1, x0:x1], before[:, y0:y1, x0:x1]), box
    ds = pydicom.dcmread(path)
    assert ds.BurnedInAnnotation == "NO"
    assert "113101" in {item.CodeValue for item in ds.DeidentificationMethodCodeSequence}
    assert result.warnings == (FACES_NOT_CHECKED,)
    assert result.regions and {r.kind for r in result.regions} == {"text"}


@needs_tesseract
@pytest.mark.parametrize("rel", CASES)
def test_all_text_mode_removes_every_line(samples: Path, tmp_path: Path, rel: str) -> None:
    result, path = run(samples, rel, tmp_path, text_mode="all-text")
    assert result.outcome is Outcome.CLEANED, result.reason
    after = pydicom.dcmread(path).pixel_array
    after = after.reshape(-1, *after.shape[-3:])
    for box in boxes(samples, rel):
        assert black(after, box), box


@needs_tesseract
@pytest.mark.parametrize("rel", CASES)
def test_the_default_profile_removes_identifying_text(
    samples: Path, tmp_path: Path, rel: str
) -> None:
    pipeline = Pipeline(key=SecretKey.from_text(KEY_TEXT))
    assert pipeline.profile.name == "standard" and pipeline.profile.options >= PIXEL_OPTIONS
    result, _ = pipeline.process_file(samples / PATIENT_DIR / rel, rel, tmp_path)
    assert result.outcome is Outcome.CLEANED, result.reason
    after = pydicom.dcmread(tmp_path / rel).pixel_array
    after = after.reshape(-1, *after.shape[-3:])
    assert all(black(after, box) for box in boxes(samples, rel) if box[4])
    assert TEXT_NOT_CHECKED not in result.warnings


def test_no_pixels_leaves_pixels_alone_and_says_so(samples: Path, tmp_path: Path) -> None:
    from medscrub.cli.main import main

    src = samples / PATIENT_DIR / "US"
    assert main(["redact", str(src), "-o", str(tmp_path / "o"), "--key", KEY_TEXT,
                 "--no-pixels", "-q"]) == 0
    lines = (tmp_path / "o.audit.jsonl").read_text().splitlines()
    (record,) = [r for r in map(json.loads, lines) if r["record"] == "file"]
    assert record["regions"] == [] and TEXT_NOT_CHECKED in record["warnings"]
    before = pydicom.dcmread(src / "cine.dcm")
    after = pydicom.dcmread(tmp_path / "o" / "cine.dcm")
    assert np.array_equal(after.pixel_array, before.pixel_array)


@needs_tesseract
def test_all_text_mode_leaves_anatomy_alone(samples: Path, tmp_path: Path) -> None:
    # the chest radiograph carries no text; its ribs are stripes OCR reads as short words
    result, path = run(samples, "CR/CR0001.dcm", tmp_path, text_mode="all-text")
    assert result.outcome is Outcome.CLEANED, result.reason
    assert result.regions == ()
    before = pydicom.dcmread(samples / PATIENT_DIR / "CR/CR0001.dcm").pixel_array
    assert np.array_equal(pydicom.dcmread(path).pixel_array, before)


def test_a_missing_detector_quarantines(samples: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    registry.reload_plugins()  # availability is asked once per process: ask again
    try:
        result, path = run(samples, "US/cine.dcm", tmp_path)
    finally:
        monkeypatch.undo()
        registry.reload_plugins()
    assert result.outcome is Outcome.QUARANTINED
    assert "apt-get install tesseract-ocr" in result.reason
    assert not path.exists()


def test_text_found_again_after_redaction_quarantines(
    samples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stubborn(self: TextDetector, frames: np.ndarray, context: Context) -> list[Region]:
        return [Region(0, 0, 8, 8, kind="text", detector="tesseract")]

    monkeypatch.setattr(TextDetector, "is_available", lambda self: True)
    monkeypatch.setattr(TextDetector, "detect", stubborn)
    result, path = run(samples, "US/cine.dcm", tmp_path)
    assert result.outcome is Outcome.QUARANTINED and result.stage == "verify"
    assert "still found" in result.reason
    assert not path.exists()


def test_scanning_can_be_limited_by_modality_and_flag(samples: Path, tmp_path: Path) -> None:
    result, path = run(samples, "CT/CT000001.dcm", tmp_path, scan_modalities=frozenset({"US"}))
    assert result.outcome is Outcome.CLEANED
    assert result.warnings == (TEXT_NOT_CHECKED, FACES_NOT_CHECKED)
    ds = pydicom.dcmread(path)
    assert "113101" not in {item.CodeValue for item in ds.DeidentificationMethodCodeSequence}
    # the CT sample says Burned In Annotation NO: trusted only when asked to
    result, _ = run(samples, "CT/CT000001.dcm", tmp_path / "t", trust_burned_in_annotation=True)
    assert result.warnings == (TEXT_NOT_CHECKED, FACES_NOT_CHECKED)


@needs_tesseract
def test_audit_records_text_regions(samples: Path, tmp_path: Path) -> None:
    from medscrub.cli.main import main

    src = samples / PATIENT_DIR / "US"
    assert main(["redact", str(src), "-o", str(tmp_path / "o"), "--key", KEY_TEXT, "-q"]) == 0
    lines = (tmp_path / "o.audit.jsonl").read_text().splitlines()
    (record,) = [r for r in map(json.loads, lines) if r["record"] == "file"]
    assert record["regions"] and all(r["kind"] == "text" for r in record["regions"])
    assert record["warnings"] == []  # the default profile checks text and faces
