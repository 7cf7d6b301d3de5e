"""Burned-in text: propose lines, read them with Tesseract, decide what identifies.

Three stages with clear seams, one module each; only reading is slow:

1. :mod:`~medscrub.detectors.text.proposal`: candidate line boxes, from stroke
   cues in DICOM images and from a learned text-line model in photos;
2. :mod:`~medscrub.detectors.text.reading`: the candidates' crops, flattened to dark
   text on white and stacked into mosaics, read by Tesseract;
3. :mod:`~medscrub.detectors.text.decision`: which runs of words are text, and which
   are PHI (labels, dates, identifiers, header hints).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy.typing as npt

from medscrub.detectors import Context, register_detector
from medscrub.detectors.ocr import ocr_missing
from medscrub.detectors.text.decision import (
    Matcher,
    Word,
    is_sure_text,
    is_text,
    region,
    runs,
)
from medscrub.detectors.text.proposal import Ink, propose, scene_lines, turn
from medscrub.detectors.text.reading import Task, crop_key, read_crops, scale_for
from medscrub.model import Region

__all__ = ["TextDetector"]

_REMEMBERED = 1024  # crops whose words a detector keeps (its looks at one image)


@register_detector
class TextDetector:
    """Burned-in text found with OpenCV and read with Tesseract (``"tesseract"``).

    Examples
    --------
    >>> detector = TextDetector()
    >>> regions = detector.detect(frames, Context(photometric="RGB"))  # doctest: +SKIP
    """

    name: ClassVar[str] = "tesseract"
    finds: ClassVar[frozenset[str]] = frozenset({"text"})

    def __init__(self) -> None:
        self._memo: OrderedDict[bytes, list[Word]] = OrderedDict()

    def is_available(self) -> bool:
        """Return True if Tesseract and a way to call it are installed."""
        return not ocr_missing()

    def unavailable_reason(self) -> str:
        """Say what is missing and how to install it (``""`` when available)."""
        missing = ocr_missing()
        return "; ".join(missing)

    def detect(self, frames: npt.NDArray[Any], context: Context) -> Sequence[Region]:
        """Find burned-in text in `frames`.

        Parameters
        ----------
        frames : numpy.ndarray
            ``(n_frames, rows, cols, samples)``, any integer or float dtype.
        context : Context
            ``bits_stored`` windows wide data; ``mode`` decides which text is
            PHI; ``hints`` are the strings to look for in ``"phi"`` mode.

        Returns
        -------
        list[Region]
            One region per run of words (kind ``"text"``, detector
            ``"tesseract"``, every frame). In ``"all-text"`` mode all are PHI;
            in ``"phi"`` mode, runs without identifiers have ``phi=False``.

        Raises
        ------
        ValueError
            If `frames` is not 4-D.
        """
        if frames.ndim != 4:
            raise ValueError(f"expected (n_frames, rows, cols, samples), got shape {frames.shape}")
        if frames.size == 0:
            return []
        ink = Ink.of(frames, context.bits_stored)
        candidates = scene_lines(ink) if context.photo else propose(ink)
        if not candidates:
            return []
        words = self._read_remembered([
            Task(i, turn(crop, box.turns), scale_for(box.glyph_height()), box.glyph_height())
            for i, box in enumerate(candidates)
            for crop in ink.crops(box)
        ])
        matcher = Matcher(context.hints)
        regions: set[Region] = set()
        for i, box in enumerate(candidates):
            lines = [r for crop_words in words.get(i, []) for r in runs(crop_words)
                     if is_text(r) or matcher.names_hint(r)]
            if context.mode == "all-text":  # all text goes: the whole line as proposed
                # (what phi mode would remove included: all-text removes no less)
                lines = [r for r in lines if is_sure_text(r) or matcher.is_phi(r)]
                if lines:
                    regions.add(region([w for r in lines for w in r], box, ink.shape, True,
                                       self.name))
                continue
            regions.update(region(r, box, ink.shape, matcher.is_phi(r), self.name)
                           for r in lines)
        return sorted(regions, key=lambda r: (r.y0, r.x0, r.y1, r.x1, r.phi, r.score))

    def _read_remembered(
        self, tasks: list[Task]
    ) -> dict[int, list[list[Word]]]:
        """Words by candidate, a list per crop; crops read lately are not read again.

        Verifying a redaction looks at the same image again: a crop read before
        (same pixels, same scale) gives the same words. The words of the last
        :data:`_REMEMBERED` crops are kept, in memory only. Crops are read in
        mosaics, whose make-up can change what Tesseract reads in a crop, so one
        detector serves one image: what it remembers never depends on other files.
        """
        keys = [crop_key(task.crop, task.scale) for task in tasks]
        unread = {key: task for key, task in zip(keys, tasks, strict=True)
                  if key not in self._memo}
        found = read_crops([task._replace(candidate=n) for n, task in enumerate(unread.values())])
        for n, key in enumerate(unread):
            self._memo[key] = found.get(n, [])
        words: dict[int, list[list[Word]]] = {}
        for task, key in zip(tasks, keys, strict=True):
            self._memo.move_to_end(key)
            words.setdefault(task.candidate, []).append(self._memo[key])
        while len(self._memo) > _REMEMBERED:
            self._memo.popitem(last=False)
        return words
