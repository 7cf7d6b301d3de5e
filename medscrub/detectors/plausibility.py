"""A detector's answer is checked before any pixel changes.

A model that misbehaves (a broken runtime, a corrupt weight file, a bug in a
plug-in) can return boxes outside the image, scores that are not numbers, or a
"face" that covers the whole picture. Redacting that would black out the image
and call it clean. :func:`detect_checked` runs a detector and refuses an answer
no real image produces: the file then fails with a one-line reason naming the
detector, and nothing is written.

The limits per region kind come from measurements over the generated text and
face sets, the sample images, pydicom's and pydicom-data's vendor files and
real radiographs with burned-in text (``benchmarks/bench_plausibility.py``
prints them), under the ``standard`` and ``share`` profiles. Largest seen:
2 faces on a frame, covering 20 % of it; 15 text regions to redact on a frame
(a vendor file, all-text mode); text covering 42 % of a frame (a generated
viewer screenshot, all-text mode).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from medscrub.detectors import Context, Detector
from medscrub.errors import DetectorError
from medscrub.model import Region

__all__ = ["LIMITS", "Plausible", "detect_checked", "implausibility", "load"]


@dataclass(frozen=True, slots=True)
class Plausible:
    """What the regions of one kind may be on one frame.

    Attributes
    ----------
    regions : int
        Most regions of the kind on a frame.
    cover : float
        Largest fraction of a frame's area the kind's regions may cover together.
    """

    regions: int
    cover: float


#: Limits by region kind; a kind not listed is held to ``LIMITS[""]``.
LIMITS: dict[str, Plausible] = {
    "face": Plausible(regions=50, cover=0.5),
    "text": Plausible(regions=400, cover=0.6),
    "": Plausible(regions=400, cover=0.6),
}


def detect_checked(
    detector: Detector, frames: npt.NDArray[np.generic], context: Context
) -> list[Region]:
    """Run `detector` on `frames` and return its regions once they are plausible.

    Raises
    ------
    DetectorError
        If the detector raised, or its answer is implausible (the reason names
        the detector and what was wrong; the frames are untouched).
    """
    try:
        found = list(detector.detect(frames, context))
    except DetectorError:
        raise
    except Exception as exc:  # a plug-in's own failure fails the file, never the batch
        raise DetectorError(
            f"detector {detector.name!r} failed ({type(exc).__name__}); image not changed"
        ) from exc
    problem = implausibility(found, frames.shape, context)
    if problem:
        raise DetectorError(
            f"detector {detector.name!r} gave an implausible answer ({problem}); "
            "image not changed"
        )
    return found


def implausibility(
    regions: Sequence[object], shape: tuple[int, ...], context: Context | None = None
) -> str:
    """Say what is wrong with `regions` for frames of `shape` (``""`` if nothing).

    Every region must be a box inside the image with a score from 0 to 1; those
    that would be redacted (:meth:`Context.redacted`) are held to :data:`LIMITS`.
    Text found and allowed to stay (``phi=False``: a textured photo yields
    hundreds of such boxes) changes no pixel.

    Parameters
    ----------
    regions : sequence
        A detector's answer: should be :class:`Region` values.
    shape : tuple
        The frames' shape ``(n_frames, rows, cols, samples)``.
    context : Context, optional
        Its text mode says which regions are redacted (default: ``phi`` ones).
    """
    n_frames, rows, cols = shape[:3]
    for region in regions:
        problem = _bad_region(region, n_frames, rows, cols)
        if problem:
            return problem
    boxes = [r for r in regions if isinstance(r, Region)]
    for kind, (count, cover) in load((context or Context()).redacted(boxes), shape).items():
        limit = LIMITS.get(kind, LIMITS[""])
        if count > limit.regions:
            return f"{count} {kind} regions on one frame, more than {limit.regions}"
        if cover > limit.cover:
            return f"{kind} regions cover {cover:.0%} of a frame, more than {limit.cover:.0%}"
    return ""


def load(regions: Sequence[Region], shape: tuple[int, ...]) -> dict[str, tuple[int, float]]:
    """By region kind: the most regions on one frame and the largest fraction of a
    frame they cover together (regions already checked to lie inside `shape`)."""
    n_frames, rows, cols = shape[:3]
    found: dict[str, tuple[int, float]] = {}
    for kind in sorted({r.kind for r in regions}):
        of_kind = [r for r in regions if r.kind == kind]
        most, widest = 0, 0.0
        for frame in _frames_named(of_kind, n_frames):
            on_frame = [r for r in of_kind if _on(r, frame)]
            most = max(most, len(on_frame))
            widest = max(widest, _cover(on_frame, rows, cols))
        found[kind] = (most, widest)
    return found


def _bad_region(region: object, n_frames: int, rows: int, cols: int) -> str:
    if not isinstance(region, Region):
        return f"not a Region ({type(region).__name__})"
    box = (region.y0, region.x0, region.y1, region.x1)
    if not all(isinstance(v, int | np.integer) for v in box):
        return "box coordinates are not whole numbers"
    if not (0 <= region.y0 < region.y1 <= rows and 0 <= region.x0 < region.x1 <= cols):
        return f"a box {box} outside the {rows}x{cols} image or empty"
    if not (isinstance(region.score, int | float) and math.isfinite(region.score)
            and 0.0 <= region.score <= 1.0):
        return "a score that is not a number from 0 to 1"
    frames = region.frames
    if frames is not None and not (
        isinstance(frames, slice) and frames.step in (None, 1)
        and isinstance(frames.start, int) and isinstance(frames.stop, int)
        and 0 <= frames.start < frames.stop <= n_frames
    ):
        return f"frames {frames!r} outside the image's {n_frames}"
    if region.mask is not None and region.mask.shape != (region.y1 - region.y0,
                                                         region.x1 - region.x0):
        return "a mask whose shape is not its box's"
    return ""


def _frames_named(regions: list[Region], n_frames: int) -> list[int]:
    """The frames whose regions must be checked: each frame a region names, or frame 0."""
    named = {f for r in regions if r.frames is not None for f in range(*r.frames.indices(n_frames))}
    return sorted(named) or [0]


def _on(region: Region, frame: int) -> bool:
    return region.frames is None or region.frames.start <= frame < region.frames.stop


def _cover(regions: list[Region], rows: int, cols: int) -> float:
    """The fraction of a ``rows x cols`` frame that `regions` redact together."""
    covered = np.zeros((rows, cols), bool)
    for r in regions:
        cell = covered[r.y0:r.y1, r.x0:r.x1]
        if r.mask is None:
            cell[...] = True
        else:
            cell |= r.mask
    return float(np.count_nonzero(covered)) / (rows * cols)
