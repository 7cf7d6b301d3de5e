"""Files on disk: what kind a file is, walking folders, atomic writes."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

from medscrub.dicom.io import looks_like_dicom
from medscrub.photo.formats import sniff_format

__all__ = [
    "TEMP_SUFFIX",
    "FileKind",
    "atomic_write",
    "classify",
    "drop_partial_line",
    "remove_stale_temporaries",
    "walk",
]

TEMP_SUFFIX = ".medscrub-tmp"
#: Extensions that claim a file is DICOM: such a file that is not DICOM is an error.
DICOM_EXTENSIONS = frozenset({".dcm", ".dicom", ".dic", ".ima"})


class FileKind(StrEnum):
    """How medscrub treats a file it meets."""

    DICOM = "dicom"
    PHOTO = "photo"
    BROKEN_DICOM = "broken-dicom"
    OTHER = "other"


def classify(path: Path, head: bytes) -> FileKind:
    """Decide by content (and, for broken files, by the name's claim)."""
    if looks_like_dicom(head):
        return FileKind.DICOM
    if sniff_format(head) is not None:
        return FileKind.PHOTO
    if path.suffix.lower() in DICOM_EXTENSIONS:
        return FileKind.BROKEN_DICOM
    return FileKind.OTHER


def walk(root: Path, exclude: Path | None = None) -> Iterator[Path]:
    """Yield the regular files below `root`, sorted per folder, streaming.

    Symbolic links are not followed; `exclude` (an output folder) is skipped.
    """
    if root.is_file():
        yield root
        return
    stack = [root]
    skip = exclude.resolve() if exclude is not None else None
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name, reverse=True)
        except OSError:
            continue
        files = []
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir():
                if skip is None or Path(entry.path).resolve() != skip:
                    stack.append(Path(entry.path))
            elif entry.is_file():
                files.append(Path(entry.path))
        yield from reversed(files)


def atomic_write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write `data` to a temporary file beside `path`, then rename it into place.

    With `private`, only its owner may read it (mode 0600: records of a run, a
    review page showing the originals), whatever the umask.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666)
        if private:
            os.fchmod(fd, 0o600)
        with open(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def drop_partial_line(fd: int) -> None:
    """Cut the last line of the JSON Lines file open as `fd` if it has no newline
    (a record an interruption cut short), so the next record starts a line."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    end = size
    while end > 0:
        start = max(0, end - 65536)
        cut = os.pread(fd, end - start, start).rfind(b"\n")
        if cut >= 0:
            os.ftruncate(fd, start + cut + 1)
            return
        end = start
    os.ftruncate(fd, 0)


def remove_stale_temporaries(root: Path) -> int:
    """Delete temporaries an interrupted run left below `root`; return how many."""
    if not root.is_dir():
        return 0
    count = 0
    for tmp in root.rglob(f"*{TEMP_SUFFIX}"):
        tmp.unlink(missing_ok=True)
        count += 1
    return count
