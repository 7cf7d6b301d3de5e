"""Identifiers planted in free text: none survives share or the clean options.

Each free-text VR is planted at the top level, inside a sequence two levels deep,
and inside a private sequence of a block a recipe keeps, with a phone number, an
e-mail, a postal address and ZIP code, a date in five forms, names after a title
and after a label, and a record number. The attributes are both ones the table
cleans (Clean Descriptors) and ones it does not list at all (kept, then cleaned
of what they hold).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from medscrub.keys import SecretKey
from medscrub.pipeline import Pipeline
from medscrub.profile import PIXEL_OPTIONS, Profile

_PLANTED = (
    "Tel 555-0199",
    "jane.doe@example.org",
    "12 Elm Street, Springfield, IL 62704",
    "06/16/1976",
    "1976-06-16",
    "16 Jun 1976",
    "June 16, 1976",
    "16.06.1976",
    "Dr Quincy Adams",
    "Patient: Zelda Fitz",
    "MRN 48213370",
)
#: Fragments none of which may be left anywhere in the output.
_FRAGMENTS = ("555", "0199", "jane", "example", "Elm", "Springfield", "62704", "1976", "Jun",
              "Quincy", "Adams", "Zelda", "Fitz", "4821337")
#: (keyword, VR): cleaned by Clean Descriptors, or not listed in Table E.1-1 at all.
_ATTRIBUTES = (
    ("SeriesDescription", "LO"), ("ImageComments", "LT"), ("DerivationDescription", "ST"),
    ("LabelText", "UT"), ("EntityLabel", "SH"),  # Clean Descriptors
    ("CalibrationNotes", "LT"), ("IndicationDescription", "ST"), ("StrainDescription", "UC"),
    ("ProtocolDesignRationale", "UT"), ("ViewName", "SH"), ("EventTimerNames", "LO"),
    ("EvaluatorName", "PN"),  # not listed
)
_CREATOR = "ACME CLINICAL 1.0"


_TEXT = "seen; " + "; ".join(_PLANTED) + "; follow up"


def _value(vr: str) -> str | list[str]:
    """The planted value for a VR: short VRs get every identifier that fits, one per
    value; free-text VRs get them all in one text."""
    if vr == "SH":
        return [p for p in _PLANTED if len(p) <= 16]
    if vr in ("LO", "PN"):
        return list(_PLANTED)
    return _TEXT


def _planted(ds: Dataset) -> None:
    for keyword, vr in _ATTRIBUTES:
        ds.add_new(keyword, vr, _value(vr))


def _dataset() -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.826.0.1.3680043.10.999.3.1"
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.10.999.1"
    ds.SeriesInstanceUID = "1.2.826.0.1.3680043.10.999.2"
    ds.Modality = "OT"
    ds.PatientName = "FITZ^ZELDA"
    ds.PatientID = "48213370"
    _planted(ds)
    inner = Dataset()
    _planted(inner)
    outer = Dataset()
    outer.ReferencedSOPClassUID = ds.SOPClassUID
    outer.SourceImageSequence = Sequence([inner])  # a sequence the table does not list
    ds.ReferencedImageSequence = Sequence([outer])
    block = Dataset()
    _planted(block)
    ds.add_new(0x00990010, "LO", _CREATOR)
    ds.add_new(0x00991001, "SQ", Sequence([block]))
    ds.add_new(0x00991002, "LT", _TEXT)
    ds.add_new(0x00991003, "SH", _value("SH"))
    return ds


def _values(ds: Dataset) -> list[str]:
    """Every text value in a data set tree (private elements too)."""
    found = []
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                found.extend(_values(item))
        elif elem.VR in ("LO", "SH", "ST", "LT", "UT", "UC", "PN") and elem.value:
            values = elem.value if elem.VM > 1 else [elem.value]
            found.extend(str(v) for v in values)
    return found


def _clean(profile: Profile) -> Dataset:
    profile = replace(profile, options=profile.options - PIXEL_OPTIONS,
                      creator_actions={_CREATOR: "K"})
    return Pipeline(profile, key=SecretKey.from_text("k" * 20)).redact_dataset(_dataset())


@pytest.mark.parametrize("options", [
    frozenset(),
    frozenset({"clean_descriptors"}),
    frozenset({"clean_descriptors", "retain_safe_private", "retain_patient_characteristics"}),
    frozenset({"clean_descriptors", "clean_structured_content", "clean_graphics"}),
])
def test_no_planted_identifier_survives_the_clean_options(options: frozenset[str]) -> None:
    out = _clean(Profile(options=options))
    values = _values(out)
    for fragment in _FRAGMENTS:
        assert not [v for v in values if fragment in v], fragment
    # private blocks kept on purpose, nested sequences and free text stay, cleaned
    assert 0x00991001 in out and 0x00991002 in out
    if "clean_descriptors" in options:
        assert "seen" in out.ImageComments and "follow up" in out.ImageComments
    assert out.CalibrationNotes.startswith("seen")  # not listed: kept, cleaned


def test_no_planted_identifier_survives_share() -> None:
    out = _clean(Profile.preset("share"))
    values = _values(out)
    for fragment in _FRAGMENTS:
        assert not [v for v in values if fragment in v], fragment
