"""Real files from other vendors: no crash, and clean output with planted PHI.

The corpus is every file in pydicom's bundled test data and in the
``pydicom-data`` package (found by globbing their folders:
``pydicom.data.get_testdata_file`` would try to download missing files and
hangs without a network).  Every file, DICOM or not, must be handled without
an exception escaping :meth:`Pipeline.process_file`.  Every file pydicom can
read as a regular DICOM object (not a DICOMDIR) then gets the fake PHI of
:func:`medscrub_testing.samples.fill_phi_header` planted in its header and must come
out cleaned: no planted string anywhere in the output bytes, pixel data and
image geometry untouched, and the transfer syntax kept.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from pydicom import config as pydicom_config
from pydicom.datadict import dictionary_has_tag
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.filereader import dcmread
from pydicom.uid import (
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from medscrub.keys import SecretKey
from medscrub.model import FileResult, Outcome
from medscrub.pipeline import Pipeline
from medscrub.profile import Profile
from medscrub_testing.samples import FAKE_PHI_STRINGS, fill_phi_header
from medscrub_testing.vendor import pydicom_data_files, pydicom_test_files

KEY_TEXT = "vendor-test-key-0123456789"
DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
PIXEL_TAGS = (0x7FE00008, 0x7FE00009, 0x7FE00010)  # Float, Double Float, Pixel Data
IMAGE_KEYWORDS = ("Rows", "Columns", "BitsStored", "PhotometricInterpretation")
MAX_REASON = 200
MIN_OVERLAY = 16
CONVERTED_SYNTAXES = frozenset(
    {ImplicitVRLittleEndian, ExplicitVRBigEndian, "1.2.840.10008.1.2.1.99"}
)  # smallest Rows/Columns fill_phi_header can draw an overlay for

# Planted-PHI files that medscrub must refuse with a one-line failure instead
# of cleaning: corpus id -> words of the reason it gives. None at present.
EXPECTED_FAILURES: dict[str, str] = {}


# ---------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------


def _files(root: Path | None, prefix: str) -> list[tuple[str, Path]]:
    if root is None:
        return []
    return [
        (f"{prefix}/{path.relative_to(root).as_posix()}", path)
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink()
    ]


ROOTS = {"pydicom": pydicom_test_files(), "pydicom-data": pydicom_data_files()}
PYDICOM_FILES = _files(ROOTS["pydicom"], "pydicom")
PYDICOM_DATA_FILES = _files(ROOTS["pydicom-data"], "pydicom-data")
CORPUS = PYDICOM_FILES + PYDICOM_DATA_FILES


def _read(path: Path, **kwargs: object) -> FileDataset | None:
    """pydicom's reading of `path` (force=True, quiet), or None if it is not DICOM."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = dcmread(path, force=True, **kwargs)
    except Exception:
        return None
    meta = getattr(ds, "file_meta", None)
    has_syntax = meta is not None and "TransferSyntaxUID" in meta
    # With force=True any bytes "parse"; a text file gives one nonsense element.
    if not has_syntax and not any(dictionary_has_tag(tag) for tag in ds.keys()):
        return None
    if not ds.keys():
        return None
    return ds


def _is_dicomdir(ds: Dataset) -> bool:
    meta = getattr(ds, "file_meta", None)
    sop_class = str(ds.get("SOPClassUID", "") or "")
    if meta is not None:
        sop_class = sop_class or str(meta.get("MediaStorageSOPClassUID", "") or "")
    return sop_class == DICOMDIR_CLASS or "DirectoryRecordSequence" in ds


@dataclass(frozen=True)
class _Entry:
    id: str
    path: Path
    readable: bool
    dicomdir: bool


def _classify(ident: str, path: Path) -> _Entry:
    ds = _read(path, defer_size="1 KB")
    return _Entry(ident, path, ds is not None, ds is not None and _is_dicomdir(ds))


