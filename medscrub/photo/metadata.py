"""Find the metadata channels a photo file carries (the check before a photo is written).

:func:`metadata_channels` names every place besides the pixels where a file
can hold text or another picture: JPEG segments other than frame, tables,
scans and the Adobe colour flag, and bytes after the end of the image; PNG
chunks other than the image's own (text, ``eXIf``, ``tIME``, unknown chunks);
WebP chunks other than bitstreams and animation; TIFF tags other than the
image structure ones; GIF comments and application blocks other than the
loop count; EXIF, XMP or comments Pillow finds in any format (HEIF, BMP). The
ICC profile is reported only when it is not allowed.
"""

from __future__ import annotations

import io
import struct
import warnings

from PIL import Image, ImageSequence

from medscrub.photo.formats import photo_format, register_heif
from medscrub.photo.jpeg import is_image_segment, segments

__all__ = ["metadata_channels"]

_PNG_IMAGE_CHUNKS = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM",
                               b"sRGB", b"sBIT", b"pHYs", b"bKGD", b"acTL", b"fcTL", b"fdAT"})
_WEBP_IMAGE_CHUNKS = frozenset({b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"})
#: TIFF tags that describe only the image's structure (TIFF 6.0 baseline and extensions).
_TIFF_STRUCTURE_TAGS = frozenset({
    254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 274, 277, 278, 279, 280, 281, 282, 283,
    284, 290, 291, 296, 297, 317, 318, 319, 320, 321, 322, 323, 324, 325, 338, 339, 340, 341,
    347, 530, 531, 532,
})
_ICC_TIFF_TAG = 34675
_INFO_KEYS = ("exif", "xmp", "XML:com.adobe.xmp", "comment", "photoshop", "iptc",
              "extension", "icc_profile")


def metadata_channels(data: bytes, *, allow_icc: bool = True) -> list[str]:
    """Names of the metadata channels in a photo file; empty when it holds only pixels.

    Parameters
    ----------
    data : bytes
        A photo file in one of :data:`medscrub.photo.formats.FORMATS`.
    allow_icc : bool, default True
        Do not report the ICC colour profile.

    Returns
    -------
    list of str
        E.g. ``["JPEG APP1", "JPEG COM"]`` or ``["PNG tEXt"]``.
    """
    fmt = photo_format(data)
    found: list[str] = []
    if fmt == "JPEG":
        parts = list(segments(data))
        found += [f"JPEG marker 0x{s.marker:02X}" for s in parts
                  if not is_image_segment(data, s, allow_icc)]
        if parts[-1].end < len(data):
            found.append("JPEG data after end of image")
    elif fmt == "PNG":
        found += [f"PNG {c.decode('latin-1')}" for c in _png_chunks(data)
                  if c not in _PNG_IMAGE_CHUNKS and not (allow_icc and c == b"iCCP")]
    elif fmt == "WEBP":
        found += [f"WebP {c.decode('latin-1')}" for c in _riff_chunks(data)
                  if c not in _WEBP_IMAGE_CHUNKS and not (allow_icc and c == b"ICCP")]
    found += _pillow_channels(data, fmt, allow_icc)
    return sorted(set(found))


def _png_chunks(data: bytes) -> list[bytes]:
    chunks, pos = [], 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunks.append(kind)
        pos += 12 + length
    return chunks


def _riff_chunks(data: bytes) -> list[bytes]:
    chunks, pos = [], 12
    while pos + 8 <= len(data):
        kind, length = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        chunks.append(kind)
        pos += 8 + length + (length & 1)
    return chunks


def _pillow_channels(data: bytes, fmt: str, allow_icc: bool) -> list[str]:
    """What Pillow finds: EXIF, XMP, comments per page; TIFF descriptive tags."""
    if fmt == "HEIF":
        register_heif()
    found = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image = Image.open(io.BytesIO(data))
        for page in ImageSequence.Iterator(image):
            if fmt != "TIFF" and len(page.getexif()):  # a TIFF's EXIF is its own tags
                found.append(f"{fmt} EXIF")
            for key in _INFO_KEYS:
                if page.info.get(key) and not (allow_icc and key == "icc_profile"):
                    found.append(f"{fmt} {key}")
            if fmt == "PNG" and getattr(page, "text", None):
                found.append("PNG text")
            tags = getattr(page, "tag_v2", None)
            if fmt == "TIFF" and tags is not None:
                allowed = _TIFF_STRUCTURE_TAGS | ({_ICC_TIFF_TAG} if allow_icc else set())
                found += [f"TIFF tag {tag}" for tag in tags if tag not in allowed]
    return found
