"""Sanity checks on the PS3.15 Table E.3.10-1 data and the CID 7050 codes."""

import pytest
from pydicom.sr.codedict import codes

from medscrub.dicom._safe_private import (
    DEIDENTIFICATION_METHOD_CODES,
    SAFE_PRIVATE,
    SAFE_PRIVATE_NAMES,
)

# Rows of Table E.3.10-1 checked in the 2026d extraction, in GDCM's
# transcription and in an older edition's text of the table.
VERIFIED_ROWS = {
    ("SIEMENS MR HEADER", 0x0019, 0x0C): "B Value",
    ("GEMS_ACQU_01", 0x0019, 0x23): "Table Speed [mm/rotation]",
    ("ELSCINT1", 0x01F1, 0x26): "Pitch",
    ("Philips PET Private Group", 0x7053, 0x00): (
        "SUV Factor - Multiplying Stored Pixel Values by Rescale Slope then "
        "this factor results in SUVbw in g/l"
    ),
}

# Option id -> pydicom keyword in codes.DCM (CID 7050).
PYDICOM_KEYWORDS = {
    "basic": "BasicApplicationConfidentialityProfile",
    "clean_pixel_data": "CleanPixelDataOption",
    "clean_recognizable_visual_features": "CleanRecognizableVisualFeaturesOption",
    "clean_graphics": "CleanGraphicsOption",
    "clean_structured_content": "CleanStructuredContentOption",
    "clean_descriptors": "CleanDescriptorsOption",
    "retain_longitudinal_full_dates": (
        "RetainLongitudinalTemporalInformationFullDatesOption"
    ),
    "retain_longitudinal_modified_dates": (
        "RetainLongitudinalTemporalInformationModifiedDatesOption"
    ),
    "retain_patient_characteristics": "RetainPatientCharacteristicsOption",
    "retain_device_identity": "RetainDeviceIdentityOption",
    "retain_uids": "RetainUidsOption",
    "retain_safe_private": "RetainSafePrivateOption",
    "retain_institution_identity": "RetainInstitutionIdentityOption",
}


def test_row_count_matches_pinned_edition():
    # PS3.15 2026d; update together with the data when the edition changes.
    assert len(SAFE_PRIVATE) == 479


def test_groups_are_odd_private_groups():
    for creator, group, _ in SAFE_PRIVATE:
        assert group % 2 == 1, (creator, hex(group))
        assert 0x0009 <= group <= 0xFFFD, (creator, hex(group))


def test_offsets_are_single_bytes():
    for creator, group, offset in SAFE_PRIVATE:
        assert isinstance(offset, int)
        assert 0x00 <= offset <= 0xFF, (creator, hex(group), offset)


def test_creators_are_valid_lo_values():
    for creator, _, _ in SAFE_PRIVATE:
        assert isinstance(creator, str)
        assert creator
        assert creator == creator.strip()
        assert len(creator) <= 64
        assert "\\" not in creator


def test_expected_creators_present():
    creators = {creator for creator, _, _ in SAFE_PRIVATE}
    assert creators >= {
        "ELSCINT1",
        "GEIIS PACS",
        "GEMS_ACQU_01",
        "GEMS_PARM_01",
        "HOLOGIC, Inc.",
        "Philips Imaging DD 001",
        "Philips MR Imaging DD 001",
        "Philips PET Private Group",
        "SIEMENS MR HEADER",
        "SIEMENS Ultrasound SC2000",
    }


@pytest.mark.parametrize("row", sorted(VERIFIED_ROWS))
def test_verified_rows_present(row):
    assert row in SAFE_PRIVATE
    assert SAFE_PRIVATE_NAMES[row] == VERIFIED_ROWS[row]


def test_absent_rows_are_absent():
    # Neither source lists these.
    assert ("Philips Imaging DD 097", 0x2001, 0x09) not in SAFE_PRIVATE
    assert ("SIEMENS MR HEADER", 0x0019, 0x0B) not in SAFE_PRIVATE
    assert ("SIEMENS CSA HEADER", 0x0029, 0x10) not in SAFE_PRIVATE


def test_names_cover_exactly_the_table():
    assert set(SAFE_PRIVATE_NAMES) == SAFE_PRIVATE
    assert all(isinstance(name, str) for name in SAFE_PRIVATE_NAMES.values())


def test_method_code_ids():
    assert set(DEIDENTIFICATION_METHOD_CODES) == set(PYDICOM_KEYWORDS)
    values = [value for value, _ in DEIDENTIFICATION_METHOD_CODES.values()]
    assert sorted(values) == [str(113100 + i) for i in range(13)]


@pytest.mark.parametrize("option", sorted(PYDICOM_KEYWORDS))
def test_method_codes_match_pydicom(option):
    code = getattr(codes.DCM, PYDICOM_KEYWORDS[option])
    assert code.scheme_designator == "DCM"
    assert DEIDENTIFICATION_METHOD_CODES[option] == (code.value, code.meaning)
