"""Deterministic synthetic sample data carrying planted, entirely FAKE PHI.

Everything here is generated from fixed seeds, fixed UIDs and fixed dates, so
:func:`write_samples` produces byte-identical files on every run (for a given
set of library versions).  The planted identifiers live in :data:`FAKE_PHI`;
:data:`FAKE_PHI_STRINGS` lists every string that must never survive
de-identification, so tests can simply search output bytes for them.

No value in this module belongs to a real person, institution or device.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import pathlib
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo
from pydicom.datadict import dictionary_has_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import dcmread
from pydicom.filewriter import write_dataset
from pydicom.pixels.encoders.base import get_encoder
from pydicom.pixels.utils import pack_bits
from pydicom.sequence import Sequence
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    RLELossless,
)

__all__ = [
    "CR_IMAGE_STORAGE",
    "CT_IMAGE_STORAGE",
    "FAKE_DEMOGRAPHICS",
    "FAKE_GPS",
    "FAKE_PHI",
    "FAKE_PHI_STRINGS",
    "GROUND_TRUTH_NAME",
    "MR_IMAGE_STORAGE",
    "PATIENT_DIR",
    "SAMPLE_UIDS",
    "SC_IMAGE_STORAGE",
    "SERIES_NUMBERS",
    "UID_ROOT",
    "UNKNOWN_PUBLIC_TAG",
    "US_MULTIFRAME_STORAGE",
    "TextBox",
    "bad_inputs",
    "fill_phi_header",
    "load_ground_truth",
    "make_cr_monochrome1",
    "make_ct",
    "make_mr",
    "make_photo_jpeg",
    "make_photo_png",
    "make_secondary_capture",
    "make_secondary_capture_with_boxes",
    "make_us_cine",
    "make_us_cine_with_boxes",
    "series_instance_uid",
    "sop_instance_uid",
    "to_jpeg_baseline",
    "write_samples",
]

# ---------------------------------------------------------------------------
# Constants: UIDs
# ---------------------------------------------------------------------------

#: Root of every planted (original, "identifying") UID.  Fake; never issued.
UID_ROOT = "1.2.826.0.1.3680043.10.999."

CT_IMAGE_STORAGE = UID("1.2.840.10008.5.1.4.1.1.2")
MR_IMAGE_STORAGE = UID("1.2.840.10008.5.1.4.1.1.4")
CR_IMAGE_STORAGE = UID("1.2.840.10008.5.1.4.1.1.1")
US_MULTIFRAME_STORAGE = UID("1.2.840.10008.5.1.4.1.1.3.1")
SC_IMAGE_STORAGE = UID("1.2.840.10008.5.1.4.1.1.7")

#: Series number of every series written by :func:`write_samples`, and how
#: many instances it has.  Series/SOP Instance UIDs derive from these numbers.
SERIES_NUMBERS: dict[str, tuple[int, int]] = {
    "CT": (1, 3),
    "MR": (2, 2),
    "US": (3, 1),
    "SC": (4, 1),
    "CR": (5, 1),
    "CT_RLE": (11, 1),
    "CT_J2K": (12, 1),
    "US_JPEG": (13, 1),
    "MR_JLS": (14, 1),
    "CR_JPEG": (15, 1),
    "NO_PREAMBLE": (16, 1),
    "IMPLICIT": (17, 1),
    "NO_META": (18, 1),
}


def series_instance_uid(series: int) -> str:
    """Return the planted Series Instance UID of series number `series`.

    Parameters
    ----------
    series : int
        Series number (positive).

    Returns
    -------
    str
        A valid UID below :data:`UID_ROOT`.
    """
    return f"{UID_ROOT}2.{series}"


def sop_instance_uid(series: int, instance: int) -> str:
    """Return the planted SOP Instance UID of `instance` in `series`.

    Parameters
    ----------
    series : int
        Series number (positive).
    instance : int
        Instance number within the series (positive).

    Returns
    -------
    str
        A valid UID below :data:`UID_ROOT`.
    """
    return f"{UID_ROOT}3.{series}.{instance}"


#: Every Series/SOP Instance UID used by :func:`write_samples`.
SAMPLE_UIDS: tuple[str, ...] = tuple(
    uid
    for _num, _count in SERIES_NUMBERS.values()
    for uid in (
        series_instance_uid(_num),
        *(sop_instance_uid(_num, i) for i in range(1, _count + 1)),
    )
)

# ---------------------------------------------------------------------------
# Constants: the fake PHI
# ---------------------------------------------------------------------------

#: Planted identifier name -> exact value.  All values are fake, distinctive
#: and at least 6 characters long.
FAKE_PHI: dict[str, str] = {
    # patient
    "patient_name": "QUIXOTE^ZEBULON^ARCHIBALD",
    "patient_id": "MRN88231907",
    "issuer_of_patient_id": "FAKEHOSP-MRN-AUTHORITY",
    "other_patient_id": "OPID-FAKE-4471",
    "other_patient_id_2": "NHSFAKE943476",
    "other_patient_name": "QUIXOTE-PRIOR^ZEBULON",
    "patient_birth_date": "19710423",
    "patient_birth_time": "043015.250000",
    "patient_address": "42 FAKEWELL LANE, NOWHERESVILLE ZZ9 9ZZ",
    "patient_telephone": "+44 20 7946 0991",
    "patient_mother_birth_name": "GRIMSDOTTIR^OPHELIA",
    "patient_comments": "PTCOMMENT-7731 patient QUIXOTE prefers morning slots",
    "additional_patient_history": "HISTORY-7731 prior scan at FAKEBURY CLINIC",
    "ethnic_group": "FAKEETHNIC-Q",
    "occupation": "FAKEOCCUPATION-9",
    "responsible_person": "FAKEGUARDIAN^MORTIMER",
    "admitting_diagnoses": "ADMITDX-FAKE-3390 fractured QUIXOTE wrist",
    "medical_record_locator": "MRLOC-FAKE-3390",
    # study / series / equipment
    "accession_number": "ACC5550199",
    "study_id": "STUDYFAKE42",
    "study_date": "20240315",
    "study_time": "101537.482913",
    "series_time": "101912.337104",
    "acquisition_time": "102004.719266",
    "content_time": "102006.118450",
    "acquisition_datetime": "20240315102004.719266",
    "study_description": "CT CHEST QUIXOTE ZEBULON FOLLOWUP",
    "series_description": "AXIAL FOR QUIXOTE^ZEBULON MRN88231907",
    "protocol_name": "PROTO-QUIXOTE-MRN88231907",
    "referring_physician": "FAKEDOC^HIPPOLYTA",
    "performing_physician": "FAKEDOC^BARNABY",
    "operator_name": "FAKETECH^WINIFRED",
    "requesting_physician": "FAKEDOC^PERPETUA",
    "physician_of_record": "FAKEDOC^THADDEUS",
    "reading_physician": "FAKEDOC^OCTAVIA",
    "institution_name": "ST BARNABUS FAKE INFIRMARY",
    "institution_address": "1 PHANTOM ROAD, FAKEBURY FK1 2ZZ",
    "department_name": "DEPT OF FAKE RADIOLOGY",
    "station_name": "FAKESTATION07",
    "device_serial_number": "SN-FAKE-90210",
    "requested_procedure_id": "RPFAKE7731",
    "scheduled_procedure_step_id": "SPSFAKE7731",
    "performed_procedure_step_id": "PPSFAKE7731",
    "requested_procedure_description": "REQ CT CHEST FOR QUIXOTE",
    "performed_procedure_description": "PPS CT CHEST ZEBULON Q",
    # private / unusual places
    "private_note": "FAKEVENDOR-NOTE MRN88231907",
    "private_creatorless_value": "CREATORLESS-MRN88231907",
    "unknown_public_tag_value": "UNKNOWNTAG-ZEBULON-4471",
    "curve_description": "CURVE FOR QUIXOTE ZEBULON",
    "overlay_description": "OVERLAY QUIXOTE ZEBULON",
    "overlay_comments": "OVERLAYNOTE-MRN88231907 drawn by FAKETECH",
    "deep_nested_name": "QUIXOTE^DEEPNESTED",
    "deep_nested_date": "20230917",
    # UIDs
    "uid_root": UID_ROOT,
    "study_instance_uid": f"{UID_ROOT}1.1",
    "frame_of_reference_uid": f"{UID_ROOT}4.1",
    "ct_series_instance_uid": series_instance_uid(1),
    "ct_sop_instance_uid": sop_instance_uid(1, 1),
    "deep_nested_uid": f"{UID_ROOT}6.1",
    "irradiation_event_uid": f"{UID_ROOT}5.1",
    "performed_procedure_step_uid": f"{UID_ROOT}7.1",
    "instance_creator_uid": f"{UID_ROOT}8.1",
    "storage_media_file_set_uid": f"{UID_ROOT}9.1",
    # photos
    "photo_artist": "FAKEPHOTOG^CLEMENTINE",
    "photo_copyright": "COPYRIGHT-FAKE ST BARNABUS 2024",
    "photo_description": "WOUND PHOTO QUIXOTE ZEBULON MRN88231907",
    "photo_user_comment": "USERCOMMENT-FAKE bedside QUIXOTE",
    "photo_camera_serial": "CAMSN-FAKE-55813",
    "photo_camera_owner": "FAKEOWNER^LYSANDER",
    "photo_datetime": "2024:03:15 10:15:37",
    "photo_jpeg_comment": "JPEGCOM-FAKE QUIXOTE^ZEBULON^ARCHIBALD",
    "png_title": "RASH QUIXOTE^ZEBULON^ARCHIBALD MRN88231907",
    "png_author": "FAKEPNGAUTHOR^CORNELIUS",
    "png_itxt": "ITXT-FAKE rash MRN88231907 ZEBULON",
    "png_creation_time": "2024-03-15T10:15:37",
}

#: Non-distinctive demographic values also planted (too short to grep for).
FAKE_DEMOGRAPHICS: dict[str, str] = {
    "PatientSex": "O",
    "PatientAge": "052Y",
    "PatientSize": "1.83",
    "PatientWeight": "77.5",
}

#: Planted GPS position of the photos (latitude, longitude) in degrees.
FAKE_GPS: tuple[float, float] = (51.507350, -0.127650)

#: An even-group tag that is NOT in pydicom's data dictionary (holds PHI).
UNKNOWN_PUBLIC_TAG = 0x0018EE01

_PN_KEYS = (
    "patient_name",
    "other_patient_name",
    "patient_mother_birth_name",
    "responsible_person",
    "referring_physician",
    "performing_physician",
    "operator_name",
    "requesting_physician",
    "physician_of_record",
    "reading_physician",
    "deep_nested_name",
    "photo_artist",
    "photo_camera_owner",
    "png_author",
)


def _phi_strings() -> tuple[str, ...]:
    out: list[str] = []
    for value in FAKE_PHI.values():
        out.append(value)
    for key in _PN_KEYS:
        out.extend(c for c in FAKE_PHI[key].split("^") if c)
    out.extend(SAMPLE_UIDS)
    return tuple(dict.fromkeys(out))


#: Every string that must never appear in a de-identified output: all
#: :data:`FAKE_PHI` values, each person-name component, and every planted UID.
FAKE_PHI_STRINGS: tuple[str, ...] = _phi_strings()

#: Folder (below the output directory) holding the DICOM export.
PATIENT_DIR = "case_01"
#: File name of the burned-in text ground truth written by write_samples.
GROUND_TRUTH_NAME = "ground_truth.json"

_IMPLEMENTATION_VERSION = "MEDSCRUB_SAMPLES"

# ---------------------------------------------------------------------------
# Ground-truth text boxes
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TextBox:
    """A burned-in text line: half-open pixel box ``[y0, y1) x [x0, x1)``.

    Attributes
    ----------
    y0, x0, y1, x1 : int
        Top/left (inclusive) and bottom/right (exclusive) pixel coordinates.
    phi : bool
        Whether the text is identifying and must be removed.
    text : str
        The rendered text.
    """

    y0: int
    x0: int
    y1: int
    x1: int
    phi: bool
    text: str

    def to_dict(self) -> dict[str, int | bool | str]:
        """Return a JSON-serialisable dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, int | bool | str]) -> TextBox:
        """Build a box from :meth:`to_dict` output."""
        return cls(
            y0=int(data["y0"]),
            x0=int(data["x0"]),
            y1=int(data["y1"]),
            x1=int(data["x1"]),
            phi=bool(data["phi"]),
            text=str(data["text"]),
        )


