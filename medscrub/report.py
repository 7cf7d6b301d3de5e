"""Summaries of audit logs: what a run (or several appended runs) did.

:func:`read_audit` parses a JSON Lines audit log into its run, file and
summary records; :func:`summarize` counts files by outcome, header actions by
code, redacted regions by kind, the detectors that found them, warnings, and
lists the files that failed or were quarantined with their reasons. An audit
log holds no PHI values, and neither does its summary (paths of inputs are as
the log records them).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medscrub.audit import parse_record
from medscrub.errors import MedscrubError

__all__ = [
    "ACTION_NAMES",
    "AuditLogContents",
    "AuditRun",
    "AuditSummary",
    "Problem",
    "read_audit",
    "summarize",
]

_PROBLEM_OUTCOMES = ("failed", "quarantined")
#: What each header action code did, in words.
ACTION_NAMES = {"X": "removed", "Z": "emptied", "D": "replaced by dummy values",
                "U": "UIDs remapped", "C": "cleaned", "K": "kept"}


@dataclass(frozen=True, slots=True)
class AuditRun:
    """One run's records: the opening record, its file records, its summary (if it closed)."""

    info: dict[str, Any]
    files: tuple[dict[str, Any], ...]
    summary: dict[str, Any] | None

    @property
    def seconds(self) -> float:
        """Wall time (the sum of per-file times for a run that did not close)."""
        if self.summary is not None:
            return float(self.summary.get("seconds", 0.0) or 0.0)
        return sum(float(f.get("seconds", 0.0) or 0.0) for f in self.files)


@dataclass(frozen=True, slots=True)
class AuditLogContents:
    """The runs of an audit log, in file order, and how many lines were not records."""

    runs: tuple[AuditRun, ...]
    unreadable: int = 0

    @property
    def files(self) -> tuple[dict[str, Any], ...]:
        """Every file record of every run."""
        return tuple(f for run in self.runs for f in run.files)


def _records(text: str) -> tuple[list[dict[str, Any]], int]:
    records, unreadable = [], 0
    for line in text.splitlines():
        if not line.strip():
            continue
        record = parse_record(line)
        if record is not None:
            records.append(record)
        else:
            unreadable += 1
    return records, unreadable


def read_audit(path: str | os.PathLike[str]) -> AuditLogContents:
    """Parse an audit log; lines that are not records are counted, not fatal.

    Raises
    ------
    MedscrubError
        If the file cannot be read.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MedscrubError(f"{path}: cannot read audit log ({exc.__class__.__name__})") from None
    records, unreadable = _records(text)
    runs: list[AuditRun] = []
    info: dict[str, Any] = {}
    files: list[dict[str, Any]] = []
    started = False
    for record in records:
        kind = record["record"]
        if kind == "run":
            if started:  # the previous run did not close
                runs.append(AuditRun(info, tuple(files), None))
            info, files, started = record, [], True
        elif kind == "file":
            files.append(record)
            started = True
        else:
            runs.append(AuditRun(info, tuple(files), record))
            info, files, started = {}, [], False
    if started:
        runs.append(AuditRun(info, tuple(files), None))
    return AuditLogContents(tuple(runs), unreadable)


@dataclass(frozen=True, slots=True)
class Problem:
    """A file that was not written: its input path, outcome, stage and reason."""

    input: str
    outcome: str
    stage: str
    reason: str


@dataclass(frozen=True, slots=True)
class AuditSummary:
    """Totals of an audit log.

    Attributes
    ----------
    runs : int
        Runs recorded (a log is appended to by every run that uses it).
    complete : bool
        True if every run closed with a summary record (none was interrupted).
    files : int
        File records.
    outcomes : dict
        Files by outcome (``cleaned``, ``skipped``, ``failed``, ``quarantined``).
    kinds : dict
        Files by kind (``dicom``, ``photo``, ...).
    actions : dict
        Header actions by code (``X``, ``Z``, ``D``, ``U``, ``C``), all files.
    regions : dict
        Redacted regions by kind (``text``, ``face``, ``known``, ...).
    detectors : dict
        Per detector (``tesseract``, ``recipe``, ...): files where it found something.
    warnings : dict
        Files per warning text.
    skipped : dict
        Files per reason for skipping.
    problems : tuple of Problem
        Failed and quarantined files.
    seconds : float
        Wall time of the runs (from their summary records; the sum of per-file
        times for a run that did not close).
    file_seconds : float
        Sum of the per-file processing times.
    unreadable : int
        Lines that were not audit records.
    """

    runs: int
    complete: bool
    files: int
    outcomes: dict[str, int]
    kinds: dict[str, int]
    actions: dict[str, int]
    regions: dict[str, int]
    detectors: dict[str, int]
    warnings: dict[str, int]
    skipped: dict[str, int]
    problems: tuple[Problem, ...] = field(default=())
    seconds: float = 0.0
    file_seconds: float = 0.0
    unreadable: int = 0

    @property
    def files_per_second(self) -> float:
        """Files handled per second of wall time."""
        return self.files / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "runs": self.runs, "complete": self.complete, "files": self.files,
            "outcomes": self.outcomes, "kinds": self.kinds, "actions": self.actions,
            "regions": self.regions, "detectors": self.detectors, "warnings": self.warnings,
            "skipped": self.skipped,
            "problems": [{"input": p.input, "outcome": p.outcome, "stage": p.stage,
                          "reason": p.reason} for p in self.problems],
            "seconds": round(self.seconds, 3), "file_seconds": round(self.file_seconds, 3),
            "files_per_second": round(self.files_per_second, 2),
            "unreadable_lines": self.unreadable,
        }


def _sorted(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def summarize(log: AuditLogContents | str | os.PathLike[str]) -> AuditSummary:
    """Count what an audit log records (a path is read with :func:`read_audit`)."""
    if not isinstance(log, AuditLogContents):
        log = read_audit(log)
    outcomes: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    actions: Counter[str] = Counter()
    regions: Counter[str] = Counter()
    detectors: Counter[str] = Counter()
    warnings: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    problems = []
    for record in log.files:
        outcome = str(record.get("outcome", ""))
        outcomes[outcome] += 1
        kinds[str(record.get("kind", "") or "unknown")] += 1
        actions.update({str(k): int(v) for k, v in (record.get("actions") or {}).items()})
        found = record.get("regions") or []
        regions.update(str(r.get("kind", "")) for r in found)
        detectors.update({str(r.get("detector", "") or "unnamed") for r in found})
        warnings.update(set(map(str, record.get("warnings") or [])))
        if outcome == "skipped":
            skipped[str(record.get("reason", ""))] += 1
        if outcome in _PROBLEM_OUTCOMES:
            problems.append(Problem(str(record.get("input", "")), outcome,
                                    str(record.get("stage", "")), str(record.get("reason", ""))))
    return AuditSummary(
        runs=len(log.runs),
        complete=all(run.summary is not None for run in log.runs),
        files=len(log.files),
        outcomes=_sorted(outcomes),
        kinds=_sorted(kinds),
        actions=_sorted(actions),
        regions=_sorted(regions),
        detectors=_sorted(detectors),
        warnings=_sorted(warnings),
        skipped=_sorted(skipped),
        problems=tuple(problems),
        seconds=sum(run.seconds for run in log.runs),
        file_seconds=sum(float(f.get("seconds", 0.0) or 0.0) for f in log.files),
        unreadable=log.unreadable,
    )
