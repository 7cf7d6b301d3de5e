"""The post-cleaning search for the original's identifiers."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from medscrub.dicom.elements import Node
from medscrub.dicom.io import dataset_to_node
from medscrub.errors import VerificationFailed
from medscrub.verify import HeaderVerifier


def node(ds: Dataset) -> Node:
    return dataset_to_node(ds)


def original() -> Dataset:
    ds = Dataset()
    ds.PatientName = "ANONYMOUS^ZEBEDEE^J"
    ds.PatientID = "MRN5550123"
    ds.OtherPatientIDs = ["77"]
    ds.PatientBirthDate = "19710423"
    return ds


def cleaned(**values: str) -> Dataset:
    ds = Dataset()
    ds.PatientName = "ANONYMOUS"
    ds.Manufacturer = "ACME_MEDICAL"
    ds.WindowWidth = "77"
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


def test_clean_header_passes() -> None:
    HeaderVerifier.from_node(node(original())).check(node(cleaned()))


@pytest.mark.parametrize(
    ("keyword", "value", "kind"),
    [
        ("ImageComments", "follow-up for zebedee", "names"),
        ("StudyDescription", "CT MRN5550123", "ids"),
        ("ContentDate", "19710423", "dates"),
    ],
)
def test_identifier_left_behind_is_found(keyword: str, value: str, kind: str) -> None:
    with pytest.raises(VerificationFailed, match=kind) as info:
        HeaderVerifier.from_node(node(original())).check(node(cleaned(**{keyword: value})))
    assert value not in str(info.value)


def test_nested_and_raw_values_are_searched() -> None:
    ds = cleaned()
    item = Dataset()
    item.TextValue = "seen by ZEBEDEE"
    ds.ContentSequence = Sequence([item])
    with pytest.raises(VerificationFailed):
        HeaderVerifier.from_node(node(original())).check(node(ds))


def test_placeholders_short_ids_and_word_parts_are_not_identifiers() -> None:
    verifier = HeaderVerifier.from_node(node(original()))
    assert "ANONYMOUS" not in verifier.identifiers["names"]
    assert "77" not in verifier.identifiers["ids"]
    verifier.check(node(cleaned(StudyDescription="ZEBEDEES_PROTOCOL")))


def test_skipped_kinds_are_not_searched() -> None:
    verifier = HeaderVerifier.from_node(node(original()), frozenset({"names"}))
    verifier.check(node(cleaned(ImageComments="ZEBEDEE")))
