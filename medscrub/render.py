"""Images as ordinary 8-bit pictures, for export, review thumbnails and detectors.

Grey images go through the Modality LUT (rescale), then the VOI stage: a
window given by the caller, else the header's VOI LUT Sequence, else its
Window Center/Width, else the full range of the frames shown. MONOCHROME1 is
inverted so that it displays as it should. Colour images come out as RGB (YBR
converted, palette colour looked up). Photos are decoded by
:func:`medscrub.photo.read_photo` (upright, every page). The result is always
a bare pixel array.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset
from pydicom.filereader import dcmread
from pydicom.pixels.processing import (
    apply_modality_lut,
    apply_voi,
    apply_windowing,
)

from medscrub.dicom.io import encode_dicom, read_dicom
from medscrub.dicom.pixels import View, decode_frames
from medscrub.errors import UnsupportedInputError
from medscrub.photo import read_photo

__all__ = ["Rendered", "Window", "middle_frame", "render_dicom", "render_photo"]

#: A window as (center, width), in the units after the Modality LUT (e.g. HU).
Window = tuple[float, float]
U8 = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Rendered:
    """Frames ready to show: ``(n, rows, cols)`` grey or ``(n, rows, cols, 3)`` RGB, uint8.

    Attributes
    ----------
    frames : numpy.ndarray
        The frames rendered (all, or the one asked for).
    indices : tuple of int
        Which frames of the image they are (0-based).
    total : int
        How many frames the image has.
    """

    frames: U8
    indices: tuple[int, ...]
    total: int


def middle_frame(count: int) -> int:
    """The representative frame of a multi-frame image: the middle one."""
    return max(0, count - 1) // 2


def _to_u8(values: npt.NDArray[Any]) -> U8:
    return np.asarray(np.clip(np.rint(values), 0, 255), dtype=np.uint8)


def _scale(values: npt.NDArray[np.floating], lo: float, hi: float) -> U8:
    span = hi - lo if hi > lo else 1.0
    return _to_u8((values - lo) * (255.0 / span))


def _window_dataset(center: float, width: float, function: str) -> Dataset:
    """A VOI module whose output range is 0..255 (8 bits, unsigned)."""
    ds = Dataset()
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsStored = 8
    ds.PixelRepresentation = 0
    ds.WindowCenter = center
    ds.WindowWidth = max(width, 1.0)
    ds.VOILUTFunction = function
    return ds


def _first(value: object) -> float:
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        value = value[0]  # type: ignore[index]
    return float(value)  # type: ignore[arg-type]


def _voi(values: npt.NDArray[np.floating], ds: Dataset, window: Window | None) -> U8:
    """The VOI stage to 0..255: chosen window, VOI LUT, header window, else full range."""
    if window is None and ds.get("VOILUTSequence"):
        item = ds.VOILUTSequence[0]
        bits = int(item.LUTDescriptor[2])
        indices = np.rint(values).astype(np.int64)  # a LUT is looked up by whole values
        return _scale(apply_voi(indices, ds).astype(np.float64), 0.0, float(2**bits - 1))
    function = str(ds.get("VOILUTFunction", "LINEAR") or "LINEAR").upper()
    if function not in ("LINEAR", "LINEAR_EXACT", "SIGMOID"):
        function = "LINEAR"
    if window is None and "WindowCenter" in ds and "WindowWidth" in ds:
        try:
            window = (_first(ds.WindowCenter), _first(ds.WindowWidth))
        except (TypeError, ValueError, IndexError):
            window = None
    if window is None:
        return _scale(values, float(values.min()), float(values.max()))
    center, width = window
    return _to_u8(apply_windowing(values, _window_dataset(center, width, function)))


def _grey(frames: npt.NDArray[np.generic], ds: Dataset, photometric: str,
          window: Window | None) -> U8:
    stored = frames[..., 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = np.asarray(apply_modality_lut(stored, ds), dtype=np.float64)
    shown = _voi(values, ds, window)
    return 255 - shown if photometric == "MONOCHROME1" else shown


def _colour(frames: npt.NDArray[np.generic], view: View) -> U8:
    rgb = view.rgb(frames)
    if rgb.dtype == np.uint8:
        return np.asarray(rgb, dtype=np.uint8)
    bits = view.shown_bits or rgb.dtype.itemsize * 8
    return _scale(rgb.astype(np.float64), 0.0, float(2**bits - 1))


def _read(data: bytes) -> Dataset:
    """A Dataset with file meta; files without preamble or meta are normalized first."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return dcmread(io.BytesIO(data))
        except Exception:  # no preamble or meta (or worse): medscrub's strict reader decides
            data = encode_dicom(read_dicom(data))
        try:
            return dcmread(io.BytesIO(data))
        except Exception as exc:  # pydicom raises many kinds of error
            raise UnsupportedInputError(f"unreadable DICOM ({exc.__class__.__name__})") from None


