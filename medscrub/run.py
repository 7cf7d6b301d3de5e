"""Many files: a folder run's batch, resume, audit log, summary and re-identification map.

:func:`run_folder` walks the input, takes over what an earlier run with the same
settings finished, cleans the rest here or on workers (:func:`medscrub.workers.ordered_map`,
each worker building its pipeline once from the run's :class:`~medscrub.spec.PipelineSpec`),
and records every file in the audit log in walk order.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from medscrub.audit import AuditLog, write_report
from medscrub.dicom.header import HeaderResult
from medscrub.errors import UnsupportedInputError
from medscrub.files import FileKind, drop_partial_line, remove_stale_temporaries, walk
from medscrub.manifest import Manifest
from medscrub.model import FileResult, Outcome
from medscrub.paths import Known
from medscrub.spec import PipelineSpec
from medscrub.workers import ordered_map

__all__ = ["LOST", "Done", "FileCleaner", "RunSummary", "check_paths", "clean_item",
           "run_folder"]

LOST = ("its worker process ended while cleaning it (a crash, or over the hard time "
        "limit); not written")

#: (input path, path relative to the input root, the result an earlier run recorded)
Item = tuple[Path, str, FileResult | None]


class FileCleaner(Protocol):
    """What a run needs of a pipeline: its spec, one file at a time, output names."""

    spec: PipelineSpec

    @classmethod
    def from_spec(cls, spec: PipelineSpec) -> FileCleaner: ...

    def process_file(self, src: Path, rel: str,
                     out_root: Path) -> tuple[FileResult, HeaderResult | None]: ...

    def output_name(self, rel: str, kind: FileKind, known: Known = ...) -> str: ...


class Done(NamedTuple):
    """One file's result, its header result (for the re-identification map), and
    whether an earlier run's result was taken over (no new audit record)."""

    result: FileResult
    header: HeaderResult | None
    resumed: bool


@dataclass(frozen=True, slots=True)
class RunSummary:
    """Totals of one run over files or folders.

    ``counts`` (by outcome) and ``results`` cover every file, those an earlier
    run finished (``resumed`` of them) included; with ``keep_results=False``
    ``results`` holds only the files that failed or were quarantined, which
    ``report`` (a TSV beside the audit log) also lists.
    """

    counts: dict[str, int]
    seconds: float
    output: Path
    audit: Path | None
    results: tuple[FileResult, ...] = field(repr=False)
    resumed: int = 0
    report: Path | None = None

    @property
    def ok(self) -> bool:
        """True when no file failed or was quarantined."""
        return all(r.ok for r in self.results)

    @property
    def files_per_second(self) -> float:
        """Files cleaned (not resumed) per second of wall time."""
        done = sum(self.counts.values()) - self.resumed
        return done / self.seconds if self.seconds > 0 else 0.0



def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _still_done(previous: FileResult, path: Path, out: Path) -> bool:
    """True if an earlier run's result still holds: same input, output intact."""
    try:
        if not previous.input_sha256 or _sha256(path) != previous.input_sha256:
            return False
        if previous.output is None:
            return True
        return _sha256(out / previous.output) == previous.output_sha256
    except OSError:
        return False


def clean_item(pipeline: FileCleaner, item: Item, out: Path) -> Done:
    """Take over an earlier run's result if it still holds, else clean the file.

    A file that is not cleaned leaves no output behind: an earlier run's output
    for it (the input changed since) is removed.
    """
    path, rel, previous = item
    if previous is not None and _still_done(previous, path, out):
        return Done(previous, None, True)
    result, header = pipeline.process_file(path, rel, out)
    stale = {previous.output} if previous is not None and previous.output else set()
    if result.outcome is not Outcome.CLEANED and result.kind in tuple(FileKind):
        stale.add(pipeline.output_name(rel, FileKind(result.kind)))
    for name in stale - {result.output}:
        (out / name).unlink(missing_ok=True)
    return Done(result, header, False)


#: A worker's pipelines, by the fingerprint of the spec they were built from.
_CLEANERS: dict[str, FileCleaner] = {}


def _clean_in_worker(make: Callable[[PipelineSpec], FileCleaner], spec: PipelineSpec,
                     out: Path, headers: bool, item: Item) -> Done:
    """Clean one file in a worker, with a pipeline built once per spec and process.
    Header results (the original patient's name and ID) come back only for a
    re-identification map."""
    cleaner = _CLEANERS.get(spec.fingerprint)
    if cleaner is None:
        cleaner = _CLEANERS[spec.fingerprint] = make(spec)
    done = clean_item(cleaner, item, out)
    return done if headers else done._replace(header=None)


def _lost(out: Path, item: Item) -> Done:
    _path, rel, previous = item
    if previous is not None and previous.output:
        (out / previous.output).unlink(missing_ok=True)
    return Done(FileResult(input=rel, outcome=Outcome.FAILED, stage="worker", reason=LOST),
                None, False)