def load_ground_truth(path: str | os.PathLike[str]) -> dict[str, list[TextBox]]:
    """Read a ``ground_truth.json`` written by :func:`write_samples`.

    Parameters
    ----------
    path : str or os.PathLike
        The JSON file, or the directory passed to :func:`write_samples`.

    Returns
    -------
    dict[str, list[TextBox]]
        POSIX path relative to the sample directory -> text boxes.
    """
    p = pathlib.Path(path)
    if p.is_dir():
        p = p / GROUND_TRUTH_NAME
    raw = json.loads(p.read_text(encoding="utf-8"))
    return {k: [TextBox.from_dict(b) for b in v] for k, v in raw.items()}


_Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _font(size: int) -> _Font:
    return ImageFont.load_default(size=size)


def _draw_text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[int, int],
    text: str,
    *,
    font: _Font,
    fill: int | tuple[int, ...],
    phi: bool,
    boxes: list[TextBox],
    shape: tuple[int, int],
    pad: int = 2,
) -> None:
    draw.text(xy, text, font=font, fill=fill)
    left, top, right, bottom = draw.textbbox(xy, text, font=font)
    rows, cols = shape
    boxes.append(
        TextBox(
            y0=max(0, math.floor(top) - pad),
            x0=max(0, math.floor(left) - pad),
            y1=min(rows, math.ceil(bottom) + pad),
            x1=min(cols, math.ceil(right) + pad),
            phi=phi,
            text=text,
        )
    )


# ---------------------------------------------------------------------------
# Header planting
# ---------------------------------------------------------------------------


def _item(**elements: object) -> Dataset:
    ds = Dataset()
    for keyword, value in elements.items():
        setattr(ds, keyword, value)
    return ds


def _referenced_uid(series: int, instance: int) -> str:
    ct_series, ct_count = SERIES_NUMBERS["CT"]
    if series == ct_series:
        return sop_instance_uid(ct_series, instance % ct_count + 1)
    return sop_instance_uid(ct_series, 1)


def _icon_item() -> Dataset:
    size = 64
    yy, xx = np.mgrid[0:size, 0:size]
    base = ((xx + yy) * 2).astype(np.uint8)
    img = Image.fromarray(base, mode="L")
    draw = ImageDraw.Draw(img)
    draw.text((2, 24), "QUIXOTE", font=_font(10), fill=255)
    arr = np.asarray(img, dtype=np.uint8)
    icon = Dataset()
    icon.SamplesPerPixel = 1
    icon.PhotometricInterpretation = "MONOCHROME2"
    icon.Rows = size
    icon.Columns = size
    icon.BitsAllocated = 8
    icon.BitsStored = 8
    icon.HighBit = 7
    icon.PixelRepresentation = 0
    icon.PixelData = arr.tobytes()
    icon["PixelData"].VR = "OB"
    return icon


def _overlay_bits(rows: int, cols: int) -> bytes:
    img = Image.new("1", (cols, rows), 0)
    draw = ImageDraw.Draw(img)
    draw.rectangle((2, 2, cols - 3, rows - 3), outline=1)
    draw.text((6, rows - 20), "QUIXOTE^ZEBULON", font=_font(10), fill=1)
    arr = np.asarray(img, dtype=np.uint8)
    return pack_bits(arr)


