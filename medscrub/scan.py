"""A dry run: which identifiers each file carries, and where, before anything is cleaned.

:func:`scan_path` reads every file below a folder and writes nothing. For each
file it reports *kinds* of identifier and where they are: header attributes by
keyword, private tags and overlay, curve and icon groups by tag, burned-in text
and faces by box, identifying file or folder names by position. It never
reports a value: a path component found to identify the patient is shown
masked (``[hidden-3fa2c1]``, the same token for the same text within one scan).

The header rules are the Basic Profile's: an attribute counts when the profile
would not keep it as it is (remove, blank, replace, clean or remap), when it
holds a date, or when the data dictionary does not know it; but not when its
value is empty or a de-identifier's placeholder (``ANONYMIZED``, ``19000101``,
``ANON^...``), so that a cleaned file shows what is left.
"""

from __future__ import annotations

import functools
import io
import os
import re
import secrets
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import ExifTags, Image
from pydicom.datadict import keyword_for_tag

from medscrub.detectors import (
    DEFAULT_DETECTORS,
    Context,
    Detector,
    available_detectors,
    detector_status,
)
from medscrub.detectors.plausibility import detect_checked
from medscrub.dicom.actions import ActionTable
from medscrub.dicom.elements import PIXEL_DATA, Node
from medscrub.dicom.io import (
    DicomFile,
    embedded_overlay_bits,
    pixel_dataset,
    read_dicom,
    sop_class,
)
from medscrub.dicom.pixels import View, decode_frames
from medscrub.dicom.values import (
    DEFAULT_ENCODINGS,
    decode_text,
    encodings_for,
    is_free_text,
    is_known_public,
    strings,
    tag_of,
)
from medscrub.errors import MedscrubError, UnsupportedInputError
from medscrub.files import FileKind, classify, walk
from medscrub.hints import PhiHints
from medscrub.limits import DEFAULT_LIMITS, TimeLimitExceeded, time_limit
from medscrub.model import Region
from medscrub.paths import NOTHING_KNOWN, Known, identifying_components, masked_path
from medscrub.photo import Photo, metadata_channels, read_photo
from medscrub.policy import may_show_faces
from medscrub.profile import Profile
from medscrub.workers import ordered_map

__all__ = [
    "HARMLESS_KINDS",
    "KINDS",
    "FileScan",
    "Finding",
    "ScanOptions",
    "ScanReport",
    "header_findings",
    "name_findings",
    "scan_file",
    "scan_path",
    "unavailable_detectors",
]

#: Every kind of finding, in report order, with what it means.
KINDS: dict[str, str] = {
    "header": "identifying header attributes",
    "uid": "instance UIDs (link a file to its original)",
    "private": "private tags",
    "overlay": "overlay planes",
    "curve": "curve data",
    "icon": "icon thumbnails",
    "text": "burned-in identifying text",
    "face": "faces",
    "photo-metadata": "photo metadata",
    "filename": "identifying file or folder names",
    "text-other": "other burned-in text (not identifying)",
}
#: Kinds that are found but do not identify anyone (they do not make a file "found").
HARMLESS_KINDS = frozenset({"text-other"})

