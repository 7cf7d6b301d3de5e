"""The redaction kernel: fill, blur or pixelate regions of a stack of frames.

Every image reaches the kernel as one 4-D array ``(n_frames, rows, cols,
samples)``: DICOM frames as decoded, photos through :func:`as_frames` (a view,
never a copy). :func:`redact` groups the PHI regions by the frames they cover
and works on each group through one basic-slicing view of the stack, so a box
on every frame is one operation over the whole stack, broadcast across frames
and samples. Fill and pixelate never loop over frames or pixels in Python;
blur makes one OpenCV call per frame (see :func:`_blur` for why).

Solid fill takes one of two paths per group, chosen by :func:`_prefers_mask`:

* **slices** -- one ``np.copyto`` per box from a one-row template. Cheapest
  for a few boxes or little data: no mask to build.
* **mask** -- the boxes fold into one 2-D boolean mask (a 2-D difference
  array, +1/-1 at each box's corners, summed along both axes, ``> 0``; built
  on the grid of the boxes' edges, so its cost follows the number of boxes,
  not their size), region masks are OR-ed in at pixel resolution, and the
  union is written once: as the disjoint rectangles it is made of (bands of
  identical rows, runs within a band), one ``np.copyto`` each, or, for a
  fragmented mask (e.g. glyph-shaped), one ``np.copyto(where=mask)``. Writing
  rectangles beats ``np.copyto(where=mask)`` over the bounding box 3-5x for
  boxes: a masked copy runs at 2-4 GB/s, a plain one near memory speed.

Blur and pixelate work box by box, since their strength follows each box's
size; each reads only the pixels inside its box.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import cv2
import numpy as np
import numpy.typing as npt

from medscrub.model import Region

__all__ = ["METHODS", "as_frames", "black_value", "redact"]

#: The redaction methods :func:`redact` accepts.
METHODS = ("fill", "blur", "pixelate")

_S = TypeVar("_S", bound=np.generic)

_MIN_BLUR = 15  # smallest blur kernel, pixels
_MIN_BLOCK = 8  # smallest pixelation block, pixels
_BLUR_FRACTION = 0.5  # blur kernel = box side * strength * this (per axis)
_BLOCK_FRACTION = 1 / 6  # pixel block = longer box side * strength * this
_BLUR_PASSES = 2  # box blurs per axis (two make a smooth, triangular kernel)

# Fill path rule (see _prefers_mask, _fill_mask); measured: benchmarks/bench_kernel.py --calibrate
_MASK_MIN_BOXES = 16  # fewer boxes: per-box slices
_MASK_MIN_BYTES = 16 * 2**20  # less frame data under the boxes: per-box slices
_BYTES_PER_RECT = 1024  # mask rectangles smaller on average: np.copyto(where=mask)

_FULL_RANGE_YBR = frozenset({"YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT"})
_PARTIAL_YBR = frozenset({"YBR_PARTIAL_420", "YBR_PARTIAL_422"})

BoolArray = npt.NDArray[np.bool_]


def as_frames(arr: npt.NDArray[_S], samples_last: bool = True) -> npt.NDArray[_S]:
    """View an image or a stack as ``(n_frames, rows, cols, samples)`` without copying.

    Parameters
    ----------
    arr : numpy.ndarray
        ``(rows, cols)``: one grayscale image. ``(rows, cols, samples)``: one
        colour image. ``(frames, rows, cols)``: a grayscale stack. 4-D arrays
        are returned unchanged.
    samples_last : bool, default True
        How to read a 3-D array, which is ambiguous: with True, a trailing
        dimension of 3 or 4 means samples (RGB, RGBA: a photo) and any other
        means a grayscale stack; with False, a 3-D array is always a stack
        ``(frames, rows, cols)`` (a stack of images 3 or 4 pixels wide).

    Returns
    -------
    numpy.ndarray
        A view of `arr` with four dimensions; writing to it writes to `arr`.

    Raises
    ------
    ValueError
        If `arr` does not have 2, 3 or 4 dimensions.
    """
    if arr.ndim == 2:
        return arr[np.newaxis, :, :, np.newaxis]
    if arr.ndim == 3:
        if samples_last and arr.shape[2] in (3, 4):
            return arr[np.newaxis]
        return arr[..., np.newaxis]
    if arr.ndim == 4:
        return arr
    raise ValueError(f"expected a 2-D, 3-D or 4-D array, got {arr.ndim} dimensions")


def black_value(
    dtype: npt.DTypeLike,
    photometric: str,
    bits_stored: int | None,
    pixel_representation: int = 0,
) -> tuple[float, ...]:
    """The stored value, per sample, that displays as black.

    Pass the result as ``fill`` to :func:`redact` for DICOM pixel data.

    Parameters
    ----------
    dtype : numpy dtype
        The dtype of the decoded pixels.
    photometric : str
        Photometric Interpretation (0028,0004) of the decoded pixels.
    bits_stored : int or None
        Bits Stored (0028,0101); None for the whole width of an integer `dtype`.
    pixel_representation : int, default 0
        Pixel Representation (0028,0103): 0 unsigned, 1 two's complement.

    Returns
    -------
    tuple of float
        One value per sample:

        * ``MONOCHROME2``: the smallest stored value, 0 unsigned or
          ``-2**(bits_stored-1)`` signed;
        * ``MONOCHROME1``: the largest stored value, ``2**bits_stored - 1``
          unsigned or ``2**(bits_stored-1) - 1`` signed;
        * ``RGB``: zeros;
        * ``YBR_FULL``, ``YBR_FULL_422``, ``YBR_ICT``, ``YBR_RCT``: Y 0,
          Cb = Cr = ``2**(bits_stored-1)`` (``(0, 128, 128)`` for 8 bits);
          ``YBR_PARTIAL_420`` / ``_422``: Y ``16 * 2**(bits_stored-8)``
          (``(16, 128, 128)`` for 8 bits). If the decoder already converted
          the pixels to RGB, pass ``"RGB"``;
        * ``PALETTE COLOR``: index 0, which need not be the darkest entry: a
          caller that has the palette should pass the index of its darkest
          entry as ``fill`` instead.

        Floating-point pixel data (always MONOCHROME2 in DICOM) has no stored
        range: its black is 0.0.

    Raises
    ------
    ValueError
        For an unknown photometric interpretation, a value that `dtype` cannot
        hold (e.g. signed data in an unsigned dtype), or MONOCHROME1 or YBR
        with floating-point data.
    """
    dt = np.dtype(dtype)
    name = photometric.strip().upper()
    if dt.kind == "f":
        if name in ("MONOCHROME2", "RGB", "PALETTE COLOR"):
            return (0.0,) * (3 if name == "RGB" else 1)
        raise ValueError(f"no black value for floating-point {name} data")
    if dt.kind not in "iu":
        raise ValueError(f"unsupported pixel dtype {dt}")
    bits = dt.itemsize * 8 if bits_stored is None else int(bits_stored)
    if not 1 <= bits <= dt.itemsize * 8:
        raise ValueError(f"bits stored {bits} does not fit dtype {dt}")
    signed = pixel_representation == 1
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    values: tuple[int, ...]
    if name == "MONOCHROME2":
        values = (low,)
    elif name == "MONOCHROME1":
        values = (high,)
    elif name == "RGB":
        values = (0, 0, 0)
    elif name in _FULL_RANGE_YBR:
        values = (0, 2 ** (bits - 1), 2 ** (bits - 1))
    elif name in _PARTIAL_YBR:
        values = (16 * 2 ** (bits - 8) if bits >= 8 else 0, 2 ** (bits - 1), 2 ** (bits - 1))
    elif name == "PALETTE COLOR":
        values = (0,)
    else:
        raise ValueError(f"unknown photometric interpretation {photometric!r}")
    info = np.iinfo(dt)
    if any(not info.min <= v <= info.max for v in values):
        raise ValueError(f"black {values} for {name} does not fit dtype {dt}")
    return tuple(float(v) for v in values)


def redact(
    frames: npt.NDArray[_S],
    regions: Sequence[Region],
    *,
    method: str = "fill",
    fill: float | Sequence[float] | None = None,
    margin: int = 0,
    strength: float = 1.0,
    out: npt.NDArray[_S] | None = None,
) -> npt.NDArray[_S]:
    """Redact `regions` of a stack of frames.

    Parameters
    ----------
    frames : numpy.ndarray
        ``(n_frames, rows, cols, samples)``, any integer or floating-point
        dtype (see :func:`as_frames` for 2-D and 3-D images).
    regions : sequence of Region
        Boxes, optionally masked and limited to some frames. Regions with
        ``phi=False`` are ignored. Boxes are clipped to the image (negative
        coordinates included); a box that is empty, before the margin or
        after clipping, is ignored. ``Region.frames`` is read like Python
        slicing over ``n_frames`` (negative indices and steps allowed).
    method : {"fill", "blur", "pixelate"}, default "fill"
        ``"fill"`` writes a solid value; ``"blur"`` applies two passes of a
        box blur, ``max(15, side * strength / 2)`` pixels along each axis;
        ``"pixelate"`` replaces square tiles of
        ``max(8, longer side * strength / 6)`` pixels by their mean. Blur and
        pixelate read only pixels inside the (grown) box.
    fill : float or sequence of float, optional
        The fill value, one for all samples or one per sample. None means 0
        for every sample; for DICOM, pass :func:`black_value`. Integer dtypes
        need an integral value within the dtype's range.
    margin : int, default 0
        Pixels added to every side of every box; masks are dilated by the
        same amount (a square structuring element).
    strength : float, default 1.0
        Scales the blur kernel and the pixelation block (method "fill"
        ignores it).
    out : numpy.ndarray, optional
        Where to write. None writes into a new copy of `frames`; ``frames``
        itself redacts in place; any other array must have the shape and dtype
        of `frames` and receives a copy of it first. Apart from `out`, the
        kernel allocates only small, box- or plane-sized temporaries.

    Returns
    -------
    numpy.ndarray
        `out` (or the new copy), redacted.

    Raises
    ------
    ValueError
        For a bad shape, method, margin, strength, fill value, frame slice
        step of 0, or a region mask whose shape is not its box's.
    TypeError
        For a non-numeric dtype.
    """
    if frames.ndim != 4:
        raise ValueError(f"frames must be 4-D (n_frames, rows, cols, samples), got {frames.shape}")
    if frames.dtype.kind not in "iuf":
        raise TypeError(f"unsupported pixel dtype {frames.dtype}")
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    if not strength > 0:
        raise ValueError(f"strength must be > 0, got {strength}")
    n, rows, cols, samples = frames.shape
    row = _fill_row(fill, frames.dtype, cols, samples) if method == "fill" else None
    if out is None:
        out = frames.copy()
    elif out.shape != frames.shape or out.dtype != frames.dtype:
        raise ValueError(
            f"out must have shape {frames.shape} and dtype {frames.dtype}, "
            f"got {out.shape} and {out.dtype}"
        )
    elif not _same_memory(out, frames):
        np.copyto(out, frames)
    for key, boxes in _plan(regions, n, rows, cols, margin).items():
        view = out[slice(*key)]
        if row is not None:
            _fill_group(view, boxes, row)
        else:
            for box in boxes:
                _transform_box(view, box, method, strength)
    return out


# -- planning -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Box:
    """A box clipped to the image, grown by the margin; `mask` (if any) matches it."""

    y0: int
    x0: int
    y1: int
    x1: int
    mask: BoolArray | None = None

    @property
    def area(self) -> int:
        return (self.y1 - self.y0) * (self.x1 - self.x0)


def _plan(
    regions: Sequence[Region], n: int, rows: int, cols: int, margin: int
) -> dict[tuple[int, int, int], list[_Box]]:
    """The PHI boxes, clipped, grouped by the frames they cover (start, stop, step)."""
    groups: dict[tuple[int, int, int], list[_Box]] = {}
    for region in regions:
        if not region.phi:
            continue
        key = _frame_key(region.frames, n)
        box = _clip(region, rows, cols, margin)
        if key is not None and box is not None:
            groups.setdefault(key, []).append(box)
    return groups


def _frame_key(frames: slice | None, n: int) -> tuple[int, int, int] | None:
    """Normalize a frame slice to a positive-step (start, stop, step); None if empty."""
    if frames is None:
        return (0, n, 1)
    picked = range(*frames.indices(n))
    if not picked:
        return None
    if picked.step < 0:
        picked = picked[::-1]
    step = picked.step if len(picked) > 1 else 1
    return (picked.start, picked[-1] + 1, step)


def _clip(region: Region, rows: int, cols: int, margin: int) -> _Box | None:
    """`region` grown by `margin` and clipped to the image; None if nothing is left."""
    size = (region.y1 - region.y0, region.x1 - region.x0)
    if region.mask is not None and np.shape(region.mask) != size:
        raise ValueError(f"region mask has shape {np.shape(region.mask)}, its box {size}")
    if min(size) <= 0:
        return None
    gy0, gx0 = region.y0 - margin, region.x0 - margin
    gy1, gx1 = region.y1 + margin, region.x1 + margin
    y0, x0, y1, x1 = max(gy0, 0), max(gx0, 0), min(gy1, rows), min(gx1, cols)
    if y1 <= y0 or x1 <= x0:
        return None
    if region.mask is None:
        return _Box(y0, x0, y1, x1)
    grown = _dilate(np.asarray(region.mask, dtype=bool), margin)
    mask = grown[y0 - gy0 : y1 - gy0, x0 - gx0 : x1 - gx0]
    if not mask.any():
        return None
    return _Box(y0, x0, y1, x1, None if mask.all() else mask)


def _dilate(mask: BoolArray, margin: int) -> BoolArray:
    """`mask` padded by `margin` on every side and dilated by a square of side 2*margin+1."""
    if margin == 0:
        return mask
    padded = np.pad(mask.view(np.uint8), margin)
    kernel = np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)
    dilated = np.asarray(cv2.dilate(padded, kernel))
    return dilated > 0


# -- fill ---------------------------------------------------------------------------


def _fill_row(
    fill: float | Sequence[float] | None, dtype: np.dtype[Any], cols: int, samples: int
) -> npt.NDArray[Any]:
    """One image row of fill values, ``(cols, samples)``: the source of every fill copy."""
    values = np.atleast_1d(np.asarray(0 if fill is None else fill, dtype=np.float64))
    if values.ndim != 1 or values.size not in (1, samples):
        raise ValueError(f"fill needs 1 or {samples} values, got {values.size}")
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        bad = (values != np.round(values)) | (values < info.min) | (values > info.max)
        if bad.any():
            raise ValueError(f"fill {values.tolist()} is not representable in {dtype}")
    row = np.empty((cols, samples), dtype)
    row[...] = values
    return row


def _fill_group(view: npt.NDArray[Any], boxes: list[_Box], row: npt.NDArray[Any]) -> None:
    """Fill `boxes` on every frame of `view` through the path :func:`_prefers_mask` picks."""
    depth = view.shape[0] * view.shape[3] * view.itemsize
    if _prefers_mask(boxes, depth):
        _fill_mask(view, boxes, row)
    else:
        _fill_slices(view, boxes, row)


def _prefers_mask(boxes: list[_Box], depth: int) -> bool:
    """Whether to fill `boxes` through one mask rather than one slice per box.

    The mask when a box has a mask, or when there are at least
    ``_MASK_MIN_BOXES`` boxes holding together (overlaps counted each time)
    at least ``_MASK_MIN_BYTES`` of frame data, `depth` being the bytes per
    pixel position (frames x samples x itemsize). Below that, the mask's
    fixed cost (about 0.3 ms, plus a few microseconds per box) outweighs what
    it saves: pixels written twice, and short rows (boxes side by side merge
    into one longer rectangle).
    """
    if any(b.mask is not None for b in boxes):
        return True
    return len(boxes) >= _MASK_MIN_BOXES and sum(b.area for b in boxes) * depth >= _MASK_MIN_BYTES


def _fill_slices(view: npt.NDArray[Any], boxes: list[_Box], row: npt.NDArray[Any]) -> None:
    """The slice path: one copy per box (masks ignored: callers pass plain boxes)."""
    for box in boxes:
        np.copyto(view[:, box.y0 : box.y1, box.x0 : box.x1], row[: box.x1 - box.x0])


def _fill_mask(view: npt.NDArray[Any], boxes: list[_Box], row: npt.NDArray[Any]) -> None:
    """The mask path: fold `boxes` into one mask and write their union once.

    The union is written as the disjoint rectangles it is made of, one copy
    each, unless there are so many that each covers under ``_BYTES_PER_RECT``
    bytes of frame data on average: then one ``np.copyto(where=mask)``.
    """
    y0, x0, y1, x1 = _bounds(boxes)
    target = view[:, y0:y1, x0:x1]
    grid = _Grid.of([b for b in boxes if b.mask is None], y0, x0, y1, x1)
    if any(b.mask is not None for b in boxes):
        mask = grid.pixels()
        for b in boxes:
            if b.mask is not None:
                mask[b.y0 - y0 : b.y1 - y0, b.x0 - x0 : b.x1 - x0] |= b.mask
        grid = _Grid(mask, np.arange(y1 - y0 + 1), np.arange(x1 - x0 + 1))
    ry0, ry1, rx0, rx1 = grid.rectangles()
    if len(ry0) * _BYTES_PER_RECT <= target.nbytes:
        for a, b, c, d in zip(ry0.tolist(), ry1.tolist(), rx0.tolist(), rx1.tolist(), strict=True):
            np.copyto(target[:, a:b, c:d], row[: d - c])
    else:
        where = np.repeat(grid.pixels()[:, :, np.newaxis], target.shape[3], axis=2)
        np.copyto(target, row[: x1 - x0], where=where)


def _bounds(boxes: list[_Box]) -> tuple[int, int, int, int]:
    """The bounding box (y0, x0, y1, x1) of `boxes`."""
    return (
        min(box.y0 for box in boxes),
        min(box.x0 for box in boxes),
        max(box.y1 for box in boxes),
        max(box.x1 for box in boxes),
    )


@dataclass(frozen=True, slots=True)
class _Grid:
    """A boolean mask on a grid of cells: cell ``[i, j]`` covers rows
    ``ys[i]:ys[i+1]`` and columns ``xs[j]:xs[j+1]`` of a window.

    With ``ys``, ``xs`` every pixel edge, it is an ordinary pixel mask.
    """

    cells: BoolArray
    ys: npt.NDArray[np.intp]
    xs: npt.NDArray[np.intp]

    @classmethod
    def of(cls, boxes: list[_Box], y0: int, x0: int, y1: int, x1: int) -> _Grid:
        """The union of plain `boxes` within the window ``[y0:y1, x0:x1]``.

        The grid lines are the boxes' edges (and the window's), so a 2-D
        difference array on it (+1/-1 at each box's corners), summed along
        both axes, ``> 0``, is the union at the cost of ``(2 n)**2`` cells,
        whatever the size of the boxes.
        """
        corners = np.array([(b.y0, b.x0, b.y1, b.x1) for b in boxes], np.intp).reshape(-1, 4)
        corners -= (y0, x0, y0, x0)
        ys = np.unique(np.concatenate([corners[:, 0], corners[:, 2], [0, y1 - y0]]))
        xs = np.unique(np.concatenate([corners[:, 1], corners[:, 3], [0, x1 - x0]]))
        iy = np.searchsorted(ys, corners[:, [0, 0, 2, 2]]).ravel()
        ix = np.searchsorted(xs, corners[:, [1, 3, 1, 3]]).ravel()
        diff = np.zeros((len(ys), len(xs)), np.int32)
        weights = np.empty((len(corners), 4), np.int32)
        weights[:] = (1, -1, -1, 1)
        np.add.at(diff, (iy, ix), weights.ravel())
        np.cumsum(diff, axis=0, out=diff)
        np.cumsum(diff, axis=1, out=diff)
        return cls(diff[:-1, :-1] > 0, ys, xs)

    def pixels(self) -> BoolArray:
        """The mask with one cell per pixel of the window."""
        return np.repeat(np.repeat(self.cells, np.diff(self.ys), 0), np.diff(self.xs), 1)

    def rectangles(
        self,
    ) -> tuple[
        npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp]
    ]:
        """Disjoint rectangles (y0, y1, x0, x1 arrays, window pixels) making up the mask.

        Consecutive identical rows of cells form a band; each run of True
        cells in a band is one rectangle.
        """
        cells = self.cells
        rows = cells.shape[0]
        new_band = np.ones(rows, bool)
        np.any(cells[1:] != cells[:-1], axis=1, out=new_band[1:])
        starts = np.flatnonzero(new_band)
        ends = np.append(starts[1:], rows)
        padded = np.zeros((len(starts), cells.shape[1] + 2), bool)
        padded[:, 1:-1] = cells[starts]
        band, left = np.nonzero(padded[:, 1:] & ~padded[:, :-1])
        right = np.nonzero(padded[:, :-1] & ~padded[:, 1:])[1]
        return self.ys[starts[band]], self.ys[ends[band]], self.xs[left], self.xs[right]


# -- blur and pixelate ----------------------------------------------------------------


def _transform_box(view: npt.NDArray[Any], box: _Box, method: str, strength: float) -> None:
    """Blur or pixelate `box` on every frame of `view`, in place."""
    block = view[:, box.y0 : box.y1, box.x0 : box.x1]
    work = block if box.mask is None else block.copy()
    if method == "blur":
        _blur(work, strength)
    else:
        _pixelate(work, strength)
    if box.mask is not None:
        np.copyto(block, work, where=box.mask[np.newaxis, :, :, np.newaxis])


def _blur(block: npt.NDArray[Any], strength: float) -> None:
    """Box-blur `block` ``(frames, h, w, samples)`` in place, each frame on its own.

    ``_BLUR_PASSES`` passes of a ``kx`` by ``ky`` box, each at least
    ``_MIN_BLUR`` and ``side * strength * _BLUR_FRACTION`` pixels, borders
    reflected (so only the block's pixels are read). One OpenCV call per pass
    and frame: a frame stays in cache across its passes, about 4x faster than
    one call over all frames stacked (which also needs padding between frames).
    """
    _, h, w, s = block.shape
    ky = _odd(max(_MIN_BLUR, round(strength * h * _BLUR_FRACTION)))
    kx = _odd(max(_MIN_BLUR, round(strength * w * _BLUR_FRACTION)))
    work = _blur_dtype(block.dtype)
    for frame in block:
        image = frame.astype(work)
        for _ in range(_BLUR_PASSES):
            image = cv2.blur(image, (kx, ky), borderType=cv2.BORDER_REFLECT)
        frame[...] = _cast(np.asarray(image).reshape(h, w, s), block.dtype)


def _pixelate(block: npt.NDArray[Any], strength: float) -> None:
    """Replace square tiles of `block` ``(frames, h, w, samples)`` by their mean, in place.

    Tiles have side ``max(_MIN_BLOCK, longer side * strength * _BLOCK_FRACTION)``
    and start at the block's top-left corner; the last row and column of tiles
    may be narrower. The block is cut into at most four pieces of equal tiles,
    each averaged for all frames and samples at once.
    """
    _, h, w, _ = block.shape
    size = max(_MIN_BLOCK, round(strength * max(h, w) * _BLOCK_FRACTION))
    for rows in _spans(h, size):
        for cols in _spans(w, size):
            _average_tiles(
                block[:, rows, cols],
                min(size, rows.stop - rows.start),
                min(size, cols.stop - cols.start),
            )


def _spans(length: int, size: int) -> list[slice]:
    """``0:length`` cut into a run of whole tiles of `size` and the remainder."""
    whole = length - length % size
    return [part for part in (slice(0, whole), slice(whole, length)) if part.stop > part.start]


def _average_tiles(piece: npt.NDArray[Any], ty: int, tx: int) -> None:
    """Set every ``ty`` by ``tx`` tile of `piece` (which they tile exactly) to its mean.

    Reshaping only splits axes, so the reshaped arrays are views of `piece`.
    Sums run along one axis at a time: first down the tile rows (a fast,
    contiguous reduction), then across the much smaller result.
    """
    n, h, w, s = piece.shape
    ny, nx = h // ty, w // tx
    tall = piece.reshape(n, ny, ty, w, s)
    acc = _sum_dtype(piece.dtype, ty * tx)
    sums = tall.sum(axis=2, dtype=acc).reshape(n, ny, nx, tx, s).sum(axis=3)
    means = _cast(sums / (ty * tx), piece.dtype)
    tall[...] = np.repeat(means, tx, axis=2)[:, :, np.newaxis]


def _sum_dtype(dtype: np.dtype[Any], count: int) -> type[np.number[Any]]:
    """An exact accumulator for sums of `count` values of `dtype`, as narrow as possible.

    int32 where it cannot overflow (8- and 16-bit data in all but huge tiles):
    summing into it runs about 1.7x faster than into a 64-bit type.
    """
    if dtype.kind == "f":
        return np.float64
    info = np.iinfo(dtype)
    if max(-int(info.min), int(info.max)) * count < 2**31:
        return np.int32
    return np.int64 if dtype.kind == "i" else np.uint64


def _odd(k: int) -> int:
    return k | 1


def _blur_dtype(dtype: np.dtype[Any]) -> np.dtype[Any]:
    """The dtype OpenCV blurs `dtype` in: itself when supported, else a wider one."""
    if dtype in (np.uint8, np.uint16, np.int16, np.float32, np.float64):
        return dtype
    if dtype == np.int8:
        return np.dtype(np.int16)
    return np.dtype(np.float64)


def _cast(values: npt.NDArray[Any], dtype: np.dtype[Any]) -> npt.NDArray[Any]:
    """`values` as `dtype`, rounded to nearest for integer dtypes."""
    if values.dtype == dtype:
        return values
    if dtype.kind in "iu" and values.dtype.kind == "f":
        values = np.rint(values)
    return values.astype(dtype)


def _same_memory(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> bool:
    """True when `a` and `b` start at the same address with the same strides.

    Shapes are the caller's to compare.
    """
    return (
        a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
        and a.strides == b.strides
    )