def run_folder(
    pipeline: FileCleaner,
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
    """Clean a file or a folder (recursively) into `output` with `pipeline`: what
    :meth:`medscrub.Pipeline.run` does (its parameters and errors are described there),
    for any :class:`FileCleaner`."""
    src = Path(source)
    out = Path(output)
    check_paths(src, out)
    if reid_map is not None and _inside(Path(reid_map), out):
        raise UnsupportedInputError(f"{reid_map}: the re-identification map must not be in OUT")
    audit_path = Path(audit) if audit else out.with_name(out.name + ".audit.jsonl")
    spec = pipeline.spec
    settings = spec.fingerprint
    log = AuditLog(audit_path)
    manifest = Manifest.read(audit_path, settings) if resume else Manifest.empty()
    if manifest.foreign:
        manifest.close()
        log.close()
        raise UnsupportedInputError(
            f"{out}: a run with other settings (key, profile, options, renaming or "
            f"limits) recorded {manifest.foreign} file(s) for it; resume with the same "
            "settings, clean every file again (--no-resume), or use a new output folder"
        )
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    log.begin({
        "profile": spec.profile.describe(),
        "key": "generated" if spec.key.generated else "provided",
        "rename": spec.rename,
        "keep_paths": spec.keep_paths,
        "settings": settings,
        "resume": resume,
    })
    reid = _ReidMap(Path(reid_map)) if reid_map else None
    tally = _Tally(keep_results)
    start = time.perf_counter()
    root = src if src.is_dir() else src.parent
    if executor is not None:
        from medscrub.cluster import executor_for

        executor, slots = executor_for(executor)
    else:
        slots = jobs
    try:
        items: Iterable[Item] = (
            (path, rel, manifest.previous(rel))
            for path in walk(src, exclude=out)
            for rel in (path.relative_to(root).as_posix(),)
        )
        clean = functools.partial(_clean_in_worker, type(pipeline).from_spec, spec, out,
                                  reid is not None)
        results = (ordered_map(clean, items, lost=functools.partial(_lost, out), jobs=jobs,
                               executor=executor, slots=slots,
                               hard_seconds=2 * spec.limits.seconds + 1)
                   if executor is not None or jobs > 0
                   else (clean_item(pipeline, item, out) for item in items))
        for done in results:
            if not done.resumed:
                if reid is not None and done.header is not None:
                    reid.add(done.header)
                log.add(done.result, spec.profile.describe())
            tally.add(done)
            if on_result is not None:
                on_result(done.result)
        remove_stale_temporaries(out)  # a worker killed while writing left its own
    finally:
        seconds = time.perf_counter() - start
        log.close({"counts": dict(tally.counts), "resumed": tally.resumed,
                   "seconds": round(seconds, 3)})
        manifest.close()
        if reid is not None:
            reid.close()
        report = write_report(_report_path(audit_path), tally.failures)
    return RunSummary(dict(tally.counts), seconds, out, audit_path, tuple(tally.results),
                      tally.resumed, report)




@dataclass(slots=True)
class _Tally:
    """Counts by outcome, and the results a run keeps."""

    keep_all: bool
    counts: Counter[str] = field(default_factory=Counter)
    resumed: int = 0
    results: list[FileResult] = field(default_factory=list)
    failures: list[FileResult] = field(default_factory=list)

    def add(self, done: Done) -> None:
        result = done.result
        self.counts[result.outcome.value] += 1
        self.resumed += done.resumed
        if not result.ok:
            self.failures.append(result)
        if self.keep_all or not result.ok:
            self.results.append(result)


def _report_path(audit: Path) -> Path:
    """``OUT.quarantine.tsv`` beside ``OUT.audit.jsonl`` (any other log: ``.quarantine.tsv``
    in place of its suffix)."""
    stem = audit.name.removesuffix(".jsonl").removesuffix(".audit")
    return audit.with_name(stem + ".quarantine.tsv")


def _inside(path: Path, folder: Path) -> bool:
    resolved = path.resolve()
    return folder.resolve() in resolved.parents


def check_paths(source: Path, output: Path) -> None:
    """Refuse a missing source, or an output that is the source or inside it."""
    if not source.exists():
        raise UnsupportedInputError(f"{source}: no such file or folder")
    src, out = source.resolve(), output.resolve()
    if src.is_dir() and (out == src or src in out.parents):
        raise UnsupportedInputError(f"{output}: the output must not be the input or inside it")
    if src.is_file() and out == src:
        raise UnsupportedInputError(f"{output}: the output must not be the input")


class _ReidMap:
    """Pseudonym -> original patient pairs, in a file only its owner can read.

    A resumed run appends to the pairs earlier runs wrote, each pseudonym once.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        os.chmod(path, 0o600)
        drop_partial_line(fd)
        self._fh = os.fdopen(fd, "a+", encoding="utf-8")
        self._fh.seek(0)
        self._seen: set[str] = {json.loads(line)["pseudonym"] for line in self._fh if line.strip()}

    def add(self, header: HeaderResult) -> None:
        if not header.pseudonym or header.pseudonym in self._seen:
            return
        self._seen.add(header.pseudonym)
        pid, name = header.original_patient
        record = {"pseudonym": header.pseudonym, "patient_id": pid, "patient_name": name}
        self._fh.write(json.dumps(record) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()

