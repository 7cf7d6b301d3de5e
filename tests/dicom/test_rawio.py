"""The Explicit VR Little Endian fast path agrees with pydicom, byte for byte."""

from __future__ import annotations

import importlib.metadata
import io
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from medscrub.dicom.io import encode_dicom
from medscrub.dicom.rawio import read_explicit_le
from medscrub.errors import UnsupportedInputError
from medscrub.samples import make_ct, make_us_cine


def corpus() -> list[Path]:
    roots = [Path(pydicom.__file__).parent / "data" / "test_files"]
    try:
        dist = importlib.metadata.distribution("pydicom-data")
        roots.append(Path(str(dist.locate_file("data_store"))) / "data")
    except importlib.metadata.PackageNotFoundError:
        pass
    return sorted(p for root in roots if root.is_dir() for p in root.rglob("*") if p.is_file())


def pydicom_read(data: bytes) -> Dataset | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pydicom.dcmread(io.BytesIO(data))
        except Exception:  # noqa: BLE001 - the corpus holds deliberately broken files
            return None


def assert_same(ours: Dataset, theirs: Dataset) -> None:
    assert sorted(ours.keys()) == sorted(theirs.keys())
    for tag in ours.keys():
        a, b = ours.get_item(tag), theirs.get_item(tag)
        if isinstance(a, RawDataElement) and isinstance(b, RawDataElement):
            assert (a.VR, a.value) == (b.VR, b.value), tag
        elif a.VR != "SQ":  # one side decoded it while reading
            assert ours[tag].value == theirs[tag].value, tag
        else:
            assert a.VR == b.VR == "SQ", tag
            seq = theirs[tag].value
            assert len(a.value) == len(seq), tag
            for x, y in zip(a.value, seq, strict=True):
                assert_same(x, y)


FILES = [p for p in corpus() if p.read_bytes()[128:132] == b"DICM"]


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_reader_matches_pydicom(path: Path) -> None:
    data = path.read_bytes()
    theirs = pydicom_read(data)
    try:
        ours = read_explicit_le(data)
    except UnsupportedInputError as exc:
        assert "truncated" in str(exc)  # pydicom is lenient with short values
        return
    if ours is None:
        return  # not Explicit VR Little Endian: pydicom reads it
    assert theirs is not None
    assert_same(ours, theirs)
    assert ours.file_meta.TransferSyntaxUID == theirs.file_meta.TransferSyntaxUID


@pytest.mark.parametrize("make", [lambda: make_ct(0, instance=1), lambda: make_us_cine(0)])
def test_writer_output_reads_back_identically(make: object) -> None:
    ds = make()  # type: ignore[operator]
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    original = buf.getvalue()
    fast = read_explicit_le(original)
    assert fast is not None
    written = encode_dicom(fast)
    again = pydicom.dcmread(io.BytesIO(written))
    reference = pydicom.dcmread(io.BytesIO(original))
    for tag in reference.keys():
        if tag >> 16 != 0x0002:
            assert again[tag].value == reference[tag].value, tag
    assert again.file_meta.TransferSyntaxUID == reference.file_meta.TransferSyntaxUID


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_truncation_is_an_error_not_a_short_value(cut: float) -> None:
    buf = io.BytesIO()
    make_ct(0, instance=1).save_as(buf, enforce_file_format=True)
    data = buf.getvalue()
    with pytest.raises(UnsupportedInputError, match="truncated"):
        read_explicit_le(data[: int(len(data) * cut)])
