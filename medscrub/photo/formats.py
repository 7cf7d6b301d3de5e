"""Photo formats through Pillow: decode to oriented frames, encode with no metadata.

:func:`read_photo` decodes every page (multi-page TIFF, animated GIF/WebP)
into ``(rows, cols, samples)`` arrays with the EXIF orientation applied, so a
cleaned file (which carries no orientation tag) looks as the original did in
every viewer. It keeps the encoder settings worth keeping: a JPEG's
quantization tables, chroma subsampling and progressive mode (so a re-encode
matches the original's quality), WebP losslessness, TIFF compression, frame
durations and loop counts, and the ICC profile. :func:`write_photo` encodes
pages in the original format from fresh images, so nothing of the original's
``info`` (EXIF, XMP, IPTC, comments, text chunks, TIFF descriptive tags) can
be carried over. HEIC/HEIF needs ``pip install 'medscrub[heif]'``.
"""

from __future__ import annotations

import io
import struct
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, ImageSequence, JpegImagePlugin

from medscrub import limits
from medscrub._optional import import_optional
from medscrub.errors import EncodeError, UnsupportedInputError

__all__ = [
    "FORMATS",
    "Photo",
    "jpeg_rotates",
    "photo_format",
    "read_photo",
    "register_heif",
    "sniff_format",
    "write_photo",
]

#: Formats medscrub reads and writes (Pillow's names).
FORMATS = ("JPEG", "PNG", "TIFF", "WEBP", "GIF", "BMP", "HEIF")
_ORIENTATION = 0x0112
_WEBP_QUALITY = 90  # lossy WebP re-encodes
_HEIF_QUALITY = 90
_TIFF_COMPRESSIONS = frozenset({"raw", "tiff_lzw", "tiff_adobe_deflate", "packbits",
                                "tiff_deflate"})
_TIFF_LOSSLESS = "tiff_adobe_deflate"  # for pages stored with lossy (JPEG) compression
# Pillow modes decoded as they are; every other mode is converted (CMYK, YCbCr, LAB, ...: RGB)
_KEPT_MODES = frozenset({"L", "RGB", "RGBA", "I;16"})
_CONVERTED = {"1": "L", "LA": "RGBA", "PA": "RGBA", "La": "RGBA", "RGBa": "RGBA",
              "RGBX": "RGB", "I;16B": "I;16", "I;16L": "I;16"}
_MAX_PAGES = 10000


@dataclass(frozen=True, slots=True)
class Photo:
    """A decoded photo: oriented pages and how to write them back.

    Attributes
    ----------
    format : str
        One of :data:`FORMATS`.
    pages : tuple of numpy.ndarray
        ``(rows, cols, samples)`` uint8 (uint16 for 16-bit grayscale), one
        per page or animation frame, orientation applied.
    modes : tuple of str
        The Pillow mode each page is written in.
    rotated : bool
        True when the EXIF orientation moved pixels (the file cannot then be
        cleaned without re-encoding).
    icc : bytes or None
        The ICC colour profile.
    settings : Mapping[str, Any]
        Encoder settings taken from the original (quantization tables,
        subsampling, losslessness, compression, durations, loop).
    """

    format: str
    pages: tuple[npt.NDArray[Any], ...]
    modes: tuple[str, ...]
    rotated: bool = False
    icc: bytes | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)


@cache
def register_heif() -> None:
    """Teach Pillow HEIC/HEIF (pillow-heif), once."""
    module = import_optional("pillow_heif", "heif")
    module.register_heif_opener()


def photo_format(data: bytes) -> str:
    """The format of `data` by its first bytes (one of :data:`FORMATS`).

    Raises
    ------
    UnsupportedInputError
        For anything else.
    """
    found = sniff_format(data)
    if found is None:
        raise UnsupportedInputError("not a photo format medscrub reads")
    return found


def sniff_format(data: bytes) -> str | None:
    """The format (one of :data:`FORMATS`) whose signature `data` starts with, or None."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head.startswith(b"BM"):
        return "BMP"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
        return "HEIF"
    return None


def jpeg_rotates(data: bytes) -> bool:
    """True if a JPEG's EXIF orientation asks viewers to turn or mirror it (no decoding).

    Raises
    ------
    UnsupportedInputError
        If `data` is not a JPEG Pillow can open.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            orientation = Image.open(io.BytesIO(data), formats=["JPEG"]).getexif().get(
                _ORIENTATION, 1)
    except (OSError, ValueError, SyntaxError, EOFError, struct.error) as exc:
        why = exc.__class__.__name__
        raise UnsupportedInputError(f"JPEG file cannot be read ({why})") from None
    return orientation not in (None, 1)


def _page_array(page: Image.Image) -> tuple[npt.NDArray[Any], str]:
    mode = page.mode
    if mode == "P":
        mode = "RGBA" if "transparency" in page.info else "RGB"
    mode = _CONVERTED.get(mode, mode)
    if mode not in _KEPT_MODES:
        mode = "RGB"
    image = page if page.mode == mode else page.convert(mode)
    arr = np.asarray(image)
    if mode == "I;16":
        arr = arr.astype(np.uint16)
    return (arr[..., np.newaxis] if arr.ndim == 2 else arr), mode


