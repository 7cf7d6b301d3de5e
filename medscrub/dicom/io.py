"""DICOM files in and out: recognition by content, strict reading, writing.

Files whose data set is Explicit VR Little Endian are parsed directly into the
light tree of :mod:`medscrub.dicom.elements`. Anything else (Implicit VR, big
endian, deflated, files without a preamble or file meta) is read by pydicom
and converted to Explicit VR Little Endian first; such files are written back
in Explicit VR Little Endian. Reading is strict where pydicom is lenient: a
value shorter than its declared length is an error. Writing builds a fresh
file meta group, so nothing of the original meta (AE titles, private meta
information, the 128-byte preamble) survives.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass

import numpy as np
from pydicom import config as pydicom_config
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import dcmread
from pydicom.filewriter import correct_ambiguous_vr, write_dataset
from pydicom.uid import ExplicitVRLittleEndian

from medscrub._version import __version__
from medscrub.dicom.elements import (
    NOT_EXPLICIT_LE,
    PIXEL_DATA,
    Element,
    Node,
    Unhandled,
    encode_file,
    parse_elements,
    parse_file,
    truncated,
)
from medscrub.dicom.values import ascii_element, us_value
from medscrub.errors import UnsupportedInputError
from medscrub.limits import LimitExceeded, active

__all__ = [
    "DICOMDIR_CLASS",
    "ENCAPSULATED_DOCUMENT_CLASSES",
    "IMPLEMENTATION_CLASS_UID",
    "DicomFile",
    "dataset_to_file",
    "dataset_to_node",
    "encode_dicom",
    "looks_like_dicom",
    "read_dicom",
    "replace_contents",
]

#: medscrub's implementation class UID (a 2.25 UUID-derived UID).
IMPLEMENTATION_CLASS_UID = "2.25.171290338722134786271823393946254218811"
DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
#: Encapsulated PDF, CDA, STL, OBJ and MTL storage: documents medscrub cannot clean.
ENCAPSULATED_DOCUMENT_CLASSES = frozenset(
    f"1.2.840.10008.5.1.4.1.1.104.{n}" for n in range(1, 6)
)
_SOP_CLASS, _SOP_INSTANCE = 0x00080016, 0x00080018
_MEDIA_SOP_CLASS = 0x00020002
_UNDEFINED = 0xFFFFFFFF
_WORD_VRS = {"OW": 2, "OL": 4, "OF": 4, "OD": 8, "OV": 8}
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


@dataclass(slots=True)
class DicomFile:
    """A parsed file: its original meta group, its data set, and its transfer syntax."""

    meta: Node
    body: Node
    syntax: str


def looks_like_dicom(head: bytes) -> bool:
    """True if `head` (the first 132+ bytes) starts a DICOM file or data set.

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
    group, element = struct.unpack(">HH", head[:4])  # a bare big-endian data set
    return explicit_vr and group in _FIRST_GROUPS and element <= 0x0100


def _uid(elem: Element | None) -> str:
    if elem is None or not isinstance(elem.value, bytes):
        return ""
    return elem.value.rstrip(b"\x00 ").decode("ascii", "replace")


def _check_lengths(ds: Dataset, size: int) -> None:
    for tag in ds.keys():
        raw = ds.get_item(tag)
        if not isinstance(raw, RawDataElement) or raw.length == _UNDEFINED:
            continue
        if raw.value is not None and len(raw.value) < raw.length:
            raise truncated(tag, raw.length, size)


