"""Plain values passed between the pipeline's stages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["FileResult", "Outcome"]


class Outcome(StrEnum):
    """What happened to one input file."""

    CLEANED = "cleaned"
    SKIPPED = "skipped"
    FAILED = "failed"
    QUARANTINED = "quarantined"


@dataclass(frozen=True, slots=True)
class FileResult:
    """The record of one input's way through the pipeline.

    Holds paths relative to the input and output roots, hashes, counts and
    reasons; never a PHI value.
    """

    input: str
    outcome: Outcome
    output: str | None = None
    kind: str = ""
    input_sha256: str = ""
    output_sha256: str = ""
    stage: str = ""
    reason: str = ""
    actions: Mapping[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True unless the file failed or was quarantined."""
        return self.outcome in (Outcome.CLEANED, Outcome.SKIPPED)
