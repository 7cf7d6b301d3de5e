"""Many files at once: batches on worker processes or any executor, in walk order.

:func:`stream` sends batches of files (paths, never data) to worker processes
of its own, or to a given :class:`concurrent.futures.Executor` (a Dask
cluster's, see :mod:`medscrub.cluster`), keeps a bounded window of batches in
flight so the folder walk streams, and yields results in the order the walk
gave the files. Workers need no shared state: UIDs, pseudonyms and date shifts
are functions of the key and the input.

A file can crash or hang the process that cleans it (a decoder in C meeting
hostile bytes). Medscrub's own worker processes arm a hard watchdog per file
(:func:`faulthandler.dump_traceback_later` with ``exit=True``, a C thread that
needs no GIL) at twice the time limit plus a second, and die with their parent.
A batch whose worker died or was lost is cleaned again one file at a time on
a fresh pool: the file that kills its worker again fails alone, with a reason.
"""

from __future__ import annotations

import ctypes
import faulthandler
import hashlib
import os
import signal
import sys
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, NamedTuple

import cv2

from medscrub.dicom.header import HeaderResult
from medscrub.files import FileKind
from medscrub.keys import SecretKey
from medscrub.limits import Limits
from medscrub.model import FileResult, Outcome
from medscrub.profile import Profile

if TYPE_CHECKING:
    from medscrub.pipeline import Pipeline

__all__ = ["Done", "Item", "Job", "clean_item", "stream"]

#: Batches are sized to take about this long (seconds), from the time files took so far:
#: long enough that sending a batch costs little, short enough to share the last
#: files of a run among the workers. A remote task costs more to send than a local one.
LOCAL_BATCH_SECONDS = 0.05
REMOTE_BATCH_SECONDS = 0.2
MAX_BATCH = 64
#: Batches in flight per worker: enough to keep every worker busy, few enough to stream.
IN_FLIGHT_PER_WORKER = 4
LOST = ("its worker process ended while cleaning it (a crash, or over the hard time "
        "limit); not written")

#: (input path, path relative to the input root, the result an earlier run recorded)
Item = tuple[Path, str, FileResult | None]


class Done(NamedTuple):
    """One file's result, its header result (for the re-identification map), and
    whether an earlier run's result was taken over (no new audit record)."""

    result: FileResult
    header: HeaderResult | None
    resumed: bool


@dataclass(frozen=True, slots=True)
class Job:
    """What a worker needs to clean files as the calling pipeline does (sent per batch).

    ``settings`` is the run's settings fingerprint: workers build one pipeline per
    fingerprint and keep it. Header results (which hold the original patient's name
    and ID) come back only when ``headers`` asks for them (a re-identification map).
    """

    profile: Profile
    key: SecretKey
    rename: bool
    phi_terms: tuple[str, ...]
    limits: Limits
    settings: str
    headers: bool = False

    def pipeline(self) -> Pipeline:
        found = _PIPELINES.get(self.settings)
        if found is None:
            from medscrub.pipeline import Pipeline

            os.environ["OMP_THREAD_LIMIT"] = "1"  # one tesseract thread per worker
            found = Pipeline(self.profile, key=self.key, rename=self.rename,
                             phi_terms=self.phi_terms, limits=self.limits)
            _PIPELINES[self.settings] = found
        return found


_PIPELINES: dict[str, Pipeline] = {}
#: Set in medscrub's own worker processes: the sink of the hard watchdog's traceback.
_HARD_WATCHDOG: IO[str] | None = None


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


def clean_item(pipeline: Pipeline, item: Item, out: Path) -> Done:
    """Take over an earlier run's result if it still holds, else clean the file.

    A file that is not cleaned leaves no output behind: an earlier run's output
    for it (the input changed since) is removed.
    """
    path, rel, previous = item
    if previous is not None and _still_done(previous, path, out):
        return Done(previous, None, True)
    if _HARD_WATCHDOG is not None:
        faulthandler.dump_traceback_later(2 * pipeline.limits.seconds + 1, exit=True,
                                          file=_HARD_WATCHDOG)
    try:
        result, header = pipeline.process_file(path, rel, out)
    finally:
        if _HARD_WATCHDOG is not None:
            faulthandler.cancel_dump_traceback_later()
    stale = {previous.output} if previous is not None and previous.output else set()
    if result.outcome is not Outcome.CLEANED and result.kind in tuple(FileKind):
        stale.add(pipeline._output_name(rel, FileKind(result.kind)))
    for name in stale - {result.output}:
        (out / name).unlink(missing_ok=True)
    return Done(result, header, False)