ENTRIES = [_classify(ident, path) for ident, path in CORPUS]
OBJECTS = [e for e in ENTRIES if e.readable and not e.dicomdir]


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    # the header step and the pixel path's codecs: the Basic Profile, pixels untouched
    return Pipeline(Profile.preset("basic"), key=SecretKey.from_text(KEY_TEXT))


def _run(pipeline: Pipeline, src: Path, rel: str, out: Path) -> FileResult:
    """process_file, which must never raise (a bad input is a result, not a crash)."""
    try:
        result, _header = pipeline.process_file(src, rel, out)
    except Exception as exc:
        pytest.fail(f"process_file raised {exc.__class__.__name__}: {exc}", pytrace=False)
    assert isinstance(result, FileResult)
    assert isinstance(result.outcome, Outcome)
    return result


def _assert_one_line(result: FileResult) -> None:
    assert result.reason, f"{result.outcome.value} without a reason"
    assert "\n" not in result.reason and "\r" not in result.reason, result.reason
    assert len(result.reason) <= MAX_REASON, result.reason


def _phi_in(data: bytes) -> list[str]:
    upper = data.upper()
    return [s for s in FAKE_PHI_STRINGS if s.encode() in data or s.upper().encode() in upper]


def _pixel_bytes(ds: Dataset) -> dict[int, bytes]:
    return {tag: bytes(ds[tag].value) for tag in PIXEL_TAGS if tag in ds}


def _expected_syntax(syntax: str) -> str:
    """Implicit VR, big endian and deflated files come out as Explicit VR LE."""
    return ExplicitVRLittleEndian if syntax in CONVERTED_SYNTAXES else syntax


def _assert_same_image(before: Dataset, after: Dataset) -> None:
    """The header-only path leaves pixel data and image geometry as they were.

    Pixel bytes stay identical, except in a big-endian file written back as
    little endian: there the decoded pixel values must be identical.
    """
    for keyword in IMAGE_KEYWORDS:
        assert after.get(keyword) == before.get(keyword), keyword
    if _syntax(before) == ExplicitVRBigEndian and "PixelData" in before:
        assert np.array_equal(before.pixel_array, after.pixel_array)
        return
    pixels = _pixel_bytes(before)
    assert _pixel_bytes(after).keys() == pixels.keys()
    for tag, value in _pixel_bytes(after).items():
        assert value == pixels[tag], f"({tag >> 16:04X},{tag & 0xFFFF:04X}) changed"


def _syntax(ds: FileDataset) -> str:
    """The declared transfer syntax, or for a file without one, how it was encoded."""
    meta = getattr(ds, "file_meta", None)
    if meta is not None and meta.get("TransferSyntaxUID"):
        return str(meta.TransferSyntaxUID)
    implicit, little = ds.original_encoding
    if implicit:
        return ImplicitVRLittleEndian
    return ExplicitVRLittleEndian if little else ExplicitVRBigEndian


def _plant(ds: FileDataset) -> None:
    """fill_phi_header, quietly (vendor values may not validate).

    A file without File Meta Information stays without it (fill_phi_header
    would otherwise start a meta group holding only the SOP UIDs).
    """
    bare = not (getattr(ds, "file_meta", None) or {})
    with warnings.catch_warnings(), pydicom_config.disable_value_validation():
        warnings.simplefilter("ignore")
        rows, cols = ds.get("Rows"), ds.get("Columns")
        if rows is not None and cols is not None and min(int(rows), int(cols)) < MIN_OVERLAY:
            # fill_phi_header draws a framed overlay of the image's size, which
            # fails on tiny images: plant a 64 x 64 overlay (Rows/Columns absent).
            del ds.Rows, ds.Columns
            try:
                fill_phi_header(ds, series=1, instance=1)
            finally:
                ds.Rows, ds.Columns = rows, cols
        else:
            fill_phi_header(ds, series=1, instance=1)
    if bare:
        ds.file_meta = FileMetaDataset()


