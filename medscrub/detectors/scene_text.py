"""Text lines in photos, found by PP-OCRv4's text detector on onnxruntime.

The model (``medscrub/weights/ppocr_v4_det.onnx``, Apache-2.0, from the
``rapidocr-onnxruntime`` 1.4.4 wheel; provenance beside it) is a
differentiable-binarisation network: it returns, for every pixel, the
probability that it belongs to a text line. Lines are the connected regions
above :data:`_BINARY`, kept when their mean probability passes
:data:`_BOX_SCORE`, and grown by the model's shrink ratio (:data:`_UNCLIP`) to
cover the whole line. It was trained on scene text (signs, labels, documents,
handwriting), so skin, gauze and fabric, which the stroke cues of the classical
proposal take for glyphs, stay below its thresholds.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from medscrub.detectors.onnx import session
from medscrub.errors import DetectorError

__all__ = ["MODEL", "text_lines"]

MODEL = "ppocr_v4_det.onnx"
_LONG_SIDE = 1280  # images are shrunk to at most this longer side ...
_SHORT_SIDE = 736  # ... and small ones enlarged towards this shorter side (the model's own)
_ALIGN = 32  # input sides are multiples of this
_BINARY = 0.3  # probability a text pixel passes
_BOX_SCORE = 0.5  # mean probability a line passes
_UNCLIP = 1.6  # the model finds lines shrunk by this ratio of area to perimeter
_MIN_SIDE = 3  # model pixels: thinner regions are specks
_MAX_LINES = 1000

U8 = npt.NDArray[np.uint8]
Box = tuple[int, int, int, int]
Line = tuple[int, int, int, int, float]  # y0, x0, y1, x1, tilt (degrees, counter-clockwise)


def text_lines(image: U8) -> list[Line]:
    """The text lines in one 8-bit RGB ``(rows, cols, 3)`` or grey ``(rows, cols)`` image:
    ``(y0, x0, y1, x1, tilt)``, the box around each line and the angle of its long side
    (degrees counter-clockwise, -90 to 90). A grey image is shrunk first, then given to
    the model as three equal channels.

    Raises
    ------
    DetectorError
        If the model's output is not a probability map of the input's size.
    """
    rows, cols = image.shape[:2]
    scale = min(_LONG_SIDE / max(rows, cols), max(1.0, _SHORT_SIDE / min(rows, cols)))
    h = max(_ALIGN, round(rows * scale / _ALIGN) * _ALIGN)
    w = max(_ALIGN, round(cols * scale / _ALIGN) * _ALIGN)
    shrink = cv2.INTER_AREA if h < rows else cv2.INTER_LINEAR
    resized = np.asarray(cv2.resize(image, (w, h), interpolation=shrink), dtype=np.float32)
    scaled = resized / 127.5 - 1.0
    planes = [scaled] * 3 if scaled.ndim == 2 else [scaled[..., c] for c in (2, 1, 0)]  # BGR
    blob = np.stack(planes)[None]
    (out,) = session(MODEL).run(None, {"x": np.ascontiguousarray(blob)})
    prob = np.asarray(out, np.float32)
    if prob.shape != (1, 1, h, w) or not np.isfinite(prob).all() or prob.min() < 0 or (
            prob.max() > 1):
        raise DetectorError("the text line model gave no probability map of the image")
    return _lines(prob[0, 0], rows / h, cols / w, rows, cols)


def _lines(prob: npt.NDArray[np.float32], sy: float, sx: float, rows: int,
           cols: int) -> list[Line]:
    """Line boxes in image pixels, and their tilts, from the model's probability map."""
    bitmap = cv2.dilate((prob > _BINARY).view(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    found: list[Line] = []
    for contour in contours[:_MAX_LINES]:
        (cx, cy), (width, height), angle = cv2.minAreaRect(contour)
        if min(width, height) < _MIN_SIDE:
            continue
        x, y, bw, bh = cv2.boundingRect(contour)
        inside = np.zeros((bh, bw), np.uint8)
        cv2.fillPoly(inside, [contour - np.array([x, y])], 1)
        if cv2.mean(prob[y:y + bh, x:x + bw], mask=inside)[0] < _BOX_SCORE:
            continue
        grow = width * height * _UNCLIP / (2 * (width + height))
        corners = cv2.boxPoints(((cx, cy), (width + 2 * grow, height + 2 * grow), angle))
        (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
        box = (max(0, int(np.floor(y0 * sy))), max(0, int(np.floor(x0 * sx))),
               min(rows, int(np.ceil(y1 * sy))), min(cols, int(np.ceil(x1 * sx))))
        if box[2] > box[0] and box[3] > box[1]:
            found.append((*box, _tilt(corners * np.array([sx, sy]))))
    return sorted(found)


def _tilt(corners: npt.NDArray[np.float64]) -> float:
    """The angle of a rectangle's long side, degrees counter-clockwise (-90 to 90]."""
    edges = np.diff(np.concatenate([corners, corners[:1]]), axis=0)
    dx, dy = edges[int(np.argmax(np.hypot(edges[:, 0], edges[:, 1])))]
    angle = float(np.degrees(np.arctan2(-dy, dx)))  # rows run down: up is -dy
    return angle - 180.0 if angle > 90.0 else angle + 180.0 if angle <= -90.0 else angle
