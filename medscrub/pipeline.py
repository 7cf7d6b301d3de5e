"""One file's way through medscrub: read, clean, verify, write, audit.

:class:`Pipeline` holds what a run shares (profile, resolved table, key) and
processes in-memory datasets, single files or whole folders. A file that
cannot be fully cleaned is never written: it is reported with its stage and
a one-line reason, and the batch goes on.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset
from pydicom.pixels.processing import convert_color_space

from medscrub.detectors import Context, Detector, check_choices, detectors_for
from medscrub.detectors.faces import head_area
from medscrub.detectors.plausibility import detect_checked
from medscrub.dicom.actions import ActionTable
from medscrub.dicom.codec import Node
from medscrub.dicom.header import HeaderResult, deidentify, method_code_item
from medscrub.dicom.io import (
    DICOMDIR_CLASS,
    ENCAPSULATED_DOCUMENT_CLASSES,
    DicomFile,
    dataset_to_file,
    embedded_overlay_bits,
    encode_dicom,
    pixel_dataset,
    read_dicom,
    replace_contents,
    sop_class,
    store_pixels,
)
from medscrub.dicom.pixels import decode_frames, encode_frames
from medscrub.dicom.values import (
    DEFAULT_ENCODINGS,
    ascii_element,
    encodings_for,
    strings,
    tag_of,
    us_value,
)
from medscrub.errors import (
    DetectorError,
    EncodeError,
    MedscrubError,
    UnsupportedInputError,
    VerificationFailed,
)
from medscrub.files import (
    FileKind,
    atomic_write,
    classify,
)
from medscrub.hints import PhiHints
from medscrub.keys import SecretKey
from medscrub.limits import Limits, TimeLimitExceeded, time_limit
from medscrub.limits import applied as limits_applied
from medscrub.model import FileResult, Outcome, Region
from medscrub.photo import (
    jpeg_rotates,
    metadata_channels,
    photo_format,
    read_photo,
    strip_segments,
    write_photo,
)
from medscrub.profile import PixelRule, Profile
from medscrub.redact import as_frames, black_value, redact
from medscrub.run import RunSummary, run_folder
from medscrub.spec import PipelineSpec
from medscrub.verify import IDENTIFIER_KEYWORDS, HeaderVerifier

__all__ = [
    "FACES_NOT_CHECKED",
    "TEXT_NOT_CHECKED",
    "CleanedDicom",
    "CleanedPhoto",
    "Pipeline",
    "may_show_faces",
]

_log = logging.getLogger("medscrub")
_PIXEL_DATA = 0x7FE00010
_BURNED_IN_ANNOTATION = 0x00280301
_METHOD_CODES = 0x00120064
_DIRECTORY_RECORDS = 0x00041220
_ENCAPSULATED_DOCUMENT = 0x00420011
TEXT_NOT_CHECKED = "pixels not checked for burned-in text (Clean Pixel Data is off)"
_TEXT_LOOKS = 3  # looks for burned-in text (the last must find nothing)
FACES_NOT_CHECKED = (
    "pixels not checked for faces (Clean Recognizable Visual Features is off)"
)
_RECOGNIZABLE_VISUAL_FEATURES = 0x00280302
_SAMPLES_PER_PIXEL = 0x00280002
#: SOP classes of photographs, endoscopy, microscopy and screen captures: the face step
#: runs on these, on modalities XC, ES, OP, GM, SM and on every colour image.
_PHOTOGRAPHIC_CLASSES = frozenset({
    "1.2.840.10008.5.1.4.1.1.7", "1.2.840.10008.5.1.4.1.1.7.1", "1.2.840.10008.5.1.4.1.1.7.2",
    "1.2.840.10008.5.1.4.1.1.7.3", "1.2.840.10008.5.1.4.1.1.7.4",
    "1.2.840.10008.5.1.4.1.1.77.1.1", "1.2.840.10008.5.1.4.1.1.77.1.1.1",
    "1.2.840.10008.5.1.4.1.1.77.1.2", "1.2.840.10008.5.1.4.1.1.77.1.2.1",
    "1.2.840.10008.5.1.4.1.1.77.1.3", "1.2.840.10008.5.1.4.1.1.77.1.4",
    "1.2.840.10008.5.1.4.1.1.77.1.4.1", "1.2.840.10008.5.1.4.1.1.77.1.5.1",
    "1.2.840.10008.5.1.4.1.1.77.1.5.2",
})
_PHOTOGRAPHIC_MODALITIES = frozenset({"XC", "ES", "OP", "GM", "SM"})


@dataclass(frozen=True, slots=True)
class CleanedDicom:
    """One cleaned DICOM file: its bytes, what the header step did, the regions redacted."""

    data: bytes
    header: HeaderResult
    regions: tuple[Region, ...] = ()
    text_checked: bool = False
    faces_checked: bool = False

    @property
    def warnings(self) -> tuple[str, ...]:
        """What was not checked in this file's pixels."""
        if not self.header.has_pixels:
            return ()
        return _unchecked(self.text_checked, self.faces_checked)