def fill_phi_header(ds: Dataset, *, series: int = 1, instance: int = 1) -> None:
    """Plant the fake PHI of :data:`FAKE_PHI` everywhere in `ds`.

    Sets the patient, study, series and equipment identifiers, dates and
    times, all instance UIDs plus referencing UIDs, a three-level nested
    sequence with PHI at the deepest level, private elements with and without
    a private creator, curve data, an overlay plane, an icon image, and an
    unknown public tag.  Pixel Data and Image Pixel elements are untouched
    (the overlay matches ``ds.Rows``/``ds.Columns`` when present).

    Parameters
    ----------
    ds : pydicom.Dataset
        Dataset modified in place.
    series : int, optional
        Series number; selects the planted Series/SOP Instance UIDs.
    instance : int, optional
        Instance number; selects the planted SOP Instance UID.
    """
    p = FAKE_PHI
    date = p["study_date"]
    if "SpecificCharacterSet" not in ds:
        ds.SpecificCharacterSet = "ISO_IR 100"
    if "SOPClassUID" not in ds:
        ds.SOPClassUID = SC_IMAGE_STORAGE
    sop_uid = sop_instance_uid(series, instance)
    ds.SOPInstanceUID = sop_uid
    file_meta = getattr(ds, "file_meta", None)
    if file_meta is not None:
        file_meta.MediaStorageSOPInstanceUID = sop_uid
        file_meta.MediaStorageSOPClassUID = ds.SOPClassUID

    # --- SOP common / dates and times -------------------------------------
    ds.InstanceCreationDate = date
    ds.InstanceCreationTime = p["content_time"]
    ds.InstanceCreatorUID = p["instance_creator_uid"]
    ds.StudyDate = date
    ds.SeriesDate = date
    ds.AcquisitionDate = date
    ds.ContentDate = date
    ds.StudyTime = p["study_time"]
    ds.SeriesTime = p["series_time"]
    ds.AcquisitionTime = p["acquisition_time"]
    ds.ContentTime = p["content_time"]
    ds.AcquisitionDateTime = p["acquisition_datetime"]
    ds.PerformedProcedureStepStartDate = date
    ds.PerformedProcedureStepStartTime = p["study_time"]
    ds.PerformedProcedureStepID = p["performed_procedure_step_id"]
    ds.PerformedProcedureStepDescription = p["performed_procedure_description"]

    # --- study / series / equipment ---------------------------------------
    ds.AccessionNumber = p["accession_number"]
    ds.StudyID = p["study_id"]
    ds.StudyDescription = p["study_description"]
    ds.SeriesDescription = p["series_description"]
    ds.ProtocolName = p["protocol_name"]
    ds.ReferringPhysicianName = p["referring_physician"]
    ds.PerformingPhysicianName = p["performing_physician"]
    ds.OperatorsName = p["operator_name"]
    ds.RequestingPhysician = p["requesting_physician"]
    ds.PhysiciansOfRecord = p["physician_of_record"]
    ds.NameOfPhysiciansReadingStudy = p["reading_physician"]
    ds.InstitutionName = p["institution_name"]
    ds.InstitutionAddress = p["institution_address"]
    ds.InstitutionalDepartmentName = p["department_name"]
    ds.StationName = p["station_name"]
    ds.DeviceSerialNumber = p["device_serial_number"]
    ds.AdmittingDiagnosesDescription = p["admitting_diagnoses"]
    ds.RequestAttributesSequence = Sequence(
        [
            _item(
                RequestedProcedureID=p["requested_procedure_id"],
                ScheduledProcedureStepID=p["scheduled_procedure_step_id"],
                RequestedProcedureDescription=p["requested_procedure_description"],
                ScheduledProcedureStepDescription=p["requested_procedure_description"],
                AccessionNumber=p["accession_number"],
                StudyInstanceUID=p["study_instance_uid"],
            )
        ]
    )
    ds.ReferencedPerformedProcedureStepSequence = Sequence(
        [
            _item(
                ReferencedSOPClassUID="1.2.840.10008.3.1.2.3.3",
                ReferencedSOPInstanceUID=p["performed_procedure_step_uid"],
            )
        ]
    )

    # --- patient ----------------------------------------------------------
    ds.PatientName = p["patient_name"]
    ds.PatientID = p["patient_id"]
    ds.IssuerOfPatientID = p["issuer_of_patient_id"]
    ds.OtherPatientIDs = [p["other_patient_id"], p["other_patient_id_2"]]
    ds.OtherPatientIDsSequence = Sequence(
        [
            _item(
                PatientID=p["other_patient_id"],
                IssuerOfPatientID=p["issuer_of_patient_id"],
                TypeOfPatientID="TEXT",
            ),
            _item(
                PatientID=p["other_patient_id_2"],
                IssuerOfPatientID="FAKE NATIONAL REGISTRY",
                TypeOfPatientID="TEXT",
            ),
        ]
    )
    ds.OtherPatientNames = p["other_patient_name"]
    ds.PatientBirthDate = p["patient_birth_date"]
    ds.PatientBirthTime = p["patient_birth_time"]
    ds.PatientAddress = p["patient_address"]
    ds.PatientTelephoneNumbers = p["patient_telephone"]
    ds.PatientMotherBirthName = p["patient_mother_birth_name"]
    ds.PatientComments = p["patient_comments"]
    ds.AdditionalPatientHistory = p["additional_patient_history"]
    ds.EthnicGroup = p["ethnic_group"]
    ds.Occupation = p["occupation"]
    ds.ResponsiblePerson = p["responsible_person"]
    ds.ResponsiblePersonRole = "PARENT"
    ds.MedicalRecordLocator = p["medical_record_locator"]
    for keyword, value in FAKE_DEMOGRAPHICS.items():
        setattr(ds, keyword, value)

    # --- instance UIDs and references -------------------------------------
    ds.StudyInstanceUID = p["study_instance_uid"]
    ds.SeriesInstanceUID = series_instance_uid(series)
    ds.FrameOfReferenceUID = p["frame_of_reference_uid"]
    ds.SeriesNumber = series
    ds.InstanceNumber = instance
    ds.IrradiationEventUID = p["irradiation_event_uid"]
    ds.StorageMediaFileSetUID = p["storage_media_file_set_uid"]
    ref_uid = _referenced_uid(series, instance)
    ds.ReferencedImageSequence = Sequence(
        [
            _item(
                ReferencedSOPClassUID=CT_IMAGE_STORAGE,
                ReferencedSOPInstanceUID=ref_uid,
            )
        ]
    )
    ds.SourceImageSequence = Sequence(
        [
            _item(
                ReferencedSOPClassUID=CT_IMAGE_STORAGE,
                ReferencedSOPInstanceUID=ref_uid,
            )
        ]
    )
    deepest = _item(
        ReferencedSOPClassUID=CT_IMAGE_STORAGE,
        ReferencedSOPInstanceUID=p["deep_nested_uid"],
        PatientName=p["deep_nested_name"],
        ContentDate=p["deep_nested_date"],
        PatientID=p["patient_id"],
    )
    ds.ReferencedStudySequence = Sequence(
        [
            _item(
                ReferencedSOPClassUID="1.2.840.10008.3.1.2.3.1",
                ReferencedSOPInstanceUID=p["study_instance_uid"],
                ReferencedSeriesSequence=Sequence(
                    [
                        _item(
                            SeriesInstanceUID=series_instance_uid(
                                SERIES_NUMBERS["CT"][0]
                            ),
                            ReferencedInstanceSequence=Sequence([deepest]),
                        )
                    ]
                ),
            )
        ]
    )

    # --- private elements --------------------------------------------------
    vendor = ds.private_block(0x0029, "FAKEVENDOR PHI 1.0", create=True)
    vendor.add_new(0x10, "LO", p["patient_name"])
    vendor.add_new(0x11, "LO", p["private_note"])
    vendor.add_new(0x12, "DA", p["patient_birth_date"])
    vendor.add_new(
        0x13,
        "SQ",
        Sequence(
            [
                _item(
                    PatientName=p["patient_name"],
                    PatientID=p["patient_id"],
                    StudyDate=date,
                )
            ]
        ),
    )
    siemens = ds.private_block(0x0019, "SIEMENS MR HEADER", create=True)
    siemens.add_new(0x0B, "DS", "2345.5")
    siemens.add_new(0x0C, "IS", "0")
    # A private element whose block has no private creator (0011,0010).
    ds.add(DataElement(0x00111010, "LO", p["private_creatorless_value"]))

    # --- unknown public (even group) tag ------------------------------------
    assert not dictionary_has_tag(UNKNOWN_PUBLIC_TAG)
    ds.add(DataElement(UNKNOWN_PUBLIC_TAG, "LO", p["unknown_public_tag_value"]))

    # --- curve (retired, group 5000) ----------------------------------------
    points = np.array(
        [[i, 100 + int(40 * math.sin(i / 4))] for i in range(32)], dtype="<u2"
    )
    ds.add_new(0x50000005, "US", 2)  # CurveDimensions
    ds.add_new(0x50000010, "US", len(points))  # NumberOfPoints
    ds.add_new(0x50000020, "CS", "ROI")  # TypeOfData
    ds.add_new(0x50000022, "LO", p["curve_description"])  # CurveDescription
    ds.add_new(0x50000103, "US", 0)  # DataValueRepresentation
    ds.add_new(0x50002500, "LO", p["curve_description"])  # CurveLabel
    ds.add_new(0x50003000, "OW", points.tobytes())  # CurveData

    # --- overlay plane (group 6000) -------------------------------------------
    rows = int(ds.get("Rows", 64))
    cols = int(ds.get("Columns", 64))
    ds.add_new(0x60000010, "US", rows)  # OverlayRows
    ds.add_new(0x60000011, "US", cols)  # OverlayColumns
    ds.add_new(0x60000022, "LO", p["overlay_description"])  # OverlayDescription
    ds.add_new(0x60000040, "CS", "G")  # OverlayType
    ds.add_new(0x60000050, "SS", [1, 1])  # OverlayOrigin
    ds.add_new(0x60000100, "US", 1)  # OverlayBitsAllocated
    ds.add_new(0x60000102, "US", 0)  # OverlayBitPosition
    ds.add_new(0x60001500, "LO", p["overlay_description"])  # OverlayLabel
    ds.add_new(0x60003000, "OW", _overlay_bits(rows, cols))  # OverlayData
    ds.add_new(0x60004000, "LT", p["overlay_comments"])  # OverlayComments

    # --- icon ------------------------------------------------------------------
    ds.IconImageSequence = Sequence([_icon_item()])


