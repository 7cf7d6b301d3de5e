"""Deterministic burned-in text evaluation set with exact ground-truth boxes.

:func:`generate_text_set` builds DICOM images carrying burned-in text of many
shapes: ultrasound banners on RGB cines, ``label: value`` blocks on 16-bit CT
and 12-bit MR, inverted (MONOCHROME1) radiographs, 3-D rendering exports,
viewer screenshots, low-contrast and coloured text, and text rotated by 90
degrees.  Fonts (a fixed list of TrueType files from Debian's font packages,
:data:`FONTS`), glyph heights (from 7 px upward), positions and colours are
drawn from :func:`numpy.random.default_rng` with a fixed seed, so the set is
not one layout repeated and yet is reproducible for a given seed and set of
library versions, whatever other fonts a machine has.

Every case has its own fake patient: the header carries the same name, ID,
dates and institution as the burned-in text, so detectors that take header
hints can be evaluated too.  Each drawn line gets a ground-truth
:class:`~medscrub_testing.samples.TextBox`, tight around the pixels that the text
actually changed (in final image coordinates), flagged ``phi=True`` for
identifying lines and ``phi=False`` for annotations that must survive a
``phi``-mode redaction.

No value in this module belongs to a real person or institution.
"""

from __future__ import annotations

import functools
import json
import os
import pathlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    DigitalMammographyXRayImageStorageForPresentation,
    DigitalXRayImageStorageForPresentation,
    ExplicitVRLittleEndian,
)

from medscrub_testing.samples import (
    CR_IMAGE_STORAGE,
    CT_IMAGE_STORAGE,
    MR_IMAGE_STORAGE,
    SC_IMAGE_STORAGE,
    UID_ROOT,
    US_MULTIFRAME_STORAGE,
    TextBox,
)

__all__ = [
    "FONTS",
    "FONT_PACKAGES",
    "FONT_ROOT",
    "KINDS",
    "TEXT_GROUND_TRUTH_NAME",
    "MissingFontError",
    "TextCase",
    "generate_text_set",
    "load_text_ground_truth",
    "write_text_set",
]

#: Kinds of case, cycled in this order by :func:`generate_text_set`.
KINDS: tuple[str, ...] = (
    "us_cine",
    "ct",
    "mr",
    "cr_inverted",
    "render_3d",
    "screenshot",
    "low_contrast",
    "coloured",
    "rotated",
    "overlay",
)

#: Where the Debian font packages put their TrueType files.
FONT_ROOT = pathlib.Path("/usr/share/fonts/truetype")

#: The Debian packages that hold :data:`FONTS` (``scripts/setup.sh`` installs them).
FONT_PACKAGES = ("fonts-dejavu-core", "fonts-dejavu-extra", "fonts-freefont-ttf",
                 "fonts-liberation", "fonts-liberation2")

#: The fonts the set is drawn with, below :data:`FONT_ROOT`, in the order fonts are drawn
#: from. A fixed list: fonts a machine has beyond it change nothing, and one missing from
#: it stops the set with its name.
FONTS: tuple[str, ...] = (
    "dejavu/DejaVuMathTeXGyre.ttf", "dejavu/DejaVuSans-Bold.ttf",
    "dejavu/DejaVuSans-BoldOblique.ttf", "dejavu/DejaVuSans-ExtraLight.ttf",
    "dejavu/DejaVuSans-Oblique.ttf", "dejavu/DejaVuSans.ttf",
    "dejavu/DejaVuSansCondensed-Bold.ttf", "dejavu/DejaVuSansCondensed-BoldOblique.ttf",
    "dejavu/DejaVuSansCondensed-Oblique.ttf", "dejavu/DejaVuSansCondensed.ttf",
    "dejavu/DejaVuSansMono-Bold.ttf", "dejavu/DejaVuSansMono-BoldOblique.ttf",
    "dejavu/DejaVuSansMono-Oblique.ttf", "dejavu/DejaVuSansMono.ttf",
    "dejavu/DejaVuSerif-Bold.ttf", "dejavu/DejaVuSerif-BoldItalic.ttf",
    "dejavu/DejaVuSerif-Italic.ttf", "dejavu/DejaVuSerif.ttf",
    "dejavu/DejaVuSerifCondensed-Bold.ttf", "dejavu/DejaVuSerifCondensed-BoldItalic.ttf",
    "dejavu/DejaVuSerifCondensed-Italic.ttf", "dejavu/DejaVuSerifCondensed.ttf",
    "freefont/FreeMono.ttf", "freefont/FreeMonoBold.ttf", "freefont/FreeMonoBoldOblique.ttf",
    "freefont/FreeMonoOblique.ttf", "freefont/FreeSans.ttf", "freefont/FreeSansBold.ttf",
    "freefont/FreeSansBoldOblique.ttf", "freefont/FreeSansOblique.ttf", "freefont/FreeSerif.ttf",
    "freefont/FreeSerifBold.ttf", "freefont/FreeSerifBoldItalic.ttf",
    "freefont/FreeSerifItalic.ttf", "liberation/LiberationMono-Bold.ttf",
    "liberation/LiberationMono-BoldItalic.ttf", "liberation/LiberationMono-Italic.ttf",
    "liberation/LiberationMono-Regular.ttf", "liberation/LiberationSans-Bold.ttf",
    "liberation/LiberationSans-BoldItalic.ttf", "liberation/LiberationSans-Italic.ttf",
    "liberation/LiberationSans-Regular.ttf", "liberation/LiberationSansNarrow-Bold.ttf",
    "liberation/LiberationSansNarrow-BoldItalic.ttf", "liberation/LiberationSansNarrow-Italic.ttf",
    "liberation/LiberationSansNarrow-Regular.ttf", "liberation/LiberationSerif-Bold.ttf",
    "liberation/LiberationSerif-BoldItalic.ttf", "liberation/LiberationSerif-Italic.ttf",
    "liberation/LiberationSerif-Regular.ttf", "liberation2/LiberationMono-Bold.ttf",
    "liberation2/LiberationMono-BoldItalic.ttf", "liberation2/LiberationMono-Italic.ttf",
    "liberation2/LiberationMono-Regular.ttf", "liberation2/LiberationSans-Bold.ttf",
    "liberation2/LiberationSans-BoldItalic.ttf", "liberation2/LiberationSans-Italic.ttf",
    "liberation2/LiberationSans-Regular.ttf", "liberation2/LiberationSerif-Bold.ttf",
    "liberation2/LiberationSerif-BoldItalic.ttf", "liberation2/LiberationSerif-Italic.ttf",
    "liberation2/LiberationSerif-Regular.ttf",
)

