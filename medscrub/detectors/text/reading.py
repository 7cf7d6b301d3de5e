"""Reading candidates: crops made dark on white, stacked into mosaics, read by Tesseract.

Every candidate crop (plus, for a cine, the frames whose content differs inside
the box) is turned level, flattened against its local background into dark text
on white, upscaled so that its glyphs are :data:`_TARGET_GLYPH` pixels high, and
stacked into one mosaic, so Tesseract runs once per image (per
:data:`_MOSAIC_MAX_ROWS` of mosaic), never on the whole image and never once per
frame. A candidate that reads no text is read again, at a second scale where its
glyph height is doubtful and in the other polarity.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import NamedTuple

import cv2
import numpy as np
import numpy.typing as npt

from medscrub.detectors.ocr import read_words
from medscrub.detectors.text.decision import Word, reads_text
from medscrub.detectors.text.proposal import MAX_HEIGHT, MIN_GLYPH, MIN_HEIGHT, PAD, U8, Crop

__all__ = ["Task", "crop_key", "dark_on_white", "read_crops", "read_mosaics", "rescaled",
           "scale_for"]

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
_LOW_GLYPH, _HIGH_GLYPH = 0.5, 0.7  # glyph estimates below / above these fractions of the
_TWO_LINES = 2.5  # line height are doubtful; a high one is read again at 1 / this of it
_RESCALE = 0.25  # a second reading at a scale this much (relative) different, or none




class Task(NamedTuple):
    """One crop to read: its candidate, pixels, upscaling and glyph height."""

    candidate: int
    crop: Crop
    scale: float
    glyph: float
    flipped: bool = False  # read in the polarity its crop's vote did not choose


def scale_for(glyph: float) -> float:
    """The upscaling that makes glyphs `glyph` pixels high readable."""
    return float(np.clip(_TARGET_GLYPH / max(glyph, 1.0), 1.0, _MAX_SCALE))


def crop_key(crop: Crop, scale: float) -> bytes:
    """A digest of a crop as it would be read (its pixels, blanked pixels, scale)."""
    planes, blank = crop
    digest = hashlib.blake2b(planes.tobytes(), digest_size=16)
    digest.update(repr((planes.shape, scale)).encode())
    if blank is not None:
        digest.update(np.packbits(blank).tobytes())
    return digest.digest()


def dark_on_white(
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
    size = 2 * int(max(glyph, MIN_HEIGHT)) + 1
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
                & (stats[1:, cv2.CC_STAT_AREA] >= MIN_GLYPH)).sum())


def _mosaics(tasks: list[Task]) -> Iterator[tuple[U8, list[tuple[int, int, int, float]]]]:
    """Stack upscaled crops: (mosaic, [(candidate, top, height, scale), ...]) batches."""
    batch: list[tuple[int, U8, float]] = []
    rows = _MOSAIC_GAP
    for index, (planes, blank), scale, glyph, flipped in tasks:
        resized = cv2.resize(dark_on_white(planes, blank, glyph, flipped), None, fx=scale,
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


def read_crops(tasks: list[Task]) -> dict[int, list[Word]]:
    """OCR the crops; words by candidate index, in crop coordinates.

    A candidate none of whose crops reads as text is read again, first at a
    second scale where its glyph height is doubtful (noise specks taken for
    glyphs; two lines taken for one), then in the other polarity (dark
    anatomy beside faint dark text can win the polarity vote for the light
    side). Only candidates without text pay for these readings.
    """
    words = read_mosaics(tasks)
    for again in (rescaled, _flipped):
        retry = [again(t) for t in tasks if not reads_text(words.get(t.candidate, []))]
        for index, found in read_mosaics([t for t in retry if t is not None]).items():
            words.setdefault(index, []).extend(found)
    return words


def rescaled(task: Task) -> Task | None:
    """`task` at the scale of a second glyph estimate, or None where the first is plausible.

    An estimate under :data:`_LOW_GLYPH` of the line height is replaced by
    the line height; one over :data:`_HIGH_GLYPH` of a line tall enough for
    two is taken as two joined lines.
    """
    line = task.crop[0].shape[0] - 2 * PAD
    if task.glyph < _LOW_GLYPH * line:
        glyph = float(min(line, MAX_HEIGHT))
    elif task.glyph > _HIGH_GLYPH * line and line >= 2 * MIN_HEIGHT + 2:
        glyph = task.glyph / _TWO_LINES
    else:
        return None
    scale = scale_for(glyph)
    if abs(scale - task.scale) < _RESCALE * task.scale:
        return None
    return task._replace(scale=scale, glyph=glyph)


def _flipped(task: Task) -> Task:
    return task._replace(flipped=True)


def read_mosaics(tasks: list[Task]) -> dict[int, list[Word]]:
    """OCR the crops in mosaics; words by candidate index, in crop coordinates."""
    words: dict[int, list[Word]] = {}
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
                Word(word.text, y / scale, x / scale, (y + word.height) / scale,
                      (x + word.width) / scale, word.conf)
            )
    return words
