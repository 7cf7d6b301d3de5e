"""A generated evaluation set of photos with faces at known places.

The faces come from the sample images bundled inside scikit-image's wheel
(``astronaut.png``: a frontal portrait; ``camera.png``: a grayscale face in
profile; ``lfw_subset.npy``: 100 small grayscale frontal faces of different
people), so the set is built offline, deterministically. Each face is scaled,
rotated and blended (feathered ellipse) into a face-free background at a known
place; the ground-truth box is the bounding box of the source's face box after
the same transform. Cases cover face heights from 24 px up, in-plane rotation
up to +/-30 degrees, grayscale, two faces in one image, partial covering
(surgical mask, dark glasses band) and a small face on a 12-megapixel
background. :func:`negative_set` gives face-free images for false positives.

scikit-image is needed only here (the ``test`` dependency group: ``uv sync``).
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["FaceSample", "face_set", "negative_set"]

U8 = npt.NDArray[np.uint8]
Box = tuple[int, int, int, int]  # y0, x0, y1, x1, half-open


@dataclass(frozen=True, slots=True)
class FaceSample:
    """One generated image and where its faces are.

    Attributes
    ----------
    name : str
        What the case shows, e.g. ``"astronaut-h48-r15"``.
    image : numpy.ndarray
        ``(rows, cols, 3)`` uint8 RGB (grayscale cases have equal channels).
    faces : tuple of (y0, x0, y1, x1)
        Ground-truth face boxes, half-open pixel coordinates.
    """

    name: str
    image: U8
    faces: tuple[Box, ...]


@dataclass(frozen=True, slots=True)
class _Source:
    image: U8  # (rows, cols, 3) RGB
    face: Box  # the face in `image`: brows to chin, cheek to cheek


def _data_dir() -> Path:
    """The sample pictures inside scikit-image's wheel (found without importing it)."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("scikit-image is not installed (the test dependency group)")
    return Path(spec.origin).parent / "data"


@cache
def _png(name: str) -> U8:
    image = cv2.imread(str(_data_dir() / name), cv2.IMREAD_COLOR_RGB)
    if image is None:
        raise FileNotFoundError(f"scikit-image sample {name} is not bundled")
    return np.ascontiguousarray(image)


@cache
def _sources() -> dict[str, _Source]:
    """The faces: boxes annotated by hand on the bundled images."""
    sources = {
        "astronaut": _Source(_png("astronaut.png"), (58, 182, 178, 270)),
        "profile": _Source(_png("camera.png"), (117, 202, 197, 258)),
    }
    lfw = np.load(_data_dir() / "lfw_subset.npy")[:100]  # the first 100 are faces
    for i in range(0, 100, 5):
        face = cv2.resize((lfw[i] * 255).astype(np.uint8), (100, 100),
                          interpolation=cv2.INTER_CUBIC)
        # a frame of plain background around the tight crop gives the face some context
        canvas = np.pad(face, 50, mode="edge")
        sources[f"lfw{i:02d}"] = _Source(np.dstack([canvas] * 3), (58, 62, 146, 138))
    return sources