def _work(job: Job, batch: list[Item], out: Path) -> list[Done]:
    """Clean one batch (runs in a worker)."""
    pipeline = job.pipeline()
    done = [clean_item(pipeline, item, out) for item in batch]
    return done if job.headers else [d._replace(header=None) for d in done]


def _start_worker(parent: int) -> None:
    """Set up one of medscrub's own worker processes."""
    global _HARD_WATCHDOG
    if sys.platform.startswith("linux"):  # die with the parent, even on SIGKILL
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)
    _HARD_WATCHDOG = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process


def _lost(item: Item, out: Path) -> Done:
    _path, rel, previous = item
    if previous is not None and previous.output:
        (out / previous.output).unlink(missing_ok=True)
    return Done(FileResult(input=rel, outcome=Outcome.FAILED, stage="worker", reason=LOST),
                None, False)


class _Pacer:
    """Batch sizes from the mean time per file so far (one file until a result is in)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.files = 0
        self.spent = 0.0

    def add(self, done: list[Done]) -> list[Done]:
        self.files += len(done)
        self.spent += sum(d.result.seconds for d in done)
        return done

    def size(self) -> int:
        if not self.files:
            return 1
        per_file = max(self.spent / self.files, 1e-6)
        return max(1, min(MAX_BATCH, round(self.seconds / per_file)))


def _batches(items: Iterator[Item], pacer: _Pacer) -> Iterator[list[Item]]:
    batch: list[Item] = []
    for item in items:
        batch.append(item)
        if len(batch) >= pacer.size():
            yield batch
            batch = []
    if batch:
        yield batch


class _Pool:
    """An executor that is replaced when one of its processes dies (medscrub's own),
    or used as given."""

    def __init__(self, jobs: int, executor: Executor | None, slots: int) -> None:
        self._jobs = jobs
        self.own = executor is None
        self.executor = self._new() if executor is None else executor
        self.slots = jobs if executor is None else slots
        self.pacer = _Pacer(LOCAL_BATCH_SECONDS if self.own else REMOTE_BATCH_SECONDS)

    def _new(self) -> Executor:
        return ProcessPoolExecutor(self._jobs, initializer=_start_worker,
                                   initargs=(os.getpid(),))

    def submit(self, job: Job, batch: list[Item], out: Path) -> Future[list[Done]]:
        return self.executor.submit(_work, job, batch, out)

    def failed(self, executor: Executor) -> None:
        """A batch sent to `executor` failed: replace it if it is ours and still in use."""
        if self.own and executor is self.executor:
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = self._new()

    def close(self) -> None:
        if self.own:
            self.executor.shutdown(wait=True)

    def collect(self, job: Job, batch: list[Item], executor: Executor,
                future: Future[list[Done]], out: Path) -> list[Done]:
        try:
            return self.pacer.add(future.result())
        except Exception:  # the worker died or was lost (cleaning itself never raises)
            self.failed(executor)
            return [self.alone(job, item, out) for item in batch]

    def alone(self, job: Job, item: Item, out: Path) -> Done:
        executor = self.executor
        try:
            return executor.submit(_work, job, [item], out).result()[0]
        except Exception:
            self.failed(executor)
            return _lost(item, out)


def stream(pipeline: Pipeline, items: Iterator[Item], out: Path, *, jobs: int,
           executor: Executor | None = None, slots: int = 1,
           headers: bool = False) -> Iterator[Done]:
    """Clean every item, here (``jobs=0``, no executor), on `jobs` worker processes, or
    on `executor` (`slots` workers); yield the results in the order of `items` (with
    header results if `headers`)."""
    if executor is None and jobs <= 0:
        for item in items:
            yield clean_item(pipeline, item, out)
        return
    job = Job(pipeline.profile, pipeline.key, pipeline.rename, pipeline.phi_terms,
              pipeline.limits, pipeline.settings, headers)
    # Forked workers inherit OpenCV's thread setting: one thread each, as for tesseract
    # (set here, before any fork: changing it inside a forked child can hang).
    threads = cv2.getNumThreads()
    if executor is None:
        cv2.setNumThreads(1)
    pool = _Pool(jobs, executor, slots)
    pending: deque[tuple[list[Item], Executor, Future[list[Done]]]] = deque()
    try:
        for batch in _batches(items, pool.pacer):
            try:
                pending.append((batch, pool.executor, pool.submit(job, batch, out)))
            except RuntimeError:  # the pool broke since the last batch
                pool.failed(pool.executor)
                pending.append((batch, pool.executor, pool.submit(job, batch, out)))
            if len(pending) >= IN_FLIGHT_PER_WORKER * pool.slots:
                yield from pool.collect(job, *pending.popleft(), out)
        while pending:
            yield from pool.collect(job, *pending.popleft(), out)
    finally:
        pool.close()
        cv2.setNumThreads(threads)
