"""Header actions of PS3.15 Table E.1-1 on real elements, options and overrides."""

from __future__ import annotations

import datetime as dt
import struct

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from medscrub.keys import SecretKey
from medscrub.pipeline import Pipeline
from medscrub.profile import Profile

UID_ROOT = "1.2.826.0.1.3680043.10.999."
CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


def _item(**kw: object) -> Dataset:
    ds = Dataset()
    for k, v in kw.items():
        setattr(ds, k, v)
    return ds


def make_dataset() -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = CT_STORAGE
    ds.SOPInstanceUID = UID_ROOT + "3.1.1"
    ds.StudyInstanceUID = UID_ROOT + "1.1"
    ds.SeriesInstanceUID = UID_ROOT + "2.1"
    ds.FrameOfReferenceUID = UID_ROOT + "4.1"
    ds.Modality = "CT"
    ds.PatientName = "DOE^JANE^Q"
    ds.PatientID = "MRN1234567"
    ds.PatientBirthDate = "19700102"
    ds.PatientAddress = "1 NOWHERE ST"
    ds.PatientAge = "054Y"
    ds.PatientSex = "F"
    ds.AccessionNumber = "ACC99887766"
    ds.StudyDate = "20240315"
    ds.SeriesDate = "20240316"
    ds.StudyTime = "101537"
    ds.AcquisitionDateTime = "20240315102004.5+0100"
    ds.StudyDescription = "CT CHEST DOE FOLLOWUP MRN1234567"
    ds.InstitutionName = "FAKE GENERAL"
    ds.DeviceSerialNumber = "SN-4471"
    ds.OperatorsName = "TECH^TERRY"
    ds.StationName = "STATION7"
    ds.PixelSpacing = [0.5, 0.5]
    ds.Rows = 4
    ds.Columns = 4
    ds.ReferencedImageSequence = Sequence(
        [_item(ReferencedSOPClassUID=CT_STORAGE, ReferencedSOPInstanceUID=UID_ROOT + "3.1.2")]
    )
    # three levels deep, through sequences the table does not list
    deepest = _item(
        ReferencedSOPClassUID=CT_STORAGE,
        ReferencedSOPInstanceUID=UID_ROOT + "9.9",
        PatientName="DOE^DEEP",
        ContentDate="20230917",
    )
    ds.SharedFunctionalGroupsSequence = Sequence(
        [_item(DerivationImageSequence=Sequence([_item(SourceImageSequence=Sequence([deepest]))]))]
    )
    block = ds.private_block(0x0019, "SIEMENS MR HEADER", create=True)
    block.add_new(0x0C, "IS", "1000")  # safe: B value
    block.add_new(0x0B, "DS", "2345.5")  # not in the safe list
    vendor = ds.private_block(0x0029, "ACME NOTES 1.0", create=True)
    vendor.add_new(0x10, "LO", "DOE^JANE")
    ds.add_new(0x00111010, "LO", "CREATORLESS")  # private element without a creator
    ds.add_new(0x0018EE01, "LO", "UNKNOWN PUBLIC")  # not in the data dictionary
    ds.add_new(0x00180000, "UL", 4)  # group length
    ds.add_new(0x60000022, "LO", "OVERLAY DESC")
    ds.add_new(0x60003000, "OW", b"\x00\x01" * 8)
    ds.add_new(0x50000022, "LO", "CURVE DESC")
    ds.IconImageSequence = Sequence([_item(Rows=2, Columns=2)])
    return ds


def clean(
    profile: Profile | None = None, key: str = "k" * 20, ds: Dataset | None = None
) -> Dataset:
    ds = ds if ds is not None else make_dataset()
    return Pipeline(profile, key=SecretKey.from_text(key)).redact_dataset(ds, in_place=True)


def deepest(ds: Dataset) -> Dataset:
    return ds.SharedFunctionalGroupsSequence[0].DerivationImageSequence[0].SourceImageSequence[0]


# -- the action codes ---------------------------------------------------------


def test_x_removes() -> None:
    ds = clean()
    assert "PatientAddress" not in ds
    assert "PatientAge" not in ds
    assert "StudyDescription" not in ds


def test_z_empties_but_keeps() -> None:
    ds = clean()
    assert "AccessionNumber" in ds and ds.AccessionNumber == ""
    assert ds.PatientBirthDate == ""


def test_d_gives_a_dummy() -> None:
    ds = clean()
    assert ds.InstitutionName == "ANONYMIZED"  # X/Z/D
    assert ds.OperatorsName == "ANONYMOUS"  # X/Z/D on a PN
    assert ds.AcquisitionDateTime == "19000101000000"  # X/Z/D on a DT


