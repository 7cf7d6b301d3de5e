"""What earlier runs into one output folder finished, read back from its audit log.

A run resumes an interrupted one: a file whose latest record (written under the
same settings) still matches (the input's sha256, and the output's, when
there is one) is not cleaned again and gets no second record. The audit log is
the manifest: it is written one flushed record per file after the output is
in place, so whatever a kill interrupts is either recorded and complete, or
not recorded and done again with the same result.

Settings are compared through :attr:`medscrub.spec.PipelineSpec.fingerprint`,
a keyed digest of everything that shapes an output (profile, key, renaming,
PHI terms, limits, medscrub's version). A folder written under other settings is not
mixed with new outputs: resuming it is refused.

The index holds 16 bytes per recorded file (a 64-bit hash of the relative path
and the record's offset); records are read back from the log when asked for.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from pathlib import Path
from typing import IO, Any

import numpy as np

from medscrub.audit import parse_record, result_from_record
from medscrub.model import FileResult

__all__ = ["Manifest"]


def _path_hash(rel: str) -> int:
    digest = hashlib.blake2b(rel.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


class Manifest:
    """The files earlier runs into one output folder finished, by relative input path.

    Use :meth:`read`; :meth:`previous` gives a file's latest result.

    Attributes
    ----------
    foreign : int
        File records written under other settings since the log last started afresh.
    """

    def __init__(self, log: IO[bytes] | None, hashes: np.ndarray[Any, np.dtype[np.uint64]],
                 offsets: np.ndarray[Any, np.dtype[np.int64]], foreign: int) -> None:
        self._log = log
        self._hashes = hashes
        self._offsets = offsets
        self.foreign = foreign

    @classmethod
    def empty(cls) -> Manifest:
        """A manifest that knows no file (a fresh run)."""
        return cls(None, np.zeros(0, np.uint64), np.zeros(0, np.int64), 0)

    @classmethod
    def read(cls, audit: Path, settings: str) -> Manifest:
        """Index the file records of `audit` written under `settings`.

        Records before a run that did not resume (``"resume": false``) are ignored.
        """
        if not audit.is_file():
            return cls.empty()
        hashes, offsets = array("Q"), array("q")
        foreign = 0
        same = True
        log = open(audit, "rb")  # noqa: SIM115 - closed in close()
        offset = 0
        for line in log:
            record = parse_record(line) or {}
            kind = record.get("record")
            if kind == "run":
                if record.get("resume") is False:
                    hashes, offsets, foreign = array("Q"), array("q"), 0
                same = record.get("settings") == settings
            elif kind == "file":
                if same:
                    hashes.append(_path_hash(record["input"]))
                    offsets.append(offset)
                else:
                    foreign += 1
            offset += len(line)
        order = np.argsort(np.frombuffer(hashes, np.uint64), kind="stable")
        return cls(log, np.frombuffer(hashes, np.uint64)[order],
                   np.frombuffer(offsets, np.int64)[order], foreign)

    def __len__(self) -> int:
        return len(self._hashes)

    def previous(self, rel: str) -> FileResult | None:
        """The latest recorded result for input `rel`, or None."""
        if self._log is None or not len(self._hashes):
            return None
        key = np.uint64(_path_hash(rel))
        first = int(np.searchsorted(self._hashes, key, side="left"))
        last = int(np.searchsorted(self._hashes, key, side="right"))
        for i in range(last - 1, first - 1, -1):  # the latest record first
            self._log.seek(int(self._offsets[i]))
            record = json.loads(self._log.readline())
            if record["input"] == rel:
                return result_from_record(record)
        return None

    def close(self) -> None:
        """Close the audit log read handle."""
        if self._log is not None:
            self._log.close()