# ---------------------------------------------------------------------------
# Dataset builders
# ---------------------------------------------------------------------------


def _new_dataset(
    sop_class: UID,
    modality: str,
    series: int,
    instance: int,
    transfer_syntax: UID = ExplicitVRLittleEndian,
) -> FileDataset:
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = UID(sop_instance_uid(series, instance))
    meta.TransferSyntaxUID = transfer_syntax
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = _IMPLEMENTATION_VERSION
    ds = FileDataset("", Dataset(), file_meta=meta, preamble=b"\x00" * 128)
    ds.SOPClassUID = sop_class
    ds.Modality = modality
    ds.Manufacturer = "FAKEVENDOR"
    ds.ManufacturerModelName = "PHANTOM-3000"
    ds.SoftwareVersions = "1.0"
    ds.PatientPosition = "HFS"
    fill_phi_header(ds, series=series, instance=instance)
    return ds


def _set_pixels(
    ds: Dataset,
    arr: npt.NDArray[np.integer],
    *,
    photometric: str,
    bits_stored: int,
) -> None:
    samples = 3 if photometric == "RGB" else 1
    frames = arr.shape[0] if arr.ndim == (4 if samples == 3 else 3) else 1
    rows, cols = (arr.shape[-3], arr.shape[-2]) if samples == 3 else arr.shape[-2:]
    bits_allocated = arr.dtype.itemsize * 8
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = photometric
    if samples == 3:
        ds.PlanarConfiguration = 0
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.Rows = rows
    ds.Columns = cols
    ds.BitsAllocated = bits_allocated
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if arr.dtype.kind == "i" else 0
    ds.PixelData = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
    ds["PixelData"].VR = "OW" if bits_allocated > 8 else "OB"
    # The overlay must match the image matrix.
    ds[0x60000010].value = rows
    ds[0x60000011].value = cols
    ds[0x60003000].value = _overlay_bits(rows, cols)


def _grid(rows: int, cols: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float64)
    return (yy - rows / 2) / (rows / 2), (xx - cols / 2) / (cols / 2)