def render_dicom(
    data: bytes, *, window: Window | None = None, frame: int | Literal["middle"] | None = None
) -> Rendered:
    """Render a DICOM file's pixels as 8-bit frames.

    Parameters
    ----------
    data : bytes
        A whole DICOM file (in practice a cleaned one).
    window : (center, width), optional
        Overrides the header's VOI LUT or window (grey images only).
    frame : int or "middle", optional
        Render only this frame (0-based; ``"middle"``: the representative
        frame, see :func:`middle_frame`); every frame when None.

    Raises
    ------
    UnsupportedInputError
        No pixel data, an undecodable syntax, or a photometric
        interpretation that cannot be shown.
    """
    ds = _read(data)
    if "PixelData" not in ds:
        raise UnsupportedInputError("no pixel data to render")
    pixels = decode_frames(ds)
    total = pixels.frames.shape[0]
    if frame is None:
        indices = tuple(range(total))
    else:
        index = middle_frame(total) if frame == "middle" else frame
        indices = (min(max(index, 0), total - 1),)
    frames = pixels.frames[list(indices)]
    photometric = pixels.photometric
    try:
        if photometric in ("MONOCHROME1", "MONOCHROME2"):
            shown = _grey(frames, ds, photometric, window)
        elif photometric in ("RGB", "PALETTE COLOR") or photometric.startswith("YBR"):
            shown = _colour(frames, View.of(ds, pixels))
        else:
            raise UnsupportedInputError(f"cannot render photometric {photometric}")
    except (ValueError, KeyError, AttributeError, IndexError, TypeError) as exc:
        raise UnsupportedInputError(f"cannot render pixels ({exc.__class__.__name__})") from None
    return Rendered(shown, indices, total)


def _page_u8(page: npt.NDArray[Any]) -> U8:
    """One decoded photo page as 8-bit grey ``(rows, cols)`` or RGB (alpha dropped)."""
    if page.dtype != np.uint8:  # 16-bit grey
        page = page.astype(np.float64) * (255.0 / 65535.0)
    samples = page.shape[-1]
    shown = page[..., 0] if samples == 1 else page[..., :3]
    return _to_u8(shown) if shown.dtype != np.uint8 else np.asarray(shown, dtype=np.uint8)


def render_photo(data: bytes, *, frame: int | Literal["middle"] | None = None) -> Rendered:
    """A photo's pages (animation frames) as upright 8-bit pictures.

    Parameters
    ----------
    data : bytes
        A photo file (see :data:`medscrub.photo.FORMATS`).
    frame : int or "middle", optional
        Render only this page; every page when None.

    Raises
    ------
    UnsupportedInputError
        If the photo cannot be decoded.
    """
    pages = read_photo(data).pages
    total = len(pages)
    if frame is None:
        indices = tuple(range(total))
    else:
        index = middle_frame(total) if frame == "middle" else frame
        indices = (min(max(index, 0), total - 1),)
    shown = [_page_u8(pages[i]) for i in indices]
    if len({p.shape for p in shown}) > 1:  # pages of different sizes: show them one by one
        raise UnsupportedInputError("pages of different sizes; render them one at a time")
    return Rendered(np.stack(shown), indices, total)