@dataclass(frozen=True, slots=True)
class CleanedPhoto:
    """One cleaned photo: its bytes (no metadata), the regions redacted, what was checked.

    ``removed`` names the metadata channels the original carried (e.g.
    ``"JPEG marker 0xE1"``); ``reencoded`` is False when a JPEG was cleaned at
    the segment level (its pixels are the original's, bit for bit).
    """

    data: bytes
    format: str
    removed: tuple[str, ...] = ()
    regions: tuple[Region, ...] = ()
    text_checked: bool = False
    faces_checked: bool = False
    reencoded: bool = True

    @property
    def warnings(self) -> tuple[str, ...]:
        """What was not checked in this photo's pixels."""
        return _unchecked(self.text_checked, self.faces_checked)


def _unchecked(text_checked: bool, faces_checked: bool) -> tuple[str, ...]:
    return ((() if text_checked else (TEXT_NOT_CHECKED,))
            + (() if faces_checked else (FACES_NOT_CHECKED,)))


def _device(body: Node) -> dict[str, str | int]:
    """Header values pixel rules are matched on (read before cleaning)."""
    found: dict[str, str | int] = {}
    for keyword in ("Modality", "Manufacturer", "ManufacturerModelName"):
        found[keyword] = " ".join(strings(body, tag_of(keyword), DEFAULT_ENCODINGS))
    for keyword in ("Rows", "Columns"):
        found[keyword] = us_value(body.get(tag_of(keyword)), 0)
    return found


def _viewed(photometric: str) -> str:
    return "RGB" if photometric.startswith("YBR") else photometric


def _view(frames: npt.NDArray[Any], photometric: str) -> npt.NDArray[Any]:
    """The frames as a detector should see them (YBR shown as RGB)."""
    if photometric.startswith("YBR") and frames.shape[-1] == 3:
        return np.asarray(convert_color_space(frames, photometric, "RGB"))
    return frames


def _record_pixel_cleaning(body: Node) -> None:
    """Burned In Annotation NO and the Clean Pixel Data code, once text was removed."""
    body[_BURNED_IN_ANNOTATION] = ascii_element("CS", "NO")
    methods = body.get(_METHOD_CODES)
    if methods is not None and isinstance(methods.value, list):
        methods.value.append(method_code_item("clean_pixel_data"))


def _record_face_cleaning(body: Node) -> None:
    """Recognizable Visual Features NO and the option's code, once faces were removed."""
    body[_RECOGNIZABLE_VISUAL_FEATURES] = ascii_element("CS", "NO")
    methods = body.get(_METHOD_CODES)
    if methods is not None and isinstance(methods.value, list):
        methods.value.append(method_code_item("clean_recognizable_visual_features"))