def _ellipse(
    y: npt.NDArray[np.float64],
    x: npt.NDArray[np.float64],
    cy: float,
    cx: float,
    ry: float,
    rx: float,
) -> npt.NDArray[np.bool_]:
    return np.asarray(((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1.0)


def _ct_pixels(seed: int, instance: int, rows: int, cols: int) -> npt.NDArray[np.int16]:
    rng = np.random.default_rng([seed, instance])
    y, x = _grid(rows, cols)
    z = (instance - 2) * 0.05
    hu = np.full((rows, cols), -1000.0)
    hu[_ellipse(y, x, 0.05, 0.0, 0.62, 0.82)] = 40.0  # soft tissue
    hu[_ellipse(y, x, 0.0, -0.38, 0.42 - z, 0.27)] = -850.0  # right lung
    hu[_ellipse(y, x, 0.0, 0.38, 0.40 - z, 0.25)] = -850.0  # left lung
    hu[_ellipse(y, x, 0.05, 0.08, 0.18, 0.16)] = 45.0  # heart
    hu[_ellipse(y, x, 0.5, 0.0, 0.09, 0.09)] = 700.0  # vertebra
    hu[_ellipse(y, x, -0.45, 0.0, 0.05, 0.12)] = 400.0  # sternum
    hu += rng.normal(0.0, 12.0, size=hu.shape)
    stored = np.clip(np.round(hu + 1024.0), -2000, 4000)
    stored[(y**2 + x**2) > 1.0] = -2000  # outside the reconstruction circle
    return stored.astype(np.int16)


def make_ct(
    seed: int = 0,
    *,
    instance: int = 1,
    series: int = SERIES_NUMBERS["CT"][0],
    rows: int = 256,
    columns: int = 256,
) -> FileDataset:
    """Build an axial CT slice: 16-bit signed MONOCHROME2 with rescale.

    Parameters
    ----------
    seed : int, optional
        Seed of the pixel noise.
    instance : int, optional
        Instance number; also selects the slice position and SOP Instance UID.
    series : int, optional
        Series number (selects the Series Instance UID).
    rows, columns : int, optional
        Image matrix.

    Returns
    -------
    pydicom.FileDataset
        Explicit VR Little Endian CT Image Storage dataset with fake PHI.
    """
    ds = _new_dataset(CT_IMAGE_STORAGE, "CT", series, instance)
    _set_pixels(
        ds,
        _ct_pixels(seed, instance, rows, columns),
        photometric="MONOCHROME2",
        bits_stored=16,
    )
    spacing = 500.0 / columns
    z = -100.0 + 5.0 * (instance - 1)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.BodyPartExamined = "CHEST"
    ds.KVP = "120"
    ds.XRayTubeCurrent = 200
    ds.ConvolutionKernel = "STANDARD"
    ds.SliceThickness = "5.0"
    ds.PixelSpacing = [f"{spacing:.6g}", f"{spacing:.6g}"]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.ImagePositionPatient = ["-250", "-250", f"{z:.1f}"]
    ds.SliceLocation = f"{z:.1f}"
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.WindowCenter = "40"
    ds.WindowWidth = "400"
    ds.add_new(0x00280120, "SS", -2000)  # PixelPaddingValue
    ds.BurnedInAnnotation = "NO"
    return ds


def make_mr(
    seed: int = 0,
    *,
    instance: int = 1,
    series: int = SERIES_NUMBERS["MR"][0],
    rows: int = 192,
    columns: int = 192,
) -> FileDataset:
    """Build an MR slice: MONOCHROME2, unsigned, 12 bits stored in 16.

    Parameters
    ----------
    seed : int, optional
        Seed of the pixel noise.
    instance : int, optional
        Instance number.
    series : int, optional
        Series number.
    rows, columns : int, optional
        Image matrix.

    Returns
    -------
    pydicom.FileDataset
        Explicit VR Little Endian MR Image Storage dataset with fake PHI.
    """
    rng = np.random.default_rng([seed, 1000 + instance])
    y, x = _grid(rows, columns)
    img = np.zeros((rows, columns))
    img[_ellipse(y, x, 0.0, 0.0, 0.85, 0.7)] = 900.0  # scalp / CSF
    img[_ellipse(y, x, 0.0, 0.0, 0.78, 0.63)] = 1900.0  # grey matter
    img[_ellipse(y, x, 0.0, 0.0, 0.6, 0.48)] = 2600.0  # white matter
    img[_ellipse(y, x, -0.05, -0.12, 0.22, 0.05)] = 700.0  # ventricles
    img[_ellipse(y, x, -0.05, 0.12, 0.22, 0.05)] = 700.0
    img[_ellipse(y, x, 0.3 + 0.03 * instance, 0.2, 0.07, 0.07)] = 3600.0  # lesion
    noise = rng.normal(0.0, 40.0, size=(2, rows, columns))
    img = np.hypot(img + noise[0], noise[1])
    arr = np.clip(np.round(img), 0, 4095).astype(np.uint16)

    ds = _new_dataset(MR_IMAGE_STORAGE, "MR", series, instance)
    _set_pixels(ds, arr, photometric="MONOCHROME2", bits_stored=12)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND"]
    ds.ScanningSequence = "SE"
    ds.SequenceVariant = "NONE"
    ds.ScanOptions = ""
    ds.MRAcquisitionType = "2D"
    ds.RepetitionTime = "500"
    ds.EchoTime = "15"
    ds.EchoTrainLength = 1
    ds.MagneticFieldStrength = "1.5"
    ds.ImagingFrequency = "63.87"
    ds.SliceThickness = "4"
    ds.PixelSpacing = ["1.25", "1.25"]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.ImagePositionPatient = ["-120", "-120", f"{4.0 * instance:.1f}"]
    ds.WindowCenter = "2000"
    ds.WindowWidth = "4000"
    ds.BurnedInAnnotation = "NO"
    return ds


def make_cr_monochrome1(
    seed: int = 0,
    *,
    instance: int = 1,
    series: int = SERIES_NUMBERS["CR"][0],
    rows: int = 256,
    columns: int = 208,
) -> FileDataset:
    """Build a chest radiograph stored as MONOCHROME1 (12 bits in 16).

    Parameters
    ----------
    seed : int, optional
        Seed of the pixel noise.
    instance : int, optional
        Instance number.
    series : int, optional
        Series number.
    rows, columns : int, optional
        Image matrix.

    Returns
    -------
    pydicom.FileDataset
        Explicit VR Little Endian CR Image Storage dataset with fake PHI.
    """
    rng = np.random.default_rng([seed, 2000 + instance])
    y, x = _grid(rows, columns)
    atten = np.full((rows, columns), 200.0)
    atten[_ellipse(y, x, 0.1, 0.0, 0.95, 0.85)] = 1800.0  # body
    atten[_ellipse(y, x, 0.0, -0.4, 0.6, 0.3)] = 700.0  # lungs
    atten[_ellipse(y, x, 0.0, 0.4, 0.6, 0.3)] = 700.0
    atten[np.abs(x) < 0.07] = 3000.0  # spine
    for k in range(6):  # ribs
        band = np.abs(y + 0.55 - 0.2 * k - 0.15 * np.abs(x)) < 0.025
        atten[band & (np.abs(x) < 0.75)] += 900.0
    atten[_ellipse(y, x, 0.2, 0.12, 0.22, 0.2)] = 2100.0  # heart
    atten += rng.normal(0.0, 30.0, size=atten.shape)
    atten = np.clip(atten, 0, 4095)
    # MONOCHROME1: the minimum value is displayed white -> dense = low value.
    arr = np.round(4095.0 - atten).astype(np.uint16)

    ds = _new_dataset(CR_IMAGE_STORAGE, "CR", series, instance)
    _set_pixels(ds, arr, photometric="MONOCHROME1", bits_stored=12)
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.BodyPartExamined = "CHEST"
    ds.ViewPosition = "PA"
    ds.ImagerPixelSpacing = ["1.6", "1.6"]
    ds.WindowCenter = "2048"
    ds.WindowWidth = "4096"
    ds.BurnedInAnnotation = "NO"
    return ds


def _us_frames(
    seed: int, frames: int, rows: int, cols: int
) -> tuple[npt.NDArray[np.uint8], list[TextBox]]:
    rng = np.random.default_rng([seed, 3000])
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float64)
    apex_y, apex_x = 34.0, cols / 2.0
    radius = np.hypot(yy - apex_y, xx - apex_x)
    angle = np.degrees(np.arctan2(xx - apex_x, yy - apex_y))
    fan = (radius > 6) & (radius < rows - apex_y - 4) & (np.abs(angle) < 35)
    speckle = rng.rayleigh(1.0, size=(rows, cols))
    depth_gain = np.clip(1.0 - radius / (1.6 * rows), 0.2, 1.0)

    boxes: list[TextBox] = []
    banner = Image.new("RGB", (cols, rows), (0, 0, 0))
    draw = ImageDraw.Draw(banner)
    font = _font(11)
    p = FAKE_PHI
    shape = (rows, cols)
    _draw_text(draw, (4, 2), "QUIXOTE^ZEBULON  MRN88231907", font=font,
               fill=(255, 255, 255), phi=True, boxes=boxes, shape=shape)
    _draw_text(draw, (4, 16), f"{p['study_date']} 10:15:37  ST BARNABUS", font=font,
               fill=(255, 255, 0), phi=True, boxes=boxes, shape=shape)
    _draw_text(draw, (cols - 40, 2), "L12-5", font=font,
               fill=(0, 255, 255), phi=False, boxes=boxes, shape=shape)
    _draw_text(draw, (cols - 92, rows - 16), "MI 0.8 TIS 0.4", font=font,
               fill=(200, 200, 200), phi=False, boxes=boxes, shape=shape)
    overlay = np.asarray(banner, dtype=np.uint8)
    text_mask = overlay.any(axis=-1)

    out = np.zeros((frames, rows, cols, 3), dtype=np.uint8)
    for f in range(frames):
        phase = 2.0 * math.pi * f / frames
        tissue = 90.0 + 40.0 * np.sin(yy / 9.0 + 0.4 * np.cos(xx / 23.0))
        cy = rows * 0.6 + 10.0 * math.sin(phase)
        cx = cols * 0.5 + 25.0 * math.cos(phase)
        vessel = ((yy - cy) / 16.0) ** 2 + ((xx - cx) / 26.0) ** 2 <= 1.0
        tissue[vessel] = 12.0
        wall = np.abs(np.hypot((yy - cy) / 16.0, (xx - cx) / 26.0) - 1.1) < 0.08
        tissue[wall] = 230.0
        frame_speckle = np.roll(speckle, shift=(f * 3, f * 2), axis=(0, 1))
        gray = np.clip(tissue * frame_speckle * depth_gain, 0, 255)
        gray[~fan] = 0.0
        rgb = np.repeat(gray[..., None], 3, axis=-1).astype(np.uint8)
        rgb[text_mask] = overlay[text_mask]
        out[f] = rgb
    return out, boxes


def make_us_cine_with_boxes(
    seed: int = 0,
    *,
    instance: int = 1,
    series: int = SERIES_NUMBERS["US"][0],
    frames: int = 8,
    rows: int = 192,
    columns: int = 256,
) -> tuple[FileDataset, list[TextBox]]:
    """Build a multi-frame RGB ultrasound cine with a burned-in PHI banner.

    The same banner (fake patient name, ID, date, institution) is drawn on
    every frame; a synthetic vessel moves below it.

    Parameters
    ----------
    seed : int, optional
        Seed of the speckle.
    instance : int, optional
        Instance number.
    series : int, optional
        Series number.
    frames, rows, columns : int, optional
        Cine dimensions.

    Returns
    -------
    tuple[pydicom.FileDataset, list[TextBox]]
        The dataset and the ground-truth boxes (valid for every frame).
    """
    arr, boxes = _us_frames(seed, frames, rows, columns)
    ds = _new_dataset(US_MULTIFRAME_STORAGE, "US", series, instance)
    _set_pixels(ds, arr, photometric="RGB", bits_stored=8)
    ds.NumberOfFrames = frames
    ds.ImageType = ["ORIGINAL", "PRIMARY", "ABDOMINAL"]
    ds.FrameIncrementPointer = 0x00181063
    ds.FrameTime = "40"
    ds.CineRate = 25
    ds.RecommendedDisplayFrameRate = 25
    ds.BurnedInAnnotation = "YES"
    region = Dataset()
    region.RegionSpatialFormat = 1
    region.RegionDataType = 1
    region.RegionFlags = 0
    region.RegionLocationMinX0 = 0
    region.RegionLocationMinY0 = 34
    region.RegionLocationMaxX1 = columns - 1
    region.RegionLocationMaxY1 = rows - 1
    region.PhysicalUnitsXDirection = 3
    region.PhysicalUnitsYDirection = 3
    region.PhysicalDeltaX = 0.02
    region.PhysicalDeltaY = 0.02
    ds.SequenceOfUltrasoundRegions = Sequence([region])
    return ds, boxes


def make_us_cine(
    seed: int = 0,
    *,
    instance: int = 1,
    series: int = SERIES_NUMBERS["US"][0],
    frames: int = 8,
    rows: int = 192,
    columns: int = 256,
) -> FileDataset:
    """Build the ultrasound cine of :func:`make_us_cine_with_boxes` (no boxes).

    Parameters
    ----------
    seed, instance, series, frames, rows, columns
        See :func:`make_us_cine_with_boxes`.

    Returns
    -------
    pydicom.FileDataset
        Multi-frame RGB Ultrasound Multi-frame Image Storage dataset.
    """
    return make_us_cine_with_boxes(
        seed, instance=instance, series=series, frames=frames, rows=rows,
        columns=columns,
    )[0]


def _window8(stored: npt.NDArray[np.integer], lo: float, hi: float) -> npt.NDArray[np.uint8]:
    scaled = (stored.astype(np.float64) - lo) / (hi - lo) * 255.0
    return np.clip(np.round(scaled), 0, 255).astype(np.uint8)


def make_secondary_capture_with_boxes(
    seed: int = 0,
    *,
    instance: int = 1,
    series: int = SERIES_NUMBERS["SC"][0],
    rows: int = 240,
    columns: int = 320,
) -> tuple[FileDataset, list[TextBox]]:
    """Build an RGB "viewer screenshot" Secondary Capture with burned-in text.

    Parameters
    ----------
    seed : int, optional
        Seed of the embedded CT image noise.
    instance : int, optional
        Instance number.
    series : int, optional
        Series number.
    rows, columns : int, optional
        Screenshot size (at least 200 x 280).

    Returns
    -------
    tuple[pydicom.FileDataset, list[TextBox]]
        The dataset and the ground-truth text boxes.
    """
    p = FAKE_PHI
    img = Image.new("RGB", (columns, rows), (28, 30, 36))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, columns - 1, 17), fill=(52, 64, 96))
    draw.rectangle((0, 18, 123, rows - 1), fill=(40, 42, 50))
    view_h, view_w = rows - 26, columns - 134
    ct = _ct_pixels(seed, 2, view_h, view_w)
    view = Image.fromarray(_window8(ct, 1024 - 160, 1024 + 240), mode="L")
    img.paste(view.convert("RGB"), (128, 22))

    boxes: list[TextBox] = []
    font = _font(11)
    shape = (rows, columns)
    lines: list[tuple[tuple[int, int], str, bool]] = [
        ((4, 3), f"PACS VIEWER - {p['patient_name']}", True),
        ((4, 24), f"ID: {p['patient_id']}", True),
        ((4, 40), f"DOB: {p['patient_birth_date']}", True),
        ((4, 56), f"ACC: {p['accession_number']}", True),
        ((4, 72), p["referring_physician"], True),
        ((4, 104), "W:400 L:40", False),
        ((4, 120), "Zoom: 100%", False),
        ((4, 136), "Series 1/3", False),
    ]
    for xy, text, phi in lines:
        _draw_text(draw, xy, text, font=font, fill=(235, 235, 235), phi=phi,
                   boxes=boxes, shape=shape)
    arr = np.asarray(img, dtype=np.uint8)

    ds = _new_dataset(SC_IMAGE_STORAGE, "OT", series, instance)
    _set_pixels(ds, arr, photometric="RGB", bits_stored=8)
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.ConversionType = "WSD"
    ds.SecondaryCaptureDeviceManufacturer = "FAKEVENDOR"
    ds.SecondaryCaptureDeviceManufacturerModelName = "FAKE SCREEN GRABBER"
    ds.BurnedInAnnotation = "YES"
    return ds, boxes


