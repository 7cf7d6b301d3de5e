"""Scan: every planted kind of identifier is found, where it is, and no value is ever shown."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from medscrub.detectors import DEFAULT_DETECTORS, available_detectors
from medscrub.files import atomic_write
from medscrub.keys import SecretKey
from medscrub.pipeline import Pipeline
from medscrub.scan import KINDS, FileScan, ScanOptions, name_findings, scan_file, scan_path
from medscrub_testing.samples import (
    FAKE_PHI_STRINGS,
    PATIENT_DIR,
    bad_inputs,
    load_ground_truth,
    make_ct,
)
from tests.conftest import KEY_TEXT, needs_tesseract


@pytest.fixture(scope="module")
def headers_only(samples: Path) -> dict[str, FileScan]:
    """Every sample scanned without the detectors, by path as reported."""
    return {s.path: s for s in scan_path(samples, pixels=False).files}


def _where(scan: FileScan, kind: str) -> set[str]:
    return {f.where for f in scan.findings if f.kind == kind}


def _ct(scans: dict[str, FileScan]) -> FileScan:
    [ct] = [s for path, s in scans.items() if path.endswith("CT/CT000001.dcm")]
    return ct


def test_header_places_are_named_by_keyword(headers_only: dict[str, FileScan]) -> None:
    ct = _ct(headers_only)
    header = _where(ct, "header")
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "OtherPatientNames",
                    "AccessionNumber", "StudyDate", "AcquisitionDateTime", "InstitutionName",
                    "ReferringPhysicianName", "DeviceSerialNumber", "PatientComments",
                    "OtherPatientIDsSequence"):
        assert keyword in header, keyword
    # nested identifiers are named by their path; an unknown public tag by its number
    assert "(0018,EE01)" in header
    uids = _where(ct, "uid")
    assert {"SOPInstanceUID", "StudyInstanceUID", "FrameOfReferenceUID"} <= uids
    assert "SourceImageSequence>ReferencedSOPInstanceUID" in uids
    # what the Basic Profile keeps is not reported
    for kept in ("Modality", "Rows", "SOPClassUID", "SeriesNumber", "PixelData"):
        assert kept not in header


def test_private_overlay_curve_and_icon_by_tag(headers_only: dict[str, FileScan]) -> None:
    ct = _ct(headers_only)
    private = {f.where: f.count for f in ct.findings if f.kind == "private"}
    assert private == {"(0011,xxxx)": 1, "(0019,xxxx)": 3, "(0029,xxxx)": 5}
    assert _where(ct, "overlay") == {"(6000,xxxx)"}
    assert _where(ct, "curve") == {"(5000,xxxx)"}
    assert _where(ct, "icon") == {"IconImageSequence"}


def test_identifying_folder_is_found_and_masked(samples: Path, tmp_path: Path) -> None:
    """A folder named after the patient (fake), with no digits to give it away: found
    from the file's own header and masked in the report."""
    shutil.copytree(samples / PATIENT_DIR / "CT", tmp_path / "QUIXOTE_ZEBULON" / "CT")
    dicom = scan_path(tmp_path, pixels=False).files
    assert len(dicom) == 3
    for scan in dicom:
        assert scan.path.startswith("[hidden-"), scan.path
        assert "QUIXOTE" not in scan.path
        [finding] = [f for f in scan.findings if f.kind == "filename"]
        assert (finding.where, finding.detail) == ("folder 1", "patient name")
    # one token for one folder within a scan
    assert len({s.path.split("/")[0] for s in dicom}) == 1


def test_report_holds_no_identifier_values(samples: Path) -> None:
    report = scan_path(samples, pixels=False)
    text = json.dumps(report.to_dict())
    assert not [s for s in FAKE_PHI_STRINGS if s in text]
    summary = report.to_dict()["summary"]
    assert list(summary) == list(KINDS)
    for kind in ("header", "uid", "private", "overlay", "curve", "icon"):
        assert summary[kind] == 16, kind
    assert summary["filename"] == 0  # the sample folder does not name the patient
    assert report.found and report.complete


