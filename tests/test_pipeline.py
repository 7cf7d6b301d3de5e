"""End to end: folders in, clean files, audit records and failures out."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ImplicitVRLittleEndian

import medscrub
from medscrub.errors import UnsupportedInputError, VerificationFailed
from medscrub.files import TEMP_SUFFIX
from medscrub.keys import SecretKey
from medscrub.model import Outcome
from medscrub.pipeline import Pipeline
from medscrub.profile import Profile
from medscrub.review import write_review
from medscrub_testing.samples import (
    FAKE_PHI,
    FAKE_PHI_STRINGS,
    PATIENT_DIR,
    bad_inputs,
    make_ct,
    make_mr,
)
from tests.conftest import KEY_TEXT

KEPT = ("Modality", "Rows", "Columns", "PixelSpacing", "BitsStored", "PhotometricInterpretation")


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


def phi_in(data: bytes) -> list[str]:
    upper = data.upper()
    return [s for s in FAKE_PHI_STRINGS if s.encode() in data or s.upper().encode() in upper]


def all_values(ds: Dataset) -> list[str]:
    out = []
    for elem in ds.iterall():
        if elem.VR != "SQ" and elem.tag != 0x7FE00010:
            out.append(str(elem.value))
    return out


@pytest.fixture(scope="module")
def cleaned(
    samples: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, medscrub.RunSummary]:
    out = tmp_path_factory.mktemp("run") / "clean"
    # the Basic Profile alone: the header step, pixels untouched
    summary = Pipeline(Profile.preset("basic"), key=SecretKey.from_text(KEY_TEXT)).run(samples, out)
    return out, summary


def test_every_dicom_sample_is_cleaned(cleaned: tuple[Path, medscrub.RunSummary]) -> None:
    out, summary = cleaned
    assert summary.ok
    dicoms = [r for r in summary.results if r.kind == "dicom"]
    assert len(dicoms) == 16
    assert all(r.outcome is Outcome.CLEANED for r in dicoms)
    photos = [r for r in summary.results if r.kind == "photo"]
    assert photos and all(r.outcome is Outcome.CLEANED for r in photos)
    assert sorted(p.name for p in (out / "photos").iterdir()) == ["rash.png", "wound.jpg"]


def test_no_planted_phi_survives_anywhere(cleaned: tuple[Path, medscrub.RunSummary]) -> None:
    out, _ = cleaned
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert phi_in(path.read_bytes()) == [], path
        if path.parent.name == "photos":
            continue  # photo metadata: tests/photo
        ds = pydicom.dcmread(path)
        values = " ".join(all_values(ds) + all_values(ds.file_meta))
        assert [s for s in FAKE_PHI_STRINGS if s.upper() in values.upper()] == [], path


def test_image_attributes_and_pixels_are_unchanged(
    samples: Path, cleaned: tuple[Path, medscrub.RunSummary]
) -> None:
    out, summary = cleaned
    for result in summary.results:
        if result.outcome is not Outcome.CLEANED or result.kind == "photo":
            continue
        before = pydicom.dcmread(samples / result.input, force=True)
        before.file_meta.setdefault("TransferSyntaxUID", ImplicitVRLittleEndian)
        after = pydicom.dcmread(out / result.output)
        for keyword in KEPT:
            assert after.get(keyword) == before.get(keyword), (result.input, keyword)
        assert after.PixelData == before.PixelData
        assert np.array_equal(after.pixel_array, before.pixel_array)
        assert after.PatientIdentityRemoved == "YES"
        assert "IconImageSequence" not in after


def test_uids_stay_consistent_within_a_study(cleaned: tuple[Path, medscrub.RunSummary]) -> None:
    out, _ = cleaned
    slices = [pydicom.dcmread(p) for p in sorted((out / PATIENT_DIR / "CT").iterdir())]
    assert len({s.StudyInstanceUID for s in slices}) == 1
    assert len({s.SeriesInstanceUID for s in slices}) == 1
    sops = [s.SOPInstanceUID for s in slices]
    assert len(set(sops)) == 3
    for i, s in enumerate(slices):
        # slice i references slice i+1 (as the generator planted it)
        assert s.ReferencedImageSequence[0].ReferencedSOPInstanceUID == sops[(i + 1) % 3]
        assert s.file_meta.MediaStorageSOPInstanceUID == s.SOPInstanceUID
    mr = pydicom.dcmread(out / PATIENT_DIR / "MR" / "IM0001")
    assert mr.StudyInstanceUID == slices[0].StudyInstanceUID
    assert mr.PatientID == slices[0].PatientID  # one patient, one pseudonym


def test_two_runs_with_one_key_are_identical(samples: Path, tmp_path: Path,
                                              cleaned: tuple[Path, medscrub.RunSummary]) -> None:
    first, _ = cleaned
    basic = Profile.preset("basic")
    Pipeline(basic, key=SecretKey.from_text(KEY_TEXT)).run(samples, tmp_path / "again")
    assert tree_hashes(tmp_path / "again") == tree_hashes(first)
    Pipeline(basic, key=SecretKey.from_text("another-key-0123456789")).run(samples,
                                                                          tmp_path / "other")
    a = pydicom.dcmread(first / PATIENT_DIR / "CT" / "CT000001.dcm")
    b = pydicom.dcmread(tmp_path / "other" / PATIENT_DIR / "CT" / "CT000001.dcm")
    assert a.StudyInstanceUID != b.StudyInstanceUID


def test_date_shift_is_consistent_across_files(samples: Path, tmp_path: Path) -> None:
    Pipeline(Profile.preset("research"), key=SecretKey.from_text(KEY_TEXT)).run(samples, tmp_path)
    dates = {pydicom.dcmread(p).StudyDate for p in (tmp_path / PATIENT_DIR / "CT").iterdir()}
    dates |= {pydicom.dcmread(tmp_path / PATIENT_DIR / "MR" / "IM0001").StudyDate}
    assert len(dates) == 1 and dates != {FAKE_PHI["study_date"]}


def test_audit_log_has_one_record_per_file_and_no_phi(
    samples: Path, cleaned: tuple[Path, medscrub.RunSummary]
) -> None:
    out, summary = cleaned
    assert summary.audit is not None and summary.audit.parent == out.parent
    text = summary.audit.read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    files = [r for r in lines if r["record"] == "file"]
    inputs = {p.relative_to(samples).as_posix() for p in samples.rglob("*") if p.is_file()}
    assert {r["input"] for r in files} == inputs
    assert lines[0]["record"] == "run" and lines[-1]["record"] == "summary"
    for record in files:
        source = samples / record["input"]
        assert record["input_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
        if record["output"]:
            written = (out / record["output"]).read_bytes()
            assert record["output_sha256"] == hashlib.sha256(written).hexdigest()
            assert record["actions"]["X"] > 0
    values_only = [s for s in FAKE_PHI_STRINGS if s not in PATIENT_DIR and PATIENT_DIR not in s]
    assert [s for s in values_only if s in text] == []


def test_rename_gives_non_identifying_names(samples: Path, tmp_path: Path) -> None:
    summary = Pipeline(key=SecretKey.from_text(KEY_TEXT), rename=True).run(samples, tmp_path / "o")
    names = [p.relative_to(tmp_path / "o").as_posix() for p in (tmp_path / "o").rglob("*")]
    assert len(names) == 18  # 16 DICOM files, 2 photos
    assert not any("QUIXOTE" in n or "/" in n for n in names)
    assert {r.output for r in summary.results if r.output} == set(names)


def test_inputs_are_never_modified(samples: Path, tmp_path: Path) -> None:
    before = tree_hashes(samples)
    Pipeline(key=SecretKey.from_text(KEY_TEXT)).run(samples, tmp_path / "o")
    assert tree_hashes(samples) == before


def test_bad_inputs_fail_alone_and_write_nothing(tmp_path: Path) -> None:
    src = tmp_path / "in"
    bad = bad_inputs(src)
    make_ct(0, instance=1).save_as(src / "good.dcm", enforce_file_format=True)
    summary = Pipeline(key=SecretKey.from_text(KEY_TEXT)).run(src, tmp_path / "out")
    by_input = {r.input: r for r in summary.results}
    assert by_input["good.dcm"].outcome is Outcome.CLEANED
    for key in ("empty", "truncated", "not_dicom", "huge_length", "huge_length_explicit"):
        result = by_input[bad[key].name]
        assert result.outcome is Outcome.FAILED, key
        assert result.reason and "\n" not in result.reason
        assert not (tmp_path / "out" / bad[key].name).exists()
    for key in ("random_bin", "readme"):
        assert by_input[bad[key].name].outcome is Outcome.SKIPPED
    assert not summary.ok
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good.dcm"]


def test_stale_temporaries_are_removed_and_none_left(samples: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    (out / "sub").mkdir(parents=True)
    stale = out / "sub" / f".x.dcm.1234{TEMP_SUFFIX}"
    stale.write_bytes(b"partial")
    Pipeline(key=SecretKey.from_text(KEY_TEXT)).run(samples, out)
    assert not list(out.rglob(f"*{TEMP_SUFFIX}"))


def test_a_temporary_left_during_a_run_is_gone_when_it_ends(samples: Path, tmp_path: Path
                                                            ) -> None:
    """A worker killed while writing leaves its temporary mid-run; the run removes it."""
    out = tmp_path / "o"
    left = out / f".x.dcm.5678{TEMP_SUFFIX}"

    def worker_killed_while_writing(_result: object) -> None:
        left.write_bytes(b"partial")

    Pipeline(key=SecretKey.from_text(KEY_TEXT)).run(samples, out,
                                                   on_result=worker_killed_while_writing)
    assert not list(out.rglob(f"*{TEMP_SUFFIX}"))


def test_output_inside_input_is_refused(samples: Path) -> None:
    with pytest.raises(UnsupportedInputError, match="inside"):
        Pipeline().run(samples, samples / "out")


def test_dicomdir_and_documents_are_not_copied(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"
    meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    ddir = Dataset()
    ddir.file_meta = meta
    ddir.FileSetID = "EXPORT"
    ddir.DirectoryRecordSequence = Sequence([Dataset()])
    ddir.DirectoryRecordSequence[0].PatientName = "QUIXOTE^ZEBULON"
    ddir.save_as(src / "DICOMDIR", enforce_file_format=True)
    pdf = make_mr(0, instance=1)
    pdf.SOPClassUID = "1.2.840.10008.5.1.4.1.1.104.1"
    pdf.EncapsulatedDocument = b"%PDF-1.4 QUIXOTE ZEBULON"
    pdf.save_as(src / "report.dcm", enforce_file_format=True)
    summary = Pipeline(key=SecretKey.from_text(KEY_TEXT)).run(src, tmp_path / "out")
    by_input = {r.input: r for r in summary.results}
    assert by_input["DICOMDIR"].outcome is Outcome.SKIPPED
    assert "DICOMDIR" in by_input["DICOMDIR"].reason
    assert by_input["report.dcm"].outcome is Outcome.FAILED
    assert "encapsulated document" in by_input["report.dcm"].reason
    assert list((tmp_path / "out").iterdir()) == []


def test_verification_quarantines_what_a_recipe_let_through(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    make_ct(0, instance=1).save_as(src / "ct.dcm", enforce_file_format=True)
    profile = Profile(tag_actions={0x00104000: "K"})  # keeps PatientComments
    summary = Pipeline(profile, key=SecretKey.from_text(KEY_TEXT)).run(src, tmp_path / "out")
    (result,) = summary.results
    assert result.outcome is Outcome.QUARANTINED and result.stage == "verify"
    assert "names" in result.reason
    assert "QUIXOTE" not in result.reason
    assert list((tmp_path / "out").iterdir()) == []


def test_redact_dataset_returns_a_clean_copy() -> None:
    ds = make_ct(0, instance=1)
    name = str(ds.PatientName)
    clean = medscrub.redact_dataset(ds, key=KEY_TEXT)
    assert str(ds.PatientName) == name  # the original is untouched
    assert "QUIXOTE" not in str(clean.PatientName)
    assert clean.StudyInstanceUID.startswith("2.25.")
    with pytest.raises(VerificationFailed):
        medscrub.redact_dataset(ds, key=KEY_TEXT, profile=Profile(tag_actions={0x00104000: "K"}))


def test_reid_map_is_private(samples: Path, tmp_path: Path) -> None:
    reid = tmp_path / "secret" / "reid.jsonl"
    Pipeline(key=SecretKey.from_text(KEY_TEXT)).run(samples, tmp_path / "o", reid_map=reid)
    assert stat.S_IMODE(os.stat(reid).st_mode) == 0o600
    pairs = [json.loads(line) for line in reid.read_text().splitlines()]
    assert len(pairs) == 1  # one patient in the samples
    assert pairs[0]["patient_id"] == FAKE_PHI["patient_id"]
    out = pydicom.dcmread(tmp_path / "o" / PATIENT_DIR / "CT" / "CT000001.dcm")
    assert out.PatientID == "ANON" + pairs[0]["pseudonym"]


def test_reid_map_inside_the_output_is_refused(samples: Path, tmp_path: Path) -> None:
    with pytest.raises(UnsupportedInputError, match="re-identification map"):
        Pipeline().run(samples, tmp_path / "o", reid_map=tmp_path / "o" / "reid.jsonl")
    assert not (tmp_path / "o").exists()


def test_key_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keyfile = tmp_path / "key.txt"
    keyfile.write_text(KEY_TEXT + "\n")
    expected = SecretKey.from_text(KEY_TEXT).uid("1.2.3")
    assert SecretKey.resolve(key_file=keyfile).uid("1.2.3") == expected
    monkeypatch.setenv("MEDSCRUB_KEY", KEY_TEXT)
    assert SecretKey.resolve().uid("1.2.3") == expected
    monkeypatch.delenv("MEDSCRUB_KEY")
    generated = SecretKey.resolve()
    assert generated.generated and generated.uid("1.2.3") != expected
    assert KEY_TEXT not in repr(SecretKey.from_text(KEY_TEXT))


def test_an_unexpected_error_fails_one_file_not_the_batch(
    samples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import medscrub.pipeline as pipeline_module

    def broken(*_args: object, **_kwargs: object) -> None:
        raise ValueError("a bug")

    rule = medscrub.profile.PixelRule(boxes=((0, 0, 4, 4),), modality="CT")
    monkeypatch.setattr(pipeline_module, "redact", broken)
    summary = Pipeline(Profile(pixel_rules=(rule,)), key=SecretKey.from_text(KEY_TEXT)).run(
        samples / PATIENT_DIR, tmp_path / "o"
    )
    failed = [r for r in summary.results if r.outcome is Outcome.FAILED]
    assert failed and all("CT" in r.input.upper() for r in failed)
    assert all(r.reason == "unexpected error (ValueError); not written" for r in failed)
    assert all(r.stage == "pixels" for r in failed)
    assert not any((tmp_path / "o" / r.input).exists() for r in failed)
    assert any(r.outcome is Outcome.CLEANED for r in summary.results)


def test_redact_dataset_applies_pixel_rules_and_a_fresh_meta() -> None:
    ds = make_ct(0, instance=1)
    rule = medscrub.profile.PixelRule(boxes=((0, 0, 16, 32),), modality="CT")
    clean = Pipeline(Profile(pixel_rules=(rule,)), key=SecretKey.from_text(KEY_TEXT)
                     ).redact_dataset(ds)
    arr = clean.pixel_array
    assert np.all(arr[:16, :32] == -(1 << 15))  # signed 16-bit MONOCHROME2 black
    assert np.array_equal(arr[16:], ds.pixel_array[16:])
    assert clean.file_meta.MediaStorageSOPInstanceUID == clean.SOPInstanceUID
    assert clean.file_meta.MediaStorageSOPInstanceUID != ds.file_meta.MediaStorageSOPInstanceUID


def test_parallel_runs_equal_serial_runs(samples: Path, tmp_path: Path) -> None:
    serial = Pipeline(key=SecretKey.from_text(KEY_TEXT)).run(samples, tmp_path / "one")
    parallel = Pipeline(key=SecretKey.from_text(KEY_TEXT)).run(samples, tmp_path / "two",
                                                               jobs=2)
    assert tree_hashes(tmp_path / "one") == tree_hashes(tmp_path / "two")
    assert [r.input for r in serial.results] == [r.input for r in parallel.results]
    assert [replace(r, seconds=0) for r in serial.results] == [
        replace(r, seconds=0) for r in parallel.results
    ]
    records = [json.loads(line)["input"] for line in (tmp_path / "two.audit.jsonl").read_text()
               .splitlines() if json.loads(line)["record"] == "file"]
    assert records == [r.input for r in serial.results]


def test_the_run_records_are_for_their_owner_only(samples: Path, tmp_path: Path) -> None:
    src = tmp_path / "in"
    shutil.copytree(samples, src)
    (src / "bad.dcm").write_bytes(b"DICM but not really")
    old = os.umask(0o022)
    try:
        summary = Pipeline(Profile()).run(src, tmp_path / "out")
        assert summary.audit is not None and summary.report is not None
        page = write_review(summary.audit, tmp_path / "out", tmp_path / "review.html")
    finally:
        os.umask(old)
    for path in (summary.audit, summary.report, page.path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    written = next(p for p in (tmp_path / "out").rglob("*.dcm"))
    assert stat.S_IMODE(written.stat().st_mode) == 0o644  # the outputs are to be shared
