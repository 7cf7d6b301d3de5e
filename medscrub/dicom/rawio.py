"""Fast reading and writing of Explicit VR Little Endian files, element by element.

Almost every file in an archive is Explicit VR Little Endian (natively or under
a compressed transfer syntax). For those, :func:`read_explicit_le` builds the
pydicom dataset straight from the bytes: every element stays a raw, undecoded
``RawDataElement``, and sequences become ``Dataset`` items. :func:`encode_explicit_le`
writes a cleaned dataset back by splicing the raw value bytes of every element
that was kept. Both refuse (return ``None`` / raise ``ValueError``) whatever
they do not handle, and the caller falls back to pydicom's own reader and writer.
"""

from __future__ import annotations

import struct

from pydicom.charset import convert_encodings
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag
from pydicom.uid import UID

from medscrub.errors import UnsupportedInputError

__all__ = [
    "NOT_EXPLICIT_LE",
    "encode_explicit_le",
    "is_explicit_le",
    "read_explicit_le",
    "truncated",
]

#: Transfer syntaxes whose data set is not plain Explicit VR Little Endian.
NOT_EXPLICIT_LE = frozenset(
    {"1.2.840.10008.1.2", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"}
)
_LONG_VRS = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT", b"SV", b"UV"}
)
_UNDEFINED = 0xFFFFFFFF
_ITEM, _ITEM_END, _SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_TAG = struct.Struct("<HH")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_SHORT_HEADER = struct.Struct("<HH2sH")
_LONG_HEADER = struct.Struct("<HH2s2xI")
_ITEM_HEADER = struct.Struct("<HHI")
_SEQ_DELIMITER = _ITEM_HEADER.pack(0xFFFE, 0xE0DD, 0)
_PIXEL_DATA = 0x7FE00010
_CHARSET = 0x00080005


class _Unhandled(Exception):
    """The bytes use a form this reader leaves to pydicom."""


def truncated(tag: int, declared: int, size: int) -> UnsupportedInputError:
    """The error for a value that runs past the end of the file."""
    return UnsupportedInputError(
        f"element ({tag >> 16:04X},{tag & 0xFFFF:04X}) declares {declared} bytes "
        f"but the file ends first (truncated or corrupt; {size} bytes)"
    )