@pytest.mark.parametrize(
    ("rel", "where", "detail"),
    [
        ("DOE^JOHN/1.dcm", "folder 1", "name-like"),
        ("cases/Doe, John/scan.dcm", "folder 2", "name-like"),
        ("2024-03-15_knee/a.dcm", "folder 1", "date-like"),
        ("x/15.03.2024.dcm", "file name", "date-like"),
        ("export/MRN88231907.dcm", "file name", "ID-like"),
        ("1.2.840.113619.2.55.3.604688119.969.1268071029.320.dcm", "file name", "ID-like"),
    ],
)
def test_names_that_look_identifying(rel: str, where: str, detail: str) -> None:
    found = [f for _i, f in name_findings(rel)]
    assert [(f.where, f.detail) for f in found] == [(where, detail)]


@pytest.mark.parametrize("rel", ["CT/CT000001.dcm", "MR/IM0001", "compressed/ct_rle.dcm",
                                 "teaching/knee_case_12/series3.dcm", "US/cine.dcm"])
def test_ordinary_names_are_not_flagged(rel: str) -> None:
    assert name_findings(rel) == []


def test_a_files_own_study_date_and_id_in_its_name(tmp_path: Path) -> None:
    ds = make_ct(0, instance=1)
    path = tmp_path / "ST 2024-03-15" / "ACC5550199.dcm"
    path.parent.mkdir()
    ds.save_as(path, enforce_file_format=True)
    scan = scan_file(path, "ST 2024-03-15/ACC5550199.dcm", ScanOptions(pixels=False))
    names = {f.where: f.detail for f in scan.findings if f.kind == "filename"}
    assert names == {"folder 1": "date", "file name": "patient ID"}
    assert "2024" not in scan.path and "ACC" not in scan.path


def test_cleaned_output_carries_far_less(samples: Path, tmp_path: Path) -> None:
    src = samples / PATIENT_DIR / "CT" / "CT000001.dcm"
    before = scan_file(src, "CT000001.dcm", ScanOptions(pixels=False))
    Pipeline(key=SecretKey.from_text(KEY_TEXT)).run(src, tmp_path / "out")
    out = tmp_path / "out" / "CT000001.dcm"
    after = scan_file(out, "CT000001.dcm", ScanOptions(pixels=False))
    assert {"header", "private", "overlay", "curve", "icon"} <= before.kinds
    # left: the new UIDs only (placeholders such as ANONYMIZED or 19000101 say nothing)
    assert after.kinds == {"uid"}
    assert _where(after, "uid") <= _where(before, "uid")


def test_unreadable_files_are_reported_not_fatal(tmp_path: Path) -> None:
    bad_inputs(tmp_path / "in")
    report = scan_path(tmp_path / "in", pixels=False)
    by_name = {s.path: s for s in report.files}
    assert by_name["empty.dcm"].error == "empty file"
    truncated = by_name["truncated.dcm"]
    assert truncated.kind == "dicom" and "truncated" in truncated.error
    assert by_name["notdicom.dcm"].kind == "broken-dicom" and by_name["notdicom.dcm"].error
    assert by_name["README.txt"].kind == "other" and not by_name["README.txt"].error
    assert not report.complete


def test_jobs_give_the_same_report(samples: Path) -> None:
    one = scan_path(samples / PATIENT_DIR / "CT", pixels=False)
    two = scan_path(samples / PATIENT_DIR / "CT", pixels=False, jobs=2)
    assert [(s.kind, s.findings) for s in one.files] == [(s.kind, s.findings) for s in two.files]


def test_missing_input_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no such file"):
        scan_path(tmp_path / "nothing")


