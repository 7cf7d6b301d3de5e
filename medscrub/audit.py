"""The audit log: one JSON line per file, never a PHI value.

Records hold relative paths, hashes, outcomes, counts of actions by code,
warnings and reasons. The log is append-only and flushed per record, so an
interrupted run keeps every record written before the interruption; a record
cut short by a kill is dropped when the log is next opened. One run at a time
writes a log (an exclusive lock, released by the kernel even on SIGKILL).
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from medscrub._version import __version__
from medscrub.errors import UnsupportedInputError
from medscrub.files import atomic_write, drop_partial_line
from medscrub.model import FileResult, Outcome, Region

__all__ = ["RECORD_KINDS", "AuditLog", "file_record", "parse_record", "result_from_record",
           "write_report"]

#: The kinds of record an audit log holds: a run opens, one per file, a summary closes.
RECORD_KINDS = ("run", "file", "summary")


class AuditLog:
    """Append :class:`FileResult` records to a JSON Lines file.

    Opening takes the log's lock (another run writing it is an error) and drops a
    last line cut short by an interruption; :meth:`begin` writes the run record.
    Only its owner may read it (mode 0600): paths can name patients.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        self._fh: IO[str] = open(fd, "a+", encoding="utf-8")  # noqa: SIM115 - closed in close()
        try:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._fh.close()
            raise UnsupportedInputError(
                f"{path}: another medscrub run is writing this audit log"
            ) from None
        drop_partial_line(self._fh.fileno())

    def _write(self, record: Mapping[str, Any]) -> None:
        self._fh.write(json.dumps(record, sort_keys=True) + "\n")
        self._fh.flush()

    def begin(self, run: Mapping[str, Any]) -> None:
        """Write the record that opens a run."""
        self._write({"record": "run", "medscrub": __version__, "started": _now(), **run})

    def add(self, result: FileResult, profile: str) -> None:
        """Record one file's result."""
        self._write(file_record(result, profile))

    def close(self, summary: Mapping[str, Any] | None = None) -> None:
        """Write the closing summary record (if given) and close the file."""
        if summary is not None:
            self._write({"record": "summary", "finished": _now(), **summary})
        self._fh.close()


def parse_record(line: str | bytes) -> dict[str, Any] | None:
    """The record on one line of an audit log, or None for a line that holds none
    (blank, cut short by a kill, or not medscrub's)."""
    try:
        record = json.loads(line)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both
        return None
    if not isinstance(record, dict) or record.get("record") not in RECORD_KINDS:
        return None
    if record["record"] == "file" and not isinstance(record.get("input"), str):
        return None
    return record


def file_record(result: FileResult, profile: str) -> dict[str, Any]:
    """The audit record of one file's result."""
    return {
        "record": "file",
        "time": _now(),
        "medscrub": __version__,
        "input": result.input,
        "output": result.output,
        "kind": result.kind,
        "outcome": result.outcome.value,
        "stage": result.stage,
        "reason": result.reason,
        "input_sha256": result.input_sha256,
        "output_sha256": result.output_sha256,
        "profile": profile,
        "actions": dict(result.actions),
        "regions": [
            {"box": [r.y0, r.x0, r.y1, r.x1], "kind": r.kind, "detector": r.detector,
             "frames": None if r.frames is None else [r.frames.start, r.frames.stop]}
            for r in result.regions
        ],
        "warnings": list(result.warnings),
        "seconds": round(result.seconds, 6),
    }


def result_from_record(record: Mapping[str, Any]) -> FileResult:
    """The :class:`FileResult` a file record was written from (as far as it says)."""
    regions = tuple(
        Region(r["box"][0], r["box"][1], r["box"][2], r["box"][3],
               frames=None if r["frames"] is None else slice(*r["frames"]),
               kind=r["kind"], detector=r["detector"])
        for r in record["regions"]
    )
    return FileResult(
        input=record["input"],
        outcome=Outcome(record["outcome"]),
        output=record["output"],
        kind=record["kind"],
        input_sha256=record["input_sha256"],
        output_sha256=record["output_sha256"],
        stage=record["stage"],
        reason=record["reason"],
        actions=record["actions"],
        regions=regions,
        warnings=tuple(record["warnings"]),
        seconds=record["seconds"],
    )


def write_report(path: Path, failures: Iterable[FileResult]) -> Path | None:
    """Write the quarantine report (one TSV row per file that failed or was quarantined:
    path, outcome, stage, reason); remove a stale one when there is none. Return its path."""
    rows = [(r.input, r.outcome.value, r.stage, r.reason) for r in failures]
    if not rows:
        path.unlink(missing_ok=True)
        return None
    buf = io.StringIO()
    writer = csv.writer(buf, dialect="excel-tab", lineterminator="\n")
    writer.writerow(("input", "outcome", "stage", "reason"))
    writer.writerows(rows)
    atomic_write(path, buf.getvalue().encode("utf-8", "surrogateescape"), private=True)
    return path


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