class _Reader:
    """One pass over a buffer of Explicit VR Little Endian elements."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.view = memoryview(data)

    def header(self, pos: int) -> tuple[int, bytes, int, int]:
        """(tag, VR, length, value offset) of the element at `pos`."""
        data = self.data
        group, elem = _TAG.unpack_from(data, pos)
        tag = (group << 16) | elem
        if group == 0xFFFE:
            return tag, b"", _U32.unpack_from(data, pos + 4)[0], pos + 8
        vr = data[pos + 4 : pos + 6]
        if vr in _LONG_VRS:
            return tag, vr, _U32.unpack_from(data, pos + 8)[0], pos + 12
        if not (len(vr) == 2 and vr.isalpha() and vr.isupper()):
            raise _Unhandled
        return tag, vr, _U16.unpack_from(data, pos + 6)[0], pos + 8

    def elements(
        self, pos: int, end: int, in_item: bool, encoding: str | list[str]
    ) -> tuple[Dataset, int]:
        """Parse elements from `pos` to `end` (or, `in_item`, to an item delimiter)."""
        found: dict[BaseTag, DataElement | RawDataElement] = {}
        size = len(self.data)
        while pos < end:
            if pos + 8 > size:
                raise truncated(0, 8, size)
            tag, vr, length, start = self.header(pos)
            if tag == _ITEM_END and in_item:
                return Dataset(found, parent_encoding=encoding), start
            if tag >> 16 == 0xFFFE:
                raise _Unhandled
            if vr == b"SQ" or (length == _UNDEFINED and vr == b"UN"):
                if vr == b"UN":
                    raise _Unhandled
                items, pos = self.sequence(start, length, encoding)
                found[BaseTag(tag)] = DataElement(tag, "SQ", Sequence(items))
                continue
            if length == _UNDEFINED:
                if tag != _PIXEL_DATA:
                    raise _Unhandled
                stop = self.encapsulated_end(start)
                found[BaseTag(tag)] = RawDataElement(
                    BaseTag(tag), vr.decode(), _UNDEFINED, self.data[start:stop], start, False, True
                )
                pos = stop + 8
                continue
            if start + length > size:
                raise truncated(tag, length, size)
            value = self.data[start : start + length]
            found[BaseTag(tag)] = RawDataElement(
                BaseTag(tag), vr.decode(), length, value, start, False, True
            )
            if tag == _CHARSET:
                encoding = _encodings(value)
            pos = start + length
        if in_item:
            raise truncated(_ITEM_END, 8, size)
        return Dataset(found, parent_encoding=encoding), pos

    def sequence(
        self, pos: int, length: int, encoding: str | list[str]
    ) -> tuple[list[Dataset], int]:
        """Parse the items of a sequence value starting at `pos`."""
        size = len(self.data)
        end = size if length == _UNDEFINED else pos + length
        if end > size:
            raise truncated(0, length, size)
        items: list[Dataset] = []
        while pos < end:
            if pos + 8 > size:
                raise truncated(_SEQ_END, 8, size)
            tag, _vr, item_length, start = self.header(pos)
            if tag == _SEQ_END:
                return items, start
            if tag != _ITEM:
                raise _Unhandled
            if item_length == _UNDEFINED:
                item, pos = self.elements(start, size, True, encoding)
            else:
                if start + item_length > end:
                    raise truncated(_ITEM, item_length, size)
                item, pos = self.elements(start, start + item_length, False, encoding)
            items.append(item)
        if length == _UNDEFINED:
            raise truncated(_SEQ_END, 8, size)
        return items, pos

    def encapsulated_end(self, pos: int) -> int:
        """Offset of the sequence delimiter that ends encapsulated pixel data."""
        size = len(self.data)
        while pos + 8 <= size:
            tag, _vr, length, start = self.header(pos)
            if tag == _SEQ_END:
                return pos
            if tag != _ITEM or length == _UNDEFINED or start + length > size:
                break
            pos = start + length
        raise truncated(_PIXEL_DATA, _UNDEFINED, size)


def _encodings(value: bytes) -> str | list[str]:
    """Python codecs for a raw Specific Character Set value."""
    terms = [t.strip() for t in value.decode("ascii", "replace").split("\\")]
    return convert_encodings(terms)


def _meta(data: bytes) -> tuple[FileMetaDataset, int] | None:
    """The file meta group after the preamble, and where the data set starts."""
    if len(data) < 144 or data[128:132] != b"DICM":
        return None
    reader = _Reader(data)
    try:
        tag, vr, _length, start = reader.header(132)
        if tag != 0x00020000 or vr != b"UL":
            return None
        end = start + 4 + _U32.unpack_from(data, start)[0]
        elements, pos = reader.elements(start + 4, end, False, "iso8859")
    except (_Unhandled, struct.error):
        return None
    return FileMetaDataset(elements), pos


def read_explicit_le(data: bytes) -> FileDataset | None:
    """Read a PS3.10 file whose data set is Explicit VR Little Endian.

    Returns None for anything else (no preamble, other syntaxes, unusual
    encodings), for pydicom to read instead. Raises UnsupportedInputError if
    a value runs past the end of the file.
    """
    found = _meta(data)
    if found is None:
        return None
    meta, pos = found
    syntax = meta.get("TransferSyntaxUID")
    if not syntax or str(syntax) in NOT_EXPLICIT_LE:
        return None
    try:
        elements, _end = _Reader(data).elements(pos, len(data), False, "iso8859")
    except (_Unhandled, struct.error):
        return None
    ds = FileDataset("", elements, file_meta=meta, preamble=data[:128])
    ds.set_original_encoding(False, True, elements._character_set)
    return ds


def _element_header(tag: int, vr: str, length: int) -> bytes:
    code = vr.encode("ascii")
    if code in _LONG_VRS:
        return _LONG_HEADER.pack(tag >> 16, tag & 0xFFFF, code, length)
    if length > 0xFFFF:
        raise ValueError("value too long for a 16-bit length")
    return _SHORT_HEADER.pack(tag >> 16, tag & 0xFFFF, code, length)


def _encode(ds: Dataset, encodings: list[str], parts: list[bytes]) -> None:
    for tag in sorted(int(t) for t in ds.keys()):
        if tag & 0xFFFF == 0:
            continue  # group lengths are not written
        elem = ds.get_item(tag)
        if isinstance(elem, RawDataElement):
            if not elem.VR or len(elem.VR) != 2 or elem.VR == "SQ" or elem.value is None:
                raise ValueError("raw element without a plain VR")
            if elem.length == _UNDEFINED:
                parts += (_element_header(tag, elem.VR, _UNDEFINED), elem.value, _SEQ_DELIMITER)
            else:
                parts += (_element_header(tag, elem.VR, len(elem.value)), elem.value)
            continue
        element = ds[tag]
        if element.VR == "SQ":
            body: list[bytes] = []
            for item in element.value:
                inner: list[bytes] = []
                _encode(item, encodings, inner)
                content = b"".join(inner)
                body += (_ITEM_HEADER.pack(0xFFFE, 0xE000, len(content)), content)
            value = b"".join(body)
            parts += (_element_header(tag, "SQ", len(value)), value)
            continue
        buf = DicomBytesIO()
        buf.is_little_endian, buf.is_implicit_VR = True, False
        write_data_element(buf, element, encodings)
        parts.append(buf.getvalue())


def _meta_bytes(meta: FileMetaDataset) -> bytes:
    buf = DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, False
    for tag in sorted(int(t) for t in meta.keys()):
        if tag != 0x00020000:
            write_data_element(buf, meta[tag])
    body = buf.getvalue()
    return _element_header(0x00020000, "UL", 4) + _U32.pack(len(body)) + body


def encode_explicit_le(ds: FileDataset, meta: FileMetaDataset) -> bytes:
    """Write `ds` with `meta` as a PS3.10 file (zero preamble) in Explicit VR LE.

    Kept raw elements are copied byte for byte. Raises ValueError for a dataset
    this writer cannot express (the caller then uses pydicom's writer).
    """
    if str(meta.TransferSyntaxUID) in NOT_EXPLICIT_LE:
        raise ValueError("not an Explicit VR Little Endian transfer syntax")
    charset = ds.get("SpecificCharacterSet")
    encodings = convert_encodings(charset) if charset else ["iso8859"]
    parts = [b"\x00" * 128, b"DICM", _meta_bytes(meta)]
    _encode(ds, encodings, parts)
    return b"".join(parts)


def is_explicit_le(syntax: UID | str | None) -> bool:
    """True if a data set in `syntax` is encoded Explicit VR Little Endian."""
    return bool(syntax) and str(syntax) not in NOT_EXPLICIT_LE