def may_show_faces(klass: str, modality: str, body: Node) -> bool:
    """Whether Clean Recognizable Visual Features looks for faces in an image (the
    pipeline's rule, which scan follows): photographic SOP classes and modalities,
    and colour images of any kind but ultrasound (colour Doppler cines of hundreds
    of frames, which cannot show a face)."""
    if klass in _PHOTOGRAPHIC_CLASSES or modality.upper() in _PHOTOGRAPHIC_MODALITIES:
        return True
    return modality.upper() != "US" and us_value(body.get(_SAMPLES_PER_PIXEL), 1) >= 3


def _page_fill(page: npt.NDArray[Any]) -> tuple[float, ...]:
    """Opaque black for a photo page: (0,) grey, (0, 0, 0) RGB, (0, 0, 0, max) RGBA."""
    samples = page.shape[-1]
    black = (0.0,) * min(samples, 3)
    opaque: float = float(np.iinfo(page.dtype).max)
    return (*black, opaque) if samples == 4 else black


class _Refused(MedscrubError):
    """A file medscrub deliberately does not copy (reported as skipped)."""


class _Stop(Exception):
    """Ends one file's processing early with an outcome and a reason."""

    def __init__(self, outcome: Outcome, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason


@dataclass(slots=True)
class _Step:
    """How far one file got: the stage, its kind and the input's hash."""

    stage: str = "read"
    kind: str = ""
    digest: str = ""

    def result(self, rel: str, outcome: Outcome, **fields: Any) -> FileResult:
        return FileResult(input=rel, outcome=outcome, kind=self.kind, stage=self.stage,
                          input_sha256=self.digest, **fields)


class Pipeline:
    """The de-identification pipeline for one profile and one key.

    Parameters
    ----------
    profile : Profile, optional
        Options and overrides; when omitted, the ``standard`` preset (the Basic
        Profile plus Clean Pixel Data and Clean Recognizable Visual Features).
    key : SecretKey, optional
        The run's key; a random one (results not linkable) when omitted.
    rename : bool
        Give outputs non-identifying names instead of their relative paths (a
        profile that asks for it, such as ``share``, renames in any case).
    phi_terms : iterable of str
        Extra identifying strings (names, IDs, places) to find in text.
    limits : Limits, optional
        What one file may cost (bytes, decoded pixels, nesting, seconds).
    """

    def __init__(
        self,
        profile: Profile | None = None,
        *,
        key: SecretKey | None = None,
        rename: bool = False,
        phi_terms: Iterable[str] = (),
        limits: Limits | None = None,
    ) -> None:
        self.spec = PipelineSpec.make(profile, key=key, rename=rename, phi_terms=phi_terms,
                                      limits=limits)
        self.profile = self.spec.profile
        self.key = self.spec.key
        self.rename = self.spec.rename
        self.phi_terms = self.spec.phi_terms
        self.limits = self.spec.limits
        check_choices(self.profile.detectors)
        self.table = ActionTable.for_profile(self.profile)
        self._unverified_kinds = self._kinds_kept()

    @classmethod
    def from_spec(cls, spec: PipelineSpec) -> Pipeline:
        """The pipeline of `spec` (as a worker builds it)."""
        return cls(spec.profile, key=spec.key, rename=spec.rename, phi_terms=spec.phi_terms,
                   limits=spec.limits)

    def _kinds_kept(self) -> frozenset[str]:
        """Identifier kinds the profile keeps on purpose (not verified)."""
        kept = {
            kind for kind, keywords in IDENTIFIER_KEYWORDS.items()
            if any(self.table.public(tag_of(k)) == "K" for k in keywords)
        }
        if "retain_longitudinal_full_dates" in self.profile.options:
            kept.add("dates")
        return frozenset(kept)

    # -- in memory ------------------------------------------------------------
    def redact_dataset(self, ds: Dataset, *, in_place: bool = False) -> Dataset:
        """Return `ds` de-identified (a copy unless `in_place`), exactly as a file would be.

        The header, the pixel rules and the verification all apply; the file meta
        is replaced by a fresh one.
        """
        target = ds if in_place else copy.deepcopy(ds)
        cleaned = self._redact_file(dataset_to_file(target), _Step())
        replace_contents(target, cleaned.data)
        return target

    def _clean(self, node: Node) -> tuple[HeaderResult, PhiHints]:
        encodings = encodings_for(node, DEFAULT_ENCODINGS)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hints = PhiHints.from_node(node, encodings, self.phi_terms)
            verifier = HeaderVerifier.from_node(node, self._unverified_kinds, encodings)
            result = deidentify(node, self.profile, self.key, table=self.table, hints=hints)
            verifier.check(node)
        return result, hints

    def redact_dicom_bytes(self, data: bytes) -> CleanedDicom:
        """De-identify one DICOM file's bytes: header, then known pixel regions."""
        return self._redact_dicom(data, _Step())

    def _redact_dicom(self, data: bytes, step: _Step) -> CleanedDicom:
        return self._redact_file(read_dicom(data), step)

    def _redact_file(self, file: DicomFile, step: _Step) -> CleanedDicom:
        klass = sop_class(file)
        if klass == DICOMDIR_CLASS or _DIRECTORY_RECORDS in file.body:
            raise _Refused(
                "DICOMDIR indexes the original patient records; not copied "
                "(build a new one from the cleaned files)"
            )
        if klass in ENCAPSULATED_DOCUMENT_CLASSES or _ENCAPSULATED_DOCUMENT in file.body:
            raise UnsupportedInputError(
                "encapsulated document (PDF/CDA/3-D model): its content cannot be checked"
            )
        overlay_bits = embedded_overlay_bits(file.body)
        device = _device(file.body)
        rules = [r for r in self.profile.pixel_rules if r.matches(device)]
        scan = _PIXEL_DATA in file.body and self._scans(device, file.body)
        face_option = "clean_recognizable_visual_features" in self.profile.options
        faces = (_PIXEL_DATA in file.body and face_option
                 and may_show_faces(klass, str(device["Modality"]), file.body))
        step.stage = "header"
        header, hints = self._clean(file.body)
        regions: tuple[Region, ...] = ()
        if _PIXEL_DATA in file.body and (rules or overlay_bits or scan or faces):
            step.stage = "pixels"
            context = Context(modality=str(device["Modality"]), hints=hints,
                              mode=self.profile.text_mode) if scan else None
            regions = self._clean_pixels(file, rules, context, faces, bool(overlay_bits))
        step.stage = "write"
        # with the option on, images that cannot show a face (CT, MR slices) count as checked
        return CleanedDicom(encode_dicom(file), header, regions, text_checked=scan,
                            faces_checked=face_option)

    def _scans(self, device: dict[str, str | int], body: Node) -> bool:
        """Whether Clean Pixel Data looks for burned-in text in this image."""
        profile = self.profile
        if "clean_pixel_data" not in profile.options:
            return False
        if profile.scan_modalities and str(device["Modality"]).upper() not in (
            profile.scan_modalities
        ):
            return False
        flag = " ".join(strings(body, _BURNED_IN_ANNOTATION, DEFAULT_ENCODINGS)).upper()
        return not (profile.trust_burned_in_annotation and flag == "NO")

    @staticmethod
    def _detect(detectors: list[Detector], frames: npt.NDArray[Any], photometric: str,
                context: Context) -> list[Region]:
        """What every one of `detectors` finds in `frames`, each answer checked."""
        view = _view(frames, photometric)
        return [r for detector in detectors for r in detect_checked(detector, view, context)]

    def _clean_pixels(
        self, file: DicomFile, rules: list[PixelRule], context: Context | None, faces: bool,
        overlay_bits: bool,
    ) -> tuple[Region, ...]:
        """Decode; clean the frames (:meth:`_clean_frames`); re-encode when anything was
        redacted or overlay bits must be cleared from the pixel cells (pixels the
        detectors found clean keep their original bytes); record the steps that ran."""
        ds = pixel_dataset(file)
        pixels = decode_frames(ds)
        frames = pixels.frames if pixels.frames.flags.writeable else pixels.frames.copy()
        representation = int(ds.get("PixelRepresentation", 0) or 0)
        fill = black_value(frames.dtype, pixels.photometric, pixels.bits_stored, representation)
        regions = self._clean_frames(frames, pixels.photometric, pixels.bits_stored, fill,
                                     rules, context, faces)
        if regions or overlay_bits:
            syntax = encode_frames(ds, replace(pixels, frames=frames), lossy=self.profile.lossy)
            store_pixels(file, ds, syntax)
        if context is not None:
            _record_pixel_cleaning(file.body)
        if faces:
            _record_face_cleaning(file.body)
        return tuple(regions)

    def _clean_frames(
        self,
        frames: npt.NDArray[Any],
        photometric: str,
        bits_stored: int | None,
        fill: Sequence[float],
        rules: Sequence[PixelRule],
        context: Context | None,
        faces: bool,
    ) -> list[Region]:
        """Redact in place, DICOM frames and photo pages alike: the rules' boxes, the
        burned-in text found (with `context`), every head found (with `faces`).

        Each detector looks again after redacting; what its last look still finds
        stops the file (:class:`VerificationFailed`).
        """
        regions: list[Region] = []
        for rule in rules:
            boxes = [Region(*box, kind="known", detector="recipe") for box in rule.boxes]
            redact(frames, boxes, method=rule.method, fill=fill, out=frames)
            regions += boxes
        if context is not None:
            # new detectors for each image: what one remembers of the crops it read (its
            # looks again after redaction) must not carry to another file
            texts = detectors_for("text", self.profile.detectors["text"])
            context = replace(context, photometric=_viewed(photometric), bits_stored=bits_stored)
            # Redact what is found, then look again: removing one line can uncover a
            # neighbour read as part of it. An image whose last look still finds text
            # is not written. An unchanged image needs no second look (same answer).
            for look in range(1, _TEXT_LOOKS + 1):
                found = context.redacted(self._detect(texts, frames, photometric, context))
                if not found:
                    break
                if look == _TEXT_LOOKS:
                    raise VerificationFailed(
                        f"burned-in text still found after redaction ({len(found)} region(s))"
                    )
                redact(frames, found, fill=fill, out=frames)
                regions += found
        if faces:
            regions += self._redact_faces(frames, photometric, bits_stored, fill)
        return regions

    def _redact_faces(
        self, frames: npt.NDArray[Any], photometric: str, bits_stored: int | None,
        fill: Sequence[float],
    ) -> list[Region]:
        """Redact the head around every face found, then check: a filled head holds
        nothing but the fill value; after a blur or pixelation the detector looks
        again, and a face still found (a blur too weak for it) stops the file."""
        detectors = detectors_for("face", self.profile.detectors["face"])
        context = Context(photometric=_viewed(photometric), bits_stored=bits_stored)
        found = self._detect(detectors, frames, photometric, context)
        if not found:
            return []
        _, rows, cols, _ = frames.shape
        heads = [head_area(r, self.profile.face_margin, rows, cols) for r in found]
        method = self.profile.face_method
        redact(frames, heads, method=method, fill=fill, out=frames)
        if method == "fill":
            value = np.asarray(fill, frames.dtype)
            left = [h for h in heads
                    if not (frames[h.frames or slice(None), h.y0:h.y1, h.x0:h.x1] == value).all()]
        else:
            left = self._detect(detectors, frames, photometric, context)
        if left:
            raise VerificationFailed(f"a face is still found after redaction ({len(left)})")
        return heads

    # -- photos -------------------------------------------------------------------
    def redact_photo_bytes(self, data: bytes) -> CleanedPhoto:
        """De-identify one photo's bytes (JPEG, PNG, TIFF, WebP, GIF, BMP, HEIC).

        Every metadata channel goes; with Clean Recognizable Visual Features
        the heads found are redacted, with Clean Pixel Data the burned-in text
        found. A JPEG whose pixels need no change is cleaned without decoding.

        Raises
        ------
        VerificationFailed
            If a face, text or a metadata channel is still found.
        """
        return self._redact_photo(data, _Step())

    def _redact_photo(self, data: bytes, step: _Step) -> CleanedPhoto:
        profile = self.profile
        context = Context(hints=PhiHints.from_node({}, extra=self.phi_terms),
                          mode=profile.text_mode) if "clean_pixel_data" in profile.options else None
        faces = "clean_recognizable_visual_features" in profile.options
        fmt = photo_format(data)
        regions: list[Region] = []
        if fmt == "JPEG" and context is None and not faces and not jpeg_rotates(data):
            out, reencoded = strip_segments(data, keep_icc=profile.keep_icc), False
        else:
            photo = read_photo(data)
            if context is not None or faces:
                step.stage = "pixels"
                for i, page in enumerate(photo.pages):
                    grey = page.shape[-1] < 3
                    found = self._clean_frames(
                        as_frames(page), "MONOCHROME2" if grey else "RGB",
                        page.dtype.itemsize * 8, _page_fill(page), (), context, faces)
                    where = slice(i, i + 1) if len(photo.pages) > 1 else None
                    regions += [replace(r, frames=where) for r in found]
            step.stage = "write"
            reencoded = fmt != "JPEG" or photo.rotated or bool(regions)
            out = (write_photo(photo, photo.pages, keep_icc=profile.keep_icc) if reencoded
                   else strip_segments(data, keep_icc=profile.keep_icc))
        step.stage = "verify"
        left = metadata_channels(out, allow_icc=profile.keep_icc)
        if left:
            raise VerificationFailed(f"metadata still found after cleaning ({', '.join(left)})")
        removed = tuple(metadata_channels(data, allow_icc=profile.keep_icc))
        return CleanedPhoto(out, fmt, removed, tuple(regions), text_checked=context is not None,
                            faces_checked=faces, reencoded=reencoded)

    # -- files ------------------------------------------------------------------
    def output_name(self, rel: str, kind: FileKind) -> str:
        """The output's path: `rel`, or (renaming) a keyed non-identifying name."""
        if not self.rename:
            return rel
        suffix = {FileKind.DICOM: ".dcm", FileKind.PHOTO: Path(rel).suffix.lower()}.get(kind, "")
        return self.key.token("file", rel, 20).lower() + suffix

    def process_file(
        self, src: Path, rel: str, out_root: Path
    ) -> tuple[FileResult, HeaderResult | None]:
        """Clean one file into `out_root`; never raises for a bad input.

        The pipeline's limits hold; a file over them fails with the limit named.
        """
        start = time.perf_counter()
        step = _Step()
        try:
            with limits_applied(self.limits), time_limit(self.limits.seconds):
                self.limits.check_file(_size(src))
                result, header = self._process(src, rel, out_root, step)
        except TimeLimitExceeded:
            reason = f"took over {self.limits.seconds:g} s (limit seconds); not written"
            result, header = step.result(rel, Outcome.FAILED, reason=reason), None
        except _Stop as stop:
            result, header = step.result(rel, stop.outcome, reason=stop.reason), None
        except MedscrubError as exc:
            result, header = step.result(rel, Outcome.FAILED, reason=str(exc)), None
        except (RecursionError, MemoryError) as exc:
            reason = f"input too complex ({exc.__class__.__name__})"
            result, header = step.result(rel, Outcome.FAILED, reason=reason), None
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # fail closed: one bad file never stops the batch
            # (BaseException: a Rust codec's panic is a PyO3 PanicException, not an Exception)
            reason = f"unexpected error ({exc.__class__.__name__}); not written"
            _log.warning("%s: unexpected %s in stage %s", rel, exc.__class__.__name__, step.stage)
            result, header = step.result(rel, Outcome.FAILED, reason=reason), None
        return replace(result, seconds=time.perf_counter() - start), header

    def _process(
        self, src: Path, rel: str, out_root: Path, step: _Step
    ) -> tuple[FileResult, HeaderResult | None]:
        try:
            data = src.read_bytes()
        except OSError as exc:
            raise _Stop(Outcome.FAILED, f"cannot read ({exc.strerror or 'I/O error'})") from None
        step.digest = hashlib.sha256(data).hexdigest()
        kind = classify(src, data[:132])
        step.kind = kind.value
        if kind is FileKind.BROKEN_DICOM:
            why = "empty file" if not data else "not a DICOM file medscrub can read"
            raise _Stop(Outcome.FAILED, why)
        if kind is FileKind.OTHER:
            raise _Stop(Outcome.SKIPPED, "not DICOM or a supported image; not written")
        try:
            cleaned: CleanedDicom | CleanedPhoto = (
                self._redact_photo(data, step) if kind is FileKind.PHOTO
                else self._redact_dicom(data, step)
            )
        except _Refused as exc:
            raise _Stop(Outcome.SKIPPED, str(exc)) from None
        except VerificationFailed as exc:
            step.stage = "verify"
            raise _Stop(Outcome.QUARANTINED, str(exc)) from None
        except (UnsupportedInputError, EncodeError, DetectorError) as exc:
            if step.stage != "pixels":
                raise
            raise _Stop(Outcome.QUARANTINED, str(exc)) from None
        out = cleaned.data
        header = cleaned.header if isinstance(cleaned, CleanedDicom) else None
        name = self.output_name(rel, kind)
        try:
            atomic_write(out_root / name, out)
        except OSError as exc:
            why = f"cannot write output ({exc.strerror or 'I/O error'})"
            raise _Stop(Outcome.FAILED, why) from None
        result = step.result(
            rel,
            Outcome.CLEANED,
            output=name,
            output_sha256=hashlib.sha256(out).hexdigest(),
            actions=dict(cleaned.header.actions) if isinstance(cleaned, CleanedDicom)
            else {"X": len(cleaned.removed)},
            regions=cleaned.regions,
            warnings=cleaned.warnings,
        )
        return result, header

    def run(
        self,
        source: str | os.PathLike[str],
        output: str | os.PathLike[str],
        *,
        audit: str | os.PathLike[str] | None = None,
        reid_map: str | os.PathLike[str] | None = None,
        on_result: Callable[[FileResult], None] | None = None,
        jobs: int = 0,
        executor: Executor | Any | None = None,
        resume: bool = True,
        keep_results: bool = True,
    ) -> RunSummary:
        """Clean a file or a folder (recursively) into `output`.

        Parameters
        ----------
        source, output : path
            Input file or folder; output folder (must not be or lie inside `source`).
        audit : path, optional
            JSON Lines audit log; defaults to ``<output>.audit.jsonl`` beside `output`.
        reid_map : path, optional
            Where to write pseudonym -> original patient pairs (mode 0600).
        on_result : callable, optional
            Called with each :class:`FileResult` as it is made (or taken over).
        jobs : int
            0 cleans in this process; N >= 1 runs N worker processes, where a file that
            crashes or hangs its worker fails alone. Results and audit records come in the
            order the folder walk gave the files, whatever ``jobs`` is.
        executor : concurrent.futures.Executor or distributed.Client, optional
            Clean batches of files there instead of `jobs` (a Dask cluster: every worker
            must see `source` and `output` at the same paths).
        resume : bool
            Take over the results of files an earlier run with the same settings finished
            into `output` (input and output hashes checked; no second audit record). False
            cleans every file again and starts the manifest afresh.
        keep_results : bool
            Keep every file's result in the summary; False keeps only those that failed
            or were quarantined, so memory stays flat however many files there are.

        Raises
        ------
        UnsupportedInputError
            Bad paths, another run writing the audit log, or (when resuming) an
            `output` written under other settings. Nothing is written then.
        """
        return run_folder(self, source, output, audit=audit, reid_map=reid_map,
                          on_result=on_result, jobs=jobs, executor=executor, resume=resume,
                          keep_results=keep_results)


def _size(path: Path) -> int:
    """The size of `path` in bytes (0 if it cannot be read: reading reports why)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0