_PIXEL_GROUP = 0x7FE0
_ICON_SEQUENCE = 0x00880200
_DATE_VRS = frozenset({"DA", "DT"})
#: Values that say nothing about anyone: the placeholders de-identifiers write.
_PLACEHOLDER = re.compile(
    rb"^(?:ANONYMI[SZ]ED|ANONYMOUS|ANON[\^]?[A-Z0-9]*|REMOVED|0+(?:\.0+)?|000Y"
    rb"|19000101(?:000000)?)[ \x00]*$"
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One kind of identifier in one place of a file (never its value).

    Attributes
    ----------
    kind : str
        A key of :data:`KINDS`.
    where : str
        Keyword path (``"ReferencedStudySequence>PatientName"``), tag or group
        (``"(0029,xxxx)"``), frames (``"all frames"``), or path position
        (``"folder 1"``, ``"file name"``).
    count : int
        How many elements (or regions) of this kind are at `where`.
    box : tuple of int, optional
        ``(y0, x0, y1, x1)`` of a region in pixels.
    detail : str
        What matched, as a category (``"patient name"``, ``"date-like"``), or
        the detector that found a region.
    """

    kind: str
    where: str
    count: int = 1
    box: tuple[int, int, int, int] | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out: dict[str, Any] = {"kind": self.kind, "where": self.where, "count": self.count}
        if self.box is not None:
            out["box"] = list(self.box)
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass(frozen=True, slots=True)
class FileScan:
    """What one file carries.

    Attributes
    ----------
    path : str
        The path relative to the scanned folder, identifying components masked.
    kind : str
        ``"dicom"``, ``"photo"``, ``"other"`` or ``"broken-dicom"``.
    findings : tuple of Finding
    error : str
        Why the file could not be scanned completely (``""`` if it was).
    frames : int
        Number of frames (0 when the file has no image).
    """

    path: str
    kind: str
    findings: tuple[Finding, ...] = ()
    error: str = ""
    frames: int = 0

    @property
    def kinds(self) -> frozenset[str]:
        """The kinds of finding present."""
        return frozenset(f.kind for f in self.findings)

    @property
    def found(self) -> bool:
        """True if the file carries any identifying finding."""
        return bool(self.kinds - HARMLESS_KINDS)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"path": self.path, "kind": self.kind, "frames": self.frames,
                "findings": [f.to_dict() for f in self.findings],
                "error": self.error}


@dataclass(frozen=True, slots=True)
class ScanReport:
    """The scan of a whole folder.

    Attributes
    ----------
    files : tuple of FileScan
        One per file, in walk order.
    seconds : float
        Wall time of the scan.
    pixels : bool
        Whether the detectors ran on the pixels.
    unavailable : tuple of str
        Detectors that could not run, and why.
    """

    files: tuple[FileScan, ...]
    seconds: float
    pixels: bool = True
    unavailable: tuple[str, ...] = ()

    def summary(self) -> dict[str, int]:
        """Number of files carrying each kind, in :data:`KINDS` order (zeros kept)."""
        counts = Counter(k for f in self.files for k in f.kinds)
        return {kind: counts[kind] for kind in KINDS}

    @property
    def found(self) -> bool:
        """True if any file carries an identifying finding."""
        return any(f.found for f in self.files)

    @property
    def incomplete(self) -> tuple[FileScan, ...]:
        """Files that could not be scanned completely."""
        return tuple(f for f in self.files if f.error)

    @property
    def complete(self) -> bool:
        """True if every file was read and every check asked for could run."""
        return not self.incomplete and not (self.pixels and self.unavailable)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: per-file findings and the summary."""
        return {
            "files_scanned": len(self.files),
            "files_with_findings": sum(f.found for f in self.files),
            "files_incomplete": len(self.incomplete),
            "seconds": round(self.seconds, 3),
            "pixels_checked": self.pixels,
            "detectors_unavailable": list(self.unavailable),
            "summary": self.summary(),
            "kinds": dict(KINDS),
            "files": [f.to_dict() for f in self.files],
        }


# -- header -------------------------------------------------------------------------


def _tag_text(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _group_text(tag: int) -> str:
    return f"({tag >> 16:04X},xxxx)"


def _name(tag: int) -> str:
    return keyword_for_tag(tag) or _tag_text(tag)


def _empty(value: object) -> bool:
    if isinstance(value, bytes):
        return not value.strip(b" \x00")
    return not value


def _placeholder(value: object) -> bool:
    """A value a de-identifier wrote in place of the original."""
    return isinstance(value, bytes) and _PLACEHOLDER.match(value) is not None


def _header_places(node: Node, table: ActionTable, hints: PhiHints,
                   prefix: str = "") -> Iterator[tuple[str, str, str]]:
    """(kind, where, detail) for every identifying place in a data set tree."""
    for tag, elem in node.items():
        group = tag >> 16
        if group == _PIXEL_GROUP or tag & 0xFFFF == 0 or _empty(elem.value):
            continue
        if group & 1:
            yield "private", prefix + _group_text(tag), ""
            continue
        if 0x6000 <= group <= 0x601E:
            yield "overlay", prefix + _group_text(tag), ""
            continue
        if 0x5000 <= group <= 0x501E:
            yield "curve", prefix + _group_text(tag), ""
            continue
        if tag == _ICON_SEQUENCE:
            yield "icon", prefix + _name(tag), ""
            continue
        if not is_known_public(tag):
            yield "header", prefix + _tag_text(tag), ""
            continue
        action = table.public(tag)
        if isinstance(elem.value, list):
            if action in ("X", "Z"):  # the whole sequence goes (D and C walk its items)
                yield "header", prefix + _name(tag), ""
            else:
                for item in elem.value:
                    yield from _header_places(item, table, hints, f"{prefix}{_name(tag)}>")
        elif (action not in (None, "K") or elem.vr in _DATE_VRS) and not _placeholder(elem.value):
            yield "uid" if elem.vr == "UI" else "header", prefix + _name(tag), ""
        elif action in (None, "K") and is_free_text(tag, elem.vr):  # kept, yet identifying?
            kinds = hints.kinds_in(decode_text(elem, DEFAULT_ENCODINGS))
            if kinds:
                yield "header", prefix + _name(tag), "free text: " + ", ".join(sorted(kinds))


@functools.lru_cache(maxsize=1)
def _basic_table() -> ActionTable:
    return ActionTable.for_profile(Profile())


def header_findings(node: Node, hints: PhiHints | None = None) -> list[Finding]:
    """Identifying header places of a data set tree, counted by (kind, where): what the
    Basic Profile would change, and kept free text that holds an identifier (one
    :mod:`medscrub.recognizers` finds, or one of `hints`)."""
    counts = Counter(_header_places(node, _basic_table(), hints or PhiHints()))
    if embedded_overlay_bits(node):
        counts["overlay", "Pixel Data (unused high bits)", ""] += 1
    return [Finding(kind, where, n, detail=detail) for (kind, where, detail), n in counts.items()]


# -- file and folder names ---------------------------------------------------------


def name_findings(rel: str, known: Known = NOTHING_KNOWN) -> list[tuple[int, Finding]]:
    """(component index, finding) for each identifying component of `rel`."""
    last = len(rel.split("/")) - 1
    return [(index, Finding("filename", "file name" if index == last else f"folder {index + 1}",
                            detail=reason))
            for index, reason in identifying_components(rel, known)]


# -- pixels ------------------------------------------------------------------------


def _detectors(role: str) -> list[Detector]:
    """New instances of the default detectors of `role` that can run here (one set per
    image: what a detector remembers must not carry to another file)."""
    found = available_detectors()
    return [found[name] for name in DEFAULT_DETECTORS[role] if name in found]


def unavailable_detectors() -> tuple[str, ...]:
    """``"name: why"`` for each default detector that cannot run here."""
    return tuple(f"{name}: {reason}" for name, ok, reason in detector_status()
                 if not ok and any(name in names for names in DEFAULT_DETECTORS.values()))


def _region_finding(region: Region, total: int, page: str = "") -> Finding:
    kind = "text-other" if region.kind == "text" and not region.phi else region.kind
    if page:
        where = page
    elif region.frames is None or (region.frames.start in (0, None) and
                                   (region.frames.stop or total) >= total):
        where = "all frames" if total > 1 else "image"
    else:
        start = region.frames.start or 0
        where = f"frames {start + 1}-{region.frames.stop or total}"
    return Finding(kind, where, box=(region.y0, region.x0, region.y1, region.x1),
                   detail=region.detector)


def _detect(frames: np.ndarray[Any, Any], context: Context, faces: bool,
            page: str = "") -> list[Finding]:
    """Run the text detectors (and, with `faces`, the face detectors) on `frames`."""
    detectors = _detectors("text") + (_detectors("face") if faces else [])
    total = frames.shape[0]
    return [_region_finding(r, total, page) for d in detectors
            for r in detect_checked(d, frames, context)]


def _dicom_pixels(file: DicomFile, hints: PhiHints) -> tuple[list[Finding], int]:
    ds = pixel_dataset(file)
    pixels = decode_frames(ds)
    view = View.of(ds, pixels)
    modality = " ".join(strings(file.body, tag_of("Modality"), DEFAULT_ENCODINGS))
    context = Context(photometric=view.shown, modality=modality, bits_stored=view.shown_bits,
                      hints=hints, mode="phi")
    frames = view.rgb(pixels.frames)
    faces = may_show_faces(sop_class(file), modality, file.body)
    return _detect(frames, context, faces), int(pixels.frames.shape[0])


def _photo_pixels(photo: Photo) -> list[Finding]:
    found = []
    for i, page in enumerate(photo.pages):
        grey = page.shape[-1] < 3
        context = Context(photometric="MONOCHROME2" if grey else "RGB",
                          bits_stored=page.dtype.itemsize * 8, photo=True)
        where = f"page {i + 1}" if len(photo.pages) > 1 else ""
        found += _detect(page[None], context, True, where)  # one image (rows, cols, samples)
    return found


#: EXIF tags by what they tell: (IFD, tag) pairs, 0 for the main IFD.
_EXIF_MEANINGS: dict[str, tuple[tuple[int, int], ...]] = {
    "camera serial or owner": ((ExifTags.IFD.Exif, 0xA431), (ExifTags.IFD.Exif, 0xA435),
                               (ExifTags.IFD.Exif, 0xA430)),
    "dates": ((0, 0x0132), (ExifTags.IFD.Exif, 0x9003), (ExifTags.IFD.Exif, 0x9004),
              (ExifTags.IFD.GPSInfo, 0x001D)),
    "names and descriptions": ((0, 0x013B), (0, 0x8298), (0, 0x010E), (0, 0x9C9B),
                               (0, 0x9C9C), (0, 0x9C9D), (0, 0x9C9F),
                               (ExifTags.IFD.Exif, 0x9286)),
}


def _exif_findings(data: bytes) -> list[Finding]:
    """What the EXIF block tells, by meaning: GPS, serials, dates, names, a thumbnail."""
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        ifds = {0: dict(exif)}
        for ifd in (ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo, ExifTags.IFD.IFD1):
            ifds[ifd] = dict(exif.get_ifd(ifd))
    found = []
    gps = [t for t in ifds[ExifTags.IFD.GPSInfo] if t not in (0x0000, 0x001D)]  # not version
    if gps:
        found.append(Finding("photo-metadata", "EXIF GPS position", len(gps)))
    for meaning, tags in _EXIF_MEANINGS.items():
        present = sum(tag in ifds[ifd] for ifd, tag in tags)
        if present:
            found.append(Finding("photo-metadata", f"EXIF {meaning}", present))
    if ifds[ExifTags.IFD.IFD1]:
        found.append(Finding("photo-metadata", "EXIF thumbnail"))
    return found


def _photo_metadata(data: bytes) -> list[Finding]:
    """Every metadata channel the photo carries (ICC profile included), and the EXIF in it."""
    channels = [Finding("photo-metadata", channel)
                for channel in metadata_channels(data, allow_icc=False)]
    return channels + (_exif_findings(data) if channels else [])


# -- one file ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """What a scan looks at.

    Attributes
    ----------
    pixels : bool
        Run the detectors (burned-in text, faces) on the pixels.
    phi_terms : tuple of str
        Extra identifying strings to look for in burned-in text.
    salt : bytes
        Key of the tokens that mask identifying path components.
    """

    pixels: bool = True
    phi_terms: tuple[str, ...] = ()
    salt: bytes = field(default_factory=lambda: secrets.token_bytes(16))


@dataclass(slots=True)
class _Progress:
    """What is known of one file so far (kept when a later step fails)."""

    kind: FileKind = FileKind.OTHER
    frames: int = 0
    known: Known = field(default_factory=Known)
    findings: list[Finding] = field(default_factory=list)


def scan_file(path: Path, rel: str, options: ScanOptions) -> FileScan:
    """Scan one file; never raises for a bad input (the reason goes in ``error``).

    The pipeline's default limits hold (size, nesting, decoded pixels, seconds).
    """
    progress = _Progress()
    error = ""
    try:
        with time_limit(DEFAULT_LIMITS.seconds):
            _scan_content(path, options, progress)
    except TimeLimitExceeded:
        error = f"took over {DEFAULT_LIMITS.seconds:g} s (limit seconds)"
    except OSError as exc:
        error = f"cannot read ({exc.strerror or 'I/O error'})"
    except MedscrubError as exc:
        error = str(exc)
    except Exception as exc:  # one bad file never stops the scan
        error = f"unexpected error ({exc.__class__.__name__})"
    named = name_findings(rel, progress.known)
    findings = progress.findings + [f for _i, f in named]
    shown = masked_path(rel, [i for i, _f in named], options.salt)
    return FileScan(shown, progress.kind.value, _merged(findings), error, progress.frames)


def _scan_content(path: Path, options: ScanOptions, progress: _Progress) -> None:
    """Record the findings of a file's content in `progress`, step by step."""
    DEFAULT_LIMITS.check_file(path.stat().st_size)
    data = path.read_bytes()
    progress.kind = kind = classify(path, data[:132])
    if kind is FileKind.DICOM:
        file = read_dicom(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            encodings = encodings_for(file.body, DEFAULT_ENCODINGS)
            hints = PhiHints.from_node(file.body, encodings, options.phi_terms)
        progress.known = Known.of(file.body, hints, encodings)
        progress.findings += header_findings(file.body, hints)
        if options.pixels and PIXEL_DATA in file.body:
            found, progress.frames = _dicom_pixels(file, hints)
            progress.findings += found
    elif kind is FileKind.PHOTO:
        progress.findings += _photo_metadata(data)
        if options.pixels:
            photo = read_photo(data)
            progress.frames = len(photo.pages)
            progress.findings += _photo_pixels(photo)
    elif kind is FileKind.BROKEN_DICOM:
        raise UnsupportedInputError("empty file" if not data else
                                    "not a DICOM file medscrub can read")


def _merged(findings: list[Finding]) -> tuple[Finding, ...]:
    """Equal findings (e.g. one box found twice) as one, their counts added."""
    counts: Counter[Finding] = Counter()
    for f in findings:
        counts[replace(f, count=1)] += f.count
    return tuple(replace(f, count=n) for f, n in counts.items())


# -- a folder ----------------------------------------------------------------------

def _scan_item(options: ScanOptions, item: tuple[Path, str]) -> FileScan:
    return scan_file(item[0], item[1], options)


def _lost_scan(options: ScanOptions, item: tuple[Path, str]) -> FileScan:
    """The scan of a file that crashed or hung its worker twice."""
    rel = item[1]
    shown = masked_path(rel, [i for i, _f in name_findings(rel)], options.salt)
    return FileScan(shown, FileKind.OTHER.value,
                    error="its worker process ended while scanning it (a crash, or over "
                          "the hard time limit)")


def scan_path(
    source: str | os.PathLike[str],
    *,
    pixels: bool = True,
    phi_terms: Sequence[str] = (),
    jobs: int = 1,
    on_file: Callable[[FileScan], None] | None = None,
) -> ScanReport:
    """Scan a file or a folder (recursively); write nothing.

    Parameters
    ----------
    source : path
        A file, or a folder walked recursively (symbolic links not followed).
    pixels : bool
        Also run the detectors on the pixels (slower; burned-in text, faces).
    phi_terms : sequence of str
        Extra identifying strings to look for in burned-in text.
    jobs : int
        Worker processes; 1 scans in this process. Files are reported in
        walk order whatever ``jobs`` is.
    on_file : callable, optional
        Called with each :class:`FileScan` as it is made.
    """
    src = Path(source)
    if not src.exists():
        raise MedscrubError(f"{source}: no such file or folder")
    options = ScanOptions(pixels, tuple(t.strip() for t in phi_terms if t.strip()))
    root = src if src.is_dir() else src.parent
    items = ((path, path.relative_to(root).as_posix()) for path in walk(src))
    start = time.perf_counter()
    scans: list[FileScan] = []
    for scan in ordered_map(functools.partial(_scan_item, options), items,
                            lost=functools.partial(_lost_scan, options),
                            jobs=jobs if jobs > 1 else 0,
                            hard_seconds=2 * DEFAULT_LIMITS.seconds + 1):
        scans.append(scan)
        if on_file is not None:
            on_file(scan)
    unavailable = unavailable_detectors() if pixels else ()
    return ScanReport(tuple(scans), time.perf_counter() - start, pixels, unavailable)