def _explicit_le_body(ds: Dataset, big_endian: bool = False) -> bytes:
    """`ds` (every element decoded, so VRs are resolved) as Explicit VR LE bytes.

    Values of big-endian word VRs (OW, OL, OF, OD, OV) are byte-swapped; the
    top-level Pixel Data by its Bits Allocated.
    """
    correct_ambiguous_vr(ds, not big_endian)
    pixel_width = max(2, int(ds.get("BitsAllocated", 16) or 16) // 8)
    for elem in ds.iterall():
        if " or " in elem.VR:  # left ambiguous (e.g. curve data): the bytes are the same
            elem.VR = "OW" if "OW" in elem.VR else elem.VR.split(" or ")[0]
        width = _WORD_VRS.get(elem.VR)
        if elem is ds.get_item(PIXEL_DATA) and width:
            width = pixel_width
        if big_endian and width and isinstance(elem.value, bytes) and len(elem.value) % width == 0:
            words = np.frombuffer(elem.value, dtype=f">u{width}")
            elem.value = words.astype(f"<u{width}").tobytes()
    buf = DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, False
    write_dataset(buf, ds)
    return buf.getvalue()


def _via_pydicom(data: bytes, max_depth: int | None) -> DicomFile:
    try:
        with warnings.catch_warnings(), pydicom_config.disable_value_validation():
            warnings.simplefilter("ignore")
            ds = dcmread(io.BytesIO(data), force=True)
            if len(ds.keys()) == 0:
                raise UnsupportedInputError("no DICOM elements found")
            _check_lengths(ds, len(data))
            body = _explicit_le_body(ds, big_endian=ds.original_encoding[1] is False)
            meta_ds = getattr(ds, "file_meta", None) or Dataset()
            meta = parse_elements(_explicit_le_body(meta_ds)) if len(meta_ds) else {}
            syntax = _uid(meta.get(0x00020010))
            return DicomFile(meta, parse_elements(body, max_depth=max_depth), syntax)
    except Unhandled:
        raise UnsupportedInputError("cannot convert to Explicit VR Little Endian") from None
    except RecursionError:
        depth = active().depth if max_depth is None else max_depth
        raise LimitExceeded(f"sequences nested deeper than {depth} levels (limit depth)") from None
    except _READ_ERRORS as exc:
        raise UnsupportedInputError(f"unreadable DICOM ({exc.__class__.__name__})") from None


def read_dicom(data: bytes, *, max_depth: int | None = None) -> DicomFile:
    """Parse DICOM `data` strictly; raise UnsupportedInputError if malformed or over
    the limits in force (:func:`medscrub.limits.active`)."""
    if not looks_like_dicom(data[:132]):
        raise UnsupportedInputError("not a DICOM file")
    try:
        meta, body = parse_file(data, max_depth=max_depth)
    except Unhandled:
        return _via_pydicom(data, max_depth)
    return DicomFile(meta, body, _uid(meta.get(0x00020010)))


def sop_class(file: DicomFile) -> str:
    """The SOP Class UID of the data set (or, failing that, of the file meta)."""
    return _uid(file.body.get(_SOP_CLASS)) or _uid(file.meta.get(_MEDIA_SOP_CLASS))


def encode_dicom(file: DicomFile) -> bytes:
    """The cleaned file: zero preamble, fresh meta, Explicit VR LE family syntax."""
    sop_instance = _uid(file.body.get(_SOP_INSTANCE))
    klass = sop_class(file)
    if not klass or not sop_instance:
        raise UnsupportedInputError("no SOP Class or SOP Instance UID: not a storable object")
    syntax = file.syntax if file.syntax and file.syntax not in NOT_EXPLICIT_LE else (
        ExplicitVRLittleEndian
    )
    meta: Node = {
        0x00020001: Element("OB", b"\x00\x01"),
        0x00020002: ascii_element("UI", klass),
        0x00020003: ascii_element("UI", sop_instance),
        0x00020010: ascii_element("UI", str(syntax)),
        0x00020012: ascii_element("UI", IMPLEMENTATION_CLASS_UID),
        0x00020013: ascii_element("SH", f"MEDSCRUB_{__version__}"[:16]),
    }
    return encode_file(meta, file.body)


def dataset_to_node(ds: Dataset) -> Node:
    """The data set tree of an in-memory pydicom Dataset (its file meta left out)."""
    with warnings.catch_warnings(), pydicom_config.disable_value_validation():
        warnings.simplefilter("ignore")
        try:
            return parse_elements(_explicit_le_body(ds))
        except Unhandled:
            raise UnsupportedInputError("cannot convert the dataset to Explicit VR LE") from None


def dataset_to_file(ds: Dataset) -> DicomFile:
    """An in-memory pydicom Dataset as a :class:`DicomFile` (its meta's syntax kept)."""
    meta = getattr(ds, "file_meta", None)
    syntax = str(meta.get("TransferSyntaxUID", "") or "") if meta is not None else ""
    return DicomFile({}, dataset_to_node(ds), syntax)


def replace_contents(ds: Dataset, data: bytes) -> None:
    """Make `ds` hold exactly the file `data` (data set and file meta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fresh = dcmread(io.BytesIO(data))
    ds.clear()
    ds.update(fresh)
    ds.file_meta = fresh.file_meta
    ds.set_original_encoding(False, True, fresh.get("SpecificCharacterSet") or "iso8859")


def _in_pixel_module(tag: int) -> bool:
    return tag >> 16 in (0x0028, 0x7FE0)


def pixel_dataset(file: DicomFile) -> Dataset:
    """A pydicom Dataset of just the image pixel attributes and pixel data, for decoding."""
    subset = {tag: elem for tag, elem in file.body.items() if _in_pixel_module(tag)}
    syntax = file.syntax if file.syntax and file.syntax not in NOT_EXPLICIT_LE else (
        str(ExplicitVRLittleEndian)
    )
    meta: Node = {
        0x00020001: Element("OB", b"\x00\x01"),
        0x00020002: ascii_element("UI", sop_class(file) or "1.2.840.10008.5.1.4.1.1.7"),
        0x00020003: ascii_element("UI", _uid(file.body.get(_SOP_INSTANCE)) or "2.25.0"),
        0x00020010: ascii_element("UI", syntax),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dcmread(io.BytesIO(encode_file(meta, subset)))


def store_pixels(file: DicomFile, ds: Dataset, syntax: str) -> None:
    """Replace the image pixel attributes and pixel data of `file` with those of `ds`."""
    with warnings.catch_warnings(), pydicom_config.disable_value_validation():
        warnings.simplefilter("ignore")
        fresh = parse_elements(_explicit_le_body(ds))
    for tag in [t for t in file.body if _in_pixel_module(t)]:
        del file.body[tag]
    file.body.update(fresh)
    file.syntax = syntax


def embedded_overlay_bits(body: Node) -> int:
    """A mask of the pixel bits that overlay planes in the pixel data use (0 if none)."""
    mask = 0
    for group in range(0x6000, 0x6020, 2):
        position = body.get((group << 16) | 0x0102)
        if position is None:
            continue
        if us_value(body.get((group << 16) | 0x0100), 1) != 1:  # in the pixel cells' unused bits
            mask |= 1 << us_value(position, 0)
    return mask
