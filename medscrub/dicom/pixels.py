"""DICOM pixel data to frames and back, through pydicom 3's pixel backends.

:func:`decode_frames` gives every frame as one ``(frames, rows, columns,
samples)`` array, exactly as stored (YBR stays YBR, so lossless round trips
are bit-exact). :func:`encode_frames` writes changed frames back:

* a lossless original goes back to its own transfer syntax when an encoder for
  it is installed and accepts the image (RLE, JPEG-LS lossless, JPEG 2000
  lossless), else to Explicit VR Little Endian;
* a lossy original (JPEG baseline/extended, JPEG-LS near-lossless, lossy JPEG
  2000) is written uncompressed by default (``lossy="uncompressed"``), so it
  gets no second lossy generation; ``lossy="recompress"`` re-encodes JPEG
  baseline through Pillow and records the new ratio and method in Lossy Image
  Compression Ratio / Method, as PS3.3 C.7.6.1.1.5 asks.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.pixels.decoders.base import get_decoder
from pydicom.pixels.encoders.base import get_encoder
from pydicom.pixels.processing import apply_color_lut, convert_color_space
from pydicom.pixels.utils import pack_bits
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLSLossless,
    RLELossless,
)

from medscrub.dicom.jpeg12 import decode_jpeg12
from medscrub.errors import EncodeError, UnsupportedInputError
from medscrub.limits import active
from medscrub.profile import LossyPolicy
from medscrub.redact import black_value

__all__ = ["DecodedPixels", "View", "decode_frames", "encode_frames", "is_lossy"]


#: Lossless syntaxes medscrub can write back in their own syntax.
_LOSSLESS_ENCODABLE = frozenset({RLELossless, JPEGLSLossless, JPEG2000Lossless})
#: Syntaxes whose compression loses information.
_LOSSY = frozenset(
    {
        "1.2.840.10008.1.2.4.50",  # JPEG baseline
        "1.2.840.10008.1.2.4.51",  # JPEG extended
        "1.2.840.10008.1.2.4.81",  # JPEG-LS near-lossless
        "1.2.840.10008.1.2.4.91",  # JPEG 2000
        "1.2.840.10008.1.2.4.203",  # HTJ2K
        "1.2.840.10008.1.2.4.100",  # MPEG2 and later video syntaxes
        "1.2.840.10008.1.2.4.101",
        "1.2.840.10008.1.2.4.102",
        "1.2.840.10008.1.2.4.103",
        "1.2.840.10008.1.2.4.104",
        "1.2.840.10008.1.2.4.105",
        "1.2.840.10008.1.2.4.106",
        "1.2.840.10008.1.2.4.107",
        "1.2.840.10008.1.2.4.108",
    }
)
_JPEG_QUALITY = 95


def is_lossy(syntax: str) -> bool:
    """True for transfer syntaxes whose compression loses information."""
    return str(syntax) in _LOSSY


@dataclass(frozen=True, slots=True)
class DecodedPixels:
    """All frames of an image, as stored, and what describes them."""

    frames: npt.NDArray[np.generic]
    photometric: str
    bits_stored: int
    syntax: str
    bits_allocated: int = 0


def _refusal(exc: Exception) -> str:
    """One line on why decoding failed: the first decoder's own words when pydicom tried
    several (``"gdcm: GDCM does not support 'JPEG Extended' for samples with 12-bit
    precision"``), else the error's class (its text could quote the file's bytes)."""
    lines = str(exc).splitlines()
    if isinstance(exc, RuntimeError) and lines and lines[0].startswith("Unable to decode"):
        first = next((line.strip() for line in lines[1:] if line.strip()), "")
        if first:
            return first[:200]
    return exc.__class__.__name__


def decode_frames(ds: Dataset) -> DecodedPixels:
    """Decode every frame of `ds` into a ``(frames, rows, columns, samples)`` array.

    Raises UnsupportedInputError when no installed backend can decode the
    transfer syntax (the message names the missing package), LimitExceeded
    when the decoded size would pass the limits in force.
    """
    _check_size(ds)
    syntax = str(ds.file_meta.TransferSyntaxUID)
    try:
        decoder = get_decoder(UID(syntax))
    except NotImplementedError:
        raise UnsupportedInputError(f"no pixel decoder for transfer syntax {syntax}") from None
    if not decoder.is_available:
        missing = "; ".join(decoder.missing_dependencies)
        raise UnsupportedInputError(f"cannot decode {UID(syntax).name} pixels: {missing}")
    try:
        # pydicom annotates its keyword options loosely
        arr, meta = decoder.as_array(ds, as_rgb=False)  # type: ignore[arg-type]
    except Exception as exc:  # backends raise many kinds of error
        if syntax == JPEGExtended12Bit and int(ds.get("BitsStored", 8) or 8) > 8:
            return DecodedPixels(decode_jpeg12(ds), str(ds.PhotometricInterpretation),
                                 int(ds.BitsStored), syntax, 16)
        raise UnsupportedInputError(f"pixel data cannot be decoded ({_refusal(exc)})") from None
    n = int(meta.get("number_of_frames", 1) or 1)
    rows, cols = int(meta["rows"]), int(meta["columns"])
    samples = int(meta["samples_per_pixel"])
    frames = arr.reshape(n, rows, cols, samples)
    photometric = str(meta["photometric_interpretation"])
    if photometric.startswith("YBR_") and photometric.endswith(("_422", "_420")):
        photometric = "YBR_FULL"  # decoders return full-resolution chroma
    bits_allocated = int(meta["bits_allocated"])
    return DecodedPixels(frames, photometric, int(meta["bits_stored"]), syntax, bits_allocated)


def _check_size(ds: Dataset) -> None:
    """Hold the size the image attributes declare to :func:`medscrub.limits.active`.

    A value that is not a number counts as its default here (the decoder, bounded by
    the pixel data it is given, decides what it means).
    """
    declared = []
    for keyword, default in (("NumberOfFrames", 1), ("Rows", 0), ("Columns", 0),
                             ("SamplesPerPixel", 1), ("BitsAllocated", 8)):
        try:
            declared.append(int(ds.get(keyword, default) or default))
        except (TypeError, ValueError):
            declared.append(default)
    active().check_pixels(*declared)


def _store_native(ds: Dataset, pixels: DecodedPixels) -> None:
    """Set uncompressed Pixel Data and every attribute that describes it."""
    frames = pixels.frames
    n, rows, cols, samples = frames.shape
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, cols, samples
    ds.PhotometricInterpretation = pixels.photometric
    ds.PixelRepresentation = 1 if frames.dtype.kind == "i" else 0
    if samples > 1:
        ds.PlanarConfiguration = 0
    elif "PlanarConfiguration" in ds:
        del ds.PlanarConfiguration
    if n > 1 or "NumberOfFrames" in ds:
        ds.NumberOfFrames = n
    if "PixelData" in ds:
        del ds.PixelData  # a fresh element: defined length, no encapsulation
    if pixels.bits_allocated == 1:
        ds.BitsAllocated = ds.BitsStored = 1
        ds.HighBit = 0
        ds.PixelData = pack_bits(frames.reshape(-1))
        ds["PixelData"].VR = "OB"
    else:
        ds.BitsAllocated = frames.dtype.itemsize * 8
        ds.BitsStored = pixels.bits_stored
        ds.HighBit = pixels.bits_stored - 1
        ds.PixelData = np.ascontiguousarray(frames).astype(frames.dtype.newbyteorder("<")).tobytes()
        ds["PixelData"].VR = "OB" if frames.dtype.itemsize == 1 else "OW"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian


def _values(value: object) -> list[str]:
    """A possibly multi-valued attribute value as a list of strings."""
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return [str(v) for v in value]  # type: ignore[attr-defined]
    return [str(value)]


def _recompress_jpeg(ds: Dataset, pixels: DecodedPixels) -> None:
    """Re-encode 8-bit frames as JPEG baseline with Pillow; update the lossy attributes."""
    frames = pixels.frames
    if frames.dtype != np.uint8:
        raise EncodeError("JPEG baseline re-encoding needs 8-bit pixels")
    rgb = pixels.photometric in ("RGB", "YBR_FULL")
    if pixels.photometric == "YBR_FULL":
        frames = convert_color_space(frames, "YBR_FULL", "RGB")
    encoded = []
    for frame in frames:
        image = Image.fromarray(frame if rgb else frame[..., 0], "RGB" if rgb else "L")
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=_JPEG_QUALITY, subsampling=2 if rgb else 0)
        encoded.append(buf.getvalue())
    raw_size = frames.size * frames.itemsize
    ratio = raw_size / max(1, sum(len(e) for e in encoded))
    ds.PixelData = encapsulate(encoded)
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PhotometricInterpretation = "YBR_FULL_422" if rgb else "MONOCHROME2"
    if rgb:
        ds.PlanarConfiguration = 0
    ds.LossyImageCompression = "01"
    ratios = _values(ds.get("LossyImageCompressionRatio"))
    methods = _values(ds.get("LossyImageCompressionMethod"))
    ds.LossyImageCompressionRatio = [*ratios, f"{ratio:.2f}"[:16]]
    ds.LossyImageCompressionMethod = [*methods, "ISO_10918_1"]


