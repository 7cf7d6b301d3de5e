"""A held-out burned-in text set: DICOM images with vendor-style text overlays.

Each case is one DICOM image (CT, MR, MG, DX or CR; MONOCHROME2 or MONOCHROME1;
Bits Allocated 16 with Bits Stored 10, 12 or 16) whose synthetic anatomy covers the
whole matrix (smooth shapes, texture and noise; never a flat background) and carries
text drawn the way modality vendors burn it in:

* straight over the anatomy, with no banner or box behind it;
* bold sans-serif glyphs 10 to 16 px high (capital height), not anti-aliased, at the
  extreme stored value that displays white (the maximum stored value in MONOCHROME2,
  zero in MONOCHROME1), each glyph with a one-pixel outline at the opposite extreme;
* ``Label: value`` lines stacked in the corners (``Name: DOE^JANE``, ``ID: 4821337``,
  ``DOB: 06/16/1976``, ``Age: 047Y``, ``Sex: F``, ``Study: 2013 Jul 13``, an
  institution), dates written in many forms (``06/16/1976``, ``16.06.1976``,
  ``1976-06-16``, ``24-MAY-02``, ``2013 Jul 13``, ``13 JUL 2013``);
* in a third of the cases a line along the left edge, turned 90 degrees
  (``MUSTERMANN 5093318``, read bottom to top);
* lines that identify nobody (``L``, ``PA ERECT``, ``kVp 120``, ``WL 40 WW 400``).

The anatomy often uses only part of the stored range (a CR with 10 bits stored and
values up to 255) and the Window Center/Width may not match the values. Every case
has its own clearly fake patient, and its header holds the same name, ID, birth date,
sex, age, study date and institution as its pixels.

Ground truth: one :class:`OverlayBox` per drawn line, the tight half-open box around
the pixels the line changed (glyphs and outline; the anatomy never takes either
extreme value, so every one of those pixels changed), flagged ``phi``.

Determinism: the pixels are built from PCG64 integers with integer arithmetic only,
the text by FreeType without anti-aliasing and with Pillow's basic layout, from the
fixed list :data:`FONT_FILES`. A seed gives the same bytes on any machine with the
same versions of numpy, Pillow, pydicom and the font packages. Case ``i`` does not
depend on ``count``: a smaller set is a prefix of a larger one.

This set is written apart from :mod:`medscrub_testing.textset` and from the text
detector, to measure the detector on data it was not tuned on.
"""

from __future__ import annotations

import json
import os
import pathlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from itertools import product
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    ComputedRadiographyImageStorage,
    CTImageStorage,
    DigitalMammographyXRayImageStorageForPresentation,
    DigitalXRayImageStorageForPresentation,
    ExplicitVRLittleEndian,
    MRImageStorage,
    generate_uid,
)

__all__ = [
    "BITS_STORED",
    "COMBINATIONS",
    "FONT_FILES",
    "GROUND_TRUTH_NAME",
    "MODALITIES",
    "PHOTOMETRICS",
    "OverlayBox",
    "OverlayCase",
    "generate_overlay_set",
    "glyph_values",
    "load_overlay_ground_truth",
    "write_overlay_set",
]

Int = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

MODALITIES: tuple[str, ...] = ("CT", "MR", "MG", "DX", "CR")
PHOTOMETRICS: tuple[str, ...] = ("MONOCHROME2", "MONOCHROME1")
BITS_STORED: tuple[int, ...] = (10, 12, 16)
#: Every (modality, photometric, bits stored); a set of 60 has each twice.
COMBINATIONS: tuple[tuple[str, str, int], ...] = tuple(
    product(MODALITIES, PHOTOMETRICS, BITS_STORED))

#: The bold sans-serif TrueType faces the text is drawn in, with the Debian package of each.
FONT_FILES: tuple[tuple[str, str], ...] = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "fonts-dejavu-core"),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf", "fonts-dejavu-core"),
    ("/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf", "fonts-liberation"),
    ("/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Bold.ttf", "fonts-liberation"),
    ("/usr/share/fonts/truetype/liberation/LiberationMono-Bold.ttf", "fonts-liberation"),
    ("/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf", "fonts-liberation2"),
    ("/usr/share/fonts/truetype/liberation2/LiberationMono-Bold.ttf", "fonts-liberation2"),
    ("/usr/share/fonts/truetype/freefont/FreeSansBold.ttf", "fonts-freefont-ttf"),
)

#: File name of the ground truth written by :func:`write_overlay_set`.
GROUND_TRUTH_NAME = "overlay_ground_truth.json"

# Placeholder names nobody carries as a real name (each pair is used once per set).
_FAMILY_NAMES = (
    "DOE", "ROE", "MUSTERMANN", "MUSTERFRAU", "BLOGGS", "PUBLIC", "SMITHEE", "NOBODY",
    "TESTPERSON", "FAKENAME", "EXAMPLE", "SAMPLEMAN", "DUMMY", "PHANTOM", "SYNTHETIC",
    "NEMO", "TESTCASE", "SPECIMEN", "MOCKUP", "NONEXISTENT",
)
_GIVEN_NAMES = (
    ("JANE", "F"), ("JOHN", "M"), ("ERIKA", "F"), ("MAX", "M"), ("JOE", "M"),
    ("JOAN", "F"), ("ALAN", "M"), ("TESTINA", "F"), ("FAKEY", "M"), ("MOCKA", "F"),
    ("DUMMIE", "F"), ("PLACIDO", "M"), ("EXEMPLA", "F"), ("NOMEN", "M"), ("ANONYMA", "F"),
    ("SYNTHO", "M"),
)
_INSTITUTIONS = (
    "ST ELSEWHERE HOSPITAL", "NOWHERE VALLEY CLINIC", "FICTIONAL COUNTY GENERAL",
    "PLACEHOLDER UNIV HOSPITAL", "EXAMPLE HEALTH IMAGING", "TESTVILLE REGIONAL",
    "SYNTHETIC IMAGING INST", "FAKEBURY INFIRMARY",
)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
#: Date spellings; the first four have a four-digit year (birth dates use only those).
_DATE_STYLES = ("mdy/", "dmy.", "iso", "dmy words", "ymd words", "dmy-yy")

