"""Export: cleaned images as ordinary PNG or JPEG files, ready to post.

:func:`export_path` runs the same pipeline as ``redact`` (header, burned-in
text, verification, fail-closed decisions) into a private staging folder,
then renders each cleaned DICOM file's pixels (see :mod:`medscrub.render`:
VOI LUT or window from the header, or a window chosen by the caller) and
writes the representative frame, or every frame, as PNG or JPEG. Each picture
is written with no metadata at all (no EXIF, XMP, ICC profile, comment or text
chunk), which is checked on the encoded bytes before the file is written
(:func:`medscrub.photo.metadata_channels`, the ICC profile counted too).
The audit log (``OUT.audit.jsonl`` beside ``OUT``) names the pictures.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import numpy as np
from PIL import Image

from medscrub.audit import AuditLog
from medscrub.errors import EncodeError, MedscrubError
from medscrub.files import DICOM_EXTENSIONS, FileKind, atomic_write
from medscrub.keys import SecretKey
from medscrub.model import FileResult, Outcome
from medscrub.photo import metadata_channels
from medscrub.pipeline import Pipeline
from medscrub.profile import Profile
from medscrub.render import Window, render_dicom, render_photo
from medscrub.run import RunSummary, check_paths

__all__ = ["FORMATS", "ExportSettings", "export_path"]

ImageFormat = Literal["png", "jpeg"]
#: Picture formats export writes, and their file suffix.
FORMATS: dict[str, str] = {"png": ".png", "jpeg": ".jpg"}
_JPEG_QUALITY = 95
#: Suffixes replaced by the picture's (others are kept: ``IM0001`` -> ``IM0001.png``).
_IMAGE_SUFFIXES = DICOM_EXTENSIONS | {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp",
                                      ".gif", ".bmp", ".heic", ".heif"}


@dataclass(frozen=True, slots=True)
class ExportSettings:
    """How pictures are made from cleaned images.

    Attributes
    ----------
    image_format : {"png", "jpeg"}
    window : (center, width), optional
        Replaces the header's VOI LUT or window for grey images.
    all_frames : bool
        Write every frame (``NAME/frame0001.png`` ...) instead of the representative one.
    quality : int
        JPEG quality (1-95).
    """

    image_format: ImageFormat = "png"
    window: Window | None = None
    all_frames: bool = False
    quality: int = _JPEG_QUALITY


def _encode(pixels: np.ndarray[Any, Any], settings: ExportSettings) -> bytes:
    """One frame as PNG or JPEG bytes with nothing but the pixels."""
    image = Image.fromarray(pixels, "L" if pixels.ndim == 2 else "RGB")
    image.info.clear()  # Pillow writes what info holds (comments, ICC) unless told not to
    buf = io.BytesIO()
    if settings.image_format == "jpeg":
        image.save(buf, "JPEG", quality=settings.quality)
    else:
        image.save(buf, "PNG", optimize=False)
    data = buf.getvalue()
    extra = metadata_channels(data, allow_icc=False)
    if extra:
        raise EncodeError(f"encoded picture carries metadata ({', '.join(extra)})")
    return data


def _picture_name(output: str, suffix: str) -> str:
    """The cleaned file's name with the picture suffix (``CT1.dcm``, ``CT1.jpg`` -> ``CT1.png``)."""
    path = PurePosixPath(output)
    stem = path.with_suffix("") if path.suffix.lower() in _IMAGE_SUFFIXES else path
    return f"{stem}{suffix}"


def _pictures(data: bytes, kind: str, settings: ExportSettings) -> list[bytes]:
    if kind == FileKind.PHOTO.value:
        rendered = render_photo(data)
    else:
        rendered = render_dicom(data, window=settings.window,
                                frame=None if settings.all_frames else "middle")
    return [_encode(pixels, settings) for pixels in rendered.frames]