def encode_frames(
    ds: Dataset, pixels: DecodedPixels, *, lossy: LossyPolicy = "uncompressed"
) -> str:
    """Write `pixels` back into `ds`; return the transfer syntax used.

    Everything that describes the pixel data (Rows, Columns, Samples per
    Pixel, Bits Allocated/Stored, High Bit, Pixel Representation,
    Photometric Interpretation, Planar Configuration, Number of Frames, the
    transfer syntax and the encapsulation) is set to match what is written.
    """
    original = pixels.syntax
    if is_lossy(original) and lossy == "recompress" and original == JPEGBaseline8Bit:
        _recompress_jpeg(ds, pixels)
        return JPEGBaseline8Bit
    _store_native(ds, pixels)
    for keyword in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
        if keyword in ds:
            del ds[keyword]
    target = UID(original)
    if target in _LOSSLESS_ENCODABLE and get_encoder(target).is_available:
        try:
            ds.compress(target, generate_instance_uid=False)
        except Exception:  # e.g. RLE of 32-bit colour: stay uncompressed (still lossless)
            _store_native(ds, pixels)
        else:
            return str(target)
    return str(ExplicitVRLittleEndian)


@dataclass(frozen=True, slots=True)
class View:
    """How stored frames are shown to a detector: YBR and palette colour as RGB.

    Attributes
    ----------
    photometric : str
        The stored photometric interpretation.
    bits_stored : int or None
    palette : numpy.ndarray or None
        ``(entries, 3)``: the RGB of each stored index, for ``PALETTE COLOR``.
    """

    photometric: str
    bits_stored: int | None
    palette: npt.NDArray[np.integer] | None = None

    @classmethod
    def of(cls, ds: Dataset, pixels: DecodedPixels) -> View:
        """The view of decoded `pixels` of `ds` (its palette read when it has one).

        Raises
        ------
        UnsupportedInputError
            If a palette colour image's lookup table cannot be read: its indices
            alone show nothing a detector could judge.
        """
        if pixels.photometric != "PALETTE COLOR":
            return cls(pixels.photometric, pixels.bits_stored)
        depth = pixels.frames.dtype
        try:
            palette = apply_color_lut(np.arange(2 ** (depth.itemsize * 8), dtype=depth), ds)
        except Exception as exc:  # pydicom raises several kinds for a bad table
            raise UnsupportedInputError(
                f"palette colour lookup table cannot be read ({type(exc).__name__})") from None
        return cls(pixels.photometric, pixels.bits_stored, np.asarray(palette))

    @property
    def shown(self) -> str:
        """The photometric interpretation a detector sees."""
        colour = self.palette is not None or self.photometric.startswith("YBR")
        return "RGB" if colour else self.photometric

    @property
    def shown_bits(self) -> int | None:
        """The significant bits of what a detector sees."""
        return self.bits_stored if self.palette is None else self.palette.dtype.itemsize * 8

    def rgb(self, frames: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Stored frames ``(n, rows, cols, samples)`` as a detector should see them."""
        if self.palette is not None:
            return np.asarray(self.palette[frames[..., 0]])
        if self.photometric.startswith("YBR") and frames.shape[-1] == 3:
            return np.asarray(convert_color_space(frames, self.photometric, "RGB"))
        return frames

    def black(self, dtype: npt.DTypeLike, pixel_representation: int = 0) -> tuple[float, ...]:
        """The stored value that shows black: for a palette, the index of its darkest entry."""
        if self.palette is not None:
            return (float(np.argmin(self.palette.astype(np.int64).sum(axis=-1))),)
        return black_value(dtype, self.photometric, self.bits_stored, pixel_representation)