@needs_tesseract
@pytest.mark.parametrize("rel", ["SC/SC0001.dcm", "US/cine.dcm"])
def test_burned_in_text_is_found_where_it_is(samples: Path, rel: str) -> None:
    scan = scan_file(samples / PATIENT_DIR / rel, rel, ScanOptions())
    boxes = [f.box for f in scan.findings if f.kind == "text"]
    assert all(f.detail == "tesseract" for f in scan.findings if f.kind == "text")
    truth = load_ground_truth(samples)[f"{PATIENT_DIR}/{rel}"]
    for line in (b for b in truth if b.phi):
        centre = ((line.y0 + line.y1) // 2, (line.x0 + line.x1) // 2)
        assert any(b is not None and b[0] <= centre[0] < b[2] and b[1] <= centre[1] < b[3]
                   for b in boxes), f"identifying line at {line.y0},{line.x0} not reported"
    if rel.startswith("US"):
        assert scan.frames == 8
        assert {f.where for f in scan.findings if f.kind == "text"} == {"all frames"}


@needs_tesseract
def test_plain_picture_in_a_plain_folder_is_clean(tmp_path: Path) -> None:
    yy, xx = np.mgrid[0:120, 0:160]
    picture = ((xx + yy) % 256).astype(np.uint8)
    path = tmp_path / "teaching" / "knee.png"
    path.parent.mkdir()
    Image.fromarray(picture).save(path)
    atomic_write(tmp_path / "teaching" / "notes.txt", b"knee case\n")
    report = scan_path(tmp_path / "teaching")
    assert not report.found, [f.to_dict() for s in report.files for f in s.findings]
    assert report.complete


def test_photo_metadata_channels_by_meaning(headers_only: dict[str, FileScan]) -> None:
    wound = {f.where: f.count for f in headers_only["photos/wound.jpg"].findings
             if f.kind == "photo-metadata"}
    assert wound["EXIF GPS position"] == 4  # reference and value of latitude and longitude
    assert wound["EXIF camera serial or owner"] == 2
    assert wound["EXIF dates"] == 4
    assert wound["EXIF names and descriptions"] == 4  # artist, copyright, description, comment
    assert {"JPEG marker 0xE1", "JPEG marker 0xFE"} <= set(wound)  # EXIF block, comment
    rash = {f.where for f in headers_only["photos/rash.png"].findings}
    assert {"PNG tEXt", "PNG iTXt", "PNG zTXt", "EXIF names and descriptions"} <= rash


def test_cleaned_photo_carries_no_metadata(samples: Path, tmp_path: Path) -> None:
    src = samples / "photos"
    run = Pipeline(key=SecretKey.from_text(KEY_TEXT)).run(src, tmp_path / "out")
    assert run.counts == {"cleaned": 2}
    report = scan_path(tmp_path / "out", pixels=False)
    assert [(s.path, s.kinds) for s in report.files] == [("rash.png", frozenset()),
                                                         ("wound.jpg", frozenset())]


def test_faces_are_found(tmp_path: Path) -> None:
    skimage_data = pytest.importorskip("skimage.data", reason="scikit-image is not installed")
    if not set(DEFAULT_DETECTORS["face"]) & set(available_detectors()):
        pytest.skip("no face detector can run here")
    path = tmp_path / "portrait.png"
    Image.fromarray(skimage_data.astronaut()).resize((256, 256)).save(path)
    scan = scan_file(path, "portrait.png", ScanOptions())
    [face] = [f for f in scan.findings if f.kind == "face"]
    assert face.detail == DEFAULT_DETECTORS["face"][0]
    assert face.box is not None
    y0, x0, y1, x1 = face.box  # the astronaut's face: upper middle of the picture
    assert 10 <= y0 < y1 <= 110 and 70 <= x0 < x1 <= 160


def test_kept_free_text_holding_an_identifier_is_reported(tmp_path: Path) -> None:
    """Text the table does not list, in a kept sequence, holding a phone number or the
    patient's name is reported by kind, never by value, and is gone from the cleaned
    output; a waveform annotation (a row medscrub adds to the table) is reported too."""
    import pydicom

    ds = make_ct(0, instance=1)
    note = pydicom.Dataset()
    note.UnformattedTextValue = "ST elevation"
    note.PulserNotes = "call 555-0199"
    note.CalibrationNotes = f"checked with {ds.PatientName.family_name} present"
    ds.WaveformAnnotationSequence = pydicom.Sequence([note])
    ds.IndicationDescription = "routine"  # kept text without an identifier: not reported
    src = tmp_path / "in" / "ecg.dcm"
    src.parent.mkdir()
    ds.save_as(src, enforce_file_format=True)
    before = scan_file(src, "ecg.dcm", ScanOptions(pixels=False))
    free = {f.where: f.detail for f in before.findings if f.detail.startswith("free text")}
    assert "WaveformAnnotationSequence>UnformattedTextValue" in _where(before, "header")
    assert free == {"WaveformAnnotationSequence>PulserNotes": "free text: phone",
                    "WaveformAnnotationSequence>CalibrationNotes": "free text: known"}
    assert "555" not in json.dumps(before.to_dict())
    Pipeline(key=SecretKey.from_text(KEY_TEXT)).run(src, tmp_path / "out")
    after = scan_file(tmp_path / "out" / "ecg.dcm", "ecg.dcm", ScanOptions(pixels=False))
    assert not [f for f in after.findings if f.detail.startswith("free text")]