def make_secondary_capture(
    seed: int = 0,
    *,
    instance: int = 1,
    series: int = SERIES_NUMBERS["SC"][0],
    rows: int = 240,
    columns: int = 320,
) -> FileDataset:
    """Build the screenshot of :func:`make_secondary_capture_with_boxes`.

    Parameters
    ----------
    seed, instance, series, rows, columns
        See :func:`make_secondary_capture_with_boxes`.

    Returns
    -------
    pydicom.FileDataset
        Secondary Capture Image Storage dataset (RGB, burned-in text).
    """
    return make_secondary_capture_with_boxes(
        seed, instance=instance, series=series, rows=rows, columns=columns
    )[0]


# ---------------------------------------------------------------------------
# Compression helpers
# ---------------------------------------------------------------------------


def _encapsulate_icon(ds: Dataset, transfer_syntax: UID) -> None:
    """Encode the icon with `transfer_syntax` (PS3.5 A.4: same syntax)."""
    icon = ds.IconImageSequence[0]
    arr = np.frombuffer(icon.PixelData, dtype=np.uint8).reshape(
        icon.Rows, icon.Columns
    )
    if transfer_syntax == JPEGBaseline8Bit:
        frames = [_pillow_jpeg(arr)]
    else:
        encoder = get_encoder(transfer_syntax)
        opts = {
            "rows": icon.Rows,
            "columns": icon.Columns,
            "samples_per_pixel": 1,
            "bits_allocated": 8,
            "bits_stored": 8,
            "pixel_representation": 0,
            "photometric_interpretation": "MONOCHROME2",
            "number_of_frames": 1,
        }
        frames = list(encoder.iter_encode(arr, encoding_plugin=_plugin(transfer_syntax), **opts))
    icon.PixelData = encapsulate(frames)
    elem = icon["PixelData"]
    elem.VR = "OB"
    elem.is_undefined_length = True


def _plugin(transfer_syntax: UID) -> str:
    """The encoder plugin to use: pydicom's own RLE encoder, so the bytes do not
    depend on which optional plugins are installed; the only one otherwise."""
    return "pydicom" if transfer_syntax == RLELossless else ""


def _compress(ds: FileDataset, transfer_syntax: UID) -> None:
    ds.compress(
        transfer_syntax, generate_instance_uid=False, encoding_plugin=_plugin(transfer_syntax)
    )
    _encapsulate_icon(ds, transfer_syntax)


def _pillow_jpeg(arr: npt.NDArray[np.uint8]) -> bytes:
    buf = io.BytesIO()
    if arr.ndim == 3:
        Image.fromarray(arr, mode="RGB").save(
            buf, "JPEG", quality=90, subsampling="4:2:2", optimize=False
        )
    else:
        Image.fromarray(arr, mode="L").save(buf, "JPEG", quality=90, optimize=False)
    return buf.getvalue()