def _settings(image: Image.Image, fmt: str) -> dict[str, Any]:
    info = image.info
    if fmt == "JPEG" and isinstance(image, JpegImagePlugin.JpegImageFile):
        return {"qtables": image.quantization,
                "subsampling": JpegImagePlugin.get_sampling(image),
                "progressive": bool(info.get("progressive"))}
    if fmt == "WEBP":
        return {"lossless": bool(info.get("lossless")) or _webp_lossless(image),
                "duration": info.get("duration"), "loop": info.get("loop", 0)}
    if fmt == "GIF":
        return {"duration": info.get("duration"), "loop": info.get("loop")}
    if fmt == "TIFF":
        compression = info.get("compression", "raw")
        return {"compression": compression if compression in _TIFF_COMPRESSIONS
                else _TIFF_LOSSLESS}
    return {}


def _webp_lossless(image: Image.Image) -> bool:
    fp = getattr(image, "fp", None)
    if fp is None:
        return False
    fp.seek(12)
    return bool(fp.read(16).find(b"VP8L") >= 0)


def read_photo(data: bytes) -> Photo:
    """Decode `data` into oriented pages plus the settings to write them back.

    Raises
    ------
    UnsupportedInputError
        If the file is not a supported photo or cannot be decoded.
    """
    fmt = photo_format(data)
    if fmt == "HEIF":
        register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns about odd EXIF; not the user's business
            image = Image.open(io.BytesIO(data))
            wide = image.mode in ("I", "I;16", "I;16B", "I;16L", "F")
            limits.active().check_pixels(getattr(image, "n_frames", 1), image.height,
                                         image.width, len(image.getbands()), 32 if wide else 8)
            image.load()
            settings = _settings(image, fmt)
            icc = image.info.get("icc_profile") or None
            pages, modes, rotated = [], [], False
            for n, page in enumerate(ImageSequence.Iterator(image)):
                if n >= _MAX_PAGES:
                    raise UnsupportedInputError(f"more than {_MAX_PAGES} pages")
                orientation = page.getexif().get(_ORIENTATION, 1)
                if orientation not in (None, 1):
                    page = ImageOps.exif_transpose(page)
                    rotated = True
                arr, mode = _page_array(page)
                pages.append(np.array(arr))  # a copy the caller may redact in place
                modes.append(mode)
    except UnsupportedInputError:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, struct.error) as exc:
        raise UnsupportedInputError(
            f"{fmt} file cannot be decoded ({exc.__class__.__name__})"
        ) from None
    if not pages:
        raise UnsupportedInputError(f"{fmt} file holds no image")
    return Photo(fmt, tuple(pages), tuple(modes), rotated, icc if isinstance(icc, bytes) else None,
                 settings)


def _image(page: npt.NDArray[Any], mode: str) -> Image.Image:
    arr = page[..., 0] if page.shape[-1] == 1 else page
    image = Image.fromarray(np.ascontiguousarray(arr))  # L, RGB, RGBA or I;16 by shape and dtype
    if image.mode != mode:
        raise EncodeError(f"cannot write a {image.mode} page as {mode}")
    return image


def write_photo(photo: Photo, pages: Sequence[npt.NDArray[Any]], *, keep_icc: bool = True) -> bytes:
    """Encode `pages` in `photo`'s format with nothing but pixels (and the ICC profile).

    Parameters
    ----------
    photo : Photo
        What :func:`read_photo` returned: format, modes and encoder settings.
    pages : sequence of numpy.ndarray
        The pages to write, shaped as ``photo.pages``.
    keep_icc : bool, default True
        Write the original's ICC colour profile.

    Raises
    ------
    EncodeError
        If the pages cannot be encoded in the format.
    """
    images = [_image(page, mode) for page, mode in zip(pages, photo.modes, strict=True)]
    first, rest = images[0], images[1:]
    settings = photo.settings
    params: dict[str, Any] = {}
    if keep_icc and photo.icc and photo.format in ("JPEG", "PNG", "TIFF", "WEBP", "HEIF"):
        params["icc_profile"] = photo.icc
    fmt = photo.format
    if fmt == "JPEG":
        params.update(qtables=settings.get("qtables"), subsampling=settings.get("subsampling", -1),
                      progressive=settings.get("progressive", False))
    elif fmt == "WEBP":
        params.update(lossless=settings.get("lossless", False), quality=_WEBP_QUALITY)
    elif fmt == "TIFF":
        params.update(compression=settings.get("compression", "raw"))
    elif fmt == "HEIF":
        register_heif()
        params.update(quality=_HEIF_QUALITY)
    if rest:
        params.update(save_all=True, append_images=rest)
        for key in ("duration", "loop"):
            if settings.get(key) is not None:
                params[key] = settings[key]
    buf = io.BytesIO()
    try:
        first.save(buf, fmt, **params)
    except (OSError, ValueError, KeyError) as exc:
        raise EncodeError(f"cannot write {fmt} ({exc.__class__.__name__})") from None
    return buf.getvalue()
