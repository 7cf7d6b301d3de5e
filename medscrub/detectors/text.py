"""Burned-in text: find text lines with OpenCV, read them with Tesseract.

The work has three stages, and only the last one is slow:

1. **Proposal** (vectorized numpy/OpenCV, no Python loop over pixels). Each
   image becomes an 8-bit "ink" image: the brightest channel (so yellow,
   green or cyan overlays count as bright) plus the saturation, 16-bit data
   windowed from its 0.5th percentile to its maximum. A morphological
   gradient marks stroke outlines of either polarity, kept where a top-hat or
   black-hat responds too (thin strokes do, the step edges of anatomy and
   panels do not); the thresholds follow the noise level (a multiple of the
   median response) unless Otsu's is lower, so faint text is found. A
   horizontal dilation and connected components give boxes; blocks of
   touching lines are cut at their sparse rows (a loop over a few
   components), pieces of one line are joined, and boxes shaped like text
   lines are kept. The same is done on the transposed strokes for side text
   rotated by 90 degrees. For a cine, a per-pixel temporal range over
   sampled frames marks the static pixels: static text is proposed once on
   the temporal median, with moving pixels (speckle, anatomy) masked out; a
   few sampled frames are proposed unmasked to catch text that changes
   (counters, clocks).
2. **Reading**. Every candidate crop (plus, for a cine, up to
   :data:`_MAX_VARIANTS` frames whose content differs inside the box) is
   turned level (side text both ways), flattened against its local
   background (a median wider than a glyph) into dark text on white,
   upscaled so that its glyphs are :data:`_TARGET_GLYPH` pixels high, and
   stacked into one mosaic, so Tesseract runs once per image (per
   :data:`_MOSAIC_MAX_ROWS` of mosaic), never on the whole image and never
   once per frame. A candidate that reads no text is read again, at a
   second scale where its glyph height is doubtful and in the other
   polarity.
3. **Deciding**. Words are grouped into runs (words of one line with no wide
   gap); a run is PHI when it contains a header hint (names, IDs, places,
   birth-date spellings; compared after folding the OCR confusions
   O/0, I/l/1, S/5, B/8, Z/2, and allowing an edit or two in long hints) or a
   generic identifier (numeric dates, dates with a month name, 6+ digit
   runs, telephone numbers). A PHI run is reported across its whole
   candidate line, so a name split into tokens is covered end to end. OCR
   text never leaves this module: it is not stored, logged or returned.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import cv2
import numpy as np
import numpy.typing as npt

from medscrub.detectors import Context, register_detector
from medscrub.detectors.ocr import ocr_missing, read_words
from medscrub.detectors.scene_text import text_lines
from medscrub.hints import PhiHints
from medscrub.model import Region

__all__ = ["TextDetector"]

U8 = npt.NDArray[np.uint8]
_Crop = tuple[U8, npt.NDArray[np.bool_] | None]  # ink planes, pixels to blank

# Proposal
_HAT = (7, 7)  # top-hat / black-hat kernel: wider than a stroke
_HAT_FLOOR = 15  # lowest gradient and hat threshold (8-bit levels)
_NOISE_FACTOR = 2.5  # threshold, in median responses (noise), unless Otsu's is lower
_FAINT_BACKGROUND = (15, 15)  # local background of faint text (box mean), pixels
_FAINT_SIGMAS = 1.25  # faint glyph pixels: this many noise deviations from the background
_FAINT_AREA = 6  # smallest faint glyph component, pixels
_FAINT_WIDEST = 3.0  # widest faint glyph component (a few touching glyphs), in heights
_STATIC_TOLERANCE = 24  # temporal range (8-bit levels) still counted as static
_MEDIAN_FRAMES = 15  # frames sampled for the temporal median and range
_DYNAMIC_FRAMES = 3  # frames proposed without the static mask
_JOIN = (3, 9)  # dilation (rows, cols) joining glyphs into lines
_MIN_HEIGHT, _MAX_HEIGHT = 6, 80  # text line height, pixels
_MIN_DENSITY = 0.12  # stroke pixels / box area
_MAX_SPLITS = 64  # components cut into lines, per image (largest first)
_CUT_FRACTION = 0.35  # rows with fewer strokes (of the busiest row near them) part lines
_CUT_SPAN = 21  # rows around a row among which the busiest is taken
_MIN_GLYPH = 4  # smallest stroke component counted as a glyph (height and pixels)
_SAME_LINE = 0.6  # shared rows (fraction of the lower box) of boxes on one line
_LINE_GAP = 1.0  # widest gap (line heights) inside a line
_UPRIGHT = 2.0  # side text: height at least this many widths
_SIDE_SPAN = 0.8  # side text: height at most this fraction of the image's
_PAD = 2  # pixels around a candidate crop
_UPRIGHT = 2.0  # a photo's text line this many times taller than wide is turned
_MAX_CANDIDATES = 256  # per image: boxes beyond this are dropped, largest kept

# Reading
_TARGET_GLYPH = 28.0  # glyph height Tesseract reads best, pixels
_MAX_SCALE = 4.0
_INK_PERCENTILE = 99.0  # the flattened crop's ink at this percentile becomes black
_INK_NOISE = 2.0  # ink within this many noise deviations of the background stays white
_GRAINY = 2.0  # crops whose noise deviation (8-bit levels) is this or more are smoothed
_SMOOTH = 0.6  # Gaussian blur (sigma, pixels) of a grainy crop's ink before it is stretched
_SMOOTHED_NOISE = 0.35  # the ink floor left by that blur, as a fraction of the noise floor
_MIXED, _MIXED_PIECES = 0.5, 4  # both polarities read when the fewer glyph pieces are
# at least this fraction of the more, and this many
_INK_FLOOR = 1.0  # ink is stretched to black by at least this many times its noise floor
_MOSAIC_GAP = 24  # white rows between crops in the mosaic
_MOSAIC_MAX_ROWS = 6000
_REMEMBERED = 1024  # crops whose words a detector keeps (its looks at one image)
_MAX_VARIANTS = 3  # differing frames read per candidate
_LOW_GLYPH, _HIGH_GLYPH = 0.5, 0.7  # glyph estimates below / above these fractions of the
_TWO_LINES = 2.5  # line height are doubtful; a high one is read again at 1 / this of it
_RESCALE = 0.25  # a second reading at a scale this much (relative) different, or none
_VARIANT_TOLERANCE = 8.0  # mean absolute difference (8-bit levels) that makes a variant
_MIN_CONFIDENCE = 30.0  # a run is text when a word is read with more (0..100),
_MIN_SHORT_CONFIDENCE = 10.0  # or when it has this and _MIN_CHARS alphanumerics
_MIN_CHARS = 3
_SURE, _SURE_SHORT = 60.0, 80.0  # all-text mode: confidence that makes a run surely text
_SHORT_RUN = 3  # lower-case words of this many letters or fewer need _SURE_SHORT
_LONG_WORD, _LONG_WORD_VARIETY = 8, 5  # a word this long, of this many distinct characters,
# is text at any confidence

# Deciding
_RUN_GAP = 2.0  # a gap wider than this many line heights ends a run
_ONE_LINE = 1.6  # a box at most this many run heights tall holds one line
_MARGIN = 2  # pixels added around a reported run
_SPLIT_DIGITS = re.compile(r"(?<=\d)\s+(?=\d)")  # "MRN8823 1907": an ID the OCR split
_CONFUSIONS = str.maketrans("OILSBZ|", "0115821")
_MIN_HINT = 3  # shortest hint token compared
_TELLING_HINT = 6  # a hint token this long, read at any confidence, makes a run PHI
_PLACE_WORDS = frozenset(
    {"THE", "AND", "DEPT", "DEPARTMENT", "HOSPITAL", "CLINIC", "CENTER", "CENTRE", "MEDICAL",
     "RADIOLOGY", "IMAGING", "ROAD", "STREET", "LANE", "UNIVERSITY", "HEALTH", "SAINT"}
)
#: Words that label or name an identifier: a line holding one is PHI even where its
#: value is misread (compared after folding OCR confusions, as whole words).
_LABELS = frozenset(
    "".join(ch for ch in word if ch.isalnum()).translate(_CONFUSIONS)
    for word in (
        "NAME", "PATIENT", "PAT", "PT", "MRN", "ID", "PID", "DOB", "BIRTH", "BORN", "AGE",
        "SEX", "ACC", "ACCESSION", "ADDRESS", "PHONE", "TEL", "NHS", "SSN", "HOSPITAL", "CLINIC",
        "INFIRMARY", "MEDICAL", "CTR", "CENTRE", "CENTER", "INSTITUTE", "INSTITUTION",
        "UNIVERSITY", "STUDY", "DATE",
    )
)
_GENERIC = re.compile(
    r"(?<![A-Za-z0-9])\+?\d[\d ()-]{7,}\d(?![A-Za-z0-9])"  # telephone numbers
    r"|\d{6,}"  # record numbers, accession numbers, compact dates (also inside words)
)
_NUMERIC_DATE = re.compile(  # 2021-12-31, 31/12/2021, 12.31.21 (OCR may space them)
    r"(?<![A-Za-z0-9])(\d{1,4}) ?[./-] ?(\d{1,2}) ?[./-] ?(\d{1,4})(?![A-Za-z0-9])"
)
_MONTH = r"(?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)[A-Z]*"
_TEXT_DATE = re.compile(  # dates with a month name: 12-Dec-2022, 24-MAY-02, 12 December
    # 2022, Dec 12, 2022, 2013 Jul 13
    rf"(?<![A-Z0-9])(?:\d{{1,2}}[ ./-]*{_MONTH}[ ./,-]*\d{{2,4}}"
    rf"|{_MONTH}[ ./-]*\d{{1,2}}[ ,./-]+\d{{4}}"
    rf"|\d{{4}}[ ./-]*{_MONTH}[ ./-]*\d{{1,2}})(?![A-Z0-9])",
    re.IGNORECASE,
)


@register_detector
class TextDetector:
    """Burned-in text found with OpenCV and read with Tesseract (``"tesseract"``).

    Examples
    --------
    >>> detector = TextDetector()
    >>> regions = detector.detect(frames, Context(photometric="RGB"))  # doctest: +SKIP
    """

    name: ClassVar[str] = "tesseract"
    finds: ClassVar[frozenset[str]] = frozenset({"text"})

    def __init__(self) -> None:
        self._memo: OrderedDict[bytes, list[_Word]] = OrderedDict()

    def is_available(self) -> bool:
        """Return True if Tesseract and a way to call it are installed."""
        return not ocr_missing()

    def unavailable_reason(self) -> str:
        """Say what is missing and how to install it (``""`` when available)."""
        missing = ocr_missing()
        return "; ".join(missing)

    def detect(self, frames: npt.NDArray[Any], context: Context) -> Sequence[Region]:
        """Find burned-in text in `frames`.

        Parameters
        ----------
        frames : numpy.ndarray
            ``(n_frames, rows, cols, samples)``, any integer or float dtype.
        context : Context
            ``bits_stored`` windows wide data; ``mode`` decides which text is
            PHI; ``hints`` are the strings to look for in ``"phi"`` mode.

        Returns
        -------
        list[Region]
            One region per run of words (kind ``"text"``, detector
            ``"tesseract"``, every frame). In ``"all-text"`` mode all are PHI;
            in ``"phi"`` mode, runs without identifiers have ``phi=False``.

        Raises
        ------
        ValueError
            If `frames` is not 4-D.
        """
        if frames.ndim != 4:
            raise ValueError(f"expected (n_frames, rows, cols, samples), got shape {frames.shape}")
        if frames.size == 0:
            return []
        ink = _Ink.of(frames, context.bits_stored)
        candidates = _scene_lines(ink) if context.photo else _propose(ink)
        if not candidates:
            return []
        words = self._read_remembered([
            _Task(i, _turn(crop, box.turns), _scale_for(box.glyph_height()), box.glyph_height())
            for i, box in enumerate(candidates)
            for crop in ink.crops(box)
        ])
        matcher = _Matcher(context.hints)
        regions: set[Region] = set()
        for i, box in enumerate(candidates):
            runs = [r for read in words.get(i, []) for r in _runs(read)
                    if _is_text(r) or matcher.names_hint(r)]
            if context.mode == "all-text":  # all text goes: the whole line as proposed
                # (what phi mode would remove included: all-text removes no less)
                runs = [r for r in runs if _is_sure_text(r) or matcher.is_phi(r)]
                if runs:
                    regions.add(_region([w for r in runs for w in r], box, ink.shape, True))
                continue
            regions.update(_region(r, box, ink.shape, matcher.is_phi(r)) for r in runs)
        return sorted(regions, key=lambda r: (r.y0, r.x0, r.y1, r.x1, r.phi, r.score))

    def _read_remembered(
        self, tasks: list[_Task]
    ) -> dict[int, list[list[_Word]]]:
        """Words by candidate, a list per crop; crops read lately are not read again.

        Verifying a redaction looks at the same image again: a crop read before
        (same pixels, same scale) gives the same words. The words of the last
        :data:`_REMEMBERED` crops are kept, in memory only. Crops are read in
        mosaics, whose make-up can change what Tesseract reads in a crop, so one
        detector serves one image: what it remembers never depends on other files.
        """
        keys = [_crop_key(task.crop, task.scale) for task in tasks]
        unread = {key: task for key, task in zip(keys, tasks, strict=True)
                  if key not in self._memo}
        found = _read([task._replace(candidate=n) for n, task in enumerate(unread.values())])
        for n, key in enumerate(unread):
            self._memo[key] = found.get(n, [])
        words: dict[int, list[list[_Word]]] = {}
        for task, key in zip(tasks, keys, strict=True):
            self._memo.move_to_end(key)
            words.setdefault(task.candidate, []).append(self._memo[key])
        while len(self._memo) > _REMEMBERED:
            self._memo.popitem(last=False)
        return words


# ---------------------------------------------------------------------------
# Proposal
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Box:
    y0: int
    x0: int
    y1: int
    x1: int
    frame: int | None = None  # the frame it was proposed on; None: the temporal median
    glyph: float = 0.0  # typical glyph height inside, pixels (0: unknown)
    turns: int = 0  # text rotated by this many quarter turns counter-clockwise

    def glyph_height(self) -> float:
        """Its glyph height, or for want of one its line height."""
        if self.glyph > 0:
            return self.glyph
        return float((self.x1 - self.x0 if self.turns % 2 else self.y1 - self.y0) - 2 * _PAD)



@dataclass(frozen=True, slots=True)
class _Ink:
    """8-bit views of a frame stack for proposing and reading text."""

    frames: npt.NDArray[Any]  # the input stack (read lazily, box by box)
    lo: float  # window of non-8-bit data
    hi: float
    median: U8  # (rows, cols, planes): temporal median of the planes
    static: npt.NDArray[np.bool_] | None  # (rows, cols); None for one frame

    @property
    def shape(self) -> tuple[int, int]:
        return self.median.shape[0], self.median.shape[1]

    @classmethod
    def of(cls, frames: npt.NDArray[Any], bits_stored: int | None) -> _Ink:
        n = frames.shape[0]
        sample = frames[np.unique(np.linspace(0, n - 1, min(n, _MEDIAN_FRAMES)).astype(int))]
        lo, hi = _window(sample, bits_stored)
        planes = _planes(sample, lo, hi)
        if n == 1:
            return cls(frames, lo, hi, planes[0], None)
        median = np.median(planes, axis=0).astype(np.uint8)
        spread = planes.max(axis=0) - planes.min(axis=0)
        static = spread.max(axis=-1) <= _STATIC_TOLERANCE
        return cls(frames, lo, hi, median, static)

    def planes(self, index: slice | int = slice(None), box: _Box | None = None) -> U8:
        """Ink planes ``(frames, rows, cols, planes)`` of `index`, inside `box`."""
        part = self.frames[index]
        if part.ndim == 3:
            part = part[np.newaxis]
        if box is not None:
            part = part[:, box.y0 : box.y1, box.x0 : box.x1]
        return _planes(part, self.lo, self.hi)

    def crops(self, box: _Box) -> list[_Crop]:
        """The crop of `box` it was proposed on, then up to :data:`_MAX_VARIANTS` others.

        The others are the frames that differ most inside `box` from the crops
        already taken. Moving pixels (speckle, anatomy) are blanked in a
        median crop.
        """
        if self.static is None:
            return [(self.median[box.y0 : box.y1, box.x0 : box.x1], None)]
        if box.frame is None:
            base = self.median[box.y0 : box.y1, box.x0 : box.x1]
            moving = ~self.static[box.y0 : box.y1, box.x0 : box.x1]
        else:
            base, moving = self.planes(box.frame, box)[0], None
        out: list[_Crop] = [(base, moving)]
        stack = self.planes(box=box).astype(np.int16)
        diff = np.abs(stack - base).mean(axis=(1, 2, 3))
        while len(out) <= _MAX_VARIANTS and diff.max() > _VARIANT_TOLERANCE:
            pick = stack[int(diff.argmax())]
            out.append((pick.astype(np.uint8), None))
            diff = np.minimum(diff, np.abs(stack - pick).mean(axis=(1, 2, 3)))
        return out


def _turn(crop: _Crop, turns: int) -> _Crop:
    """`crop` turned so that text rotated by `turns` quarter turns reads level."""
    if not turns:
        return crop
    planes, blank = crop
    return (np.ascontiguousarray(np.rot90(planes, -turns)),
            None if blank is None else np.ascontiguousarray(np.rot90(blank, -turns)))


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
    # element-wise over the three channels: 9x quicker than reducing the last axis
    red, green, blue = data[..., 0], data[..., 1], data[..., 2]
    bright = np.maximum(np.maximum(red, green), blue)
    saturation = bright - np.minimum(np.minimum(red, green), blue)
    return np.stack([bright, saturation], axis=-1)


def _propose(ink: _Ink) -> list[_Box]:
    """Candidate text-line boxes: static text on the median, changing text on a few frames."""
    boxes = _line_boxes(ink.median, ink.static)
    if ink.static is not None:
        n = ink.frames.shape[0]
        for index in np.unique(np.linspace(0, n - 1, min(n, _DYNAMIC_FRAMES)).astype(int)):
            frame = ink.planes(int(index))[0]
            boxes += [
                _Box(b.y0, b.x0, b.y1, b.x1, int(index), b.glyph, b.turns)
                for b in _line_boxes(frame, None)
                if not _overlaps(b, boxes)
            ]
    if len(boxes) > _MAX_CANDIDATES:
        boxes = sorted(boxes, key=lambda b: (b.y1 - b.y0) * (b.x1 - b.x0))[-_MAX_CANDIDATES:]
    return boxes


def _scene_lines(ink: _Ink) -> list[_Box]:
    """Candidate line boxes of a photo, from the learned text-line model.

    The stroke cues of :func:`_propose` take the texture of skin, gauze and
    fabric for glyphs (hundreds of candidates on a wound photo, each read by
    OCR); a model trained on scene text does not. It sees the brightest channel
    (the first ink plane), as the reader does. Lines much taller than wide are
    read turned a quarter (labels along an edge).
    """
    brightest = np.repeat(ink.median[..., :1], 3, axis=-1)  # the model reads RGB
    rows, cols = ink.shape
    boxes = []
    for y0, x0, y1, x1 in text_lines(brightest):
        turns = 1 if y1 - y0 > _UPRIGHT * (x1 - x0) else 0
        boxes.append(_Box(max(0, y0 - _PAD), max(0, x0 - _PAD), min(rows, y1 + _PAD),
                          min(cols, x1 + _PAD), None, 0.0, turns))
    return boxes[:_MAX_CANDIDATES]


def _overlaps(box: _Box, others: list[_Box]) -> bool:
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
            glyph = (h >= _MIN_GLYPH) & (h <= _MAX_HEIGHT // 2) & (area >= _FAINT_AREA)
            glyph &= (area <= 0.6 * h * w + 1) & (w <= _FAINT_WIDEST * h)
            glyph[0] = False
            out |= glyph[labels]
    return out


def _threshold(response: U8) -> float:
    otsu, _ = cv2.threshold(response, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    noise = float(np.median(response[::2, ::2]))
    return max(min(otsu, _NOISE_FACTOR * noise), _HAT_FLOOR)


def _line_boxes(planes: U8, static: npt.NDArray[np.bool_] | None) -> list[_Box]:
    """Boxes shaped like text lines in one image of ink planes ``(rows, cols, planes)``."""
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
    level = [_Box(*b) for b in found[wide].tolist()]
    upright &= np.array([not _overlaps(_Box(*b), level) for b in side.tolist()], dtype=bool)
    standing = [_Box(*b) for b in side[upright].tolist()]
    keep = wide | np.array([not _overlaps(_Box(*b), standing) for b in found.tolist()], dtype=bool)
    found, glyphs = found[keep], glyphs[keep]
    found = np.concatenate([found, side[upright], side[upright]])
    glyphs = np.concatenate([glyphs, side_glyphs[upright], side_glyphs[upright]])
    turns = [0] * (len(found) - 2 * int(upright.sum()))
    turns += [1] * int(upright.sum()) + [3] * int(upright.sum())
    rows, cols = strokes.shape
    y0, x0 = np.maximum(found[:, 0] - _PAD, 0), np.maximum(found[:, 1] - _PAD, 0)
    y1, x1 = np.minimum(found[:, 2] + _PAD, rows), np.minimum(found[:, 3] + _PAD, cols)
    return [
        _Box(b0, c0, b1, c1, None, glyph, turn)
        for b0, c0, b1, c1, glyph, turn in zip(
            y0.tolist(), x0.tolist(), y1.tolist(), x1.tolist(), glyphs.tolist(), turns,
            strict=True,
        )
    ]


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
    split = np.flatnonzero((h >= 2 * _MIN_HEIGHT + 2) & (w >= _MIN_HEIGHT))
    split = split[np.argsort(-(w[split] * h[split]))][:_MAX_SPLITS]
    labelled = np.asarray(labels, dtype=np.int32)
    for i in split.tolist():
        bands = _bands(strokes, labelled, i + 1, int(y[i]), int(x[i]), int(h[i]), int(w[i]))
        if len(bands) > 1 or not keep[i]:
            keep[i] = False
            ok = _text_shaped(strokes, bands[:, 0], bands[:, 1], bands[:, 2], bands[:, 3])
            boxes.append(bands[ok])
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
    real = (gh >= _MIN_GLYPH) & (gh <= _MAX_HEIGHT) & (stats[1:, 4] >= _MIN_GLYPH)
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
        (h >= _MIN_HEIGHT) & (h <= _MAX_HEIGHT) & (w >= h // 2)
        & (density >= _MIN_DENSITY)
    )


def _bands(
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
    full = profile > _CUT_FRACTION * busiest
    edges = np.flatnonzero(np.diff(np.concatenate([[0], full.view(np.int8), [0]])))
    out = []
    for top, bottom in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
        cols = np.flatnonzero(part[top:bottom].any(axis=0))
        if bottom - top >= _MIN_HEIGHT and cols.size:
            out.append((y + top, x + int(cols[0]), y + bottom, x + int(cols[-1]) + 1))
    return np.array(out, dtype=np.int64).reshape(-1, 4)


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


class _Task(NamedTuple):
    """One crop to read: its candidate, pixels, upscaling and glyph height."""

    candidate: int
    crop: _Crop
    scale: float
    glyph: float
    flipped: bool = False  # read in the polarity its crop's vote did not choose


def _scale_for(glyph: float) -> float:
    """The upscaling that makes glyphs `glyph` pixels high readable."""
    return float(np.clip(_TARGET_GLYPH / max(glyph, 1.0), 1.0, _MAX_SCALE))


@dataclass(frozen=True, slots=True)
class _Word:
    """One OCR word in crop coordinates (relative to its candidate box)."""

    text: str
    y0: float
    x0: float
    y1: float
    x1: float
    conf: float


def _crop_key(crop: _Crop, scale: float) -> bytes:
    """A digest of a crop as it would be read (its pixels, blanked pixels, scale)."""
    planes, blank = crop
    digest = hashlib.blake2b(planes.tobytes(), digest_size=16)
    digest.update(repr((planes.shape, scale)).encode())
    if blank is not None:
        digest.update(np.packbits(blank).tobytes())
    return digest.digest()


def _dark_on_white(
    planes: U8, blank: npt.NDArray[np.bool_] | None, glyph: float, flipped: bool = False
) -> U8:
    """The plane with most contrast, flattened, as dark text on a white background.

    The background (a median wider than a glyph) is subtracted, so text over
    anatomy, gradients or panel edges keeps its contrast everywhere along the
    line. The text's polarity is the side of the crop's border level (its
    background) with more glyph-sized pieces: broad dark or bright shapes
    beside the text (anatomy, edges) do not decide it; a crop with many of
    both (a light title bar over a dark menu) keeps both as ink. `flipped`
    takes the polarity the vote did not choose. Ink within
    :data:`_INK_NOISE` noise deviations of the background stays white (a
    grainy crop's ink is smoothed first, and its floor is lower); the rest is
    stretched to black glyph by glyph (by the strongest smoothed ink near it).
    Pixels in `blank` are set to the background.
    """
    keep = None if blank is None else ~blank
    if keep is not None and not keep.any():
        return np.full(planes.shape[:2], 255, np.uint8)
    plane = 0
    if planes.shape[-1] > 1:
        values = planes.reshape(-1, planes.shape[-1]) if keep is None else planes[keep]
        plane = int(values.std(axis=0).argmax())
    gray = planes[..., plane].copy()
    if keep is not None:
        gray[~keep] = np.median(gray[keep])
    size = 2 * int(max(glyph, _MIN_HEIGHT)) + 1
    background = cv2.medianBlur(gray, min(size, 255))
    diff = gray.astype(np.float32) - background.astype(np.float32)
    noise = _INK_NOISE * 1.4826 * float(np.median(np.abs(diff)))
    edge = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    around = gray.astype(np.float32) - float(np.median(edge))  # against the crop's border
    bottom, top = np.percentile(around, [100.0 - _INK_PERCENTILE, _INK_PERCENTILE])
    light, dark = _glyphs(around, top, glyph, noise), _glyphs(-around, -bottom, glyph, noise)
    fewer = min(light, dark)
    if not flipped and fewer >= _MIXED_PIECES and fewer >= _MIXED * max(light, dark):
        ink = np.abs(diff)  # lines of both polarities (a title bar over a menu): both read
    else:
        ink = diff if (light >= dark) != flipped else -diff
    if noise >= _INK_NOISE * _GRAINY:  # grainy: smoothed first, which lowers the noise floor
        ink = np.asarray(cv2.GaussianBlur(ink, (0, 0), _SMOOTH), dtype=np.float32)
        noise *= _SMOOTHED_NOISE
    ink = np.clip(ink - noise, 0, None)
    # Each glyph stretched by the strongest ink near it: text whose contrast varies
    # along the line (over anatomy, across a gradient) comes out evenly dark.
    near = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    top = np.maximum(cv2.dilate(cv2.GaussianBlur(ink, (3, 3), 0), near), _INK_FLOOR * noise + 1.0)
    return np.asarray(255.0 - np.clip(ink * (255.0 / top), 0, 255), dtype=np.uint8)


def _glyphs(ink: npt.NDArray[np.float32], top: float, glyph: float, noise: float) -> int:
    """How many glyph-sized pieces stand out (above `noise`, and a quarter of `top`, the
    :data:`_INK_PERCENTILE` of `ink`) on the positive side of `ink`."""
    if top <= noise or top <= 0:
        return 0
    marks = ink > max(noise, top / 4)
    _, _, stats, _ = cv2.connectedComponentsWithStats(marks.view(np.uint8), connectivity=8)
    height = stats[1:, cv2.CC_STAT_HEIGHT]
    return int(((height >= 0.4 * glyph) & (height <= 1.5 * glyph)
                & (stats[1:, cv2.CC_STAT_AREA] >= _MIN_GLYPH)).sum())


def _mosaics(tasks: list[_Task]) -> Iterator[tuple[U8, list[tuple[int, int, int, float]]]]:
    """Stack upscaled crops: (mosaic, [(candidate, top, height, scale), ...]) batches."""
    batch: list[tuple[int, U8, float]] = []
    rows = _MOSAIC_GAP
    for index, (planes, blank), scale, glyph, flipped in tasks:
        resized = cv2.resize(_dark_on_white(planes, blank, glyph, flipped), None, fx=scale,
                             fy=scale, interpolation=cv2.INTER_CUBIC)
        gray = np.asarray(resized, dtype=np.uint8)
        if batch and rows + gray.shape[0] > _MOSAIC_MAX_ROWS:
            yield _stack(batch)
            batch, rows = [], _MOSAIC_GAP
        batch.append((index, gray, scale))
        rows += gray.shape[0] + _MOSAIC_GAP
    if batch:
        yield _stack(batch)


def _stack(batch: list[tuple[int, U8, float]]) -> tuple[U8, list[tuple[int, int, int, float]]]:
    width = max(g.shape[1] for _, g, _ in batch) + 2 * _MOSAIC_GAP
    height = sum(g.shape[0] + _MOSAIC_GAP for _, g, _ in batch) + _MOSAIC_GAP
    mosaic = np.full((height, width), 255, np.uint8)
    places = []
    top = _MOSAIC_GAP
    for index, gray, scale in batch:
        mosaic[top : top + gray.shape[0], _MOSAIC_GAP : _MOSAIC_GAP + gray.shape[1]] = gray
        places.append((index, top, gray.shape[0], scale))
        top += gray.shape[0] + _MOSAIC_GAP
    return mosaic, places


def _read(tasks: list[_Task]) -> dict[int, list[_Word]]:
    """OCR the crops; words by candidate index, in crop coordinates.

    A candidate none of whose crops reads as text is read again, first at a
    second scale where its glyph height is doubtful (noise specks taken for
    glyphs; two lines taken for one), then in the other polarity (dark
    anatomy beside faint dark text can win the polarity vote for the light
    side). Only candidates without text pay for these readings.
    """
    words = _read_mosaics(tasks)
    for again in (_rescaled, _flipped):
        retry = [again(t) for t in tasks if not _reads_text(words.get(t.candidate, []))]
        for index, found in _read_mosaics([t for t in retry if t is not None]).items():
            words.setdefault(index, []).extend(found)
    return words


def _rescaled(task: _Task) -> _Task | None:
    """`task` at the scale of a second glyph estimate, or None where the first is plausible.

    An estimate under :data:`_LOW_GLYPH` of the line height is replaced by
    the line height; one over :data:`_HIGH_GLYPH` of a line tall enough for
    two is taken as two joined lines.
    """
    line = task.crop[0].shape[0] - 2 * _PAD
    if task.glyph < _LOW_GLYPH * line:
        glyph = float(min(line, _MAX_HEIGHT))
    elif task.glyph > _HIGH_GLYPH * line and line >= 2 * _MIN_HEIGHT + 2:
        glyph = task.glyph / _TWO_LINES
    else:
        return None
    scale = _scale_for(glyph)
    if abs(scale - task.scale) < _RESCALE * task.scale:
        return None
    return task._replace(scale=scale, glyph=glyph)


def _flipped(task: _Task) -> _Task:
    return task._replace(flipped=True)


def _reads_text(words: list[_Word]) -> bool:
    """Whether `words` hold a run of text of :data:`_MIN_CHARS` or more alphanumerics."""
    return any(
        _is_text(run) and sum(ch.isalnum() for w in run for ch in w.text) >= _MIN_CHARS
        for run in _runs(words)
    )


def _read_mosaics(tasks: list[_Task]) -> dict[int, list[_Word]]:
    """OCR the crops in mosaics; words by candidate index, in crop coordinates."""
    words: dict[int, list[_Word]] = {}
    for mosaic, places in _mosaics(tasks):
        tops = np.array([top for _, top, _, _ in places])
        for word in read_words(mosaic):
            if word.conf < 0 or not any(ch.isalnum() for ch in word.text):
                continue
            middle = word.top + word.height / 2
            slot = int(np.searchsorted(tops, middle, side="right")) - 1
            if slot < 0:
                continue
            index, crop_top, crop_height, scale = places[slot]
            if middle > crop_top + crop_height:
                continue
            x = word.left - _MOSAIC_GAP
            y = word.top - crop_top
            words.setdefault(index, []).append(
                _Word(word.text, y / scale, x / scale, (y + word.height) / scale,
                      (x + word.width) / scale, word.conf)
            )
    return words


# ---------------------------------------------------------------------------
# Deciding
# ---------------------------------------------------------------------------


def _runs(words: list[_Word]) -> list[list[_Word]]:
    """Group words into runs: same line, no gap wider than :data:`_RUN_GAP` heights."""
    runs: list[list[_Word]] = []
    for word in sorted(words, key=lambda w: (w.x0, w.y0)):
        height = word.y1 - word.y0
        for run in runs:
            last = run[-1]
            same_line = word.y0 < last.y1 and last.y0 < word.y1
            if same_line and word.x0 - last.x1 <= _RUN_GAP * max(height, last.y1 - last.y0):
                run.append(word)
                break
        else:
            runs.append([word])
    return runs


def _is_text(run: list[_Word]) -> bool:
    """Whether a run is text rather than OCR noise (short words read with low confidence)."""
    best = max(w.conf for w in run)
    chars = sum(ch.isalnum() for w in run for ch in w.text)
    return (best > _MIN_CONFIDENCE or (best >= _MIN_SHORT_CONFIDENCE and chars >= _MIN_CHARS)
            or _spells_word(run))


def _is_sure_text(run: list[_Word]) -> bool:
    """Whether a run is surely text: it spells a long word, or one of its words is sure.

    A word is sure when read with :data:`_SURE` confidence, but one or two
    alphanumerics only in capitals or digits (side markers, view codes) read with
    :data:`_SURE_SHORT`, and a short lower-case word (:data:`_SHORT_RUN` letters or
    fewer) only with :data:`_SURE_SHORT`. Stripes, the tips of anatomy and the edges
    of buttons and fills read as short words ("w", "u", "mid"), or as a confident
    letter beside noise ("F", "vy;r?e?"), are not.
    """
    return _spells_word(run) or any(_is_sure_word(word) for word in run)


def _is_sure_word(word: _Word) -> bool:
    chars = "".join(ch for ch in word.text if ch.isalnum())
    if len(chars) <= 2:
        return word.conf >= _SURE_SHORT and not any(ch.islower() for ch in chars)
    if len(chars) <= _SHORT_RUN and chars.islower():
        return word.conf >= _SURE_SHORT
    return word.conf >= _SURE


def _spells_word(run: list[_Word]) -> bool:
    """Whether a run holds a long word of varied characters, whatever its confidence.

    Tesseract can rate a cleanly read word near 0 (a name with one odd sign
    in it, "DOE^JANE"). Noise and stripes read as short words or as runs of
    one letter ("lllll"), not as these.
    """
    for word in run:
        chars = [ch for ch in word.text.upper() if ch.isalnum()]
        if len(chars) >= _LONG_WORD and len(set(chars)) >= _LONG_WORD_VARIETY:
            return True
    return False


def _region(run: list[_Word], box: _Box, shape: tuple[int, int], phi: bool) -> Region:
    """The image box of a run of words in candidate `box`, over every frame.

    A PHI run also covers the whole width of its candidate (and its height
    when the candidate holds one line), so that words the OCR missed or split
    are covered too; a margin of :data:`_MARGIN` is added.
    """
    rows, cols = shape
    if box.turns:  # side text: the whole (one-line) box
        run = [_Word("", _PAD, _PAD, box.y1 - box.y0 - _PAD, box.x1 - box.x0 - _PAD,
                     float(np.mean([w.conf for w in run])))]
    y0 = box.y0 + min(w.y0 for w in run)
    x0 = box.x0 + min(w.x0 for w in run)
    y1 = box.y0 + max(w.y1 for w in run)
    x1 = box.x0 + max(w.x1 for w in run)
    if phi:  # the whole line; rows of other lines in a multi-line box are left alone
        x0, x1 = min(x0, box.x0), max(x1, box.x1)
        if box.y1 - box.y0 <= _ONE_LINE * (y1 - y0) + 2 * _PAD:
            y0, y1 = min(y0, box.y0 + _PAD), max(y1, box.y1 - _PAD)
    return Region(
        y0=max(0, int(np.floor(y0)) - _MARGIN),
        x0=max(0, int(np.floor(x0)) - _MARGIN),
        y1=min(rows, int(np.ceil(y1)) + _MARGIN),
        x1=min(cols, int(np.ceil(x1)) + _MARGIN),
        kind="text",
        detector=TextDetector.name,
        score=round(float(np.mean([w.conf for w in run])) / 100.0, 3),
        phi=phi,
    )


def _fold(text: str) -> str:
    """Upper-case alphanumerics with OCR confusions folded (O->0, I/L->1, S->5, ...)."""
    return "".join(ch for ch in text.upper() if ch.isalnum()).translate(_CONFUSIONS)


def _digits(text: str) -> str:
    """`text` with confusable letters read as digits inside mostly-numeric tokens."""

    def fix(match: re.Match[str]) -> str:
        token = match.group()
        digits = sum(ch.isdigit() for ch in token)
        return token.upper().translate(_CONFUSIONS) if digits * 2 >= len(token) else token

    return re.sub(r"[A-Za-z0-9|]+", fix, text)


class _Matcher:
    """Decides whether a run of words holds an identifier."""

    def __init__(self, hints: PhiHints) -> None:
        tokens: set[str] = set()
        for hint in hints.all():
            tokens.add(_fold(hint))
        for hint in hints.names | hints.places:
            tokens.update(
                _fold(part) for part in re.split(r"[^0-9A-Za-z]+", hint)
                if part.upper() not in _PLACE_WORDS
            )
        self._tokens = sorted((t for t in tokens if len(t) >= _MIN_HINT), key=len, reverse=True)
        self._pairs = {t: _pairs(t) for t in self._tokens}

    def names_hint(self, run: list[_Word]) -> bool:
        """Whether a run holds a hint token of :data:`_TELLING_HINT` characters or more.

        Such a run is PHI even when Tesseract reads it with little confidence:
        noise does not spell a patient's name or record number.
        """
        return self._has_token(_fold(_digits(" ".join(w.text for w in run))), _TELLING_HINT)

    def is_phi(self, run: list[_Word]) -> bool:
        raw = " ".join(w.text for w in run)
        if any(_is_label(token) for token in re.split(r"[^0-9A-Za-z|]+", raw)):
            return True
        text = _digits(raw)
        if any(_GENERIC.search(t) or _has_date(t) for t in (text, _SPLIT_DIGITS.sub("", text))):
            return True
        if _TEXT_DATE.search(" ".join(w.text for w in run)):
            return True
        return self._has_token(_fold(text), _MIN_HINT)

    def _has_token(self, folded: str, shortest: int) -> bool:
        """Whether `folded` holds a hint token of `shortest` characters or more (OCR errors
        allowed). Tokens sharing too few character pairs with it are passed over unread."""
        present = _pairs(folded)
        for token in self._tokens:
            if len(token) < shortest:
                break
            errors = _allowed_errors(token)
            # An edit spoils at most two of a token's pairs: fewer shared pairs, no match.
            if len(self._pairs[token] & present) >= len(self._pairs[token]) - 2 * errors and \
                    _contains(folded, token, errors):
                return True
        return False


def _is_label(token: str) -> bool:
    """Whether a token read is an identifier label ("NAMES" too: a colon read as S).

    Short labels in lower case ("id", "pt") are not counted: overlays write
    them in capitals, and OCR reads noise as short lower-case words.
    """
    if len(token) <= 3 and token.islower():
        return False
    folded = _fold(token)
    return folded in _LABELS or (len(folded) >= 5 and folded[:-1] in _LABELS)


def _has_date(text: str) -> bool:
    """Whether `text` holds a numeric date: day, month and year in a common order."""
    for match in _NUMERIC_DATE.finditer(text):
        first, middle, last = match.groups()
        a, b, c = int(first), int(middle), int(last)
        if len(first) == 4:  # year-month-day
            if 1 <= b <= 12 and 1 <= c <= 31 and len(last) <= 2:
                return True
        elif len(last) in (2, 4) and 1 <= a <= 31 and 1 <= b <= 31 and min(a, b) <= 12:
            return True  # day-month-year or month-day-year
    return False


def _pairs(text: str) -> set[str]:
    """The distinct adjacent character pairs of `text`."""
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _allowed_errors(token: str) -> int:
    return 0 if len(token) < 5 else 1 if len(token) < 9 else 2


def _contains(text: str, pattern: str, errors: int) -> bool:
    """True if some substring of `text` is within `errors` edits of `pattern` (Sellers)."""
    if errors == 0 or len(pattern) <= errors:
        return pattern in text
    column = list(range(len(pattern) + 1))
    for ch in text:
        new = [0]
        for i, expected in enumerate(pattern, start=1):
            new.append(min(column[i] + 1, new[i - 1] + 1, column[i - 1] + (ch != expected)))
        if new[-1] <= errors:
            return True
        column = new
    return False