#: File name of the ground truth written by :func:`write_text_set`.
TEXT_GROUND_TRUTH_NAME = "text_ground_truth.json"

_FAMILY_NAMES = (
    "FAKEWORTH", "PHANTOMSON", "TESTERLY", "MOCKRIDGE", "DUMMERY",
    "PLACEBOE", "SAMPLEFORD", "FICTORIUS", "NULLINGTON", "SYNTHWICK",
)
_GIVEN_NAMES = (
    "ZEPHYRA", "QUENTIN", "OPHIRA", "BARNABY", "LUCASTA",
    "THADDEUS", "MIRABEL", "CASIMIR", "ELOWEN", "PERCIVAL",
)
_INSTITUTIONS = (
    "FAKEVILLE GENERAL", "MOCKTON INFIRMARY", "PHANTOM BAY CLINIC",
    "NOWHERE MEDICAL CTR", "TESTSHIRE HOSPITAL", "DUMMY VALLEY IMAGING",
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
_Float = npt.NDArray[np.float64]
_Color = tuple[float, ...] | _Float  # per channel, or per pixel (a semi-transparent overlay)
_Rect = tuple[int, int, int, int]


# ---------------------------------------------------------------------------
# Public types
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TextCase:
    """One image of the burned-in text set.

    Attributes
    ----------
    name : str
        Unique case name, ``"<index>_<kind>"``; also the file stem.
    kind : str
        One of :data:`KINDS`.
    dataset : pydicom.FileDataset
        Complete Explicit VR Little Endian dataset whose header carries the
        same fake patient as the burned-in text.
    boxes : tuple[TextBox, ...]
        Ground truth of every drawn line, in final pixel coordinates.
    frames : tuple[slice | None, ...]
        Parallel to `boxes`: the frames a line is drawn on (``None``: all).
    fonts : tuple[str, ...]
        File names of the fonts used in this case.
    """

    name: str
    kind: str
    dataset: FileDataset
    boxes: tuple[TextBox, ...]
    frames: tuple[slice | None, ...]
    fonts: tuple[str, ...] = field(default=())


# ---------------------------------------------------------------------------
# Fake identity
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Identity:
    family: str
    given: str
    patient_id: str
    birth_date: str
    study_date: str
    accession: str
    institution: str
    sex: str
    age: str


def _identity(rng: np.random.Generator) -> _Identity:
    birth_y = int(rng.integers(1935, 2015))
    study_y = int(rng.integers(2019, 2025))
    birth = f"{birth_y:04d}{int(rng.integers(1, 13)):02d}{int(rng.integers(1, 29)):02d}"
    study = f"{study_y:04d}{int(rng.integers(1, 13)):02d}{int(rng.integers(1, 29)):02d}"
    return _Identity(
        family=str(rng.choice(_FAMILY_NAMES)),
        given=str(rng.choice(_GIVEN_NAMES)),
        patient_id=f"FK{int(rng.integers(1_000_000, 10_000_000))}",
        birth_date=birth,
        study_date=study,
        accession=f"ACCFK{int(rng.integers(10_000, 100_000))}",
        institution=str(rng.choice(_INSTITUTIONS)),
        sex=str(rng.choice(("F", "M", "O"))),
        age=f"{study_y - birth_y - 1:03d}Y",
    )


def _fmt_date(date: str, style: int) -> str:
    y, m, d = date[:4], date[4:6], date[6:]
    return (
        date,
        f"{y}-{m}-{d}",
        f"{d}/{m}/{y}",
        f"{d}-{_MONTHS[int(m) - 1]}-{y}",
    )[style % 4]


def _fmt_name(ident: _Identity, style: int) -> str:
    f, g = ident.family, ident.given
    return (f"{f}^{g}", f"{f}, {g}", f"{f.title()}, {g.title()}", f"{g} {f}")[style % 4]


def _phi_lines(ident: _Identity, rng: np.random.Generator) -> list[tuple[str, bool]]:
    """Return the patient block: identifying lines, age and sex among them (identifier
    labels: a line that carries one is PHI whatever its value)."""
    name_style, date_style = int(rng.integers(4)), int(rng.integers(4))
    id_label = str(rng.choice(("ID: ", "MRN: ", "Patient ID: ", "PID ")))
    lines = [
        (f"Name: {_fmt_name(ident, name_style)}", True),
        (f"{id_label}{ident.patient_id}", True),
        (f"DOB: {_fmt_date(ident.birth_date, date_style)}", True),
        (f"Age/Sex: {ident.age} {ident.sex}", True),
    ]
    if rng.random() < 0.5:
        lines[0] = (_fmt_name(ident, name_style), True)
    return lines


def _study_lines(ident: _Identity, rng: np.random.Generator) -> list[tuple[str, bool]]:
    date_style = int(rng.integers(4))
    return [
        (ident.institution, True),
        (f"Study: {_fmt_date(ident.study_date, date_style)}", True),
        (f"Acc: {ident.accession}", True),
    ]


# ---------------------------------------------------------------------------
# Fonts and glyph rendering
# ---------------------------------------------------------------------------


class MissingFontError(FileNotFoundError):
    """A font of :data:`FONTS` is not installed."""


def _font_paths() -> tuple[str, ...]:
    """The files of :data:`FONTS`, all of them present.

    Raises
    ------
    MissingFontError
        Naming the missing files and the packages that hold them.
    """
    paths = tuple(str(FONT_ROOT / name) for name in FONTS)
    missing = [name for name, path in zip(FONTS, paths, strict=True)
               if not os.path.isfile(path)]
    if missing:
        raise MissingFontError(
            f"{len(missing)} font(s) of the text set missing under {FONT_ROOT} (first: "
            f"{missing[0]}); run scripts/setup.sh, which installs {' '.join(FONT_PACKAGES)}"
        )
    return paths


@functools.cache
def _load_font(path: str, size: int) -> _Font:
    return ImageFont.truetype(path, size)


@functools.cache
def _font_for_height(path: str, cap: int) -> _Font:
    """Return the smallest size of `path` whose capital ``H`` is >= `cap` px high.

    The height counts rows of the rendered glyph with coverage >= 0.5, so the
    faint anti-aliased fringe does not count towards it.
    """
    for size in range(cap, 6 * cap):
        font = _load_font(path, size)
        solid = _render("H", font, antialias=True) >= 0.5
        if int(solid.any(axis=1).sum()) >= cap:
            return font
    return _load_font(path, 6 * cap)


def _render(text: str, font: _Font, *, antialias: bool, turns: int = 0) -> _Float:
    """Render `text` as a tight alpha mask in [0, 1], rotated by `turns` x 90 deg."""
    left, top, right, bottom = (int(v) for v in font.getbbox(text))
    img = Image.new("L", (right - min(left, 0) + 8, bottom - min(top, 0) + 8), 0)
    draw = ImageDraw.Draw(img)
    draw.fontmode = "L" if antialias else "1"
    draw.text((4 - min(left, 0), 4 - min(top, 0)), text, font=font, fill=255)
    alpha = np.asarray(img, dtype=np.float64) / 255.0
    ys, xs = np.nonzero(alpha)
    alpha = alpha[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    return np.ascontiguousarray(np.rot90(alpha, turns))


def _grown(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """`mask` grown by one pixel in the eight directions."""
    padded = np.pad(mask, 1)
    rows, cols = mask.shape
    out = np.zeros_like(mask)
    for dy in range(3):
        for dx in range(3):
            out |= padded[dy : dy + rows, dx : dx + cols]
    return out


# ---------------------------------------------------------------------------
# Scene: background, text placement, compositing and ground truth
# ---------------------------------------------------------------------------


@dataclass
class _Line:
    alpha: _Float
    y: int
    x: int
    color: _Color
    frames: slice | None
    phi: bool
    text: str
    outline: _Color | None = None  # a one-pixel ring drawn under the glyphs


class _Scene:
    """A float background ``(frames, rows, cols, channels)`` plus placed text."""

    def __init__(self, background: _Float, rng: np.random.Generator) -> None:
        self.background = background
        self.rng = rng
        self.lines: list[_Line] = []
        self.occupied: list[_Rect] = []
        self.fonts: list[str] = []

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.background.shape[1]), int(self.background.shape[2])

    def pick_font(self, among: Sequence[str] = ()) -> str:
        """Draw a font file of :data:`FONTS` (or of `among`, a part of it) and record it."""
        paths = [p for p in _font_paths() if not among or p.endswith(tuple(among))]
        path = paths[int(self.rng.integers(len(paths)))]
        self.fonts.append(os.path.basename(path))
        return path

    def free(self, rect: _Rect, gap: int = 3) -> bool:
        """Whether `rect` (y0, x0, y1, x1) is inside and clear of placed text."""
        y0, x0, y1, x1 = rect
        rows, cols = self.shape
        if y0 < 0 or x0 < 0 or y1 > rows or x1 > cols:
            return False
        return all(
            y1 + gap <= b0 or b1 + gap <= y0 or x1 + gap <= c0 or c1 + gap <= x0
            for b0, c0, b1, c1 in self.occupied
        )

    def put(
        self,
        alpha: _Float,
        y: int,
        x: int,
        color: _Color,
        *,
        phi: bool,
        text: str,
        frames: slice | None = None,
        outline: _Color | None = None,
    ) -> None:
        h, w = alpha.shape
        self.lines.append(_Line(alpha, y, x, color, frames, phi, text, outline))
        self.occupied.append((y, x, y + h, x + w))

    def block(
        self,
        lines: Sequence[tuple[str, bool]],
        color: _Color | Callable[[_Float], _Color],
        *,
        cap: int,
        where: str,
        region: _Rect | None = None,
        turns: int = 0,
        frames: slice | None = None,
        span: float = 0.5,
        fonts: Sequence[str] = (),
        outline: _Color | None = None,
    ) -> None:
        """Place a multi-line block of text at a free position.

        Parameters
        ----------
        lines : sequence of (str, bool)
            Text and PHI flag of each line, top to bottom.
        color : tuple of float or callable
            Colour in stored units per channel, or a function of the
            background patch under each line returning its colour, per
            channel or per pixel (low contrast).
        cap : int
            Capital-letter height in pixels; reduced (down to 7) until the
            block fits in half the image width.
        where : str
            ``"tl"``, ``"tr"``, ``"bl"``, ``"br"`` (corners) or ``"free"``
            (random position inside `region`, e.g. over the anatomy).
        region : tuple of int, optional
            ``(y0, x0, y1, x1)`` limiting ``"free"`` placement.
        turns : int, optional
            Rotate each line by ``turns`` x 90 degrees counter-clockwise; a
            rotated block stacks its lines side by side.
        frames : slice, optional
            Frames the block is drawn on (default: all).
        span : float, optional
            Fraction of the image width the block may take.
        fonts : sequence of str, optional
            Draw the font from these entries of :data:`FONTS` (default: all).
        outline : tuple of float, optional
            Colour of a one-pixel ring around the glyphs (vendor overlays).

        Raises
        ------
        RuntimeError
            If no free position was found.
        """
        rows, cols = self.shape
        path = self.pick_font(fonts)
        antialias = bool(self.rng.random() < 0.75)
        while True:
            font = _font_for_height(path, cap)
            alphas = [_render(t, font, antialias=antialias, turns=turns) for t, _ in lines]
            if outline is not None:  # room for the ring
                alphas = [np.pad(a, 1) for a in alphas]
            step = round(cap * float(self.rng.uniform(1.45, 1.9)))
            vertical = turns % 2 == 0
            along = [a.shape[0] if vertical else a.shape[1] for a in alphas]
            across = max(a.shape[1] if vertical else a.shape[0] for a in alphas)
            extent = step * (len(alphas) - 1) + along[-1]
            height, width = (extent, across) if vertical else (across, extent)
            if (width <= int(cols * span) - 8 and height <= rows - 8) or cap <= 7:
                break
            cap -= 1
        margin = int(self.rng.integers(2, 16))
        candidates: list[tuple[int, int]] = []
        if where == "free":
            ry0, rx0, ry1, rx1 = region or (0, 0, rows, cols)
            for _ in range(40):
                candidates.append((
                    int(self.rng.integers(ry0, max(ry0 + 1, ry1 - height))),
                    int(self.rng.integers(rx0, max(rx0 + 1, rx1 - width))),
                ))
        corners = ["tl", "tr", "bl", "br"]
        if where in corners:
            corners.remove(where)
            corners.insert(0, where)
        for corner in corners:
            top = margin if corner[0] == "t" else rows - margin - height
            left = margin if corner[1] == "l" else cols - margin - width
            candidates.extend((top + k * step, left) for k in range(0, 12, 2))
            candidates.extend((top - k * step, left) for k in range(2, 12, 2))
        right = where in ("tr", "br")
        for top, left in candidates:
            rects = []
            for k, alpha in enumerate(alphas):
                h, w = alpha.shape
                if vertical:
                    y, x = top + k * step, left + (width - w if right else 0)
                else:
                    y, x = top + (height - h) // 2, left + k * step
                rects.append((y, x, y + h, x + w))
            if all(self.free(r) for r in rects):
                break
        else:
            raise RuntimeError(f"no room for text block {lines[0][0]!r}")
        for (text, phi), alpha, (y, x, _, _) in zip(lines, alphas, rects, strict=True):
            patch = self.background[:, y : y + alpha.shape[0], x : x + alpha.shape[1]]
            col = color(patch) if callable(color) else color
            self.put(alpha, y, x, col, phi=phi, text=text, frames=frames, outline=outline)

    def finish(
        self, lo: float, hi: float, dtype: type[np.integer], *, burn: bool
    ) -> tuple[npt.NDArray[np.integer], list[TextBox]]:
        """Composite the text, quantise, and measure each line's tight box."""
        img = self.background.copy()
        for line in self.lines:
            h, w = line.alpha.shape
            fr = line.frames or slice(None)
            a = line.alpha[None, :, :, None]
            if line.outline is not None:
                ring = _grown(line.alpha > 0.5)[None, :, :, None]
                sub = img[fr, line.y : line.y + h, line.x : line.x + w]
                sub[...] = np.where(ring, np.asarray(line.outline), sub)
            sub = img[fr, line.y : line.y + h, line.x : line.x + w]
            img[fr, line.y : line.y + h, line.x : line.x + w] = (
                sub * (1.0 - a) + np.asarray(line.color) * a
            )
        q_bg = np.clip(np.round(self.background), lo, hi).astype(dtype)
        q_img = np.clip(np.round(img), lo, hi).astype(dtype)
        boxes: list[TextBox] = []
        for line in self.lines:
            h, w = line.alpha.shape
            fr = line.frames or slice(None)
            win = (slice(line.y, line.y + h), slice(line.x, line.x + w))
            changed = (q_img[fr][:, win[0], win[1]] != q_bg[fr][:, win[0], win[1]])
            drawn = line.alpha > 0 if line.outline is None else _grown(line.alpha > 0.5)
            ys, xs = np.nonzero(changed.any(axis=(0, 3)) & (drawn | (line.alpha > 0)))
            if ys.size == 0:
                raise RuntimeError(f"text {line.text!r} left no visible pixel")
            boxes.append(TextBox(
                y0=line.y + int(ys.min()), x0=line.x + int(xs.min()),
                y1=line.y + int(ys.max()) + 1, x1=line.x + int(xs.max()) + 1,
                phi=line.phi, text=line.text,
            ))
        return (q_img if burn else q_bg), boxes


# ---------------------------------------------------------------------------
# Backgrounds
# ---------------------------------------------------------------------------


def _grid(rows: int, cols: int) -> tuple[_Float, _Float]:
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float64)
    return (yy - rows / 2) / (rows / 2), (xx - cols / 2) / (cols / 2)


def _ellipse(y: _Float, x: _Float, cy: float, cx: float, ry: float, rx: float) -> npt.NDArray[
    np.bool_
]:
    return np.asarray(((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1.0)


def _ct_hu(rng: np.random.Generator, rows: int, cols: int) -> _Float:
    y, x = _grid(rows, cols)
    dy, dx = rng.uniform(-0.08, 0.08, 2)
    sy, sx = rng.uniform(0.5, 0.68), rng.uniform(0.7, 0.88)
    hu = np.full((rows, cols), -1000.0)
    hu[_ellipse(y, x, dy, dx, sy, sx)] = 40.0
    hu[_ellipse(y, x, dy, dx - 0.4 * sx, 0.65 * sy, 0.3 * sx)] = -850.0
    hu[_ellipse(y, x, dy, dx + 0.4 * sx, 0.62 * sy, 0.28 * sx)] = -850.0
    hu[_ellipse(y, x, dy + 0.05, dx + 0.08, 0.25 * sy, 0.18 * sx)] = 45.0
    hu[_ellipse(y, x, dy + 0.75 * sy, dx, 0.12, 0.1)] = 700.0
    return hu + rng.normal(0.0, 12.0, size=hu.shape)


def _mr_signal(rng: np.random.Generator, rows: int, cols: int) -> _Float:
    y, x = _grid(rows, cols)
    dy, dx = rng.uniform(-0.06, 0.06, 2)
    img = np.zeros((rows, cols))
    img[_ellipse(y, x, dy, dx, 0.85, 0.7)] = 900.0
    img[_ellipse(y, x, dy, dx, 0.78, 0.63)] = 1900.0
    img[_ellipse(y, x, dy, dx, 0.6, 0.48)] = 2600.0
    img[_ellipse(y, x, dy - 0.05, dx - 0.12, 0.22, 0.05)] = 700.0
    img[_ellipse(y, x, dy - 0.05, dx + 0.12, 0.22, 0.05)] = 700.0
    noise = rng.normal(0.0, 40.0, size=(2, rows, cols))
    return np.asarray(np.hypot(img + noise[0], noise[1]))


def _stack(gray: _Float, frames: int = 1, channels: int = 1) -> _Float:
    return np.repeat(np.repeat(gray[None, :, :, None], frames, axis=0), channels, axis=3)


# ---------------------------------------------------------------------------
# Case builders: each returns (scene, pixel spec, header spec)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pixels:
    lo: float
    hi: float
    dtype: type[np.integer]
    photometric: str
    bits_stored: int
    sop_class: UID
    modality: str
    extra: dict[str, object] = field(default_factory=dict)


_CORNERS = ("tl", "tr", "bl", "br")


def _corners(rng: np.random.Generator) -> list[str]:
    return [str(c) for c in rng.permutation(_CORNERS)]


def _annotate_slice(
    scene: _Scene, ident: _Identity, color: _Color | Callable[[_Float], _Color],
    extra: list[tuple[str, bool]], low: int, high: int,
) -> None:
    """Patient/study blocks in corners or over the anatomy, plus annotations."""
    rng = scene.rng
    rows, cols = scene.shape
    corners = _corners(rng)
    centre = (rows // 5, cols // 6, 4 * rows // 5, 5 * cols // 6)
    for k, lines in enumerate((_phi_lines(ident, rng), _study_lines(ident, rng), extra)):
        over = rng.random() < 0.25
        scene.block(lines, color, cap=int(rng.integers(low, high)),
                    where="free" if over else corners[k], region=centre)
    for text in ("R", "L", "5.2 cm"):
        scene.block([(text, False)], color, cap=int(rng.integers(low, high)),
                    where="free", region=centre)


def _build_ct(rng: np.random.Generator, ident: _Identity) -> tuple[_Scene, _Pixels]:
    stored = _ct_hu(rng, 512, 512) + 1024.0
    scene = _Scene(_stack(stored), rng)
    value = float(rng.choice((3071.0, 2047.0, 1600.0)))
    extra = [("WL 40 WW 400", False), (f"kV 120 mA {int(rng.integers(80, 400))}", False),
             ("Thk 5.0 mm", False)]
    _annotate_slice(scene, ident, (value,), extra, 7, 15)
    return scene, _Pixels(-2000, 4095, np.int16, "MONOCHROME2", 16, CT_IMAGE_STORAGE, "CT", {
        "RescaleIntercept": "-1024", "RescaleSlope": "1", "RescaleType": "HU",
        "WindowCenter": "40", "WindowWidth": "400",
    })


def _build_mr(rng: np.random.Generator, ident: _Identity) -> tuple[_Scene, _Pixels]:
    scene = _Scene(_stack(_mr_signal(rng, 512, 512)), rng)
    extra = [("HEAD", False), (f"TR {int(rng.integers(400, 3000))} TE 15", False),
             ("WL 2000 WW 4000", False)]
    _annotate_slice(scene, ident, (float(rng.choice((4095.0, 3400.0))),), extra, 7, 15)
    return scene, _Pixels(0, 4095, np.uint16, "MONOCHROME2", 12, MR_IMAGE_STORAGE, "MR", {
        "WindowCenter": "2000", "WindowWidth": "4000",
    })


def _build_cr(rng: np.random.Generator, ident: _Identity) -> tuple[_Scene, _Pixels]:
    rows, cols = 512, 416
    y, x = _grid(rows, cols)
    atten = np.full((rows, cols), 200.0)
    atten[_ellipse(y, x, 0.1, 0.0, 0.95, 0.85)] = 1800.0
    atten[_ellipse(y, x, 0.0, -0.4, 0.6, 0.3)] = 700.0
    atten[_ellipse(y, x, 0.0, 0.4, 0.6, 0.3)] = 700.0
    atten[np.abs(x) < 0.07] = 3000.0
    atten += rng.normal(0.0, 30.0, size=atten.shape)
    scene = _Scene(_stack(4095.0 - np.clip(atten, 0, 4095)), rng)
    # MONOCHROME1: stored 0 displays white.
    extra = [("PA ERECT", False), ("180 cm", False)]
    _annotate_slice(scene, ident, (0.0,), extra, 7, 14)
    return scene, _Pixels(0, 4095, np.uint16, "MONOCHROME1", 12, CR_IMAGE_STORAGE, "CR", {
        "WindowCenter": "2048", "WindowWidth": "4096",
    })


def _build_us(rng: np.random.Generator, ident: _Identity) -> tuple[_Scene, _Pixels]:
    frames = int(rng.integers(8, 21))
    rows, cols = int(rng.integers(120, 153)), int(rng.integers(176, 225))
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float64)
    apex_y, apex_x = 26.0, cols / 2.0
    radius = np.hypot(yy - apex_y, xx - apex_x)
    angle = np.degrees(np.arctan2(xx - apex_x, yy - apex_y))
    fan = (radius > 4) & (radius < rows - apex_y - 2) & (np.abs(angle) < 38)
    speckle = rng.rayleigh(1.0, size=(rows, cols))
    tissue = 90.0 + 40.0 * np.sin(yy / 9.0 + 0.4 * np.cos(xx / 23.0))
    bg = np.zeros((frames, rows, cols, 3))
    for f in range(frames):
        gray = tissue * np.roll(speckle, (f * 3, f * 2), axis=(0, 1))
        bg[f] = np.where(fan, np.clip(gray, 0, 255), 0.0)[..., None]
    scene = _Scene(bg, rng)
    white, yellow, cyan = (255.0, 255.0, 255.0), (255.0, 255.0, 0.0), (0.0, 255.0, 255.0)
    font = _font_for_height(scene.pick_font(), 7)
    width = max(_render(f"{f + 1}/{frames}", font, antialias=True).shape[1]
                for f in range(frames))
    for f in range(frames):
        alpha = _render(f"{f + 1}/{frames}", font, antialias=True)
        y, x = rows - 3 - alpha.shape[0], 3 + width - alpha.shape[1]
        scene.put(alpha, y, x, white, phi=False, text=f"{f + 1}/{frames}",
                  frames=slice(f, f + 1))
    name = _fmt_name(ident, int(rng.integers(4)))
    study = _fmt_date(ident.study_date, int(rng.integers(4)))
    scene.block([(name, True), (f"{ident.patient_id} {study}", True),
                 (ident.institution, True)], white, cap=7, where="tl", span=0.8)
    probe = str(rng.choice(("L12-5", "C5-2", "P4-1")))
    scene.block([(probe, False), (f"D {rng.uniform(4, 16):.1f}cm", False)], cyan,
                cap=int(rng.integers(7, 10)), where="tr")
    scene.block([("MI 0.8 TIS 0.4", False)], (200.0, 200.0, 200.0),
                cap=int(rng.integers(7, 9)), where="br")
    start = int(rng.integers(1, frames - 2))
    scene.block([(f"{rng.uniform(0.5, 6):.1f} cm", False)], yellow, cap=7, where="free",
                region=(rows // 3, cols // 4, rows, 3 * cols // 4),
                frames=slice(start, frames))
    return scene, _Pixels(0, 255, np.uint8, "RGB", 8, US_MULTIFRAME_STORAGE, "US", {
        "FrameIncrementPointer": 0x00181063, "FrameTime": "40", "CineRate": 25,
    })


def _build_render(rng: np.random.Generator, ident: _Identity) -> tuple[_Scene, _Pixels]:
    size = 320
    y, x = _grid(size, size)
    bumps = 0.08 * np.sin(6 * x + rng.uniform(0, 6)) * np.cos(5 * y)
    r2 = (y / 0.75) ** 2 + (x / 0.55) ** 2
    z = np.sqrt(np.clip(1.0 - r2, 0.0, None)) + np.where(r2 < 1, bumps, 0.0)
    gy, gx = np.gradient(z)
    shade = np.clip((-gx * 20 - gy * 20 + 1.0) / np.sqrt(1 + 800 * (gx**2 + gy**2)), 0, 1)
    bg = np.zeros((1, size, size, 3))
    tint = np.array([235.0, 215.0, 185.0]) * rng.uniform(0.85, 1.0)
    back = np.stack([np.zeros_like(y), np.zeros_like(y), 40 + 30 * (y + 1)], axis=-1)
    bg[0] = np.where((r2 < 1)[..., None], shade[..., None] * tint, back)
    scene = _Scene(bg, rng)
    color = (255.0, 255.0, 255.0)
    corners = _corners(rng)
    scene.block(_phi_lines(ident, rng)[:2], color, cap=int(rng.integers(7, 12)),
                where=corners[0])
    scene.block(_study_lines(ident, rng)[:2], color, cap=int(rng.integers(7, 12)),
                where=corners[1])
    scene.block([("VR 3D", False), ("Bone preset", False)], color,
                cap=int(rng.integers(7, 11)), where=corners[2])
    for text in ("A", "P", "S"):
        scene.block([(text, False)], (255.0, 220.0, 0.0), cap=int(rng.integers(8, 14)),
                    where="free")
    return scene, _Pixels(0, 255, np.uint8, "RGB", 8, SC_IMAGE_STORAGE, "OT",
                          {"ConversionType": "WSD", "ImageType": ["DERIVED", "SECONDARY"]})


def _build_screenshot(rng: np.random.Generator, ident: _Identity) -> tuple[_Scene, _Pixels]:
    rows, cols, panel = 360, 480, 176
    bg = np.empty((1, rows, cols, 3))
    bg[0] = (48.0, 48.0, 54.0)
    bg[0, :22] = (30.0, 60.0, 110.0)
    bg[0, 22:46] = (70.0, 70.0, 78.0)
    bg[0, rows - 20 :] = (36.0, 36.0, 40.0)
    hu = _ct_hu(rng, rows - 66, cols - panel)
    bg[0, 46 : rows - 20, panel:] = np.clip((hu + 160.0) / 400.0 * 255.0, 0, 255)[..., None]
    for k in range(5):
        bg[0, 25:43, 4 + 56 * k : 56 + 56 * k] = (95.0, 95.0, 105.0)
    scene = _Scene(bg, rng)
    white = (235.0, 235.0, 235.0)
    scene.block([(f"MockPACS - {_fmt_name(ident, int(rng.integers(4)))}", True)], white,
                cap=7, where="free", region=(2, 4, 22, cols))
    for k, label in enumerate(("File", "Zoom", "Pan", "W/L", "Measure")):
        scene.block([(label, False)], (0.0, 0.0, 0.0), cap=7, where="free",
                    region=(27, 6 + 56 * k, 43, 54 + 56 * k))
    scene.block(_phi_lines(ident, rng) + _study_lines(ident, rng), white,
                cap=int(rng.integers(7, 9)), where="free", region=(50, 4, rows - 60, panel))
    scene.block([("Series 3 Img 12/40", False)], white, cap=7, where="free",
                region=(rows - 60, 4, rows - 22, panel))
    scene.block([("WL 40 WW 400", False)], (255.0, 255.0, 0.0),
                cap=int(rng.integers(7, 10)), where="free", region=(50, panel, 110, cols))
    scene.block([("Zoom 100%  Ready", False)], (180.0, 180.0, 180.0), cap=7, where="free",
                region=(rows - 19, 4, rows, cols))
    return scene, _Pixels(0, 255, np.uint8, "RGB", 8, SC_IMAGE_STORAGE, "OT",
                          {"ConversionType": "WSD", "ImageType": ["DERIVED", "SECONDARY"]})


def _build_low_contrast(rng: np.random.Generator, ident: _Identity) -> tuple[_Scene, _Pixels]:
    size = 512
    y, x = _grid(size, size)
    gray = 110.0 + 45.0 * x + 25.0 * np.cos(3 * y)
    for _ in range(4):
        c, a = rng.uniform(-0.8, 0.8), rng.uniform(2, 5)
        gray -= 40.0 * (np.abs(y - c - 0.2 * np.sin(a * x)) < 0.02)
    gray += rng.normal(0.0, 3.0, size=gray.shape)
    scene = _Scene(_stack(gray), rng)
    sign = float(rng.choice((-1.0, 1.0)))
    delta = sign * float(rng.uniform(12.0, 28.0))

    def faint(patch: _Float) -> _Color:  # a fixed offset from the background under each pixel
        return patch + delta

    extra = [("FLUORO 12.4 min", False), ("DAP 3.1 Gy cm2", False)]
    _annotate_slice(scene, ident, faint, extra, 7, 13)
    return scene, _Pixels(0, 255, np.uint8, "MONOCHROME2", 8, SC_IMAGE_STORAGE, "OT",
                          {"ConversionType": "WSD"})


def _build_coloured(rng: np.random.Generator, ident: _Identity) -> tuple[_Scene, _Pixels]:
    gray = np.clip((_ct_hu(rng, 384, 384) + 160.0) / 400.0 * 255.0, 0, 255)
    scene = _Scene(_stack(gray, channels=3), rng)
    palette = [(255.0, 255.0, 0.0), (0.0, 255.0, 0.0), (0.0, 255.0, 255.0)]
    order = [palette[int(i)] for i in rng.permutation(3)]
    corners = _corners(rng)
    scene.block(_phi_lines(ident, rng), order[0], cap=int(rng.integers(7, 12)),
                where=corners[0])
    scene.block(_study_lines(ident, rng), order[1], cap=int(rng.integers(7, 12)),
                where=corners[1])
    scene.block([("WL 40 WW 400", False), ("ROI 12.3 cm2", False)], order[2],
                cap=int(rng.integers(7, 12)), where=corners[2])
    scene.block([("4.7 cm", False)], order[2], cap=int(rng.integers(7, 12)), where="free",
                region=(96, 64, 288, 320))
    return scene, _Pixels(0, 255, np.uint8, "RGB", 8, SC_IMAGE_STORAGE, "OT",
                          {"ConversionType": "WSD", "ImageType": ["DERIVED", "SECONDARY"]})


def _build_rotated(rng: np.random.Generator, ident: _Identity) -> tuple[_Scene, _Pixels]:
    size = 384
    scene = _Scene(_stack(_mr_signal(rng, size, size)), rng)
    value = (4095.0,)
    turns = int(rng.choice((1, 3)))
    name = _fmt_name(ident, int(rng.integers(4)))
    side = "tl" if rng.random() < 0.5 else "tr"
    scene.block([(name, True), (f"ID {ident.patient_id}", True)], value,
                cap=int(rng.integers(7, 12)), where=side, turns=turns)
    other = "br" if side == "tl" else "bl"
    scene.block([("HEAD", False), ("FEET", False)], value, cap=int(rng.integers(7, 11)),
                where=other, turns=4 - turns)
    scene.block(_study_lines(ident, rng)[:2], value, cap=int(rng.integers(7, 12)),
                where="bl" if side == "tl" else "br")
    scene.block([("T2 AX", False)], value, cap=int(rng.integers(7, 12)),
                where="tr" if side == "tl" else "tl")
    return scene, _Pixels(0, 4095, np.uint16, "MONOCHROME2", 12, MR_IMAGE_STORAGE, "MR", {
        "WindowCenter": "2000", "WindowWidth": "4000",
    })


#: Bold sans-serif faces, as vendor overlays draw them.
_BOLD_SANS = ("DejaVuSans-Bold.ttf", "DejaVuSansCondensed-Bold.ttf", "FreeSansBold.ttf",
              "LiberationSans-Bold.ttf", "LiberationSansNarrow-Bold.ttf")
_OVERLAY_MODALITIES = (
    ("CT", CT_IMAGE_STORAGE), ("MR", MR_IMAGE_STORAGE), ("CR", CR_IMAGE_STORAGE),
    ("DX", DigitalXRayImageStorageForPresentation),
    ("MG", DigitalMammographyXRayImageStorageForPresentation),
)


def _busy_anatomy(rng: np.random.Generator, rows: int, cols: int) -> _Float:
    """A radiograph-like field in 0..1: a body, bones, ribs and grainy texture."""
    y, x = _grid(rows, cols)
    img = 0.15 + 0.45 * _ellipse(y, x, rng.uniform(-0.1, 0.1), 0.0, 0.9, rng.uniform(0.6, 0.9))
    for _ in range(int(rng.integers(3, 9))):  # ribs and long bones: bright bands
        slope, offset = rng.uniform(-0.6, 0.6), rng.uniform(-0.9, 0.9)
        img += 0.25 * (np.abs(y - slope * x - offset) < rng.uniform(0.02, 0.06))
    coarse = rng.normal(0.0, 1.0, size=(rows // 4 + 1, cols // 4 + 1))
    texture = np.kron(coarse, np.ones((4, 4)))[:rows, :cols]
    img += 0.06 * texture + rng.normal(0.0, 0.03, size=(rows, cols))
    return np.clip(img, 0.0, 1.0)


def _overlay_date(date: str, style: int) -> str:
    y, m, d = date[:4], int(date[4:6]), date[6:]
    month = _MONTHS[m - 1]
    return (f"{d}-{month.upper()}-{y[2:]}", f"{y} {month} {d}", f"{m:02d}/{d}/{y}",
            f"{d}.{m:02d}.{y}", f"{y}-{m:02d}-{d}", date)[style % 6]


def _build_overlay(rng: np.random.Generator, ident: _Identity) -> tuple[_Scene, _Pixels]:
    """A vendor overlay: "Label: value" lines drawn over the anatomy (no banner) at the
    extreme value present, with a one-pixel outline at the other extreme."""
    modality, sop_class = _OVERLAY_MODALITIES[int(rng.integers(len(_OVERLAY_MODALITIES)))]
    rows, cols = int(rng.integers(128, 401)) * 2, int(rng.integers(128, 401)) * 2
    bits = int(rng.choice((10, 12, 16)))
    top = float(rng.choice((255.0, 2.0**bits - 1)))  # values present may fill 8 bits only
    inverted = bool(rng.random() < 0.4)
    field_ = _busy_anatomy(rng, rows, cols) * rng.uniform(0.6, 0.95) * top
    scene = _Scene(_stack(top - field_ if inverted else field_), rng)
    # the text displays white: the stored maximum, or the minimum in MONOCHROME1
    ink, rim = ((0.0,), (top,)) if inverted else ((top,), (0.0,))
    date_style = int(rng.integers(6))
    lines = [
        (f"Name: {_fmt_name(ident, int(rng.integers(4)))}", True),
        (f"{rng.choice(('Patient ID', 'ID', 'MRN'))}: {ident.patient_id}", True),
        (f"DOB: {_overlay_date(ident.birth_date, date_style)}", True),
        (f"Age: {ident.age}", True),
        (f"Sex: {ident.sex}", True),
        (f"Study Date: {_overlay_date(ident.study_date, date_style)}", True),
        (f"Institution: {ident.institution}", True),
    ]
    others = sorted(rng.choice(range(2, len(lines)), int(rng.integers(1, 6)), replace=False))
    lines = lines[:2] + [lines[int(i)] for i in others]  # name and ID always
    size = int(rng.integers(10, 17))
    body = (rows // 10, cols // 10, 9 * rows // 10, 9 * cols // 10)
    scene.block(lines, ink, cap=size, where="free", region=body, fonts=_BOLD_SANS,
                outline=rim, span=0.75)
    if rng.random() < 0.35:  # a label up the left edge
        scene.block([(f"{ident.family} {ident.patient_id[2:]}", True)], ink, cap=size,
                    where="tl", turns=1, fonts=_BOLD_SANS, outline=rim)
    for text in ("L", f"kVp: {int(rng.integers(60, 125))}"):
        scene.block([(text, False)], ink, cap=size, where="free", region=body,
                    fonts=_BOLD_SANS, outline=rim)
    dtype = np.uint16
    return scene, _Pixels(0, 2.0**bits - 1, dtype, "MONOCHROME1" if inverted else "MONOCHROME2",
                          bits, sop_class, modality, {
                              "WindowCenter": str(int(top // 2)), "WindowWidth": str(int(top)),
                          })


_BUILDERS: dict[str, Callable[[np.random.Generator, _Identity], tuple[_Scene, _Pixels]]] = {
    "us_cine": _build_us,
    "ct": _build_ct,
    "mr": _build_mr,
    "cr_inverted": _build_cr,
    "render_3d": _build_render,
    "screenshot": _build_screenshot,
    "low_contrast": _build_low_contrast,
    "coloured": _build_coloured,
    "rotated": _build_rotated,
    "overlay": _build_overlay,
}


# ---------------------------------------------------------------------------
# DICOM header
# ---------------------------------------------------------------------------


def _dataset(
    ident: _Identity, spec: _Pixels, pixels: npt.NDArray[np.integer], uid_base: str
) -> FileDataset:
    sop_uid = UID(f"{uid_base}.3")
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = spec.sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = "MEDSCRUB_TEXTSET"
    ds = FileDataset("", Dataset(), file_meta=meta, preamble=b"\x00" * 128)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = spec.sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = f"{uid_base}.1"
    ds.SeriesInstanceUID = f"{uid_base}.2"
    ds.Modality = spec.modality
    ds.Manufacturer = "FAKEVENDOR"
    ds.ManufacturerModelName = "PHANTOM-3000"
    ds.PatientName = f"{ident.family}^{ident.given}"
    ds.PatientID = ident.patient_id
    ds.PatientBirthDate = ident.birth_date
    ds.PatientSex = ident.sex
    ds.PatientAge = ident.age
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = ident.study_date
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "101537"
    ds.AccessionNumber = ident.accession
    ds.InstitutionName = ident.institution
    ds.ReferringPhysicianName = "FAKEDOC^NOBODY"
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.PatientOrientation = ""
    ds.BurnedInAnnotation = "YES"
    rgb = spec.photometric == "RGB"
    ds.SamplesPerPixel = 3 if rgb else 1
    ds.PhotometricInterpretation = spec.photometric
    if rgb:
        ds.PlanarConfiguration = 0
    if pixels.shape[0] > 1:
        ds.NumberOfFrames = pixels.shape[0]
    ds.Rows, ds.Columns = int(pixels.shape[1]), int(pixels.shape[2])
    ds.BitsAllocated = pixels.dtype.itemsize * 8
    ds.BitsStored = spec.bits_stored
    ds.HighBit = spec.bits_stored - 1
    ds.PixelRepresentation = 1 if pixels.dtype.kind == "i" else 0
    for keyword, value in spec.extra.items():
        setattr(ds, keyword, value)
    ds.PixelData = pixels.astype(pixels.dtype.newbyteorder("<")).tobytes()
    ds["PixelData"].VR = "OW" if ds.BitsAllocated > 8 else "OB"
    return ds


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def generate_text_set(seed: int = 0, count: int = 60, *, burn_text: bool = True) -> list[TextCase]:
    """Generate the burned-in text evaluation set.

    Case ``i`` is of kind ``KINDS[i % len(KINDS)]`` and is drawn from its own
    generator ``default_rng([seed, i])``, so cases do not depend on `count`.

    Parameters
    ----------
    seed : int, optional
        Non-negative seed; the same seed (with the same fonts and library
        versions) gives identical pixels, headers and boxes.
    count : int, optional
        Number of cases.
    burn_text : bool, optional
        If False, return the same cases (headers and boxes) with text-free
        pixels: the clean reference for measuring what a redactor damaged.

    Returns
    -------
    list[TextCase]
        The cases, in index order.
    """
    cases: list[TextCase] = []
    for index in range(count):
        kind = KINDS[index % len(KINDS)]
        rng = np.random.default_rng([seed, index])
        ident = _identity(rng)
        scene, spec = _BUILDERS[kind](rng, ident)
        pixels, boxes = scene.finish(spec.lo, spec.hi, spec.dtype, burn=burn_text)
        ds = _dataset(ident, spec, pixels, f"{UID_ROOT}20.{seed}.{index + 1}")
        cases.append(TextCase(
            name=f"{index:03d}_{kind}",
            kind=kind,
            dataset=ds,
            boxes=tuple(boxes),
            frames=tuple(line.frames for line in scene.lines),
            fonts=tuple(dict.fromkeys(scene.fonts)),
        ))
    return cases


def _box_json(box: TextBox, frames: slice | None) -> dict[str, object]:
    span = None if frames is None else [frames.start, frames.stop]
    return {**box.to_dict(), "frames": span}


def write_text_set(
    directory: str | os.PathLike[str], seed: int = 0, count: int = 60
) -> list[pathlib.Path]:
    """Write the set as ``<name>.dcm`` files plus :data:`TEXT_GROUND_TRUTH_NAME`.

    Parameters
    ----------
    directory : str or os.PathLike
        Output directory (created if needed; existing files are overwritten).
    seed, count : int, optional
        As for :func:`generate_text_set`.

    Returns
    -------
    list[pathlib.Path]
        Every file written, sorted.  The JSON maps each DICOM file name to
        its boxes: ``y0, x0, y1, x1, phi, text`` and ``frames``
        (``[start, stop]`` or ``null`` for all frames).
    """
    root = pathlib.Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    written: list[pathlib.Path] = []
    truth: dict[str, list[dict[str, object]]] = {}
    for case in generate_text_set(seed, count):
        path = root / f"{case.name}.dcm"
        case.dataset.save_as(path, enforce_file_format=True)
        written.append(path)
        truth[path.name] = [
            _box_json(b, f) for b, f in zip(case.boxes, case.frames, strict=True)
        ]
    gt = root / TEXT_GROUND_TRUTH_NAME
    gt.write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    written.append(gt)
    return sorted(written)


def load_text_ground_truth(
    path: str | os.PathLike[str],
) -> dict[str, list[tuple[TextBox, slice | None]]]:
    """Read the ground truth written by :func:`write_text_set`.

    Parameters
    ----------
    path : str or os.PathLike
        The JSON file, or the directory passed to :func:`write_text_set`.

    Returns
    -------
    dict[str, list[tuple[TextBox, slice | None]]]
        DICOM file name -> (box, frames) pairs; frames None means all frames.
    """
    p = pathlib.Path(path)
    if p.is_dir():
        p = p / TEXT_GROUND_TRUTH_NAME
    raw = json.loads(p.read_text(encoding="utf-8"))
    out: dict[str, list[tuple[TextBox, slice | None]]] = {}
    for name, boxes in raw.items():
        out[name] = [
            (
                TextBox.from_dict({k: v for k, v in b.items() if k != "frames"}),
                None if b["frames"] is None else slice(*b["frames"]),
            )
            for b in boxes
        ]
    return out