class _Exporter:
    """Turns each cleaned file of the staging folder into pictures in OUT."""

    def __init__(self, staging: Path, out: Path, settings: ExportSettings, log: AuditLog,
                 profile: str, on_result: Callable[[FileResult], None] | None) -> None:
        self.staging, self.out, self.settings = staging, out, settings
        self.log, self.profile, self.on_result = log, profile, on_result
        self.results: list[FileResult] = []
        self.names: set[str] = set()

    def __call__(self, result: FileResult) -> None:
        if result.outcome is Outcome.CLEANED and result.output:
            result = self._export(result)
        self.log.add(result, self.profile)
        self.results.append(result)
        if self.on_result is not None:
            self.on_result(result)

    def _unique(self, name: str) -> str:
        base, n = name, 1
        while name in self.names:
            n += 1
            stem, dot, suffix = base.rpartition(".")
            name = f"{stem}-{n}{dot}{suffix}" if dot else f"{base}-{n}"
        self.names.add(name)
        return name

    def _export(self, result: FileResult) -> FileResult:
        start = time.perf_counter()
        staged = self.staging / str(result.output)
        try:
            pictures = _pictures(staged.read_bytes(), result.kind, self.settings)
        except (OSError, MedscrubError) as exc:
            reason = str(exc) if isinstance(exc, MedscrubError) else "cannot read cleaned file"
            return replace(result, outcome=Outcome.FAILED, stage="export", output=None,
                           output_sha256="", reason=f"{reason}; not written")
        finally:
            staged.unlink(missing_ok=True)
        suffix = FORMATS[self.settings.image_format]
        if self.settings.all_frames:
            folder = self._unique(_picture_name(str(result.output), ""))
            names = [f"{folder}/frame{i + 1:04d}{suffix}" for i in range(len(pictures))]
            shown = folder + "/"
        else:
            names = [self._unique(_picture_name(str(result.output), suffix))]
            shown = names[0]
        digest = hashlib.sha256()
        for name, data in zip(names, pictures, strict=True):
            atomic_write(self.out / name, data)
            digest.update(data)
        return replace(result, output=shown, output_sha256=digest.hexdigest(),
                       seconds=result.seconds + time.perf_counter() - start)


def export_path(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    settings: ExportSettings | None = None,
    profile: Profile | None = None,
    key: SecretKey | None = None,
    rename: bool = False,
    phi_terms: Sequence[str] = (),
    audit: str | os.PathLike[str] | None = None,
    jobs: int = 0,
    on_result: Callable[[FileResult], None] | None = None,
) -> RunSummary:
    """Clean a file or folder and write its images as pictures into `output`.

    Parameters
    ----------
    source, output : path
        Input file or folder; output folder (not `source`, not inside it).
    settings : ExportSettings, optional
        Format, window, frames (PNG of the representative frame by default).
    profile : Profile, optional
        The ``share`` preset when omitted.
    key : SecretKey, optional
        The run's key (random when omitted).
    rename : bool
        Non-identifying output names (a profile such as ``share`` renames in any case).
    phi_terms : sequence of str
        Extra identifying strings to find in burned-in text.
    audit : path, optional
        Audit log; ``<output>.audit.jsonl`` beside `output` by default.
    jobs : int
        Worker processes cleaning files (0: in this process).
    on_result : callable, optional
        Called with each :class:`FileResult` (outputs named as pictures).
    """
    settings = settings or ExportSettings()
    profile = profile or Profile.preset("share")
    pipeline = Pipeline(profile, key=key, phi_terms=phi_terms, rename=rename)
    src, out = Path(source), Path(output)
    check_paths(src, out)
    audit_path = Path(audit) if audit else out.with_name(out.name + ".audit.jsonl")
    start = time.perf_counter()
    log = AuditLog(audit_path)
    log.begin({"profile": profile.describe(), "rename": pipeline.rename,
               "key": "generated" if pipeline.key.generated else "provided",
               "export": {"format": settings.image_format, "all_frames": settings.all_frames,
                          "window": list(settings.window) if settings.window else None}})
    staging = tempfile.TemporaryDirectory(prefix="medscrub-export-")
    exporter = _Exporter(Path(staging.name) / "clean", out, settings, log, profile.describe(),
                         on_result)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with staging:  # cleaned files wait here until they are pictures, then go
            pipeline.run(src, exporter.staging, audit=Path(staging.name) / "clean.audit.jsonl",
                         on_result=exporter, jobs=jobs, resume=False)
    finally:
        seconds = time.perf_counter() - start
        counts = dict(Counter(r.outcome.value for r in exporter.results))
        log.close({"counts": counts, "seconds": round(seconds, 3)})
    return RunSummary(counts, seconds, out, audit_path, tuple(exporter.results))
