"""Plain values passed between the pipeline's stages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

__all__ = ["FileResult", "Outcome", "Region"]


@dataclass(frozen=True, slots=True)
class Region:
    """A part of an image to redact (or, with ``phi=False``, found and allowed to stay).

    Coordinates are pixels, half-open: rows ``y0..y1-1``, columns ``x0..x1-1``.

    Attributes
    ----------
    y0, x0, y1, x1 : int
        The bounding box.
    frames : slice or None
        The frames it covers; None for every frame.
    kind : str
        ``"text"``, ``"face"``, ``"overlay"``, ``"known"`` or ``"user"``.
    detector : str
        Name of the detector that found it.
    score : float
        The detector's confidence, 0..1.
    phi : bool
        False for a finding that may stay (e.g. a measurement label).
    mask : numpy.ndarray of bool, optional
        Shape ``(y1 - y0, x1 - x0)``: only True pixels are redacted.
    """

    y0: int
    x0: int
    y1: int
    x1: int
    frames: slice | None = None
    kind: str = "text"
    detector: str = ""
    score: float = 1.0
    phi: bool = True
    mask: npt.NDArray[np.bool_] | None = field(default=None, compare=False, repr=False)


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
    regions: tuple[Region, ...] = ()
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True unless the file failed or was quarantined."""
        return self.outcome in (Outcome.CLEANED, Outcome.SKIPPED)