_SIZES: dict[str, tuple[tuple[int, int], ...]] = {  # (rows, columns)
    "CT": ((256, 256), (384, 384), (512, 512)),
    "MR": ((256, 256), (320, 256), (384, 384), (448, 448)),
    "MG": ((972, 800), (800, 640), (640, 512)),
    "DX": ((972, 800), (800, 800), (512, 640), (640, 512)),
    "CR": ((972, 800), (800, 972), (768, 640), (512, 512)),
}
_SOP_CLASSES: dict[str, UID] = {
    "CT": CTImageStorage,
    "MR": MRImageStorage,
    "MG": DigitalMammographyXRayImageStorageForPresentation,
    "DX": DigitalXRayImageStorageForPresentation,
    "CR": ComputedRadiographyImageStorage,
}
_TECHNICAL: dict[str, tuple[str, ...]] = {  # lines that identify nobody
    "CT": ("kVp 120", "mA 250", "WL 40 WW 400", "W 350 L 50", "5.0 mm", "SFOV 50cm",
           "Tilt 0.0", "Se 3 Im 45", "STND"),
    "MR": ("TR 520 TE 14", "1.5T", "3.0T", "SE T1", "FSE T2", "FOV 24x24", "ET 8",
           "W 900 L 450", "Se 4 Im 12"),
    "MG": ("kVp 28 mAs 80", "Mo/Rh", "W/Rh", "CF 10 daN", "AGD 1.2 mGy"),
    "DX": ("kVp 120", "mAs 2.5", "EI 1450", "S 200", "PORTABLE", "GRID"),
    "CR": ("kVp 110", "mAs 3.2", "S 180", "L 2.1", "PORTABLE", "GRID"),
}
_GAP = 2  # at least this many untouched pixels between two lines' boxes
_NAME_PAIRS = len(_FAMILY_NAMES) * len(_GIVEN_NAMES)
_ID_STEP = 7_654_321  # coprime with 9_000_000: patient IDs are distinct within a set


# ---------------------------------------------------------------------------
# Public types
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OverlayBox:
    """One drawn text line: the half-open box ``[y0, y1) x [x0, x1)`` of its pixels.

    Attributes
    ----------
    y0, x0, y1, x1 : int
        Tight box around every pixel the line changed (glyphs and outline).
    phi : bool
        Whether the line identifies the patient, the study or the institution.
    text : str
        The text drawn.
    fields : tuple of str
        Header keywords whose values the text shows (empty when ``phi`` is False).
    vertical : bool
        The line runs along the left edge, turned 90 degrees (read bottom to top).
    """

    y0: int
    x0: int
    y1: int
    x1: int
    phi: bool
    text: str
    fields: tuple[str, ...] = ()
    vertical: bool = False

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-serialisable dict (``fields`` as a list)."""
        return {"y0": self.y0, "x0": self.x0, "y1": self.y1, "x1": self.x1, "phi": self.phi,
                "text": self.text, "fields": list(self.fields), "vertical": self.vertical}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OverlayBox:
        """Build a box from :meth:`to_dict` output.

        Parameters
        ----------
        data : dict
            As :meth:`to_dict` returns it (or as read back from JSON).

        Returns
        -------
        OverlayBox
        """
        return cls(y0=int(data["y0"]), x0=int(data["x0"]), y1=int(data["y1"]),
                   x1=int(data["x1"]), phi=bool(data["phi"]), text=str(data["text"]),
                   fields=tuple(str(f) for f in data.get("fields", ())),
                   vertical=bool(data.get("vertical", False)))


@dataclass(frozen=True, slots=True)
class OverlayCase:
    """One generated image with its ground truth.

    Attributes
    ----------
    name : str
        File stem, e.g. ``"ovl007_CR_M1_10b"`` (index, modality, photometric, bits).
    dataset : pydicom.FileDataset
        The DICOM object, text burned into its Pixel Data.
    boxes : tuple of OverlayBox
        Every line drawn.
    anatomy : numpy.ndarray
        ``(rows, cols)`` uint16: the stored values before any text was drawn.
    """

    name: str
    dataset: FileDataset
    boxes: tuple[OverlayBox, ...]
    anatomy: npt.NDArray[np.uint16]

    def to_bytes(self) -> bytes:
        """Return the DICOM file's bytes (preamble, file meta, Explicit VR Little Endian)."""
        buf = DicomBytesIO()
        self.dataset.save_as(buf, enforce_file_format=True)
        return bytes(buf.getvalue())


def glyph_values(photometric: str, bits_stored: int) -> tuple[int, int]:
    """Return the stored values of glyphs and of their outline.

    Parameters
    ----------
    photometric : str
        ``"MONOCHROME2"`` or ``"MONOCHROME1"``.
    bits_stored : int
        Bits Stored of the image.

    Returns
    -------
    tuple of int
        ``(glyph, outline)``: the extreme that displays white, then the one that
        displays black.
    """
    top = (1 << bits_stored) - 1
    return (0, top) if photometric == "MONOCHROME1" else (top, 0)


# ---------------------------------------------------------------------------
# Fonts and glyphs
# ---------------------------------------------------------------------------


def _check_fonts() -> None:
    missing = [(path, package) for path, package in FONT_FILES if not os.path.isfile(path)]
    if missing:
        named = "; ".join(f"{path} (Debian package {package})" for path, package in missing)
        raise FileNotFoundError(f"font file missing for the overlay set: {named}")


