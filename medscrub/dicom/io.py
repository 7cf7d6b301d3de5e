"""DICOM bytes in and out: recognition by content, strict reading, writing.

Reading is strict where pydicom is lenient: a value shorter than its declared
length (a truncated file, or an absurd length) is an error, not a short value.
Writing builds a fresh file meta header, so nothing from the original meta
(AE titles, private meta information) survives.
"""

from __future__ import annotations

import io
import struct
import warnings

from pydicom import config as pydicom_config
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.filereader import dcmread
from pydicom.filewriter import dcmwrite
from pydicom.uid import (
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from medscrub._version import __version__
from medscrub.dicom.rawio import encode_explicit_le, is_explicit_le, read_explicit_le, truncated
from medscrub.errors import UnsupportedInputError

__all__ = [
    "DICOMDIR_CLASS",
    "ENCAPSULATED_DOCUMENT_CLASSES",
    "IMPLEMENTATION_CLASS_UID",
    "encode_dicom",
    "looks_like_dicom",
    "read_dicom",
]

#: medscrub's implementation class UID (a 2.25 UUID-derived UID).
IMPLEMENTATION_CLASS_UID = UID("2.25.171290338722134786271823393946254218811")
DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
#: Encapsulated PDF, CDA, STL, OBJ and MTL storage: documents we cannot clean.
ENCAPSULATED_DOCUMENT_CLASSES = frozenset(
    f"1.2.840.10008.5.1.4.1.1.104.{n}" for n in range(1, 6)
)
_UNDEFINED = 0xFFFFFFFF
_FIRST_GROUPS = frozenset({0x0002, 0x0004, 0x0008, 0x0010, 0x0018, 0x0020, 0x0028})
_READ_ERRORS = (
    InvalidDicomError,
    AttributeError,
    EOFError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    NotImplementedError,
    OverflowError,
    struct.error,
    UnicodeError,
)


def looks_like_dicom(head: bytes) -> bool:
    """True if `head` (the first 132+ bytes) starts a DICOM file or dataset.

    Accepts the 128-byte preamble with ``DICM``, and also files without the
    preamble that start with a plausible group 0002-0028 tag (little endian, or
    big endian with explicit VR).
    """
    if len(head) >= 132 and head[128:132] == b"DICM":
        return True
    if len(head) < 8:
        return False
    explicit_vr = head[4:6].isalpha() and head[4:6].isupper()
    group, element = struct.unpack("<HH", head[:4])
    if group in _FIRST_GROUPS and element <= 0x0100:
        return explicit_vr or struct.unpack("<I", head[4:8])[0] < 1 << 20
    group, element = struct.unpack(">HH", head[:4])  # a bare big-endian dataset
    return explicit_vr and group in _FIRST_GROUPS and element <= 0x0100


def _check_lengths(ds: Dataset, size: int) -> None:
    for tag in ds.keys():
        raw = ds.get_item(tag)
        if not isinstance(raw, RawDataElement) or raw.length == _UNDEFINED:
            continue
        if raw.value is not None and len(raw.value) < raw.length:
            raise truncated(tag, raw.length, size)


def read_dicom(data: bytes) -> FileDataset:
    """Parse DICOM `data` strictly; raise UnsupportedInputError if malformed."""
    if not looks_like_dicom(data[:132]):
        raise UnsupportedInputError("not a DICOM file")
    fast = read_explicit_le(data)
    if fast is not None:
        return fast
    try:
        with warnings.catch_warnings(), pydicom_config.disable_value_validation():
            warnings.simplefilter("ignore")
            ds = dcmread(io.BytesIO(data), force=True)
    except _READ_ERRORS as exc:
        raise UnsupportedInputError(f"unreadable DICOM ({exc.__class__.__name__})") from None
    if len(ds.keys()) == 0:
        raise UnsupportedInputError("no DICOM elements found")
    _check_lengths(ds, len(data))
    return ds


def _syntax(ds: FileDataset) -> UID:
    """The transfer syntax the dataset was read with (also for files without meta)."""
    meta = getattr(ds, "file_meta", None)
    declared = meta.get("TransferSyntaxUID") if meta is not None else None
    if declared:
        return UID(declared)
    implicit, little = ds.original_encoding
    if implicit is False:
        return ExplicitVRLittleEndian if little is not False else ExplicitVRBigEndian
    return ImplicitVRLittleEndian


def _fresh_meta(ds: FileDataset) -> FileMetaDataset:
    sop_class = ds.get("SOPClassUID") or (getattr(ds, "file_meta", None) or {}).get(
        "MediaStorageSOPClassUID"
    )
    if not sop_class or not ds.get("SOPInstanceUID"):
        raise UnsupportedInputError("no SOP Class or SOP Instance UID: not a storable object")
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = _syntax(ds)
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = f"MEDSCRUB_{__version__}"[:16]
    return meta


def encode_dicom(ds: FileDataset) -> bytes:
    """Serialize `ds` as a DICOM file: zero preamble, fresh meta, same syntax."""
    ds.file_meta = _fresh_meta(ds)
    ds.preamble = b"\x00" * 128
    if is_explicit_le(ds.file_meta.TransferSyntaxUID):
        try:
            with pydicom_config.disable_value_validation():
                return encode_explicit_le(ds, ds.file_meta)
        except (ValueError, TypeError, struct.error):
            pass  # pydicom's writer below handles what the splice writer does not
    buf = io.BytesIO()
    try:
        with warnings.catch_warnings(), pydicom_config.disable_value_validation():
            warnings.simplefilter("ignore")
            dcmwrite(buf, ds, enforce_file_format=True)
    except _READ_ERRORS as exc:
        raise UnsupportedInputError(f"cannot write DICOM ({exc.__class__.__name__})") from None
    return buf.getvalue()

