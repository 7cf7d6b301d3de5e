"""Generated photos whose every metadata channel holds fake PHI, in every format read.

:func:`phi_photo` encodes an image as JPEG, PNG, TIFF (multi-page), WebP,
GIF, BMP or HEIF and fills each channel the format has with a planted,
entirely fake identifier from :data:`PHOTO_PHI`:

* JPEG: EXIF (IFD0, Exif IFD with user comment, owner and serial number,
  maker note, GPS IFD, and an IFD1 thumbnail), XMP, extended XMP,
  IPTC/Photoshop IRB, a COM comment, APP3/APP15 vendor blocks, an ICC
  profile, and a second picture appended after the end of the image (as
  phones do);
* PNG: tEXt, zTXt, iTXt, eXIf, tIME and an ICC profile;
* TIFF: descriptive tags (description, artist, copyright, document and page
  names, host computer, date) on every page;
* WebP and HEIF: EXIF and XMP; GIF: a comment.

:data:`PHOTO_PHI_STRINGS` lists what must never survive cleaning.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo

from medscrub.photo.formats import register_heif
from medscrub_testing.samples import FAKE_GPS, FAKE_PHI

__all__ = ["ORIENTATION_TURNS", "PHOTO_PHI", "PHOTO_PHI_STRINGS", "exif_bytes", "phi_photo"]

#: Fake identifiers planted in photo metadata (none belongs to a real person).
PHOTO_PHI: dict[str, str] = {
    "artist": FAKE_PHI["photo_artist"],
    "copyright": FAKE_PHI["photo_copyright"],
    "description": FAKE_PHI["photo_description"],
    "user_comment": FAKE_PHI["photo_user_comment"],
    "serial": FAKE_PHI["photo_camera_serial"],
    "owner": FAKE_PHI["photo_camera_owner"],
    "comment": FAKE_PHI["photo_jpeg_comment"],
    "maker_note": "MAKERNOTE-FAKE PATIENT QUIXOTE",
    "xmp_creator": "XMPCREATOR-FAKE ZEBULON",
    "xmp_extended": "XMPEXTENDED-FAKE MRN88231907",
    "iptc_byline": "IPTCBYLINE-FAKE ARCHIBALD",
    "app3": "APP3VENDOR-FAKE QUIXOTE",
    "app15": "APP15VENDOR-FAKE ZEBULON",
    "png_title": FAKE_PHI["png_title"],
    "png_ztxt": "ZTXT-FAKE MRN88231907",
    "png_itxt": FAKE_PHI["png_itxt"],
    "tiff_document": "TIFFDOC-FAKE QUIXOTE",
    "tiff_page": "TIFFPAGE-FAKE ZEBULON",
    "tiff_host": "TIFFHOST-FAKE WARD7",
    "gif_comment": "GIFCOMMENT-FAKE QUIXOTE",
}
#: Every planted string (the photo date is planted too, in EXIF's spelling).
PHOTO_PHI_STRINGS: tuple[str, ...] = (*PHOTO_PHI.values(), FAKE_PHI["photo_datetime"])
#: EXIF orientation -> quarter turns counter-clockwise that display the stored pixels upright
#: (orientations 2, 4, 5 and 7 also mirror).
ORIENTATION_TURNS = {1: 0, 3: 2, 6: 3, 8: 1}

U8 = npt.NDArray[np.uint8]
_TYPES = {"ascii": 2, "short": 3, "long": 4, "rational": 5, "undefined": 7}


def _ifd(entries: list[tuple[int, str, object]], offset: int, next_ifd: int = 0) -> bytes:
    """A little-endian TIFF IFD placed at `offset` (values that do not fit follow it)."""
    count = len(entries)
    data_at = offset + 2 + 12 * count + 4
    head, extra = struct.pack("<H", count), b""
    for tag, kind, value in sorted(entries, key=lambda e: e[0]):
        if kind == "ascii":
            raw = str(value).encode() + b"\x00"
            n = len(raw)
        elif kind == "undefined":
            raw = bytes(value)  # type: ignore[call-overload]
            n = len(raw)
        elif kind == "rational":
            numbers = list(value)  # type: ignore[call-overload]
            raw = b"".join(struct.pack("<II", *pair) for pair in numbers)
            n = len(numbers)
        else:
            raw = struct.pack("<H" if kind == "short" else "<I", int(value))  # type: ignore[call-overload]
            n = 1
        if len(raw) <= 4:
            field = raw.ljust(4, b"\x00")
        else:
            field = struct.pack("<I", data_at + len(extra))
            extra += raw + (b"\x00" if len(raw) % 2 else b"")
        head += struct.pack("<HHI", tag, _TYPES[kind], n) + field
    return head + struct.pack("<I", next_ifd) + extra


def _ifd_size(entries: list[tuple[int, str, object]]) -> int:
    return len(_ifd(entries, 0))


def _dms(value: float) -> list[tuple[int, int]]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60 * 100)
    return [(degrees, 1), (minutes, 1), (seconds, 100)]


def exif_bytes(orientation: int = 1, thumbnail: bytes = b"") -> bytes:
    """A full EXIF block (TIFF structure, no ``Exif\\0\\0`` prefix) with fake PHI.

    IFD0 (description, make, model, artist, copyright, date, orientation),
    the Exif IFD (dates, user comment, camera owner, body serial number, maker
    note), the GPS IFD and, with `thumbnail`, IFD1 pointing at it.
    """
    p, date = PHOTO_PHI, FAKE_PHI["photo_datetime"]
    lat, lon = FAKE_GPS
    exif_ifd: list[tuple[int, str, object]] = [
        (0x9003, "ascii", date), (0x9004, "ascii", date),
        (0x9286, "undefined", b"ASCII\x00\x00\x00" + p["user_comment"].encode()),
        (0x927C, "undefined", p["maker_note"].encode()),
        (0xA430, "ascii", p["owner"]), (0xA431, "ascii", p["serial"]),
    ]
    gps_ifd: list[tuple[int, str, object]] = [
        (0x0000, "undefined", b"\x02\x02\x00\x00"), (0x0001, "ascii", "N" if lat >= 0 else "S"),
        (0x0002, "rational", _dms(lat)), (0x0003, "ascii", "E" if lon >= 0 else "W"),
        (0x0004, "rational", _dms(lon)), (0x001D, "ascii", date[:10]),
    ]
    ifd0: list[tuple[int, str, object]] = [
        (0x010E, "ascii", p["description"]), (0x010F, "ascii", "FAKECAM"),
        (0x0110, "ascii", "FAKECAM PHONE 9"), (0x0112, "short", orientation),
        (0x0132, "ascii", date), (0x013B, "ascii", p["artist"]),
        (0x8298, "ascii", p["copyright"]), (0x8769, "long", 0), (0x8825, "long", 0),
    ]
    at0 = 8
    at_exif = at0 + _ifd_size(ifd0)
    at_gps = at_exif + _ifd_size(exif_ifd)
    at1 = at_gps + _ifd_size(gps_ifd)
    ifd0 = [e for e in ifd0 if e[0] not in (0x8769, 0x8825)]
    ifd0 += [(0x8769, "long", at_exif), (0x8825, "long", at_gps)]
    ifd1: list[tuple[int, str, object]] = []
    if thumbnail:
        ifd1 = [(0x0103, "short", 6), (0x0201, "long", 0), (0x0202, "long", len(thumbnail))]
        ifd1 = [e for e in ifd1 if e[0] != 0x0201] + [(0x0201, "long", at1 + _ifd_size(ifd1))]
    body = (_ifd(ifd0, at0, at1 if ifd1 else 0) + _ifd(exif_ifd, at_exif)
            + _ifd(gps_ifd, at_gps) + (_ifd(ifd1, at1) + thumbnail if ifd1 else b""))
    return b"II*\x00" + struct.pack("<I", at0) + body


def _segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def _xmp(text: str) -> bytes:
    return (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
            f'02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"'
            f"><dc:creator>{text}</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>").encode()


def _iptc_irb(byline: str) -> bytes:
    record = b"\x1c\x02\x50" + struct.pack(">H", len(byline)) + byline.encode()  # 2:80 By-line
    block = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(record))
    return b"Photoshop 3.0\x00" + block + record + (b"\x00" if len(record) % 2 else b"")


def _icc() -> bytes:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    return bytes(profile.tobytes())


def _jpeg(image: Image.Image, orientation: int) -> bytes:
    p = PHOTO_PHI
    thumb = io.BytesIO()
    image.resize((64, 48)).save(thumb, "JPEG", quality=70)
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90, icc_profile=_icc(), comment=p["comment"].encode())
    data = buf.getvalue()
    extended = (b"http://ns.adobe.com/xmp/extension/\x00" + b"0" * 32
                + struct.pack(">II", 100, 0) + _xmp(p["xmp_extended"]))
    extra = (
        _segment(0xE1, b"Exif\x00\x00" + exif_bytes(orientation, thumb.getvalue()))
        + _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + _xmp(p["xmp_creator"]))
        + _segment(0xE1, extended)
        + _segment(0xED, _iptc_irb(p["iptc_byline"]))
        + _segment(0xE3, p["app3"].encode())
        + _segment(0xEF, p["app15"].encode())
    )
    trailer = io.BytesIO()
    image.resize((32, 24)).save(trailer, "JPEG", comment=p["description"].encode())
    return data[:2] + extra + data[2:] + trailer.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(image: Image.Image, orientation: int) -> bytes:
    p = PHOTO_PHI
    info = PngInfo()
    info.add_text("Title", p["png_title"])
    info.add_text("Comment", p["png_ztxt"], zip=True)
    info.add_itxt("Description", p["png_itxt"], lang="en", tkey="Description")
    buf = io.BytesIO()
    image.save(buf, "PNG", pnginfo=info, exif=b"Exif\x00\x00" + exif_bytes(orientation),
               icc_profile=_icc())
    data = buf.getvalue()
    stamp = _png_chunk(b"tIME", struct.pack(">HBBBBB", 2024, 3, 15, 10, 15, 37))
    return data[:33] + stamp + data[33:]  # after IHDR


def _tiff(image: Image.Image, orientation: int) -> bytes:
    p = PHOTO_PHI
    tags = {270: p["description"], 315: p["artist"], 33432: p["copyright"],
            269: p["tiff_document"], 285: p["tiff_page"], 316: p["tiff_host"],
            306: FAKE_PHI["photo_datetime"], 274: orientation}
    second = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    buf = io.BytesIO()
    image.save(buf, "TIFF", tiffinfo=tags, save_all=True, append_images=[second],
               compression="tiff_lzw")
    return buf.getvalue()


def phi_photo(image: U8, fmt: str, *, orientation: int = 1) -> bytes:
    """Encode `image` as `fmt` with every metadata channel of the format holding fake PHI.

    Parameters
    ----------
    image : numpy.ndarray
        ``(rows, cols, 3)`` uint8 RGB, the pixels as stored.
    fmt : str
        ``"JPEG"``, ``"PNG"``, ``"TIFF"``, ``"WEBP"``, ``"GIF"``, ``"BMP"`` or ``"HEIF"``.
    orientation : int
        The EXIF orientation to record (JPEG, PNG, TIFF, WebP, HEIF).
    """
    pil = Image.fromarray(image, "RGB")
    exif = b"Exif\x00\x00" + exif_bytes(orientation)
    xmp = _xmp(PHOTO_PHI["xmp_creator"])
    if fmt == "JPEG":
        return _jpeg(pil, orientation)
    if fmt == "PNG":
        return _png(pil, orientation)
    if fmt == "TIFF":
        return _tiff(pil, orientation)
    buf = io.BytesIO()
    if fmt == "WEBP":
        pil.save(buf, "WEBP", quality=90, exif=exif, xmp=xmp, icc_profile=_icc())
    elif fmt == "GIF":
        pil.save(buf, "GIF", comment=PHOTO_PHI["gif_comment"].encode())
    elif fmt == "BMP":
        pil.save(buf, "BMP")
    elif fmt == "HEIF":
        register_heif()
        pil.save(buf, "HEIF", quality=90, exif=exif, xmp=xmp)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return buf.getvalue()