def to_jpeg_baseline(ds: FileDataset, arr: npt.NDArray[np.uint8]) -> None:
    """Replace the pixel data of `ds` by Pillow-encoded JPEG Baseline frames."""
    frames_arr = arr if int(ds.get("NumberOfFrames", 1)) > 1 else arr[None, ...]
    frames = [_pillow_jpeg(f) for f in frames_arr]
    ds.PixelData = encapsulate(frames)
    elem = ds["PixelData"]
    elem.VR = "OB"
    elem.is_undefined_length = True
    if arr.shape[-1] == 3 and arr.ndim >= 3 and ds.SamplesPerPixel == 3:
        # Pillow writes JFIF YCbCr with 2x1 chroma subsampling.
        ds.PhotometricInterpretation = "YBR_FULL_422"
        ds.PlanarConfiguration = 0
    else:
        ds.PhotometricInterpretation = "MONOCHROME2"
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ratio = arr.nbytes / sum(len(f) for f in frames)
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionRatio = f"{ratio:.2f}"
    ds.LossyImageCompressionMethod = "ISO_10918_1"
    _encapsulate_icon(ds, JPEGBaseline8Bit)


# ---------------------------------------------------------------------------
# Photos
# ---------------------------------------------------------------------------


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = math.floor(value)
    minutes_f = (value - degrees) * 60.0
    minutes = math.floor(minutes_f)
    seconds = round((minutes_f - minutes) * 60.0, 2)
    return float(degrees), float(minutes), seconds


def _photo_exif() -> Image.Exif:
    p = FAKE_PHI
    exif = Image.Exif()
    exif[0x010F] = "FAKECAM"  # Make
    exif[0x0110] = "FAKECAM PHONE 9"  # Model
    exif[0x010E] = p["photo_description"]  # ImageDescription
    exif[0x013B] = p["photo_artist"]  # Artist
    exif[0x8298] = p["photo_copyright"]  # Copyright
    exif[0x0132] = p["photo_datetime"]  # DateTime
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0x9003] = p["photo_datetime"]  # DateTimeOriginal
    exif_ifd[0x9004] = p["photo_datetime"]  # DateTimeDigitized
    exif_ifd[0x9286] = b"ASCII\x00\x00\x00" + p["photo_user_comment"].encode()
    exif_ifd[0xA430] = p["photo_camera_owner"]  # CameraOwnerName
    exif_ifd[0xA431] = p["photo_camera_serial"]  # BodySerialNumber
    gps = exif.get_ifd(0x8825)
    lat, lon = FAKE_GPS
    gps[0x0000] = b"\x02\x02\x00\x00"  # GPSVersionID
    gps[0x0001] = "N" if lat >= 0 else "S"
    gps[0x0002] = _dms(lat)
    gps[0x0003] = "E" if lon >= 0 else "W"
    gps[0x0004] = _dms(lon)
    gps[0x001D] = p["photo_datetime"][:10]  # GPSDateStamp
    return exif


def _wound_image() -> tuple[Image.Image, list[TextBox]]:
    rows, cols = 240, 320
    rng = np.random.default_rng([0, 4000])
    y, x = _grid(rows, cols)
    skin = np.empty((rows, cols, 3))
    skin[..., 0], skin[..., 1], skin[..., 2] = 222.0, 178.0, 152.0
    skin += rng.normal(0.0, 4.0, size=(rows, cols, 1))
    wound = _ellipse(y, x, 0.1, 0.05, 0.22, 0.35)
    skin[wound] = (170.0, 40.0, 45.0)
    rim = _ellipse(y, x, 0.1, 0.05, 0.3, 0.45) & ~wound
    skin[rim] = (205.0, 110.0, 105.0)
    img = Image.fromarray(np.clip(skin, 0, 255).astype(np.uint8), mode="RGB")
    draw = ImageDraw.Draw(img)
    # A ruler along the bottom.
    draw.rectangle((20, rows - 30, 300, rows - 14), fill=(245, 245, 240))
    for i in range(29):
        h = 8 if i % 5 == 0 else 4
        draw.line((24 + 10 * i, rows - 30, 24 + 10 * i, rows - 30 + h), fill=(0, 0, 0))
    # A patient sticker (burned-in PHI).
    draw.rectangle((6, 6, 190, 38), fill=(255, 255, 255))
    boxes: list[TextBox] = []
    font = _font(11)
    _draw_text(draw, (10, 8), "QUIXOTE, ZEBULON", font=font, fill=(0, 0, 0),
               phi=True, boxes=boxes, shape=(rows, cols))
    _draw_text(draw, (10, 22), "MRN88231907 19710423", font=font, fill=(0, 0, 0),
               phi=True, boxes=boxes, shape=(rows, cols))
    return img, boxes


def make_photo_jpeg(path: str | os.PathLike[str]) -> pathlib.Path:
    """Write a clinical-photo JPEG whose EXIF and COM segment hold fake PHI.

    EXIF holds Artist, Copyright, ImageDescription, UserComment, camera owner
    and BodySerialNumber, DateTimeOriginal and GPS latitude/longitude; a COM
    comment holds the patient name; a sticker with name/MRN/DOB is burned in.

    Parameters
    ----------
    path : str or os.PathLike
        Output file.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    out = pathlib.Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    img, _ = _wound_image()
    img.save(
        out,
        "JPEG",
        quality=88,
        exif=_photo_exif(),
        comment=FAKE_PHI["photo_jpeg_comment"].encode(),
    )
    return out


def make_photo_png(path: str | os.PathLike[str]) -> pathlib.Path:
    """Write a clinical-photo PNG with fake PHI in tEXt, iTXt and zTXt chunks.

    Parameters
    ----------
    path : str or os.PathLike
        Output file.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    p = FAKE_PHI
    out = pathlib.Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows, cols = 200, 240
    rng = np.random.default_rng([0, 5000])
    base = np.empty((rows, cols, 3), dtype=np.float64)
    base[..., 0], base[..., 1], base[..., 2] = 230.0, 185.0, 170.0
    yy, xx = np.mgrid[0:rows, 0:cols]
    for cy, cx, r in rng.uniform((10, 10, 2), (rows - 10, cols - 10, 7), (40, 3)):
        spot = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        base[spot] = (200.0, 60.0, 70.0)
    img = Image.fromarray(base.astype(np.uint8), mode="RGB")
    info = PngInfo()
    info.add_text("Title", p["png_title"])
    info.add_text("Author", p["png_author"])
    info.add_text("Creation Time", p["png_creation_time"])
    info.add_itxt("Description", p["png_itxt"], lang="en", tkey="Description")
    info.add_text("Comment", p["patient_comments"], zip=True)
    exif = Image.Exif()
    exif[0x013B] = p["photo_artist"]
    img.save(out, "PNG", pnginfo=info, exif=exif)
    return out


# ---------------------------------------------------------------------------
# Writing the whole set
# ---------------------------------------------------------------------------


