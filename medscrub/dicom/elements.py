"""DICOM data sets as light element trees, read from and written to bytes.

medscrub cleans headers on this tree, not on pydicom objects: an element is a
VR and its raw value bytes (or, for a sequence, a list of item trees), so a
kept element is never decoded and is written back byte for byte. The parser
handles Explicit VR Little Endian, the encoding of almost every file in an
archive (natively or under a compressed transfer syntax); anything else is
first converted to it with pydicom (see :mod:`medscrub.dicom.io`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Union

from medscrub.errors import UnsupportedInputError
from medscrub.limits import LimitExceeded, active

__all__ = [
    "PIXEL_DATA",
    "Element",
    "Node",
    "Unhandled",
    "encode_elements",
    "encode_file",
    "parse_elements",
    "parse_file",
]

#: Transfer syntaxes whose data set is not Explicit VR Little Endian.
NOT_EXPLICIT_LE = frozenset(
    {"1.2.840.10008.1.2", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"}
)
LONG_VRS = frozenset(
    {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV"}
)
_LONG_VR_BYTES = frozenset(v.encode() for v in LONG_VRS)
_UNDEFINED = 0xFFFFFFFF
_ITEM, _ITEM_END, _SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
#: Pixel Data (7FE0,0010).
PIXEL_DATA = 0x7FE00010
_TAG = struct.Struct("<HH")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_SHORT_HEADER = struct.Struct("<HH2sH")
_LONG_HEADER = struct.Struct("<HH2s2xI")
_ITEM_HEADER = struct.Struct("<HHI")
_SEQ_DELIMITER = _ITEM_HEADER.pack(0xFFFE, 0xE0DD, 0)


@dataclass(slots=True)
class Element:
    """One data element: its VR and value (bytes, or a list of item nodes).

    ``undefined`` marks encapsulated pixel data, written with undefined length.
    """

    vr: str
    value: Union[bytes, list[Node]]  # noqa: UP007 - a recursive alias needs Union
    undefined: bool = False


#: A data set or sequence item: tag -> element, in any order.
Node = dict[int, Element]


class Unhandled(Exception):
    """The bytes use a form this codec leaves to pydicom."""


def truncated(tag: int, declared: int, size: int) -> UnsupportedInputError:
    """The error for a value that runs past the end of the file."""
    return UnsupportedInputError(
        f"element ({tag >> 16:04X},{tag & 0xFFFF:04X}) declares {declared} bytes "
        f"but the file ends first (truncated or corrupt; {size} bytes)"
    )


class _Parser:
    """One pass over a buffer of Explicit VR Little Endian elements."""

    def __init__(self, data: bytes, max_depth: int | None) -> None:
        self.data = data
        self.size = len(data)
        self.limits = active()
        self.max_depth = self.limits.depth if max_depth is None else max_depth

    def header(self, pos: int) -> tuple[int, str, int, int]:
        """(tag, VR, length, value offset) of the element at `pos`."""
        data = self.data
        if pos + 8 > self.size:
            raise truncated(0, 8, self.size)
        group, elem = _TAG.unpack_from(data, pos)
        if group == 0xFFFE:
            return (group << 16) | elem, "", _U32.unpack_from(data, pos + 4)[0], pos + 8
        code = data[pos + 4 : pos + 6]
        if code in _LONG_VR_BYTES:
            if pos + 12 > self.size:
                raise truncated((group << 16) | elem, 12, self.size)
            return (group << 16) | elem, code.decode(), _U32.unpack_from(data, pos + 8)[0], pos + 12
        if not (code.isalpha() and code.isupper()):
            raise Unhandled
        return (group << 16) | elem, code.decode(), _U16.unpack_from(data, pos + 6)[0], pos + 8

    def node(self, pos: int, end: int, in_item: bool, depth: int) -> tuple[Node, int]:
        """Parse elements from `pos` to `end`, or to an item delimiter when `in_item`."""
        if depth > self.max_depth:
            raise LimitExceeded(f"sequences nested deeper than {self.max_depth} levels "
                                "(limit depth)")
        found: Node = {}
        data = self.data
        while pos < end:
            tag, vr, length, start = self.header(pos)
            if tag == _ITEM_END and in_item:
                return found, start
            if tag >> 16 == 0xFFFE:
                raise Unhandled
            if vr == "SQ":
                items, pos = self.sequence(start, length, depth)
                found[tag] = Element("SQ", items)
                continue
            if length == _UNDEFINED:
                if tag != PIXEL_DATA:
                    raise Unhandled  # e.g. a sequence sent as UN
                stop = self.encapsulated_end(start)
                found[tag] = Element(vr, data[start:stop], undefined=True)
                pos = stop + 8
                continue
            if start + length > self.size:
                raise truncated(tag, length, self.size)
            if tag != PIXEL_DATA:
                self.limits.check_element(tag, length)
            found[tag] = Element(vr, data[start : start + length])
            pos = start + length
        if in_item:
            raise truncated(_ITEM_END, 8, self.size)
        return found, pos

    def sequence(self, pos: int, length: int, depth: int) -> tuple[list[Node], int]:
        """Parse the items of a sequence value starting at `pos`."""
        end = self.size if length == _UNDEFINED else pos + length
        if end > self.size:
            raise truncated(0, length, self.size)
        items: list[Node] = []
        while pos < end:
            tag, _vr, item_length, start = self.header(pos)
            if tag == _SEQ_END:
                return items, start
            if tag != _ITEM:
                raise Unhandled
            if item_length == _UNDEFINED:
                item, pos = self.node(start, self.size, True, depth + 1)
            else:
                if start + item_length > end:
                    raise truncated(_ITEM, item_length, self.size)
                item, pos = self.node(start, start + item_length, False, depth + 1)
            items.append(item)
        if length == _UNDEFINED:
            raise truncated(_SEQ_END, 8, self.size)
        return items, pos

    def encapsulated_end(self, pos: int) -> int:
        """Offset of the sequence delimiter that ends encapsulated pixel data."""
        while pos + 8 <= self.size:
            tag, _vr, length, start = self.header(pos)
            if tag == _SEQ_END:
                return pos
            if tag != _ITEM or length == _UNDEFINED or start + length > self.size:
                break
            pos = start + length
        raise truncated(PIXEL_DATA, _UNDEFINED, self.size)


def parse_elements(data: bytes, start: int = 0, *, max_depth: int | None = None) -> Node:
    """Parse an Explicit VR Little Endian data set from `start` to the end of `data`.

    Raises Unhandled for forms left to pydicom, UnsupportedInputError when a
    value runs past the end of the data or over the limits in force
    (:func:`medscrub.limits.active`; `max_depth` overrides their depth).
    """
    try:
        node, _end = _Parser(data, max_depth).node(start, len(data), False, 0)
    except struct.error:
        raise Unhandled from None
    return node


def parse_file(data: bytes, *, max_depth: int | None = None) -> tuple[Node, Node]:
    """Parse a PS3.10 file (preamble, meta, Explicit VR LE data set): (meta, data set).

    Raises Unhandled for files without a preamble or in another syntax.
    """
    if len(data) < 144 or data[128:132] != b"DICM":
        raise Unhandled
    parser = _Parser(data, max_depth)
    try:
        tag, vr, _length, start = parser.header(132)
        if tag != 0x00020000 or vr != "UL":
            raise Unhandled
        end = start + 4 + _U32.unpack_from(data, start)[0]
        meta, pos = parser.node(start + 4, end, False, 0)
    except (struct.error, UnsupportedInputError):
        raise Unhandled from None
    syntax = meta.get(0x00020010)
    if syntax is None or not isinstance(syntax.value, bytes):
        raise Unhandled
    if syntax.value.rstrip(b"\x00 ").decode("ascii", "replace") in NOT_EXPLICIT_LE:
        raise Unhandled
    return meta, parse_elements(data, pos, max_depth=max_depth)


def _header(tag: int, vr: str, length: int) -> bytes:
    if vr in LONG_VRS:
        return _LONG_HEADER.pack(tag >> 16, tag & 0xFFFF, vr.encode(), length)
    if length > 0xFFFF:
        return _LONG_HEADER.pack(tag >> 16, tag & 0xFFFF, b"UN", length)
    return _SHORT_HEADER.pack(tag >> 16, tag & 0xFFFF, vr.encode(), length)


def encode_elements(node: Node, parts: list[bytes]) -> None:
    """Append the Explicit VR Little Endian encoding of `node` to `parts`."""
    for tag in sorted(node):
        if tag & 0xFFFF == 0 and tag >> 16 != 0x0002:
            continue  # group lengths (retired) are not written
        elem = node[tag]
        value = elem.value
        if isinstance(value, list):
            body: list[bytes] = []
            for item in value:
                inner: list[bytes] = []
                encode_elements(item, inner)
                content = b"".join(inner)
                body += (_ITEM_HEADER.pack(0xFFFE, 0xE000, len(content)), content)
            joined = b"".join(body)
            parts += (_header(tag, "SQ", len(joined)), joined)
        elif elem.undefined:
            parts += (_header(tag, elem.vr, _UNDEFINED), value, _SEQ_DELIMITER)
        else:
            if len(value) % 2:
                value += b"\x00" if elem.vr in ("UI", "OB", "UN") else b" "
            parts += (_header(tag, elem.vr, len(value)), value)


def encode_file(meta: Node, body: Node) -> bytes:
    """A PS3.10 file: zero preamble, ``DICM``, the meta group, the data set."""
    meta_parts: list[bytes] = []
    encode_elements({t: e for t, e in meta.items() if t != 0x00020000}, meta_parts)
    meta_bytes = b"".join(meta_parts)
    parts = [b"\x00" * 128, b"DICM", _header(0x00020000, "UL", 4), _U32.pack(len(meta_bytes))]
    parts.append(meta_bytes)
    encode_elements(body, parts)
    return b"".join(parts)