def test_u_remaps_uids_deterministically() -> None:
    a, b, other = clean(), clean(), clean(key="another-key-0123456789")
    for kw in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID"):
        assert getattr(a, kw).startswith("2.25.")
        assert getattr(a, kw) == getattr(b, kw)
        assert getattr(a, kw) != getattr(other, kw)
        assert len(getattr(a, kw)) <= 64
    assert a.SOPClassUID == CT_STORAGE  # registered UIDs are not identifiers


def test_x_z_u_star_keeps_the_sequence_and_remaps_its_uids() -> None:
    ds = clean()
    item = ds.ReferencedImageSequence[0]
    assert item.ReferencedSOPClassUID == CT_STORAGE
    assert item.ReferencedSOPInstanceUID == SecretKey.from_text("k" * 20).uid(UID_ROOT + "3.1.2")


def test_k_keeps_unlisted_attributes() -> None:
    ds = clean()
    assert ds.Modality == "CT"
    assert [float(v) for v in ds.PixelSpacing] == [0.5, 0.5]
    assert ds.Rows == 4


def test_three_levels_deep() -> None:
    item = deepest(clean())
    assert "DOE" not in str(item.PatientName)
    assert "ContentDate" not in item or item.ContentDate in ("", "19000101")
    assert item.ReferencedSOPInstanceUID.startswith("2.25.")


def test_private_elements_removed_by_default() -> None:
    ds = clean()
    assert not any(tag.group & 1 for tag in ds.keys())


def test_retain_safe_private_keeps_only_listed_elements() -> None:
    ds = clean(Profile(options=frozenset({"retain_safe_private"})))
    assert ds[0x0019100C].value == "1000"
    assert ds[0x00190010].value == "SIEMENS MR HEADER"  # its creator stays
    assert 0x0019100B not in ds
    assert 0x00291010 not in ds and 0x00290010 not in ds
    assert 0x00111010 not in ds


def test_unknown_public_group_length_curves_overlays_icons_removed() -> None:
    ds = clean()
    for tag in (0x0018EE01, 0x00180000, 0x60000022, 0x60003000, 0x50000022):
        assert tag not in ds
    assert "IconImageSequence" not in ds


def test_pseudonyms_are_consistent_per_patient() -> None:
    a, b = clean(), clean()
    assert a.PatientName == b.PatientName and a.PatientID == b.PatientID
    assert "DOE" not in str(a.PatientName) and "1234567" not in a.PatientID
    other = make_dataset()
    other.PatientID = "MRN7654321"
    c = clean(ds=other)
    assert c.PatientID != a.PatientID


def test_method_is_recorded() -> None:
    ds = clean(Profile(options=frozenset({"retain_uids", "clean_descriptors"})))
    assert ds.PatientIdentityRemoved == "YES"
    codes = {item.CodeValue for item in ds.DeidentificationMethodCodeSequence}
    assert codes == {"113100", "113110", "113105"}
    assert all(i.CodingSchemeDesignator == "DCM" for i in ds.DeidentificationMethodCodeSequence)
    assert ds.LongitudinalTemporalInformationModified == "REMOVED"


# -- the options ------------------------------------------------------------------


def test_retain_uids() -> None:
    ds = clean(Profile(options=frozenset({"retain_uids"})))
    assert ds.StudyInstanceUID == UID_ROOT + "1.1"
    assert ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID == UID_ROOT + "3.1.2"


def test_retain_device_identity() -> None:
    assert clean().DeviceSerialNumber == "ANONYMIZED"
    ds = clean(Profile(options=frozenset({"retain_device_identity"})))
    assert ds.DeviceSerialNumber == "SN-4471"
    assert ds.StationName == "STATION7"


def test_retain_institution_identity() -> None:
    ds = clean(Profile(options=frozenset({"retain_institution_identity"})))
    assert ds.InstitutionName == "FAKE GENERAL"


def test_retain_patient_characteristics() -> None:
    ds = clean(Profile(options=frozenset({"retain_patient_characteristics"})))
    assert ds.PatientAge == "054Y" and ds.PatientSex == "F"
    assert clean().PatientSex == ""


def test_retain_full_dates() -> None:
    ds = clean(Profile(options=frozenset({"retain_longitudinal_full_dates"})))
    assert ds.StudyDate == "20240315"
    assert ds.LongitudinalTemporalInformationModified == "UNMODIFIED"