def _write_planted(ds: FileDataset, path: Path) -> None:
    """Write `ds` (PHI planted) the way it came: same syntax, meta or not."""
    with warnings.catch_warnings(), pydicom_config.disable_value_validation():
        warnings.simplefilter("ignore")
        try:
            ds.save_as(path)
        except TypeError:
            # Raw elements read without a VR (an implicit VR body under an
            # explicit syntax) cannot be written: give them their dictionary VR.
            for tag in ds.keys():
                ds[tag]
            ds.save_as(path)


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------


def test_corpus_is_complete() -> None:
    assert PYDICOM_FILES, "pydicom's bundled test files not found"
    if not PYDICOM_DATA_FILES:
        pytest.skip("pydicom-data is not installed")
    assert len(PYDICOM_DATA_FILES) >= 68
    assert len(OBJECTS) >= 150
    assert set(EXPECTED_FAILURES) <= {e.id for e in OBJECTS}


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_file_is_handled_without_crash(
    entry: _Entry, pipeline: Pipeline, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = _run(pipeline, entry.path, entry.path.name, out)
    if result.outcome is Outcome.CLEANED:
        assert entry.readable, "a file pydicom cannot read was cleaned"
        assert not entry.dicomdir, "a DICOMDIR was copied"
        assert result.output is not None
        original = _read(entry.path)
        assert original is not None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cleaned = dcmread(out / result.output)
        assert cleaned.PatientIdentityRemoved == "YES"
        _assert_same_image(original, cleaned)
        return
    _assert_one_line(result)
    assert not (out / entry.path.name).exists(), "a file that was not cleaned was written"
    if entry.dicomdir:  # refused, or (a truncated one) failed
        assert result.outcome is Outcome.SKIPPED or "truncated" in result.reason


@pytest.mark.parametrize("entry", OBJECTS, ids=[e.id for e in OBJECTS])
def test_planted_phi_is_removed(entry: _Entry, pipeline: Pipeline, tmp_path: Path) -> None:
    ds = _read(entry.path)
    assert ds is not None
    _plant(ds)
    src = tmp_path / "in" / "planted.dcm"
    src.parent.mkdir()
    _write_planted(ds, src)
    before = _read(src)
    assert before is not None, "the planted file does not re-read"
    assert _phi_in(src.read_bytes()), "nothing was planted"

    out = tmp_path / "out"
    result = _run(pipeline, src, "planted.dcm", out)

    expected = EXPECTED_FAILURES.get(entry.id)
    if expected is not None:
        assert result.outcome is Outcome.FAILED, result
        _assert_one_line(result)
        assert expected in result.reason
        assert _phi_in(result.reason.encode()) == []
        assert not (out / "planted.dcm").exists()
        return
    assert result.outcome is Outcome.CLEANED, f"{result.outcome.value}: {result.reason}"
    assert result.output is not None
    data = (out / result.output).read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        after = dcmread(out / result.output)

    assert _phi_in(data) == [], "planted PHI survived"
    assert after.PatientIdentityRemoved == "YES"
    assert _syntax(after) == _expected_syntax(_syntax(before)), "transfer syntax changed"
    _assert_same_image(before, after)


@pytest.mark.parametrize("name", sorted(ROOTS))
def test_whole_folder_run_completes(name: str, pipeline: Pipeline, tmp_path: Path) -> None:
    root = ROOTS[name]
    if root is None:
        pytest.skip(f"{name} is not installed")
    expected = sorted(e.path.relative_to(root).as_posix() for e in ENTRIES
                      if e.id.startswith(f"{name}/"))
    audit = tmp_path / "audit.jsonl"
    try:
        summary = pipeline.run(root, tmp_path / "out", audit=audit)
    except Exception as exc:
        pytest.fail(f"run raised {exc.__class__.__name__}: {exc}", pytrace=False)
    assert sorted(r.input for r in summary.results) == expected
    assert sum(summary.counts.values()) == len(expected)
    records = [json.loads(line) for line in audit.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["input"] for r in records if r["record"] == "file") == expected
    assert records[-1]["record"] == "summary"
