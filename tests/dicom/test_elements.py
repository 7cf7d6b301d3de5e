"""The element-tree codec agrees with pydicom on every file of the corpus."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from medscrub.dicom.elements import Node, Unhandled, encode_file, parse_file
from medscrub.errors import UnsupportedInputError
from medscrub_testing.samples import make_ct, make_us_cine
from medscrub_testing.vendor import vendor_roots


def corpus() -> list[Path]:
    return sorted(
        p for root in vendor_roots() if root.is_dir() for p in root.rglob("*")
        if p.is_file() and p.read_bytes()[128:132] == b"DICM"
    )


def assert_same(ours: Node, theirs: Dataset) -> None:
    assert sorted(ours) == sorted(int(t) for t in theirs.keys())
    for tag, elem in ours.items():
        other = theirs.get_item(tag)
        if isinstance(elem.value, list):
            items = theirs[tag].value
            assert len(elem.value) == len(items), hex(tag)
            for mine, its in zip(elem.value, items, strict=True):
                assert_same(mine, its)
        elif isinstance(other, RawDataElement):
            assert (elem.vr, elem.value) == (other.VR, other.value), hex(tag)


FILES = corpus()


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_parser_matches_pydicom(path: Path) -> None:
    data = path.read_bytes()
    try:
        _meta, body = parse_file(data)
    except Unhandled:
        return  # not Explicit VR Little Endian: medscrub converts it with pydicom
    except UnsupportedInputError as exc:
        assert "truncated" in str(exc)  # pydicom accepts short values silently
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pydicom.dcmread(io.BytesIO(data))
    assert_same(body, theirs)


@pytest.mark.parametrize("make", [lambda: make_ct(0, instance=1), lambda: make_us_cine(0)])
def test_encoding_reads_back_identically(make: object) -> None:
    buf = io.BytesIO()
    make().save_as(buf, enforce_file_format=True)  # type: ignore[operator]
    meta, body = parse_file(buf.getvalue())
    again = pydicom.dcmread(io.BytesIO(encode_file(meta, body)))
    reference = pydicom.dcmread(io.BytesIO(buf.getvalue()))
    for tag in reference.keys():
        assert again[tag].value == reference[tag].value, tag


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_truncation_is_an_error_not_a_short_value(cut: float) -> None:
    buf = io.BytesIO()
    make_ct(0, instance=1).save_as(buf, enforce_file_format=True)
    data = buf.getvalue()
    with pytest.raises(UnsupportedInputError, match="truncated"):
        parse_file(data[: int(len(data) * cut)])


def test_nesting_deeper_than_the_limit_is_refused() -> None:
    from pydicom.sequence import Sequence

    ds = make_ct(0, instance=1)
    inner = Dataset()
    inner.CodeValue = "1"
    for _ in range(40):
        outer = Dataset()
        outer.ContentSequence = Sequence([inner])
        inner = outer
    ds.ContentSequence = inner.ContentSequence
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    with pytest.raises(UnsupportedInputError, match="nested deeper"):
        parse_file(buf.getvalue(), max_depth=32)
