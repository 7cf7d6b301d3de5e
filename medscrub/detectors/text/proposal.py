"""Proposing text lines: where text may be, before anything is read.

Each image becomes an 8-bit "ink" image (:class:`Ink`): the brightest channel
(so yellow, green or cyan overlays count as bright) plus the saturation, wide
data windowed from the values present. A DICOM image's candidates come from
stroke cues (:func:`propose`): a morphological gradient kept where a top-hat or
black-hat responds too, thresholds that follow the noise level, a horizontal
dilation and connected components, blocks cut at their sparse rows, the same on
the transposed strokes for side text. A cine is proposed once on its temporal
median, with moving pixels masked out, and on a few frames for changing text. A
photo's candidates come from the learned text-line model (:func:`scene_lines`).
Everything here is vectorized numpy/OpenCV, with no Python loop over pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from medscrub.detectors.scene_text import text_lines

__all__ = ["MAX_HEIGHT", "MIN_GLYPH", "MIN_HEIGHT", "PAD", "Box", "Crop", "Ink", "bands", "level",
           "propose", "scene_lines"]

U8 = npt.NDArray[np.uint8]
Crop = tuple[U8, npt.NDArray[np.bool_] | None]  # ink planes, pixels to blank

_HAT = (7, 7)  # top-hat / black-hat kernel: wider than a stroke
_HAT_FLOOR = 15  # lowest gradient and hat threshold (8-bit levels)
_NOISE_FACTOR = 2.5  # threshold, in median responses (noise), unless Otsu's is lower
_FAINT_BACKGROUND = (15, 15)  # local background of faint text (box mean), pixels
_FAINT_SIGMAS = 1.25  # faint glyph pixels: this many noise deviations from the background
_FAINT_AREA = 6  # smallest faint glyph component, pixels
_FAINT_WIDEST = 3.0  # widest faint glyph component (a few touching glyphs), in heights
_EXTREME_TOLERANCE = 0.02  # of the value range: pixels this near an extreme count as at it
_OUTLINED = 0.2  # share of an extreme-value component's pixels near the other extreme,
_OUTLINE_REACH = (5, 5)  # within this neighbourhood (an anti-aliased edge between them)
_NEAR_EXTREME = 0.25  # of the value range: an overlay crop's grey ramp from an extreme
_STATIC_TOLERANCE = 24  # temporal range (8-bit levels) still counted as static
_MEDIAN_FRAMES = 15  # frames sampled for the temporal median and range
_DYNAMIC_FRAMES = 3  # frames proposed without the static mask
_JOIN = (3, 9)  # dilation (rows, cols) joining glyphs into lines
MIN_HEIGHT, MAX_HEIGHT = 6, 80  # text line height, pixels
_MIN_DENSITY = 0.12  # stroke pixels / box area
_MAX_SPLITS = 64  # components cut into lines, per image (largest first)
_CUT_FRACTION = 0.35  # rows with fewer strokes (of the busiest row near them) part lines
_CUT_SPAN = 21  # rows around a row among which the busiest is taken
_GAP_FRACTION = 0.05  # rows with at most this fraction of that busiest row's strokes are gaps
MIN_GLYPH = 4  # smallest stroke component counted as a glyph (height and pixels)
_SAME_LINE = 0.6  # shared rows (fraction of the lower box) of boxes on one line
_LINE_GAP = 1.0  # widest gap (line heights) inside a line
_UPRIGHT = 2.0  # side text (and a photo's turned line): height at least this many widths
_MIN_TILT, _MAX_TILT = 4.0, 45.0  # a photo's line tilted this much (degrees) is read levelled
_SIDE_SPAN = 0.8  # side text: height at most this fraction of the image's
_STACKED = 0.9  # a side line with this share of its strokes in level lines is a column
# through stacked level lines (their glyphs, one above the other), not side text
PAD = 2  # pixels around a candidate crop
_MAX_CANDIDATES = 256  # per image: boxes beyond this are dropped, largest kept


_MAX_VARIANTS = 3  # differing frames read per candidate
_VARIANT_TOLERANCE = 8.0  # mean absolute difference (8-bit levels) that makes a variant


@dataclass(frozen=True, slots=True)
class Box:
    y0: int
    x0: int
    y1: int
    x1: int
    frame: int | None = None  # the frame it was proposed on; None: the temporal median
    glyph: float = 0.0  # typical glyph height inside, pixels (0: unknown)
    turns: int = 0  # text rotated by this many quarter turns counter-clockwise
    extreme: int = 0  # 0: proposed on the ink planes; 1, 2: on the strokes at the highest,
    # lowest value present (an overlay), which its crop shows instead
    tilt: float = 0.0  # text tilted by this many degrees counter-clockwise (photos)
    strokes: tuple[int, int, int, int] | None = None  # the box (y0, x0, y1, x1) of a level
    # line's strokes (its own box reaches further: lines are found on dilated strokes)

    def inked(self) -> tuple[int, int, int, int]:
        """The box of its strokes where known, else its box without the padding."""
        return self.strokes or (self.y0 + PAD, self.x0 + PAD, self.y1 - PAD, self.x1 - PAD)

    def glyph_height(self) -> float:
        """Its glyph height, or for want of one its line height."""
        if self.glyph > 0:
            return self.glyph
        return float((self.x1 - self.x0 if self.turns % 2 else self.y1 - self.y0) - 2 * PAD)



@dataclass(frozen=True, slots=True)
class Ink:
    """8-bit views of a frame stack for proposing and reading text."""

    frames: npt.NDArray[Any]  # the input stack (read lazily, box by box)
    lo: float  # window of non-8-bit data
    hi: float
    median: U8  # (rows, cols, planes): temporal median of the planes
    static: npt.NDArray[np.bool_] | None  # (rows, cols); None for one frame
    extremes: U8  # (rows, cols, 2): thin strokes at the highest, lowest value present (0/255)
    gray: npt.NDArray[np.float32] | None  # (rows, cols): the brightest channel's values (of
    # the temporal median), for overlay crops; None without overlays
    span: tuple[float, float]  # the lowest and highest value present in `gray`

    @property
    def shape(self) -> tuple[int, int]:
        return self.median.shape[0], self.median.shape[1]

    @classmethod
    def of(cls, frames: npt.NDArray[Any], bits_stored: int | None,
           like: Ink | None = None, overlays: bool = True) -> Ink:
        """The ink of `frames`; with `like`, mapped as `like` was (a later look at the
        same image: redaction can remove its extreme values, which must not change
        how the rest reads). Without `overlays` (photos), no overlay strokes."""
        n = frames.shape[0]
        sample = frames[_sampled(n)]
        lo, hi = _window(sample, bits_stored) if like is None else (like.lo, like.hi)
        planes = _planes(sample, lo, hi)
        if n == 1:
            median, static = planes[0], None
        else:
            median = np.median(planes, axis=0).astype(np.uint8)
            spread = planes.max(axis=0) - planes.min(axis=0)
            static = spread.max(axis=-1) <= _STATIC_TOLERANCE
        if not overlays:
            return cls(frames, lo, hi, median, static, np.zeros((*median.shape[:2], 2), np.uint8),
                       None, (lo, hi))
        image = sample[0] if n == 1 else np.median(sample, axis=0)
        gray = np.asarray(image.max(axis=-1) if image.ndim == 3 else image, dtype=np.float32)
        span = (float(gray.min()), float(gray.max())) if like is None else like.span
        return cls(frames, lo, hi, median, static, _extremes(gray, *span), gray, span)

    def planes(self, index: slice | int = slice(None), box: Box | None = None) -> U8:
        """Ink planes ``(frames, rows, cols, planes)`` of `index`, inside `box`."""
        part = self.frames[index]
        if part.ndim == 3:
            part = part[np.newaxis]
        if box is not None:
            part = part[:, box.y0 : box.y1, box.x0 : box.x1]
        return _planes(part, self.lo, self.hi)

    def crops(self, box: Box) -> list[Crop]:
        """The crop of `box` it was proposed on, then up to :data:`_MAX_VARIANTS` others.

        The others are the frames that differ most inside `box` from the crops
        already taken. Moving pixels (speckle, anatomy) are blanked in a
        median crop.
        """
        if box.extreme:
            return self._near_extremes(box)
        if self.static is None:
            return [(self.median[box.y0 : box.y1, box.x0 : box.x1], None)]
        if box.frame is None:
            base = self.median[box.y0 : box.y1, box.x0 : box.x1]
            moving = ~self.static[box.y0 : box.y1, box.x0 : box.x1]
        else:
            base, moving = self.planes(box.frame, box)[0], None
        out: list[Crop] = [(base, moving)]
        stack = self.planes(box=box).astype(np.int16)
        diff = np.abs(stack - base).mean(axis=(1, 2, 3))
        while len(out) <= _MAX_VARIANTS and diff.max() > _VARIANT_TOLERANCE:
            pick = stack[int(diff.argmax())]
            out.append((pick.astype(np.uint8), None))
            diff = np.minimum(diff, np.abs(stack - pick).mean(axis=(1, 2, 3)))
        return out


    def _near_extremes(self, box: Box) -> list[Crop]:
        """An overlay line's crop three times: its outlined strokes at the extreme it
        was found on, then as dark on white the values near the lowest value present,
        and those near the highest, the rest white.

        Its glyphs are at one extreme and their outline at the other; the mask
        is crisp where they reach the extreme, the ramps keep anti-aliased glyph
        edges (mid values, the anatomy, fade to white). Either reading may fail alone.
        """
        mask = self.extremes[box.y0 : box.y1, box.x0 : box.x1, box.extreme - 1 : box.extreme]
        if self.gray is None:  # no overlay strokes, so no overlay boxes
            raise ValueError("an overlay box on ink made without overlays")
        gray = self.gray[box.y0 : box.y1, box.x0 : box.x1]
        lo, hi = self.span
        width = max(_NEAR_EXTREME * (hi - lo), 1.0)
        return [(mask, None)] + [
            (np.clip(ramp * (255.0 / width), 0, 255).astype(np.uint8)[..., np.newaxis], None)
            for ramp in (gray - lo, hi - gray)]


def _sampled(n: int) -> npt.NDArray[np.int64]:
    """The frames (of `n`) sampled for the temporal median and range."""
    return np.unique(np.linspace(0, n - 1, min(n, _MEDIAN_FRAMES)).astype(np.int64))


def level(crop: Crop, box: Box) -> Crop:
    """`crop` of `box` turned so that its text reads level: by its quarter turns, or
    back by its tilt (the corners the rotation brings in repeat the crop's border)."""
    planes, blank = crop
    if box.turns:
        return (np.ascontiguousarray(np.rot90(planes, -box.turns)),
                None if blank is None else np.ascontiguousarray(np.rot90(blank, -box.turns)))
    if not box.tilt:
        return crop
    rows, cols = planes.shape[:2]
    matrix = cv2.getRotationMatrix2D((cols / 2, rows / 2), -box.tilt, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    width, height = int(np.ceil(rows * sin + cols * cos)), int(np.ceil(rows * cos + cols * sin))
    matrix[:, 2] += (width - cols) / 2, (height - rows) / 2
    turned = cv2.warpAffine(planes, matrix, (width, height), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    turned = turned.reshape(height, width, -1)
    if blank is not None:
        blank = cv2.warpAffine(blank.view(np.uint8), matrix, (width, height),
                               flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE) > 0
    return np.ascontiguousarray(turned), blank


def _window(sample: npt.NDArray[Any], bits_stored: int | None) -> tuple[float, float]:
    """The input range mapped to 0..255: identity for 8-bit data, else a window.

    The window runs from the 0.5th percentile to the maximum, not a high
    percentile: burned-in text is usually drawn at (or near) the brightest
    value, and clipping the image's own bright tail to white would turn its
    noise into strokes.
    """
    if sample.dtype == np.uint8 and (bits_stored is None or bits_stored <= 8):
        return 0.0, 255.0
    step = max(1, int(np.sqrt(sample.size / 1_000_000)))
    lo = float(np.percentile(sample[:, ::step, ::step], 0.5))
    hi = float(sample.max())
    return lo, max(hi, lo + 1.0)


def _planes(frames: npt.NDArray[Any], lo: float, hi: float) -> U8:
    """``(n, rows, cols, samples)`` -> 8-bit ink planes: brightest channel (+ saturation)."""
    if frames.dtype == np.uint8 and (lo, hi) == (0.0, 255.0):
        data: npt.NDArray[Any] = frames
    else:
        scaled = (frames.astype(np.float32) - lo) * (255.0 / (hi - lo))
        data = np.clip(scaled, 0, 255).astype(np.uint8)
    if data.shape[-1] < 3:
        return np.ascontiguousarray(data[..., :1])
    # OpenCV's channel split, max and min: about 2.5x quicker than numpy's element-wise
    # ones (which were 9x quicker than reducing the last axis)
    n, rows, cols = data.shape[:3]
    red, green, blue = cv2.split(np.ascontiguousarray(data[..., :3]).reshape(n * rows, cols, 3))
    bright = cv2.max(cv2.max(red, green), blue)
    saturation = cv2.subtract(bright, cv2.min(cv2.min(red, green), blue))
    return np.asarray(cv2.merge([bright, saturation]), dtype=np.uint8).reshape(n, rows, cols, 2)


def _extremes(gray: npt.NDArray[np.float32], lo: float, hi: float) -> U8:
    """Outlined strokes at the highest and at the lowest value, `hi` and `lo`: ``(rows, cols, 2)``.

    Vendor overlays draw text at an extreme of the values with a one-pixel
    outline at the other, straight over the anatomy; at that value the glyphs
    stand alone, whatever the anatomy around them. Pixels within
    :data:`_EXTREME_TOLERANCE` of the range from an extreme are kept where an
    opening wider than a stroke removes them (a white top-hat of the mask:
    broad areas at the extreme, such as air, collimation or saturated bone, go),
    in components of which at least :data:`_OUTLINED` of the pixels are near the
    other extreme (noise and anatomy that reach an extreme are not outlined).
    """
    out = np.zeros((*gray.shape, 2), np.uint8)
    if hi <= lo:
        return out
    tolerance = _EXTREME_TOLERANCE * (hi - lo)
    at = [(gray >= hi - tolerance).view(np.uint8), (gray <= lo + tolerance).view(np.uint8)]
    wide = cv2.getStructuringElement(cv2.MORPH_RECT, _HAT)
    near = cv2.getStructuringElement(cv2.MORPH_RECT, _OUTLINE_REACH)
    for k in range(2):
        thin = cv2.subtract(at[k], cv2.morphologyEx(at[k], cv2.MORPH_OPEN, wide))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(thin, connectivity=8)
        touching = (thin > 0) & (cv2.dilate(at[1 - k], near) > 0)
        share = np.bincount(labels[touching], minlength=count) / np.maximum(
            stats[:, cv2.CC_STAT_AREA], 1)
        keep = (share >= _OUTLINED) & (stats[:, cv2.CC_STAT_AREA] >= MIN_GLYPH)  # not specks
        keep[0] = False
        out[..., k] = np.where(keep[labels], np.uint8(255), np.uint8(0))
    return out


def propose(ink: Ink) -> list[Box]:
    """Candidate text-line boxes: static text on the median, changing text on a few frames,
    and overlay text on the strokes at the extreme values."""
    boxes = _line_boxes(ink.median, ink.static)
    if ink.static is not None:
        n = ink.frames.shape[0]
        for index in np.unique(np.linspace(0, n - 1, min(n, _DYNAMIC_FRAMES)).astype(int)):
            frame = ink.planes(int(index))[0]
            boxes += [replace(b, frame=int(index)) for b in _line_boxes(frame, None)
                      if not _overlaps(b, boxes)]
    # overlay lines are read as well as what the stroke cues found there (either reading
    # may fail alone), and are never dropped for want of room
    overlay = [replace(b, glyph=0.0, extreme=k + 1)
               for k in range(2) if ink.extremes[..., k].any()
               for b in _line_boxes(ink.extremes[..., k : k + 1], None, crossing=True)]
    room = max(_MAX_CANDIDATES - len(overlay), 0)
    if len(boxes) > room:
        boxes = sorted(boxes, key=lambda b: (b.y1 - b.y0) * (b.x1 - b.x0))[len(boxes) - room:]
    return boxes + overlay[:_MAX_CANDIDATES]


def scene_lines(ink: Ink) -> list[Box]:
    """Candidate line boxes of a photo, from the learned text-line model.

    The stroke cues of :func:`propose` take the texture of skin, gauze and
    fabric for glyphs (hundreds of candidates on a wound photo, each read by
    OCR); a model trained on scene text does not. It sees the brightest channel
    (the first ink plane), as the reader does. Lines much taller than wide are
    read turned a quarter (labels along an edge).
    """
    rows, cols = ink.shape
    boxes = []
    for y0, x0, y1, x1, tilt in text_lines(ink.median[..., 0]):
        turns = 1 if y1 - y0 > _UPRIGHT * (x1 - x0) else 0
        tilted = tilt if not turns and _MIN_TILT <= abs(tilt) <= _MAX_TILT else 0.0
        boxes.append(Box(max(0, y0 - PAD), max(0, x0 - PAD), min(rows, y1 + PAD),
                          min(cols, x1 + PAD), None, 0.0, turns, 0, tilted))
    return boxes[:_MAX_CANDIDATES]


def _overlaps(box: Box, others: list[Box]) -> bool:
    return any(
        box.y0 < o.y1 and o.y0 < box.y1 and box.x0 < o.x1 and o.x0 < box.x1 for o in others
    )


def _strokes(planes: U8) -> npt.NDArray[np.bool_]:
    """Outlines of thin strokes of either polarity, in any plane.

    A morphological gradient marks every edge; it is kept where a white
    top-hat or black-hat (opening / closing residues, with a kernel wider
    than a stroke) responds too, which thin strokes do and the step edges
    of anatomy, panels and windows do not: those would otherwise join text
    lines into shapes that are not lines. Each threshold is Otsu's, floored
    by a multiple of the median response (the noise level).
    """
    small = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
    wide = cv2.getStructuringElement(cv2.MORPH_RECT, _HAT)
    gradient: U8 = np.zeros(planes.shape[:2], np.uint8)
    hat: U8 = np.zeros(planes.shape[:2], np.uint8)
    for p in range(planes.shape[-1]):
        plane = np.ascontiguousarray(planes[..., p])
        gradient = np.maximum(gradient, cv2.morphologyEx(plane, cv2.MORPH_GRADIENT, small))
        hat = np.maximum(hat, cv2.morphologyEx(plane, cv2.MORPH_TOPHAT, wide))
        hat = np.maximum(hat, cv2.morphologyEx(plane, cv2.MORPH_BLACKHAT, wide))
    hat = np.asarray(cv2.dilate(hat, small), dtype=np.uint8)
    return np.asarray((gradient > _threshold(gradient)) & (hat > _threshold(hat)))


def _faint_glyphs(planes: U8) -> npt.NDArray[np.bool_]:
    """Glyphs of faint text, of either polarity, where noise hides their edges.

    Each plane minus its local background (a box mean wider than a glyph)
    is thresholded at :data:`_FAINT_SIGMAS` noise deviations (estimated from
    the median absolute residue) on both sides; of the pixels that pass,
    only connected components of glyph size are kept: noise passes as
    scattered specks, glyphs as strokes.
    """
    out = np.zeros(planes.shape[:2], bool)
    for p in range(planes.shape[-1]):
        plane = planes[..., p].astype(np.float32)
        residue = plane - cv2.blur(plane, _FAINT_BACKGROUND)
        sigma = 1.4826 * float(np.median(np.abs(residue[::2, ::2])))
        for mask in (residue > _FAINT_SIGMAS * sigma, residue < -_FAINT_SIGMAS * sigma):
            _, labels, stats, _ = cv2.connectedComponentsWithStats(
                mask.view(np.uint8), connectivity=8)
            h, w = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
            area = stats[:, cv2.CC_STAT_AREA]
            glyph = (h >= MIN_GLYPH) & (h <= MAX_HEIGHT // 2) & (area >= _FAINT_AREA)
            glyph &= (area <= 0.6 * h * w + 1) & (w <= _FAINT_WIDEST * h)
            glyph[0] = False
            out |= glyph[labels]
    return out


def _threshold(response: U8) -> float:
    otsu, _ = cv2.threshold(response, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    noise = float(np.median(response[::2, ::2]))
    return max(min(otsu, _NOISE_FACTOR * noise), _HAT_FLOOR)


def _line_boxes(planes: U8, static: npt.NDArray[np.bool_] | None,
                crossing: bool = False) -> list[Box]:
    """Boxes shaped like text lines in one image of ink planes ``(rows, cols, planes)``;
    side text may cross level lines when `crossing` (on a clean overlay mask, a label up
    the edge is joined to the level lines beside it, and would be lost otherwise)."""
    glyphs_seen = _faint_glyphs(planes)
    strokes = _strokes(planes) | glyphs_seen
    if static is not None:
        strokes &= static
        glyphs_seen &= static
    found, glyphs = _found(strokes, glyphs_seen)
    # Side text, rotated by 90 degrees either way: lines of the transposed strokes
    # that stand upright in the image and cross no wide level line; each is read
    # both ways, and replaces the level boxes (glyph fragments) it crosses.
    side, side_glyphs = _found(np.ascontiguousarray(strokes.T),
                               np.ascontiguousarray(glyphs_seen.T))
    side = side[:, [1, 0, 3, 2]]
    tall = side[:, 2] - side[:, 0]
    upright = (tall >= _UPRIGHT * (side[:, 3] - side[:, 1])) & (tall <= _SIDE_SPAN * len(strokes))
    wide = (found[:, 3] - found[:, 1]) >= _UPRIGHT * (found[:, 2] - found[:, 0])
    level = [Box(*b) for b in found[wide].tolist()]
    if crossing:
        upright &= ~_stacked(strokes, side, level)
    else:
        upright &= np.array([not _overlaps(Box(*b), level) for b in side.tolist()], dtype=bool)
    standing = [Box(*b) for b in side[upright].tolist()]
    keep = wide | np.array([not _overlaps(Box(*b), standing) for b in found.tolist()], dtype=bool)
    found, glyphs = found[keep], glyphs[keep]
    found = np.concatenate([found, side[upright], side[upright]])
    glyphs = np.concatenate([glyphs, side_glyphs[upright], side_glyphs[upright]])
    turns = [0] * (len(found) - 2 * int(upright.sum()))
    turns += [1] * int(upright.sum()) + [3] * int(upright.sum())
    rows, cols = strokes.shape
    y0, x0 = np.maximum(found[:, 0] - PAD, 0), np.maximum(found[:, 1] - PAD, 0)
    y1, x1 = np.minimum(found[:, 2] + PAD, rows), np.minimum(found[:, 3] + PAD, cols)
    return [
        Box(b0, c0, b1, c1, None, glyph, turn,
            strokes=None if turn else _stroke_box(strokes, line))
        for b0, c0, b1, c1, glyph, turn, line in zip(
            y0.tolist(), x0.tolist(), y1.tolist(), x1.tolist(), glyphs.tolist(), turns,
            found.tolist(), strict=True,
        )
    ]


def _stacked(strokes: npt.NDArray[np.bool_], side: npt.NDArray[np.int64],
             level: list[Box]) -> npt.NDArray[np.bool_]:
    """Which `side` boxes hold :data:`_STACKED` of their strokes inside `level` boxes: a
    column cut through lines stacked one above the other reads as upright text."""
    inside = np.zeros(strokes.shape, bool)
    for b in level:
        inside[b.y0 : b.y1, b.x0 : b.x1] = True
    shares = []
    for y0, x0, y1, x1 in side.tolist():
        part = strokes[y0:y1, x0:x1]
        shares.append(float((part & inside[y0:y1, x0:x1]).sum()) / max(int(part.sum()), 1))
    return np.array(shares, dtype=float).reshape(-1) >= _STACKED


def _stroke_box(strokes: npt.NDArray[np.bool_],
                line: list[int]) -> tuple[int, int, int, int] | None:
    """The box of the strokes inside a line box ``(y0, x0, y1, x1)`` (None if empty)."""
    y0, x0, y1, x1 = line
    part = strokes[y0:y1, x0:x1]
    rows, columns = np.flatnonzero(part.any(axis=1)), np.flatnonzero(part.any(axis=0))
    if not len(columns):
        return None
    return (y0 + int(rows[0]), x0 + int(columns[0]), y0 + int(rows[-1]) + 1,
            x0 + int(columns[-1]) + 1)


def _found(
    strokes: npt.NDArray[np.bool_], glyphs: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Text-line boxes ``(n, 4)`` (y0, x0, y1, x1, unpadded) and their glyph heights.

    A glyph height is the smaller of two measures, each of which can only
    err high: the pieces of `glyphs` (found by local contrast; noise can
    join them) and the stroke outlines (which join the glyphs of small text).
"""
    lines = cv2.dilate(strokes.view(np.uint8), np.ones(_JOIN, np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    if count <= 1:
        return np.zeros((0, 4), np.int64), np.zeros(0)
    x, y, w, h = (stats[1:, k] for k in range(4))
    keep = _text_shaped(strokes, y, x, y + h, x + w)
    boxes = []
    # Blocks of lines joined by descenders, or lines touching other marks: cut at
    # the nearly empty rows (a loop over a few components, not over pixels).
    split = np.flatnonzero((h >= 2 * MIN_HEIGHT + 2) & (w >= MIN_HEIGHT))
    split = split[np.argsort(-(w[split] * h[split]))][:_MAX_SPLITS]
    labelled = np.asarray(labels, dtype=np.int32)
    for i in split.tolist():
        cut = bands(strokes, labelled, i + 1, int(y[i]), int(x[i]), int(h[i]), int(w[i]))
        if len(cut) > 1 or not keep[i]:
            keep[i] = False
            ok = _text_shaped(strokes, cut[:, 0], cut[:, 1], cut[:, 2], cut[:, 3])
            boxes.append(cut[ok])
    boxes.append(np.stack([y[keep], x[keep], y[keep] + h[keep], x[keep] + w[keep]], axis=1))
    found = _join_lines(np.concatenate(boxes))
    pieces, outlines = _glyph_heights(glyphs, found), _glyph_heights(strokes, found)
    both = (pieces > 0) & (outlines > 0)
    return found, np.where(both, np.minimum(pieces, outlines), np.maximum(pieces, outlines))


def _glyph_heights(strokes: npt.NDArray[np.bool_], boxes: npt.NDArray[np.int64]) -> npt.NDArray[
    np.float64
]:
    """Median height of the stroke components centred in each box (0 where none).

    A block of several lines is read at the scale of its glyphs, not of its
    height.
    """
    out = np.zeros(len(boxes))
    if not len(boxes):
        return out
    _, _, stats, _ = cv2.connectedComponentsWithStats(strokes.view(np.uint8), connectivity=8)
    gx, gy, gw, gh = (stats[1:, k] for k in range(4))
    real = (gh >= MIN_GLYPH) & (gh <= MAX_HEIGHT) & (stats[1:, 4] >= MIN_GLYPH)
    order = np.argsort(gh[real], kind="stable")  # by height: a median is a rank
    cy, cx = (gy + gh / 2)[real][order], (gx + gw / 2)[real][order]
    gh = gh[real][order].astype(float)
    inside = (
        (cy >= boxes[:, :1]) & (cy < boxes[:, 2:3]) & (cx >= boxes[:, 1:2]) & (cx < boxes[:, 3:4])
    )
    count = inside.sum(axis=1)
    some = count > 0
    if some.any():
        # the components inside each box, counted in order of height: the median is the
        # mean of the heights where that count first reaches the two middle ranks
        ranks = np.cumsum(inside[some], axis=1)
        n = count[some][:, np.newaxis]
        low = (ranks >= (n + 1) // 2).argmax(axis=1)
        high = (ranks >= n // 2 + 1).argmax(axis=1)
        out[some] = (gh[low] + gh[high]) / 2
    return np.asarray(np.minimum(out, boxes[:, 2] - boxes[:, 0]), dtype=np.float64)


def _join_lines(boxes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Join boxes of one line parted by a wide space or a crossing edge: (n, 4) boxes.

    Two boxes join when they share most of their rows and the gap between
    them is at most :data:`_LINE_GAP` line heights (a loop over boxes, not pixels).
    """
    out: list[list[int]] = []
    for box in sorted(boxes.tolist(), key=lambda b: b[1]):
        y0, x0, y1, x1 = box
        for other in reversed(out):
            overlap = min(y1, other[2]) - max(y0, other[0])
            height = min(y1 - y0, other[2] - other[0])
            if overlap >= _SAME_LINE * height and x0 - other[3] <= _LINE_GAP * height:
                other[:] = [min(y0, other[0]), other[1], max(y1, other[2]), max(x1, other[3])]
                break
        else:
            out.append(box)
    return np.array(out, dtype=np.int64).reshape(-1, 4)


def _text_shaped(
    strokes: npt.NDArray[np.bool_], y0: npt.NDArray[Any], x0: npt.NDArray[Any],
    y1: npt.NDArray[Any], x1: npt.NDArray[Any],
) -> npt.NDArray[np.bool_]:
    """Which boxes are shaped like a text line (size, aspect, stroke density)."""
    h, w = y1 - y0, x1 - x0
    # Strokes inside each box, from a summed-area table: no loop over boxes or pixels.
    table = cv2.integral(strokes.view(np.uint8), sdepth=cv2.CV_32S)
    inside = table[y1, x1] - table[y0, x1] - table[y1, x0] + table[y0, x0]
    density = inside / np.maximum(w * h, 1)
    return np.asarray(
        (h >= MIN_HEIGHT) & (h <= MAX_HEIGHT) & (w >= h // 2)
        & (density >= _MIN_DENSITY)
    )


def bands(
    strokes: npt.NDArray[np.bool_], labels: npt.NDArray[np.int32], label: int,
    y: int, x: int, h: int, w: int,
) -> npt.NDArray[np.int64]:
    """Component `label` cut into lines: (n, 4) boxes.

    Lines of a block touch (descenders, anti-aliased fringes), but between
    two lines the stroke count per row drops: the runs of rows with more
    than :data:`_CUT_FRACTION` of the strokes of the busiest row near them
    (within :data:`_CUT_SPAN` rows, so that a sparse line of thin or faint
    strokes is not lost beside a dense one) are the lines.
    """
    part = strokes[y : y + h, x : x + w] & (labels[y : y + h, x : x + w] == label)
    profile = part.sum(axis=1).astype(np.float32)
    busiest = cv2.dilate(profile[:, np.newaxis], np.ones((_CUT_SPAN, 1), np.uint8))[:, 0]
    # Rows (nearly) empty part lines whatever their neighbours; between such gaps, the
    # busiest row is taken within the stretch only, so that a sparse line ("Sex: M")
    # between dense ones, with gaps around it, is not taken for a gap itself.
    gaps = profile <= _GAP_FRACTION * busiest
    stretch = np.cumsum(gaps)
    for index in np.unique(stretch[~gaps]):
        rows = (stretch == index) & ~gaps
        busiest[rows] = np.minimum(busiest[rows], profile[rows].max())
    full = ~gaps & (profile > _CUT_FRACTION * busiest)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], full.view(np.int8), [0]])))
    out = []
    for top, bottom in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
        cols = np.flatnonzero(part[top:bottom].any(axis=0))
        if bottom - top >= MIN_HEIGHT and cols.size:
            out.append((y + top, x + int(cols[0]), y + bottom, x + int(cols[-1]) + 1))
    return np.array(out, dtype=np.int64).reshape(-1, 4)