def _background(rows: int, cols: int, seed: int) -> U8:
    """A face-free scene: a bundled texture or a clinical-looking gradient with shapes."""
    rng = np.random.default_rng([7, seed])
    kind = seed % 4
    if kind < 3:
        texture = _png(("coffee.png", "brick.png", "rocket.jpg")[kind])
        if texture.ndim == 2 or texture.shape[2] == 1:
            texture = np.dstack([texture.reshape(texture.shape[:2])] * 3)
        return np.ascontiguousarray(cv2.resize(texture, (cols, rows),
                                               interpolation=cv2.INTER_LINEAR))
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float32)
    base = np.empty((rows, cols, 3), np.float32)
    tint = rng.uniform(150, 235, 3)
    for c in range(3):
        base[..., c] = tint[c] * (0.75 + 0.25 * (y / rows)) + 10 * np.sin(x / 37.0)
    image = np.clip(base, 0, 255).astype(np.uint8)
    for _ in range(6):
        y0, x0 = int(rng.integers(0, rows)), int(rng.integers(0, cols))
        colour = tuple(int(v) for v in rng.integers(40, 220, 3))
        cv2.rectangle(image, (x0, y0), (x0 + int(rng.integers(20, cols // 3)),
                                        y0 + int(rng.integers(20, rows // 3))), colour, -1)
    return image


def _place(
    canvas: U8, source: _Source, height: int, angle: float, centre: tuple[float, float]
) -> Box:
    """Blend `source`'s face, scaled to `height` and rotated by `angle`, at `centre` (y, x).

    Only a window around the face is warped and blended (the feathered ellipse
    does not reach further), so a large canvas costs no more than a small one.
    """
    fy0, fx0, fy1, fx1 = source.face
    scale = height / (fy1 - fy0)
    src_centre = ((fx0 + fx1) / 2, (fy0 + fy1) / 2)
    rows, cols = canvas.shape[:2]
    reach = math.ceil(1.6 * scale * max(fy1 - fy0, fx1 - fx0))
    wy0, wx0 = max(0, round(centre[0]) - reach), max(0, round(centre[1]) - reach)
    wy1, wx1 = min(rows, round(centre[0]) + reach), min(cols, round(centre[1]) + reach)
    matrix = cv2.getRotationMatrix2D(src_centre, angle, scale)
    matrix[:, 2] += np.array([centre[1] - src_centre[0], centre[0] - src_centre[1]])
    local = matrix.copy()
    local[:, 2] -= np.array([wx0, wy0], np.float64)
    size = (wx1 - wx0, wy1 - wy0)
    warped = cv2.warpAffine(source.image, local, size, flags=cv2.INTER_AREA)
    ellipse = np.zeros(source.image.shape[:2], np.float32)
    axes = (round((fx1 - fx0) * 0.95), round((fy1 - fy0) * 0.95))
    cv2.ellipse(ellipse, (round(src_centre[0]), round(src_centre[1])), axes, 0, 0, 360, 1.0, -1)
    alpha = cv2.GaussianBlur(ellipse, (0, 0), (fy1 - fy0) / 10)
    weight = cv2.warpAffine(alpha, local, size)[..., np.newaxis]
    window = canvas[wy0:wy1, wx0:wx1]
    window[...] = np.clip(window * (1 - weight) + warped * weight + 0.5, 0, 255).astype(np.uint8)
    corners = np.array([[fx0, fy0, 1], [fx1, fy0, 1], [fx0, fy1, 1], [fx1, fy1, 1]], np.float64)
    moved = corners @ matrix.T
    xs, ys = moved[:, 0], moved[:, 1]
    return (max(0, math.floor(ys.min())), max(0, math.floor(xs.min())),
            min(rows, math.ceil(ys.max())), min(cols, math.ceil(xs.max())))


def _cover(canvas: U8, box: Box, top: float, bottom: float, colour: tuple[int, int, int]) -> None:
    """Cover a horizontal band of a face box (fractions of its height)."""
    y0, x0, y1, x1 = box
    h = y1 - y0
    cv2.rectangle(canvas, (x0 - 2, y0 + round(h * top)), (x1 + 2, y0 + round(h * bottom)),
                  colour, -1)


def _gray(image: U8) -> U8:
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return np.ascontiguousarray(np.dstack([gray] * 3))


@cache
def face_set() -> tuple[FaceSample, ...]:
    """The evaluation set: every case, deterministic (built once per process).

    Returns
    -------
    tuple of FaceSample
        About 60 images, 480x640 unless the case needs another size; treat
        the arrays as read-only.
    """
    sources = _sources()
    samples: list[FaceSample] = []
    seed = 0

    def make(name: str, placements: list[tuple[str, int, float, tuple[float, float]]],
             shape: tuple[int, int] = (480, 640), gray: bool = False,
             covers: tuple[tuple[float, float, tuple[int, int, int]], ...] = ()) -> None:
        nonlocal seed
        seed += 1
        canvas = _background(*shape, seed)
        boxes = [_place(canvas, sources[src], h, a, c) for src, h, a, c in placements]
        for box in boxes:
            for top, bottom, colour in covers:
                _cover(canvas, box, top, bottom, colour)
        samples.append(FaceSample(name, _gray(canvas) if gray else canvas, tuple(boxes)))

    centre = (240.0, 320.0)
    for src in ("astronaut", "profile"):
        for height in (24, 32, 48, 64, 96, 160, 280):
            make(f"{src}-h{height}", [(src, height, 0.0, centre)])
        for angle in (-30.0, -15.0, 15.0, 30.0):
            make(f"{src}-h96-r{angle:+.0f}", [(src, 96, angle, centre)])
            make(f"{src}-h40-r{angle:+.0f}", [(src, 40, angle, centre)])
        for height in (32, 96):
            make(f"{src}-h{height}-gray", [(src, height, 0.0, centre)], gray=True)
    make("astronaut-mask", [("astronaut", 120, 0.0, centre)],
         covers=((0.55, 1.05, (140, 190, 215)),))
    make("astronaut-glasses", [("astronaut", 120, 0.0, centre)],
         covers=((0.22, 0.42, (20, 20, 25)),))
    make("profile-mask", [("profile", 120, 0.0, centre)], covers=((0.6, 1.05, (120, 170, 200)),))
    make("two-faces", [("astronaut", 110, 0.0, (220.0, 180.0)),
                       ("profile", 90, 10.0, (260.0, 470.0))])
    make("two-faces-small", [("astronaut", 36, 0.0, (120.0, 140.0)),
                             ("lfw10", 44, -10.0, (330.0, 500.0))])
    make("large-background", [("astronaut", 120, 0.0, (1900.0, 2600.0))], shape=(3024, 4032))
    make("large-background-profile", [("profile", 160, 0.0, (700.0, 900.0))],
         shape=(3024, 4032))
    lfw = [name for name in sources if name.startswith("lfw")]
    for i, name in enumerate(lfw):
        height = (28, 40, 64, 100)[i % 4]
        angle = (0.0, 12.0, -20.0, 0.0, 28.0)[i % 5]
        make(f"{name}-h{height}-r{angle:+.0f}", [(name, height, angle, centre)])
    return tuple(samples)


@cache
def negative_set() -> tuple[FaceSample, ...]:
    """Face-free images (textures, scenes, a wound close-up) for counting false positives."""
    samples = [FaceSample(f"background-{seed}", _background(480, 640, seed), ())
               for seed in range(1, 9)]
    for name in ("coffee.png", "chelsea.png", "rocket.jpg", "retina.jpg", "ihc.png"):
        samples.append(FaceSample(name.split(".")[0], _png(name), ()))
    return tuple(samples)
