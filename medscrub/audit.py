"""The audit log: one JSON line per file, never a PHI value.

Records hold relative paths, hashes, outcomes, counts of actions by code,
warnings and reasons. The log is append-only and flushed per record, so an
interrupted run keeps every record written before the interruption.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from medscrub._version import __version__
from medscrub.model import FileResult

__all__ = ["AuditLog"]


class AuditLog:
    """Append :class:`FileResult` records to a JSON Lines file."""

    def __init__(self, path: Path, run: Mapping[str, Any]) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._write({"record": "run", "medscrub": __version__, "started": _now(), **run})

    def _write(self, record: Mapping[str, Any]) -> None:
        self._fh.write(json.dumps(record, sort_keys=True) + "\n")
        self._fh.flush()

    def add(self, result: FileResult, profile: str) -> None:
        """Record one file's result."""
        self._write(
            {
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
        )

    def close(self, summary: Mapping[str, Any]) -> None:
        """Write the closing summary record and close the file."""
        self._write({"record": "summary", "finished": _now(), **summary})
        self._fh.close()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