def _dicom_bytes(ds: FileDataset) -> bytes:
    buf = DicomBytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _write(path: pathlib.Path, data: bytes, written: list[pathlib.Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    written.append(path)


def _try_compress(ds: FileDataset, transfer_syntax: UID) -> bool:
    try:
        _compress(ds, transfer_syntax)
    except (RuntimeError, ImportError):
        return False
    return True


def _pixels(ds: Dataset) -> npt.NDArray[np.uint8]:
    """Return 8-bit native pixels of an uncompressed dataset (no decoding)."""
    shape: tuple[int, ...] = (int(ds.Rows), int(ds.Columns))
    frames = int(ds.get("NumberOfFrames", 1))
    if int(ds.SamplesPerPixel) == 3:
        shape = (*shape, 3)
    if frames > 1:
        shape = (frames, *shape)
    return np.frombuffer(ds.PixelData, dtype=np.uint8).reshape(shape)


def write_samples(directory: str | os.PathLike[str]) -> list[pathlib.Path]:
    """Write the full deterministic sample set below `directory`.

    Layout (like a hospital export)::

        case_01/CT/CT000001.dcm .. CT000003.dcm   one study, 3 slices
        case_01/MR/IM0001, IM0002                  no file extension
        case_01/US/cine.dcm                        RGB cine, banner
        case_01/SC/SC0001.dcm                      screenshot
        case_01/CR/CR0001.dcm                      MONOCHROME1
        case_01/compressed/ct_rle.dcm, ct_j2k.dcm, us_jpeg_baseline.dcm,
            mr_jpegls.dcm, cr_jpeg_baseline.dcm
        case_01/no_preamble.dcm        file meta but no preamble/DICM
        case_01/implicit_vr.dcm        Implicit VR Little Endian
        case_01/no_meta_implicit.dcm   bare implicit VR dataset
        photos/wound.jpg, photos/rash.png
        ground_truth.json                      burned-in text boxes

    Parameters
    ----------
    directory : str or os.PathLike
        Output directory (created if needed; existing files are overwritten).

    Returns
    -------
    list[pathlib.Path]
        Every file written, sorted.
    """
    root = pathlib.Path(directory)
    pdir = root / PATIENT_DIR
    written: list[pathlib.Path] = []
    truth: dict[str, list[dict[str, int | bool | str]]] = {}

    def rel(path: pathlib.Path) -> str:
        return path.relative_to(root).as_posix()

    _, ct_count = SERIES_NUMBERS["CT"]
    for i in range(1, ct_count + 1):
        _write(pdir / "CT" / f"CT{i:06d}.dcm", _dicom_bytes(make_ct(0, instance=i)),
               written)
    _, mr_count = SERIES_NUMBERS["MR"]
    for i in range(1, mr_count + 1):
        _write(pdir / "MR" / f"IM{i:04d}", _dicom_bytes(make_mr(0, instance=i)),
               written)

    us, us_boxes = make_us_cine_with_boxes(0)
    us_path = pdir / "US" / "cine.dcm"
    _write(us_path, _dicom_bytes(us), written)
    truth[rel(us_path)] = [b.to_dict() for b in us_boxes]

    sc, sc_boxes = make_secondary_capture_with_boxes(0)
    sc_path = pdir / "SC" / "SC0001.dcm"
    _write(sc_path, _dicom_bytes(sc), written)
    truth[rel(sc_path)] = [b.to_dict() for b in sc_boxes]

    _write(pdir / "CR" / "CR0001.dcm", _dicom_bytes(make_cr_monochrome1(0)), written)

    # --- compressed variants ------------------------------------------------
    cdir = pdir / "compressed"
    ct_rle = make_ct(0, instance=1, series=SERIES_NUMBERS["CT_RLE"][0])
    _compress(ct_rle, RLELossless)
    _write(cdir / "ct_rle.dcm", _dicom_bytes(ct_rle), written)

    ct_j2k = make_ct(0, instance=1, series=SERIES_NUMBERS["CT_J2K"][0])
    if _try_compress(ct_j2k, JPEG2000Lossless):
        _write(cdir / "ct_j2k.dcm", _dicom_bytes(ct_j2k), written)

    us_jpeg, _ = make_us_cine_with_boxes(0, series=SERIES_NUMBERS["US_JPEG"][0])
    to_jpeg_baseline(us_jpeg, _pixels(us_jpeg))
    us_jpeg_path = cdir / "us_jpeg_baseline.dcm"
    _write(us_jpeg_path, _dicom_bytes(us_jpeg), written)
    truth[rel(us_jpeg_path)] = [b.to_dict() for b in us_boxes]

    mr_jls = make_mr(0, instance=1, series=SERIES_NUMBERS["MR_JLS"][0])
    if _try_compress(mr_jls, JPEGLSLossless):
        _write(cdir / "mr_jpegls.dcm", _dicom_bytes(mr_jls), written)

    cr_jpeg = make_cr_monochrome1(0, series=SERIES_NUMBERS["CR_JPEG"][0])
    cr16 = np.frombuffer(cr_jpeg.PixelData, dtype="<u2").reshape(
        int(cr_jpeg.Rows), int(cr_jpeg.Columns)
    )
    cr8 = _window8(4095 - cr16.astype(np.int32), 0, 4095)  # -> MONOCHROME2
    cr_jpeg.PixelData = cr8.tobytes()
    cr_jpeg.BitsAllocated = 8
    cr_jpeg.BitsStored = 8
    cr_jpeg.HighBit = 7
    cr_jpeg.WindowCenter = "128"
    cr_jpeg.WindowWidth = "256"
    to_jpeg_baseline(cr_jpeg, cr8)
    _write(cdir / "cr_jpeg_baseline.dcm", _dicom_bytes(cr_jpeg), written)

    # --- odd file encodings ---------------------------------------------------
    nopre = make_mr(0, instance=1, series=SERIES_NUMBERS["NO_PREAMBLE"][0])
    _write(pdir / "no_preamble.dcm", _dicom_bytes(nopre)[132:], written)

    implicit = make_mr(0, instance=1, series=SERIES_NUMBERS["IMPLICIT"][0])
    implicit.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    _write(pdir / "implicit_vr.dcm", _dicom_bytes(implicit), written)

    bare = make_mr(0, instance=1, series=SERIES_NUMBERS["NO_META"][0])
    buf = DicomBytesIO()
    buf.is_little_endian = True
    buf.is_implicit_VR = True
    write_dataset(buf, bare)
    _write(pdir / "no_meta_implicit.dcm", buf.getvalue(), written)

    # --- photos -----------------------------------------------------------------
    jpg = make_photo_jpeg(root / "photos" / "wound.jpg")
    written.append(jpg)
    truth[rel(jpg)] = [b.to_dict() for b in _wound_image()[1]]
    written.append(make_photo_png(root / "photos" / "rash.png"))

    gt = root / GROUND_TRUTH_NAME
    _write(gt, (json.dumps(truth, indent=1, sort_keys=True) + "\n").encode(), written)
    return sorted(written)


# ---------------------------------------------------------------------------
# Malformed inputs
# ---------------------------------------------------------------------------


def _length_offset(data: bytes, tag: int) -> int:
    """Return the file offset of the 4-byte length field of top-level `tag`."""
    ds = dcmread(io.BytesIO(data), force=True, defer_size=None)
    raw = ds.get_item(tag)
    value_tell = getattr(raw, "value_tell", None)
    if not isinstance(value_tell, int):
        raise ValueError(f"tag {tag:08X} was not read raw")
    return value_tell - 4


def bad_inputs(directory: str | os.PathLike[str]) -> dict[str, pathlib.Path]:
    """Write malformed / non-DICOM files for robustness tests.

    Parameters
    ----------
    directory : str or os.PathLike
        Output directory (created if needed).

    Returns
    -------
    dict[str, pathlib.Path]
        ``empty`` (zero bytes), ``truncated`` (first 60% of a valid file),
        ``not_dicom`` (text named .dcm), ``huge_length`` (implicit VR file whose
        PatientName LO declares length 0xFFFFFFF0), ``huge_length_explicit``
        (explicit VR file whose OW Pixel Data declares 0xFFFFFFF0),
        ``random_bin`` (random bytes) and ``readme`` (a text file).
    """
    out = pathlib.Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, pathlib.Path] = {}

    def put(key: str, name: str, data: bytes) -> None:
        path = out / name
        path.write_bytes(data)
        paths[key] = path

    valid = _dicom_bytes(make_mr(0, instance=1, rows=64, columns=64))
    put("empty", "empty.dcm", b"")
    put("truncated", "truncated.dcm", valid[: int(len(valid) * 0.6)])
    put(
        "not_dicom",
        "notdicom.dcm",
        b"This is not a DICOM file.\nPatient: nobody\n" * 4,
    )

    implicit = make_mr(0, instance=1, rows=64, columns=64)
    implicit.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    raw = bytearray(_dicom_bytes(implicit))
    pos = _length_offset(bytes(raw), 0x00100010)
    raw[pos : pos + 4] = (0xFFFFFFF0).to_bytes(4, "little")
    put("huge_length", "huge_length.dcm", bytes(raw))

    raw = bytearray(valid)
    pos = _length_offset(bytes(raw), 0x7FE00010)
    raw[pos : pos + 4] = (0xFFFFFFF0).to_bytes(4, "little")
    put("huge_length_explicit", "huge_length_explicit.dcm", bytes(raw))

    seed = int.from_bytes(hashlib.sha256(b"medscrub-bad-inputs").digest()[:4], "big")
    put("random_bin", "random.bin", np.random.default_rng(seed).bytes(4096))
    put(
        "readme",
        "README.txt",
        b"Export notes: these files are test fixtures and contain no PHI.\n",
    )
    return paths

