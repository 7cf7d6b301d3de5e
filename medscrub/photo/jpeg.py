"""JPEG at the segment level: lossless metadata removal and the original's coding settings.

A JPEG file is a run of marker segments; the pixels live in the frame header
(SOF), the tables (DQT, DHT, DRI) and the scans (SOS, each followed by
entropy-coded data). :func:`strip_segments` copies exactly those, plus the
Adobe APP14 colour-transform flag decoders need for RGB and CMYK files and,
on request, the ICC profile (APP2), and a bare JFIF header (APP0 with pixel
density only), so cleaning needs no decoding and loses nothing. Everything
else goes: APP0 with a thumbnail (JFIF, JFXX), APP1 (EXIF with
its thumbnail, XMP, extended XMP), APP2 other than ICC (FlashPix, MPF), APP3-
APP13 (maker data, IPTC/Photoshop), APP15, COM, and any bytes after the
image's end marker (phones append depth maps and other pictures there).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from medscrub.errors import UnsupportedInputError

__all__ = ["Segment", "is_image_segment", "segments", "strip_segments"]

_SOI, _EOI, _SOS = 0xD8, 0xD9, 0xDA
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0-7: no length
#: Segments that carry pixels or what decoding needs: frame headers, tables, scans.
_PIXEL_MARKERS = frozenset({
    *range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC), *range(0xCD, 0xD0),  # SOFn
    0xC4,  # DHT
    0xCC,  # DAC
    0xDB,  # DQT
    0xDD,  # DRI
    0xDC,  # DNL
    _SOS,
})
_APP0, _APP2, _APP14 = 0xE0, 0xE2, 0xEE
_JFIF = b"JFIF\x00"
_BARE_JFIF_LENGTH = 16  # a JFIF header with no thumbnail: version, units, densities
_ICC = b"ICC_PROFILE\x00"
_ADOBE = b"Adobe"
_ADOBE_LENGTH = 14  # the whole APP14 "Adobe" segment body: version, flags, transform


@dataclass(frozen=True, slots=True)
class Segment:
    """One marker segment: its marker and the byte range it spans (scan data included)."""

    marker: int
    start: int
    end: int


def segments(data: bytes) -> Iterator[Segment]:
    """Walk the marker segments of the first image in `data`, up to and including EOI.

    A scan's segment extends over its entropy-coded data (stuffed ``FF 00``
    bytes and restart markers included) to the next marker.

    Raises
    ------
    UnsupportedInputError
        If `data` is not a complete JPEG stream.
    """
    if not data.startswith(b"\xff\xd8"):
        raise UnsupportedInputError("not a JPEG file")
    yield Segment(_SOI, 0, 2)
    pos, size = 2, len(data)
    while True:
        while pos < size and data[pos] == 0xFF and pos + 1 < size and data[pos + 1] == 0xFF:
            pos += 1  # fill bytes before a marker
        if pos + 2 > size or data[pos] != 0xFF:
            raise UnsupportedInputError("truncated or damaged JPEG (no end of image)")
        marker = data[pos + 1]
        if marker == _EOI:
            yield Segment(marker, pos, pos + 2)
            return
        if marker in _STANDALONE:
            yield Segment(marker, pos, pos + 2)
            pos += 2
            continue
        if pos + 4 > size:
            raise UnsupportedInputError("truncated JPEG segment")
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        end = pos + 2 + length
        if length < 2 or end > size:
            raise UnsupportedInputError("truncated JPEG segment")
        if marker == _SOS:
            end = _scan_end(data, end)
        yield Segment(marker, pos, end)
        pos = end


def _scan_end(data: bytes, pos: int) -> int:
    """The offset of the first marker after entropy-coded data starting at `pos`."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            raise UnsupportedInputError("truncated JPEG scan")
        follower = data[pos + 1]
        if follower == 0x00 or 0xD0 <= follower <= 0xD7:  # stuffed byte, restart marker
            pos += 2
        elif follower == 0xFF:
            pos += 1
        else:
            return pos


def is_image_segment(data: bytes, segment: Segment, keep_icc: bool) -> bool:
    """True for a segment of `data` that pixels need (and the ICC profile, with `keep_icc`)."""
    marker = segment.marker
    if marker in _PIXEL_MARKERS or marker in (_SOI, _EOI) or marker in _STANDALONE:
        return True
    body = data[segment.start + 4:segment.end]
    if marker == _APP0:  # pixel density only; a JFIF thumbnail makes it longer
        return body.startswith(_JFIF) and segment.end - segment.start - 2 == _BARE_JFIF_LENGTH
    if marker == _APP14:
        return body.startswith(_ADOBE) and segment.end - segment.start - 2 == _ADOBE_LENGTH
    return marker == _APP2 and keep_icc and body.startswith(_ICC)


def strip_segments(data: bytes, *, keep_icc: bool = True) -> bytes:
    """`data` with every segment but pixels, tables and (optionally) ICC removed.

    The kept segments are copied byte for byte, so the decoded image is
    identical to the original's. Bytes after the end-of-image marker are
    dropped.

    Parameters
    ----------
    data : bytes
        A JPEG file.
    keep_icc : bool, default True
        Keep the ICC colour profile (APP2 ``ICC_PROFILE`` chunks).

    Raises
    ------
    UnsupportedInputError
        If `data` is not a complete JPEG stream.
    """
    view = memoryview(data)
    return b"".join(view[s.start:s.end] for s in segments(data)
                    if is_image_segment(data, s, keep_icc))