def test_modified_dates_shift_consistently() -> None:
    profile = Profile(options=frozenset({"retain_longitudinal_modified_dates"}))
    a, b = clean(profile), clean(profile)
    assert a.StudyDate == b.StudyDate != "20240315"
    study = dt.datetime.strptime(a.StudyDate, "%Y%m%d")
    series = dt.datetime.strptime(a.SeriesDate, "%Y%m%d")
    assert (series - study).days == 1  # intervals preserved
    assert a.StudyTime == "101537"  # whole-day shifts keep times
    assert a.AcquisitionDateTime.startswith(a.StudyDate)
    assert a.AcquisitionDateTime.endswith("102004.5+0100")
    assert a.LongitudinalTemporalInformationModified == "MODIFIED"


def test_clean_descriptors_scrubs_identifiers_and_keeps_the_rest() -> None:
    ds = clean(Profile(options=frozenset({"clean_descriptors"})))
    assert ds.StudyDescription == "CT CHEST FOLLOWUP"


def report() -> Dataset:
    ds = make_dataset()
    ds.ContentSequence = Sequence(
        [
            _item(ValueType="TEXT", TextValue="Seen DOE today, MRN1234567, stable"),
            _item(ValueType="PNAME", PersonName="DOE^JANE",
                  ContentSequence=Sequence([_item(ValueType="UIDREF", UID=UID_ROOT + "7.7")])),
        ]
    )
    return ds


def test_structured_content_text_is_dummied_by_the_basic_profile() -> None:
    items = clean(ds=report()).ContentSequence
    assert items[0].TextValue == "ANONYMIZED"
    assert "DOE" not in str(items[1].PersonName)
    assert items[1].ContentSequence[0].UID.startswith("2.25.")


def test_clean_structured_content_keeps_text_without_identifiers() -> None:
    out = clean(Profile(options=frozenset({"clean_structured_content"})), ds=report())
    assert out.ContentSequence[0].TextValue == "Seen today stable"
    assert out.ContentSequence[1].ContentSequence[0].UID.startswith("2.25.")


def annotated() -> Dataset:
    ds = make_dataset()
    ds.GraphicAnnotationSequence = Sequence(
        [_item(GraphicLayer="LAYER1",
               TextObjectSequence=Sequence([_item(UnformattedTextValue="L kidney, DOE^JANE")]))]
    )
    return ds


def test_graphic_annotation_text_is_dummied_by_the_basic_profile() -> None:
    text = clean(ds=annotated()).GraphicAnnotationSequence[0].TextObjectSequence[0]
    assert text.UnformattedTextValue == "ANONYMIZED"


def test_clean_graphics_keeps_annotation_text_without_identifiers() -> None:
    out = clean(Profile(options=frozenset({"clean_graphics"})), ds=annotated())
    layer = out.GraphicAnnotationSequence[0]
    assert layer.GraphicLayer == "LAYER1"
    assert layer.TextObjectSequence[0].UnformattedTextValue == "L kidney"
    assert 0x60003000 not in out  # overlay planes still go


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"no_such_option"}, "unknown option"),
        ({"retain_longitudinal_full_dates", "retain_longitudinal_modified_dates"}, "exclude"),
    ],
)
def test_invalid_option_sets(options: set[str], error: str) -> None:
    from medscrub.errors import ProfileError

    with pytest.raises(ProfileError, match=error):
        Profile(options=frozenset(options))


def test_recipe_overrides_win() -> None:
    profile = Profile(tag_actions={0x00101010: "K", 0x00080060: "X"}, group_actions={0x0019: "K"})
    ds = clean(profile)
    assert ds.PatientAge == "054Y"
    assert "Modality" not in ds
    assert ds[0x0019100B].value == "2345.5"


def test_a_known_sequence_sent_as_un_is_still_cleaned() -> None:
    from pydicom import dcmread
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset

    inner = Dataset()
    inner.SharedFunctionalGroupsSequence = Sequence([_item(PatientName="DOE^HIDDEN")])
    buf = DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, True
    write_dataset(buf, inner)
    value = buf.getvalue()[8:]  # implicit VR: 4-byte tag + 4-byte length, then the items
    ds = make_dataset()
    del ds.SharedFunctionalGroupsSequence
    buf = DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, False
    write_dataset(buf, ds)
    buf.write(struct.pack("<HH2sHI", 0x5200, 0x9229, b"UN", 0, len(value)) + value)
    buf.seek(0)
    reread = dcmread(buf, force=True)  # the element now arrives raw, as UN
    assert reread.get_item(0x52009229).VR == "UN"
    out = clean(ds=reread)
    item = out.SharedFunctionalGroupsSequence[0]
    assert "DOE" not in str(item.PatientName)
