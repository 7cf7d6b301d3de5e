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
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset

from medscrub.detectors import Context, Detector, check_choices, detectors_for
from medscrub.detectors.faces import head_area
from medscrub.detectors.plausibility import detect_checked
from medscrub.dicom.actions import ActionTable
from medscrub.dicom.elements import Node
from medscrub.dicom.header import HeaderResult, deidentify, record_pixel_option
from medscrub.dicom.io import (
    DicomFile,
    dataset_to_file,
    encode_dicom,
    pixel_dataset,
    read_dicom,
    replace_contents,
    store_pixels,
)
from medscrub.dicom.pixels import View, decode_frames, encode_frames
from medscrub.dicom.values import (
    DEFAULT_ENCODINGS,
    encodings_for,
    tag_of,
)
from medscrub.errors import (
    DetectorError,
    EncodeError,
    MedscrubError,
    Refused,
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
from medscrub.paths import NOTHING_KNOWN, Known, pseudonymous_path
from medscrub.photo import (
    jpeg_rotates,
    metadata_channels,
    photo_format,
    read_photo,
    strip_segments,
    write_photo,
)
from medscrub.policy import PixelPlan, check_copyable, plan_pixels
from medscrub.profile import PixelRule, Profile
from medscrub.redact import redact
from medscrub.run import RunSummary, run_folder
from medscrub.spec import PipelineSpec
from medscrub.verify import IDENTIFIER_KEYWORDS, HeaderVerifier

__all__ = [
    "FACES_NOT_CHECKED",
    "TEXT_NOT_CHECKED",
    "CleanedDicom",
    "CleanedPhoto",
    "Pipeline",
]

_log = logging.getLogger("medscrub")
TEXT_NOT_CHECKED = "pixels not checked for burned-in text (Clean Pixel Data is off)"
_TEXT_LOOKS = 3  # looks for burned-in text (the last must find nothing)
FACES_NOT_CHECKED = (
    "pixels not checked for faces (Clean Recognizable Visual Features is off)"
)
@dataclass(frozen=True, slots=True)
class CleanedDicom:
    """One cleaned DICOM file: its bytes, what the header step did, the regions redacted."""

    LAST_STAGE: ClassVar[str] = "write"  # its checks run inside the header and pixel stages

    data: bytes
    header: HeaderResult
    regions: tuple[Region, ...] = ()
    text_checked: bool = False
    faces_checked: bool = False
    known: Known = field(default=NOTHING_KNOWN, repr=False)  # the original's identifying
    # strings, to find them in its path (memory only)

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

    LAST_STAGE: ClassVar[str] = "verify"  # no metadata channel left in the bytes written

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


def _page_fill(page: npt.NDArray[Any]) -> tuple[float, ...]:
    """Opaque black for a photo page: (0,) grey, (0, 0, 0) RGB, (0, 0, 0, max) RGBA."""
    samples = page.shape[-1]
    black = (0.0,) * min(samples, 3)
    opaque: float = float(np.iinfo(page.dtype).max)
    return (*black, opaque) if samples == 4 else black


#: Errors that quarantine a file when they stop its pixels stage (its pixels could not
#: be decoded, checked or written back); elsewhere they fail it.
_QUARANTINED_IN_PIXELS = (UnsupportedInputError, EncodeError, DetectorError)
_STAGE = "medscrub_stage"


@contextmanager
def _stage(name: str) -> Iterator[None]:
    """Name the stage an exception leaves from (the innermost block names it)."""
    try:
        yield
    except BaseException as exc:
        if not hasattr(exc, _STAGE):
            setattr(exc, _STAGE, name)
        raise


def _stage_of(exc: BaseException) -> str:
    """Where `exc` stopped a file: verification, or the stage it left (else reading)."""
    return "verify" if isinstance(exc, VerificationFailed) else getattr(exc, _STAGE, "read")


def _outcome(exc: MedscrubError, stage: str) -> Outcome:
    if isinstance(exc, Refused):
        return Outcome.SKIPPED
    if isinstance(exc, VerificationFailed) or (
            stage == "pixels" and isinstance(exc, _QUARANTINED_IN_PIXELS)):
        return Outcome.QUARANTINED
    return Outcome.FAILED


def _read(src: Path) -> bytes:
    try:
        return src.read_bytes()
    except OSError as exc:
        raise MedscrubError(f"cannot read ({exc.strerror or 'I/O error'})") from None


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
    keep_paths : bool
        Copy the input's relative paths as they are. By default a file or folder
        name that looks identifying (a name, a record number, a date: what
        ``medscrub scan`` flags) is replaced by a keyed pseudonym.
    """

    def __init__(
        self,
        profile: Profile | None = None,
        *,
        key: SecretKey | None = None,
        rename: bool = False,
        phi_terms: Iterable[str] = (),
        limits: Limits | None = None,
        keep_paths: bool = False,
    ) -> None:
        self.spec = PipelineSpec.make(profile, key=key, rename=rename, phi_terms=phi_terms,
                                      limits=limits, keep_paths=keep_paths)
        check_choices(self.profile.detectors)
        self.table = ActionTable.for_profile(self.profile)
        self._unverified_kinds = self._kinds_kept()

    @property
    def profile(self) -> Profile:
        """The profile (from :attr:`spec`)."""
        return self.spec.profile

    @property
    def key(self) -> SecretKey:
        """The run's key (from :attr:`spec`)."""
        return self.spec.key

    @property
    def rename(self) -> bool:
        """Whether outputs get non-identifying names (from :attr:`spec`)."""
        return self.spec.rename

    @property
    def phi_terms(self) -> tuple[str, ...]:
        """Extra identifying strings (from :attr:`spec`)."""
        return self.spec.phi_terms

    @property
    def limits(self) -> Limits:
        """What one file may cost (from :attr:`spec`)."""
        return self.spec.limits

    @classmethod
    def from_spec(cls, spec: PipelineSpec) -> Pipeline:
        """The pipeline of `spec` (as a worker builds it)."""
        return cls(spec.profile, key=spec.key, rename=spec.rename, phi_terms=spec.phi_terms,
                   limits=spec.limits, keep_paths=spec.keep_paths)

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
        cleaned = self._redact_file(dataset_to_file(target))
        replace_contents(target, cleaned.data)
        return target

    def _clean(self, node: Node) -> tuple[HeaderResult, PhiHints, Known]:
        encodings = encodings_for(node, DEFAULT_ENCODINGS)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hints = PhiHints.from_node(node, encodings, self.phi_terms)
            known = Known.of(node, hints, encodings)
            verifier = HeaderVerifier.from_node(node, self._unverified_kinds, encodings)
            result = deidentify(node, self.profile, self.key, table=self.table, hints=hints)
            verifier.check(node)
        return result, hints, known

    def redact_dicom_bytes(self, data: bytes) -> CleanedDicom:
        """De-identify one DICOM file's bytes: header, then known pixel regions."""
        return self._redact_file(read_dicom(data))

    def _redact_file(self, file: DicomFile) -> CleanedDicom:
        check_copyable(file)
        plan = plan_pixels(file, self.profile)  # from the header as it came
        with _stage("header"):
            header, hints, known = self._clean(file.body)
        regions: tuple[Region, ...] = ()
        if plan.touches_pixels:
            with _stage("pixels"):
                regions = self._clean_pixels(file, plan, hints)
        with _stage("write"):
            data = encode_dicom(file)
        # with the option on, images that cannot show a face (CT, MR slices) count as checked
        return CleanedDicom(data, header, regions, text_checked=plan.text,
                            faces_checked=plan.faces_checked, known=known)

    @staticmethod
    def _detect(detectors: list[Detector], frames: npt.NDArray[Any], view: View,
                context: Context) -> list[Region]:
        """What every one of `detectors` finds in `frames` seen through `view`, each
        answer checked."""
        shown = view.rgb(frames)
        return [r for detector in detectors for r in detect_checked(detector, shown, context)]

    def _clean_pixels(self, file: DicomFile, plan: PixelPlan,
                      hints: PhiHints) -> tuple[Region, ...]:
        """Decode; clean the frames (:meth:`_clean_frames`); re-encode when anything was
        redacted or overlay bits must be cleared from the pixel cells (pixels the
        detectors found clean keep their original bytes); record the steps that ran."""
        ds = pixel_dataset(file)
        pixels = decode_frames(ds)
        frames = pixels.frames if pixels.frames.flags.writeable else pixels.frames.copy()
        view = View.of(ds, pixels)
        fill = view.black(frames.dtype, int(ds.get("PixelRepresentation", 0) or 0))
        context = Context(modality=plan.modality, hints=hints,
                          mode=self.profile.text_mode) if plan.text else None
        regions = self._clean_frames(frames, view, fill, plan.rules, context, plan.faces)
        if regions or plan.overlay_bits:
            syntax = encode_frames(ds, replace(pixels, frames=frames), lossy=self.profile.lossy)
            store_pixels(file, ds, syntax)
        if plan.text:
            record_pixel_option(file.body, "clean_pixel_data")
        if plan.faces:
            record_pixel_option(file.body, "clean_recognizable_visual_features")
        return tuple(regions)

    def _clean_frames(
        self,
        frames: npt.NDArray[Any],
        view: View,
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
            context = replace(context, photometric=view.shown, bits_stored=view.shown_bits)
            # Redact what is found, then look again: removing one line can uncover a
            # neighbour read as part of it. An image whose last look still finds text
            # is not written. An unchanged image needs no second look (same answer).
            for look in range(1, _TEXT_LOOKS + 1):
                found = context.redacted(self._detect(texts, frames, view, context))
                if not found:
                    break
                if look == _TEXT_LOOKS:
                    raise VerificationFailed(
                        f"burned-in text still found after redaction ({len(found)} region(s))"
                    )
                redact(frames, found, fill=fill, out=frames)
                regions += found
        if faces:
            regions += self._redact_faces(frames, view, fill)
        return regions

    def _redact_faces(
        self, frames: npt.NDArray[Any], view: View, fill: Sequence[float],
    ) -> list[Region]:
        """Redact the head around every face found, then check: a filled head holds
        nothing but the fill value; after a blur or pixelation the detector looks
        again, and a face still found (a blur too weak for it) stops the file."""
        detectors = detectors_for("face", self.profile.detectors["face"])
        context = Context(photometric=view.shown, bits_stored=view.shown_bits)
        found = self._detect(detectors, frames, view, context)
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
            left = self._detect(detectors, frames, view, context)
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
        profile = self.profile
        context = Context(hints=PhiHints.from_node({}, extra=self.phi_terms),
                          mode=profile.text_mode,
                          photo=True) if "clean_pixel_data" in profile.options else None
        faces = "clean_recognizable_visual_features" in profile.options
        fmt = photo_format(data)
        regions: list[Region] = []
        if fmt == "JPEG" and context is None and not faces and not jpeg_rotates(data):
            out, reencoded = strip_segments(data, keep_icc=profile.keep_icc), False
        else:
            photo = read_photo(data)
            if context is not None or faces:
                with _stage("pixels"):
                    for i, page in enumerate(photo.pages):
                        grey = page.shape[-1] < 3
                        view = View("MONOCHROME2" if grey else "RGB", page.dtype.itemsize * 8)
                        found = self._clean_frames(page[None], view, _page_fill(page), (),
                                                   context, faces)
                        where = slice(i, i + 1) if len(photo.pages) > 1 else None
                        regions += [replace(r, frames=where) for r in found]
            with _stage("write"):
                reencoded = fmt != "JPEG" or photo.rotated or bool(regions)
                out = (write_photo(photo, photo.pages, keep_icc=profile.keep_icc) if reencoded
                       else strip_segments(data, keep_icc=profile.keep_icc))
        with _stage("verify"):
            left = metadata_channels(out, allow_icc=profile.keep_icc)
            if left:
                raise VerificationFailed(
                    f"metadata still found after cleaning ({', '.join(left)})")
        removed = tuple(metadata_channels(data, allow_icc=profile.keep_icc))
        return CleanedPhoto(out, fmt, removed, tuple(regions), text_checked=context is not None,
                            faces_checked=faces, reencoded=reencoded)

    # -- files ------------------------------------------------------------------
    def output_name(self, rel: str, kind: FileKind, known: Known = NOTHING_KNOWN) -> str:
        """The output's path: `rel` with identifying components pseudonymized (`known`:
        the file's own names, IDs and dates; or as it is, keeping paths), or (renaming)
        a keyed non-identifying name."""
        if not self.rename:
            return rel if self.spec.keep_paths else pseudonymous_path(rel, self.key, known)
        suffix = {FileKind.DICOM: ".dcm", FileKind.PHOTO: Path(rel).suffix.lower()}.get(kind, "")
        return self.key.token("file", rel, 20).lower() + suffix

    def process_file(
        self, src: Path, rel: str, out_root: Path
    ) -> tuple[FileResult, HeaderResult | None]:
        """Clean one file into `out_root`; never raises for a bad input.

        The pipeline's limits hold; a file over them fails with the limit named.
        A file that cannot be cleaned gets the stage and a one-line reason.
        """
        start = time.perf_counter()
        kind, digest = "", ""

        def stopped(outcome: Outcome, reason: str, stage: str) -> FileResult:
            return FileResult(input=rel, outcome=outcome, kind=kind, stage=stage,
                              input_sha256=digest, reason=reason)

        header = None
        try:
            with limits_applied(self.limits), time_limit(self.limits.seconds):
                with _stage("read"):
                    self.limits.check_file(_size(src))
                    data = _read(src)
                digest = hashlib.sha256(data).hexdigest()
                found = classify(src, data[:132])
                kind = found.value
                result, header = self._process(data, rel, found, digest, out_root)
        except TimeLimitExceeded as exc:
            reason = f"took over {self.limits.seconds:g} s (limit seconds); not written"
            result = stopped(Outcome.FAILED, reason, _stage_of(exc))
        except MedscrubError as exc:
            stage = _stage_of(exc)
            result = stopped(_outcome(exc, stage), str(exc), stage)
        except (RecursionError, MemoryError) as exc:
            reason = f"input too complex ({exc.__class__.__name__})"
            result = stopped(Outcome.FAILED, reason, _stage_of(exc))
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # fail closed: one bad file never stops the batch
            # (BaseException: a Rust codec's panic is a PyO3 PanicException, not an Exception)
            reason = f"unexpected error ({exc.__class__.__name__}); not written"
            _log.warning("%s: unexpected %s in stage %s", rel, exc.__class__.__name__,
                         _stage_of(exc))
            result = stopped(Outcome.FAILED, reason, _stage_of(exc))
        return replace(result, seconds=time.perf_counter() - start), header

    def _process(
        self, data: bytes, rel: str, kind: FileKind, digest: str, out_root: Path
    ) -> tuple[FileResult, HeaderResult | None]:
        """Clean one file's bytes and write the output: read, header, pixels, write."""
        result = FileResult(input=rel, outcome=Outcome.SKIPPED, kind=kind.value, stage="read",
                            input_sha256=digest)
        if kind is FileKind.BROKEN_DICOM:
            why = "empty file" if not data else "not a DICOM file medscrub can read"
            return replace(result, outcome=Outcome.FAILED, reason=why), None
        if kind is FileKind.OTHER:
            return replace(result, reason="not DICOM or a supported image; not written"), None
        cleaned: CleanedDicom | CleanedPhoto = (
            self.redact_photo_bytes(data) if kind is FileKind.PHOTO
            else self.redact_dicom_bytes(data)
        )
        name = self.output_name(
            rel, kind, cleaned.known if isinstance(cleaned, CleanedDicom) else NOTHING_KNOWN)
        with _stage("write"):
            try:
                atomic_write(out_root / name, cleaned.data)
            except OSError as exc:
                raise MedscrubError(
                    f"cannot write output ({exc.strerror or 'I/O error'})") from None
        return replace(
            result,
            outcome=Outcome.CLEANED,
            stage=cleaned.LAST_STAGE,
            output=name,
            output_sha256=hashlib.sha256(cleaned.data).hexdigest(),
            actions=dict(cleaned.header.actions) if isinstance(cleaned, CleanedDicom)
            else {"X": len(cleaned.removed)},
            regions=cleaned.regions,
            warnings=cleaned.warnings,
        ), cleaned.header if isinstance(cleaned, CleanedDicom) else None

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