@cache
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.BASIC)


@cache
def _glyphs(path: str, size: int, text: str) -> Mask:
    """The text's pixels (no anti-aliasing), cropped tight."""
    font = _font(path, size)
    left, top, right, bottom = (int(v) for v in font.getbbox(text))
    img = Image.new("L", (right - left + 8, bottom - top + 8), 0)
    draw = ImageDraw.Draw(img)
    draw.fontmode = "1"
    draw.text((4 - left, 4 - top), text, font=font, fill=255)
    mask = np.asarray(img) > 127
    ys = np.flatnonzero(mask.any(axis=1))
    xs = np.flatnonzero(mask.any(axis=0))
    tight: Mask = mask[ys[0]:ys[-1] + 1, xs[0]:xs[-1] + 1]
    tight.flags.writeable = False
    return tight


@cache
def _size_for(path: str, height: int) -> int:
    """The smallest font size whose capital H is at least `height` pixels high."""
    size = height
    while _glyphs(path, size, "H").shape[0] < height:
        size += 1
    return size


def _with_outline(glyphs: Mask) -> tuple[Mask, Mask]:
    """`glyphs` padded by one pixel, and the one-pixel ring (8-connected) around them."""
    inner = np.pad(glyphs, 1)
    rows, cols = inner.shape
    around = np.pad(inner, 1)
    grown = np.zeros_like(inner)
    for dy in range(3):
        for dx in range(3):
            grown |= around[dy:dy + rows, dx:dx + cols]
    return inner, grown & ~inner


# ---------------------------------------------------------------------------
# Integer image building blocks
# ---------------------------------------------------------------------------


def _box_blur(a: Int, r: int) -> Int:
    """Mean over a (2r+1)^2 window (edges repeated), rounded down: exact integers."""
    k = 2 * r + 1
    padded = np.pad(a, r, mode="edge")
    c = np.cumsum(padded, axis=0, dtype=np.int64)
    c = np.concatenate((np.zeros((1, c.shape[1]), np.int64), c), axis=0)
    s = c[k:] - c[:-k]
    c = np.cumsum(s, axis=1, dtype=np.int64)
    c = np.concatenate((np.zeros((c.shape[0], 1), np.int64), c), axis=1)
    out: Int = (c[:, k:] - c[:, :-k]) // (k * k)
    return out


def _stretch(coarse: Int, n: int, cell: int, offset: int, axis: int) -> Int:
    """Linear interpolation of `coarse` along `axis` onto `n` samples, `cell` apart
    (scaled by `cell`: divide once both axes are done)."""
    pos = np.arange(n, dtype=np.int64) + offset
    idx, frac = pos // cell, pos % cell
    lo, hi = np.take(coarse, idx, axis=axis), np.take(coarse, idx + 1, axis=axis)
    shape = (n, 1) if axis == 0 else (1, n)
    out: Int = lo * (cell - frac).reshape(shape) + hi * frac.reshape(shape)
    return out


def _texture(rng: np.random.Generator, shape: tuple[int, int], cell_y: int, cell_x: int,
             amp: int) -> Int:
    """Smooth random relief of roughly +/-`amp`, features about `cell` pixels wide."""
    rows, cols = shape
    coarse = rng.integers(-amp, amp + 1, size=(rows // cell_y + 3, cols // cell_x + 3))
    coarse = _box_blur(coarse.astype(np.int64), 1) * 2
    oy, ox = int(rng.integers(cell_y)), int(rng.integers(cell_x))
    out = _stretch(coarse, rows, cell_y, oy, 0)
    out = _stretch(out, cols, cell_x, ox, 1)
    result: Int = out // (cell_y * cell_x)
    return result


def _noise(rng: np.random.Generator, shape: tuple[int, int], amp: int) -> Int:
    """Pixel noise: the sum of two uniform integers in [-amp, amp] (triangular)."""
    draws = rng.integers(-amp, amp + 1, size=(2, *shape), dtype=np.int64)
    out: Int = draws[0] + draws[1]
    return out


# Turns of an ellipse as integer (cos, sin, hypotenuse): Pythagorean triples, so the
# shapes need no trigonometry (about 16, 23 and 37 degrees; _BACK turns the other way).
_UPRIGHT = (1, 0, 1)
_TURN_16, _TURN_16_BACK = (24, 7, 25), (24, -7, 25)
_TURN_23 = (12, 5, 13)
_TURN_37, _TURN_37_BACK = (4, 3, 5), (4, -3, 5)


class _Plane:
    """Integer pixel coordinates of one image and the shapes drawn on them."""

    def __init__(self, rows: int, cols: int) -> None:
        self.rows, self.cols = rows, cols
        grid = np.indices((rows, cols), dtype=np.int64)
        self.yy: Int = grid[0]
        self.xx: Int = grid[1]

    def y(self, percent: int) -> int:
        return self.rows * percent // 100

    def x(self, percent: int) -> int:
        return self.cols * percent // 100

    def ellipse(self, cy: int, cx: int, ry: int, rx: int,
                turn: tuple[int, int, int] = _UPRIGHT) -> Mask:
        c, s, h = turn
        dy, dx = self.yy - cy, self.xx - cx
        u, w = dx * c + dy * s, dy * c - dx * s
        out: Mask = (u * ry) ** 2 + (w * rx) ** 2 <= (h * rx * ry) ** 2
        return out

    def band_x(self, cx: int, half: int) -> Mask:
        out: Mask = np.abs(self.xx - cx) <= half
        return out

    def ring(self, inside: Mask, width: int) -> Mask:
        """The pixels of `inside` within about `width` pixels of its edge."""
        core = _box_blur(inside.astype(np.int64) * 1000, width) >= 1000
        out: Mask = inside & ~core
        return out


# ---------------------------------------------------------------------------
# Anatomy: display brightness in arbitrary units (about 0..4000, bone bright)
# ---------------------------------------------------------------------------


def _ct(rng: np.random.Generator, p: _Plane) -> Int:
    """An axial slice: chest (lungs with vessels, heart, spine, ribs, table) or head."""
    v = np.full((p.rows, p.cols), 90, np.int64)
    shape = (p.rows, p.cols)
    cy, cx = p.y(50), p.x(50)
    if rng.integers(2) == 0:  # chest
        body = p.ellipse(p.y(52), cx, p.y(35), p.x(45))
        v[body] = 950
        v[p.ellipse(p.y(52), cx, p.y(31), p.x(41))] = 1150
        lungs = (p.ellipse(p.y(47), p.x(31), p.y(23), p.x(14), _TURN_16)
                 | p.ellipse(p.y(47), p.x(69), p.y(23), p.x(14), _TURN_16_BACK))
        v[lungs] = 260
        v[p.ellipse(p.y(54), p.x(54), p.y(12), p.x(13), _TURN_23)] = 1250
        v[p.ellipse(p.y(42), p.x(55), p.y(4), p.x(4))] = 1400
        v[p.ellipse(p.y(75), cx, p.y(7), p.x(7))] = 2300
        v[p.ellipse(p.y(75), cx, p.y(5), p.x(5))] = 1800
        v[p.ellipse(p.y(84), cx, p.y(3), p.x(2))] = 1000
        ribs = body & ~p.ellipse(p.y(52), cx, p.y(32), p.x(42)) & (
            (p.xx * 7 + p.yy * 3) % (p.x(9) * 7 + 7) < p.x(2) * 7 + 7)
        v[ribs & (p.yy > p.y(30))] = 2400
        v[(p.yy >= p.y(90)) & (p.yy < p.y(93))] = 700  # table
        vessels = _texture(rng, shape, 3, 3, 1200) - 420
        v[lungs] += np.clip(vessels, 0, None)[lungs]
    else:  # head
        v[p.ellipse(cy, cx, p.y(43), p.x(36))] = 1100
        skull = p.ellipse(cy, cx, p.y(40), p.x(33))
        v[skull] = 2700
        brain = p.ellipse(cy, cx, p.y(37), p.x(30))
        v[brain] = 1200 + (_texture(rng, shape, 6, 6, 300) // 2)[brain]
        v[p.ellipse(p.y(47), p.x(45), p.y(9), p.x(3), _TURN_37)] = 700
        v[p.ellipse(p.y(47), p.x(55), p.y(9), p.x(3), _TURN_37_BACK)] = 700
    v = _box_blur(v, 1)
    v += _texture(rng, shape, 24, 24, 260) + _texture(rng, shape, 5, 5, 140)
    return v + _noise(rng, shape, 35)


def _mr(rng: np.random.Generator, p: _Plane) -> Int:
    """A T1-like axial head (gyri) or sagittal knee (marrow, cortex, muscle fibres)."""
    shape = (p.rows, p.cols)
    v = np.full(shape, 80, np.int64)
    cy, cx = p.y(50), p.x(50)
    if rng.integers(2) == 0:  # head, T1-like
        head = p.ellipse(cy, cx, p.y(44), p.x(37))
        v[head] = 2500
        v[p.ellipse(cy, cx, p.y(41), p.x(34))] = 350
        v[p.ellipse(cy, cx, p.y(39), p.x(32))] = 800
        brain = p.ellipse(cy, cx, p.y(37), p.x(30))
        gyri = _texture(rng, shape, 7, 7, 500)
        v[brain] = np.where(gyri > 0, 2000, 1500)[brain]
        v[p.ellipse(p.y(47), p.x(45), p.y(10), p.x(3), _TURN_37)] = 650
        v[p.ellipse(p.y(47), p.x(55), p.y(10), p.x(3), _TURN_37_BACK)] = 650
    else:  # knee, sagittal
        leg = p.band_x(cx, p.x(33))
        v[leg] = 2300
        muscle = p.band_x(cx, p.x(29))
        v[muscle] = (900 + _texture(rng, shape, 14, 3, 250))[muscle]
        femur = (p.band_x(p.x(47), p.x(10)) & (p.yy < p.y(45))) | p.ellipse(
            p.y(45), p.x(47), p.y(13), p.x(17))
        tibia = (p.band_x(p.x(49), p.x(9)) & (p.yy > p.y(58))) | p.ellipse(
            p.y(60), p.x(49), p.y(6), p.x(16))
        bone = femur | tibia
        v[p.ring(p.ellipse(p.y(45), p.x(47), p.y(15), p.x(19)), 3)] = 1300  # cartilage
        v[bone] = (2200 + _texture(rng, shape, 4, 4, 300))[bone]
        v[p.ring(bone, 2)] = 150
        v[p.ellipse(p.y(38), p.x(70), p.y(9), p.x(4))] = 2100  # patella
        acl = np.abs((p.yy - p.y(52)) * 3 - (p.xx - p.x(47)) * 4) <= p.x(2) * 5
        v[acl & p.ellipse(p.y(52), p.x(47), p.y(6), p.x(6))] = 200
    v = _box_blur(v, 1) + _texture(rng, shape, 20, 20, 240) + _texture(rng, shape, 4, 4, 120)
    magnitude: Int = np.abs(v + _noise(rng, shape, 45))  # Rician-like: noise never negative
    return magnitude


def _mg(rng: np.random.Generator, p: _Plane) -> Int:
    """A breast against the left or right edge: dense tissue, skin, calcifications,
    the pectoral muscle in half the views."""
    shape = (p.rows, p.cols)
    v = np.full(shape, 140, np.int64)
    from_wall = p.xx if rng.integers(2) == 0 else p.cols - 1 - p.xx
    cy, ry, rx = p.y(50), p.y(45), p.x(72)
    breast = ((p.yy - cy) * rx) ** 2 + (from_wall * ry) ** 2 <= (rx * ry) ** 2
    v[breast] = 1000
    inner = ((p.yy - cy) * rx) ** 2 + (from_wall * ry * 4 // 3) ** 2 <= (rx * ry * 3 // 4) ** 2
    dense = _texture(rng, shape, 12, 16, 900) + _texture(rng, shape, 4, 4, 350)
    v[inner] += np.clip(dense, 0, None)[inner]
    v[p.ring(breast, 2)] = 1400
    if rng.integers(2) == 0:  # MLO: the pectoral muscle in the upper corner
        a, b = p.x(30), p.y(42)
        v[(from_wall * b + p.yy * a < a * b)] = 1800
    for _ in range(int(rng.integers(3, 9))):
        y, x = int(rng.integers(p.y(25), p.y(75))), int(rng.integers(p.x(5), p.x(40)))
        x = x if from_wall[0, 0] == 0 else p.cols - 1 - x
        v[p.ellipse(y, x, 2, 2)] = 3400
    v = _box_blur(v, 1) + _texture(rng, shape, 40, 40, 200)
    return v + _noise(rng, shape, 30)


def _radiograph(rng: np.random.Generator, p: _Plane) -> Int:
    """A chest (lungs with markings, ribs, clavicles, heart, spine) or an AP knee."""
    shape = (p.rows, p.cols)
    v = np.full(shape, 280, np.int64)
    cx = p.x(50)
    if rng.integers(2) == 0:  # chest PA/AP
        trunk = p.ellipse(p.y(62), cx, p.y(62), p.x(47)) | p.ellipse(
            p.y(14), cx, p.y(14), p.x(50))
        v[trunk] = 1500
        lungs = (p.ellipse(p.y(42), p.x(30), p.y(29), p.x(15), _TURN_16_BACK)
                 | p.ellipse(p.y(42), p.x(70), p.y(29), p.x(15), _TURN_16))
        v[lungs] = 650
        v[p.band_x(cx, p.x(7)) & (p.yy < p.y(72))] = 1900
        v[p.ellipse(p.y(58), p.x(56), p.y(13), p.x(17))] = 1950
        v[trunk & (p.yy * 100 > p.y(70) * 100 + (p.xx - cx) ** 2 * 60 // p.cols)] = 1900
        spine = p.band_x(cx, p.x(4)) & trunk
        v[spine] = np.where((p.yy // max(4, p.y(4))) % 3 == 0, 2000, 2400)[spine]
        curve = p.yy * p.cols - (p.xx - cx) ** 2 * 2 // 3  # posterior ribs bend down
        period, thick = p.y(6) * p.cols, p.y(1) * p.cols + p.cols
        ribs = ((curve - p.y(16) * p.cols) % period < thick) & (curve > p.y(14) * p.cols)
        v[ribs & lungs] += 380
        clavicles = (np.abs((p.yy - p.y(16)) * 4 + np.abs(p.xx - cx) - p.x(16)) <= p.y(2) * 4)
        v[clavicles & (np.abs(p.xx - cx) > p.x(4)) & (np.abs(p.xx - cx) < p.x(32))] += 450
        markings = _texture(rng, shape, 3, 3, 800) - 160
        v[lungs] += np.clip(markings, 0, None)[lungs] // 2
    else:  # knee AP
        cx += int(rng.integers(-p.x(5), p.x(5) + 1))
        v[p.band_x(cx, p.x(24))] = 1100
        femur = (p.band_x(cx, p.x(9)) & (p.yy < p.y(44))) | p.ellipse(
            p.y(44), cx, p.y(8), p.x(15))
        tibia = (p.band_x(cx, p.x(8)) & (p.yy > p.y(56))) | p.ellipse(
            p.y(56), cx, p.y(5), p.x(14))
        fibula = p.band_x(cx + p.x(12), p.x(2)) & (p.yy > p.y(58))
        bone = femur | tibia | fibula
        v[bone] = (2200 + _texture(rng, shape, 3, 5, 350))[bone]
        v[p.ring(bone, 3)] = 2900
        v[p.ellipse(p.y(42), cx, p.y(7), p.x(7))] += 400  # patella
    v = _box_blur(v, 2)
    v += (_texture(rng, shape, 40, 40, 300) + _texture(rng, shape, 12, 12, 160)
          + _texture(rng, shape, 4, 4, 90))
    return v + _noise(rng, shape, 40)


_ANATOMY = {"CT": _ct, "MR": _mr, "MG": _mg, "DX": _radiograph, "CR": _radiograph}


def _value_range(rng: np.random.Generator, bits: int) -> tuple[int, int]:
    """The stored values the anatomy spans: often a part of the stored range."""
    tops = {10: (255, 1022), 12: (255, 1023, 4094), 16: (1023, 4095, 65534)}[bits]
    hi = tops[int(rng.integers(len(tops)))]
    return int(rng.integers(1, max(2, hi // 48))), hi


def _to_stored(units: Int, lo: int, hi: int, photometric: str) -> npt.NDArray[np.uint16]:
    """Scale `units` onto exactly [lo, hi] (no clipping: nothing goes flat)."""
    low, span = int(units.min()), max(1, int(units.max()) - int(units.min()))
    v = lo + (units - low) * (hi - lo) // span
    if photometric == "MONOCHROME1":
        v = lo + hi - v
    return v.astype(np.uint16)


# ---------------------------------------------------------------------------
# Patients and their text
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Patient:
    family: str
    given: str
    sex: str
    patient_id: str
    birth: date
    study: date
    study_time: str  # HHMMSS
    institution: str

    @property
    def age(self) -> str:
        before = (self.study.month, self.study.day) < (self.birth.month, self.birth.day)
        return f"{self.study.year - self.birth.year - before:03d}Y"


def _patient(seed: int, index: int, rng: np.random.Generator) -> _Patient:
    order = np.random.default_rng([seed, 2]).permutation(_NAME_PAIRS)
    pair = int(order[index % _NAME_PAIRS])
    family = _FAMILY_NAMES[pair // len(_GIVEN_NAMES)]
    given, sex = _GIVEN_NAMES[pair % len(_GIVEN_NAMES)]
    offset = int(np.random.default_rng([seed, 3]).integers(9_000_000))
    patient_id = str((offset + index * _ID_STEP) % 9_000_000 + 1_000_000)
    birth = date(1930, 1, 1) + timedelta(days=int(rng.integers(365 * 60)))
    first = max(date(2000, 1, 1), birth + timedelta(days=365 * 18 + 5))
    study = first + timedelta(days=int(rng.integers((date(2023, 12, 31) - first).days)))
    hour, minute, second = (int(v) for v in rng.integers((7, 0, 0), (20, 60, 60)))
    institution = _INSTITUTIONS[int(rng.integers(len(_INSTITUTIONS)))]
    return _Patient(family, given, sex, patient_id, birth, study,
                    f"{hour:02d}{minute:02d}{second:02d}", institution)


def _date_text(d: date, style: str) -> str:
    month = _MONTHS[d.month - 1]
    return {
        "mdy/": f"{d.month:02d}/{d.day:02d}/{d.year}",
        "dmy.": f"{d.day:02d}.{d.month:02d}.{d.year}",
        "iso": f"{d.year}-{d.month:02d}-{d.day:02d}",
        "dmy words": f"{d.day:02d} {month} {d.year}",
        "ymd words": f"{d.year} {month.title()} {d.day:02d}",
        "dmy-yy": f"{d.day:02d}-{month}-{d.year % 100:02d}",
    }[style]


@dataclass(frozen=True, slots=True)
class _Line:
    text: str
    phi: bool
    fields: tuple[str, ...]
    corner: str  # "TL", "TR", "BL", "BR", or "LEFT" (vertical)


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _phi_lines(rng: np.random.Generator, pt: _Patient) -> tuple[list[_Line], list[_Line]]:
    """The patient's lines (name, ID, birth, age, sex) and the study's (institution, date)."""
    style = int(rng.integers(4))
    name = (f"Name: {pt.family}^{pt.given}", f"{pt.family}^{pt.given}",
            f"Patient: {pt.family}, {pt.given}", f"{pt.family} {pt.given}")[style]
    pid = (f"ID: {pt.patient_id}", pt.patient_id, f"MRN: {pt.patient_id}",
           f"PID {pt.patient_id}")[style]
    born = _date_text(pt.birth, _pick(rng, _DATE_STYLES[:5]))
    dob = (f"DOB: {born}", born, f"Born: {born}", f"D.O.B. {born}")[style]
    patient = [_Line(name, True, ("PatientName",), ""), _Line(pid, True, ("PatientID",), "")]
    if rng.integers(5) > 0:
        patient.append(_Line(dob, True, ("PatientBirthDate",), ""))
    age, sex = rng.integers(3), rng.integers(3)
    if age and sex and style in (1, 2):
        text = f"{pt.age} {pt.sex}" if style == 1 else f"Age: {pt.age}  Sex: {pt.sex}"
        patient.append(_Line(text, True, ("PatientAge", "PatientSex"), ""))
    else:
        if age:
            patient.append(_Line(f"Age: {pt.age}", True, ("PatientAge",), ""))
        if sex:
            patient.append(_Line(f"Sex: {pt.sex}", True, ("PatientSex",), ""))
    study: list[_Line] = []
    if rng.integers(10) < 7:
        study.append(_Line(pt.institution, True, ("InstitutionName",), ""))
    if rng.integers(10) < 9:
        when = _date_text(pt.study, _pick(rng, _DATE_STYLES))
        fields: tuple[str, ...] = ("StudyDate",)
        if rng.integers(3) == 0:
            when += f" {pt.study_time[:2]}:{pt.study_time[2:4]}"
            fields = ("StudyDate", "StudyTime")
        label = _pick(rng, ("Study: ", "", "Date: ", ""))
        study.append(_Line(label + when, True, fields, ""))
    return patient, study


def _technical_lines(rng: np.random.Generator, modality: str, view: str) -> list[str]:
    pool = _TECHNICAL[modality]
    chosen = [pool[int(i)] for i in rng.permutation(len(pool))[: int(rng.integers(1, 4))]]
    if view:
        chosen.insert(0, view)
    return chosen


def _lines(rng: np.random.Generator, modality: str, pt: _Patient, view: str,
           marker: str, vertical: bool) -> list[_Line]:
    """Every line of one case with its corner, in drawing order."""
    patient, study = _phi_lines(rng, pt)
    corner_a = "TL" if rng.integers(4) > 0 else "TR"
    other_top = "TR" if corner_a == "TL" else "TL"
    corner_b = _pick(rng, (other_top, other_top, "BL", "BR"))
    bottoms = [c for c in ("BL", "BR") if c != corner_b]
    lines: list[_Line] = []
    if vertical:
        lines.append(_Line(f"{pt.family} {pt.patient_id}", True,
                           ("PatientName", "PatientID"), "LEFT"))
    lines += [_Line(ln.text, True, ln.fields, corner_a) for ln in patient]
    lines += [_Line(ln.text, True, ln.fields, corner_b) for ln in study]
    for i, text in enumerate(_technical_lines(rng, modality, view)):
        lines.append(_Line(text, False, (), bottoms[i % len(bottoms)]))
    if marker:
        lines.append(_Line(marker, False, (), _pick(rng, ("BR", "TR", "BL"))))
    return lines


# ---------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------


def _fits(box: tuple[int, int, int, int], taken: list[tuple[int, int, int, int]]) -> bool:
    y0, x0, y1, x1 = box
    return all(y1 + _GAP <= t0 or t1 + _GAP <= y0 or x1 + _GAP <= s0 or s1 + _GAP <= x0
               for t0, s0, t1, s1 in taken)


class _Layout:
    """Where lines go: stacked down from the top corners, up from the bottom ones."""

    def __init__(self, rng: np.random.Generator, rows: int, cols: int) -> None:
        self.rows, self.cols = rows, cols
        self.margin = int(rng.integers(3, 11))
        self.spacing = int(rng.integers(_GAP, 6))
        self.left = self.margin
        self.cursor = {"TL": self.margin, "TR": self.margin,
                       "BL": rows - self.margin, "BR": rows - self.margin}
        self.taken: list[tuple[int, int, int, int]] = []

    def place_vertical(self, rng: np.random.Generator, height: int,
                       width: int) -> tuple[int, int] | None:
        """Put a turned line along the left edge (before any other line); corner lines
        then start right of it."""
        x = int(rng.integers(1, 4))
        room = self.rows - height - 2 * self.margin
        if room < 0:
            return None
        y = self.margin + room // 2 + int(rng.integers(-(room // 4), room // 4 + 1))
        self.taken.append((y, x, y + height, x + width))
        self.left = max(self.left, x + width + self.spacing + 1)
        return y, x

    def place(self, corner: str, height: int, width: int) -> tuple[int, int] | None:
        """The top-left pixel of a box in `corner`, or None when nothing is free."""
        x = self.left if corner[1] == "L" else self.cols - self.margin - width
        if x < self.left or x + width > self.cols:
            return None
        step = 1 if corner[0] == "T" else -1
        y = self.cursor[corner] if step == 1 else self.cursor[corner] - height
        while y >= 0 and y + height <= self.rows:
            if _fits((y, x, y + height, x + width), self.taken):
                self.taken.append((y, x, y + height, x + width))
                self.cursor[corner] = (y + height + self.spacing if step == 1
                                       else y - self.spacing)
                return y, x
            y += step
        return None


def _room(path: str, size: int, lines: list[_Line], rows: int, cols: int) -> bool:
    """Whether every line at `size` is at most 3/4 of the side it runs along."""
    return all(_glyphs(path, size, ln.text).shape[1] * 4 <= (rows if ln.corner == "LEFT"
                                                               else cols) * 3
               for ln in lines)


def _draw(rng: np.random.Generator, pixels: npt.NDArray[np.uint16], lines: list[_Line],
          values: tuple[int, int]) -> list[OverlayBox]:
    """Burn `lines` into `pixels` in one font and size; return what was drawn where."""
    rows, cols = pixels.shape
    path = FONT_FILES[int(rng.integers(len(FONT_FILES)))][0]
    height = int(rng.integers(10, 17))
    layout = _Layout(rng, rows, cols)
    while height > 10 and not _room(path, _size_for(path, height), lines, rows, cols):
        height -= 1
    size = _size_for(path, height)
    glyph, outline = values
    boxes: list[OverlayBox] = []
    for line in lines:
        glyphs = _glyphs(path, size, line.text)
        if line.corner == "LEFT":
            glyphs = np.rot90(glyphs)
        inner, ring = _with_outline(glyphs)
        h, w = inner.shape
        at = (layout.place_vertical(rng, h, w) if line.corner == "LEFT"
              else layout.place(line.corner, h, w))
        if at is None:
            continue
        y, x = at
        region = pixels[y:y + h, x:x + w]
        region[ring] = outline
        region[inner] = glyph
        boxes.append(OverlayBox(y, x, y + h, x + w, line.phi, line.text, line.fields,
                                line.corner == "LEFT"))
    return boxes


# ---------------------------------------------------------------------------
# DICOM
# ---------------------------------------------------------------------------


def _uid(seed: int, index: int, what: str) -> UID:
    return generate_uid(entropy_srcs=["medscrub overlay set", str(seed), str(index), what])


def _windows(rng: np.random.Generator, lo: int, hi: int, bits: int) -> tuple[int, int] | None:
    """Window Center/Width in stored values: matching the anatomy, or not, or none."""
    kind = int(rng.integers(4))
    if kind == 0:
        return (lo + hi) // 2, hi - lo + 1
    if kind == 1:  # the whole stored range: the anatomy looks dark
        return 1 << (bits - 1), 1 << bits
    if kind == 2:  # a narrow window off the middle
        return lo + (hi - lo) * 3 // 4, max(2, (hi - lo) // 3)
    return None


def _dataset(seed: int, index: int, rng: np.random.Generator, modality: str,
             photometric: str, bits: int, pixels: npt.NDArray[np.uint16], pt: _Patient,
             view: str, span: tuple[int, int]) -> FileDataset:
    sop_class = _SOP_CLASSES[modality]
    instance = _uid(seed, index, "instance")
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = instance
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = "MEDSCRUB_OVERLAY"
    ds = FileDataset("", Dataset(), file_meta=meta, preamble=b"\x00" * 128)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = instance
    day = pt.study.strftime("%Y%m%d")
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = day
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = pt.study_time
    ds.AccessionNumber = f"A{(int(pt.patient_id) * 31 + index) % 10_000_000:07d}"
    ds.Modality = modality
    ds.Manufacturer = "ACME FAKE IMAGING"
    ds.InstitutionName = pt.institution
    ds.ReferringPhysicianName = ""
    ds.PatientName = f"{pt.family}^{pt.given}"
    ds.PatientID = pt.patient_id
    ds.PatientBirthDate = pt.birth.strftime("%Y%m%d")
    ds.PatientSex = pt.sex
    ds.PatientAge = pt.age
    ds.StudyInstanceUID = _uid(seed, index, "study")
    ds.SeriesInstanceUID = _uid(seed, index, "series")
    ds.StudyID = str(1 + index)
    ds.SeriesNumber = 1 + int(rng.integers(9))
    ds.InstanceNumber = 1 + int(rng.integers(200))
    if view:
        ds.ViewPosition = view.split()[-1] if modality == "MG" else view.split()[0]
    if modality == "MG":
        ds.ImageLaterality = view.split()[0]
    burned = int(rng.integers(3))
    if burned < 2:
        ds.BurnedInAnnotation = ("YES", "NO")[burned]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.Rows, ds.Columns = pixels.shape
    ds.BitsAllocated = 16
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    spacing = f"{(400 if modality in ('CT', 'MR') else 430) / pixels.shape[1]:.4f}"
    ds.PixelSpacing = [spacing, spacing]
    intercept = -1024 if modality == "CT" else 0
    if modality == "CT":
        ds.RescaleIntercept = str(intercept)
        ds.RescaleSlope = "1"
        ds.RescaleType = "HU"
    window = _windows(rng, *span, bits)
    if window is not None:
        ds.WindowCenter = str(window[0] + intercept)
        ds.WindowWidth = str(window[1])
    ds.PixelData = pixels.astype("<u2").tobytes()
    ds["PixelData"].VR = "OW"
    return ds


def _combination(seed: int, index: int) -> tuple[str, str, int]:
    """Case `index`'s combination: each round of 30 cases has every one once."""
    turn, at = divmod(index, len(COMBINATIONS))
    order = np.random.default_rng([seed, 0, turn]).permutation(len(COMBINATIONS))
    return COMBINATIONS[int(order[at])]


def _view(rng: np.random.Generator, modality: str) -> tuple[str, str]:
    """A view line matching the header (empty for CT and MR) and a side marker."""
    if modality == "MG":
        return f"{_pick(rng, ('L', 'R'))} {_pick(rng, ('CC', 'MLO'))}", ""
    if modality in ("DX", "CR"):
        view = _pick(rng, ("PA ERECT", "AP SUPINE", "AP ERECT", "PA"))
        return view, _pick(rng, ("L", "R", "L", ""))
    return "", ""


def _case(seed: int, index: int) -> OverlayCase:
    modality, photometric, bits = _combination(seed, index)
    rng = np.random.default_rng([seed, 1, index])
    pt = _patient(seed, index, rng)
    sizes = _SIZES[modality]
    rows, cols = sizes[int(rng.integers(len(sizes)))]
    units = _ANATOMY[modality](rng, _Plane(rows, cols))
    lo, hi = _value_range(rng, bits)
    anatomy = _to_stored(units, lo, hi, photometric)
    anatomy.flags.writeable = False
    view, marker = _view(rng, modality)
    vertical = (index + seed) % 3 == 0
    pixels = anatomy.copy()
    boxes = _draw(rng, pixels, _lines(rng, modality, pt, view, marker, vertical),
                  glyph_values(photometric, bits))
    ds = _dataset(seed, index, rng, modality, photometric, bits, pixels, pt, view, (lo, hi))
    name = f"ovl{index:03d}_{modality}_{'M1' if photometric == 'MONOCHROME1' else 'M2'}_{bits}b"
    return OverlayCase(name, ds, tuple(boxes), anatomy)


# ---------------------------------------------------------------------------
# The set
# ---------------------------------------------------------------------------


def generate_overlay_set(seed: int = 0, count: int = 60) -> list[OverlayCase]:
    """Build `count` cases from `seed` (deterministic; case i is the same for any count).

    Parameters
    ----------
    seed : int, optional
        Non-negative seed.
    count : int, optional
        Number of cases; 30 or more covers every entry of :data:`COMBINATIONS`.

    Returns
    -------
    list of OverlayCase

    Raises
    ------
    FileNotFoundError
        If a file of :data:`FONT_FILES` is missing (the message names it and its package).
    ValueError
        If `seed` or `count` is negative.
    """
    if seed < 0 or count < 0:
        raise ValueError(f"seed and count must be non-negative (got {seed}, {count})")
    _check_fonts()
    return [_case(seed, i) for i in range(count)]


def write_overlay_set(directory: str | os.PathLike[str], seed: int = 0,
                      count: int = 60) -> list[pathlib.Path]:
    """Write the set as ``<name>.dcm`` files plus :data:`GROUND_TRUTH_NAME`.

    Parameters
    ----------
    directory : str or os.PathLike
        Output folder (created if needed; files of the same names are overwritten).
    seed, count : int, optional
        As for :func:`generate_overlay_set`.

    Returns
    -------
    list of pathlib.Path
        Every file written, sorted.

    Notes
    -----
    The ground truth maps each file name to its boxes (:meth:`OverlayBox.to_dict`).
    """
    root = pathlib.Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    written: list[pathlib.Path] = []
    truth: dict[str, list[dict[str, object]]] = {}
    for case in generate_overlay_set(seed, count):
        path = root / f"{case.name}.dcm"
        path.write_bytes(case.to_bytes())
        written.append(path)
        truth[path.name] = [box.to_dict() for box in case.boxes]
    gt = root / GROUND_TRUTH_NAME
    gt.write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    written.append(gt)
    return sorted(written)


def load_overlay_ground_truth(path: str | os.PathLike[str]) -> dict[str, list[OverlayBox]]:
    """Read the ground truth written by :func:`write_overlay_set`.

    Parameters
    ----------
    path : str or os.PathLike
        The JSON file, or the folder it is in.

    Returns
    -------
    dict[str, list[OverlayBox]]
        File name -> the boxes of its lines.
    """
    p = pathlib.Path(path)
    if p.is_dir():
        p = p / GROUND_TRUTH_NAME
    raw = json.loads(p.read_text(encoding="utf-8"))
    return {name: [OverlayBox.from_dict(b) for b in boxes] for name, boxes in raw.items()}
