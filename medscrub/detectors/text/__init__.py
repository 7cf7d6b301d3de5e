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

import hashlib
import itertools
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from medscrub.detectors import Context, register_detector
from medscrub.detectors.ocr import ocr_missing
from medscrub.detectors.text.decision import (
    Matcher,
    Word,
    is_bare_label,
    is_sure_text,
    is_text,
    label_values,
    region,
    runs,
)
from medscrub.detectors.text.proposal import Box, Crop, Ink, level, propose, scene_lines
from medscrub.detectors.text.reading import Task, crop_key, read_crops, scale_for
from medscrub.model import Region

__all__ = ["TextDetector"]

_REMEMBERED = 1024  # crops whose words a detector keeps (its looks at one image)
_COVERED = 0.9  # a candidate (or run) this much under lines already found adds nothing


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
        self._last: _Look | None = None

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
        look = self._look_at(frames, context)
        matcher = Matcher(context.hints)
        # Overlay lines first: their crops are clean. Where the other candidates read
        # those lines again, a PHI run covers only its own words, not its whole
        # candidate, which can stretch over the anatomy beside the line.
        first = self._decided([b for b in look.candidates if b.extreme], look, context,
                              matcher, look.taken)
        known = look.taken + context.redacted([r for r, _ in first])
        found = label_values(first + self._decided(
            [b for b in look.candidates if not b.extreme], look, context, matcher, known))
        taken = context.redacted(found)
        if taken:  # a look again is a later look only if these pixels changed alone
            look.taken += taken
            look.outside, look.inside = _digests(frames, look.taken)
        return sorted(set(found), key=lambda r: (r.y0, r.x0, r.y1, r.x1, r.phi, r.score))

    def _look_at(self, frames: npt.NDArray[Any], context: Context) -> _Look:
        """The look at `frames`: a first look proposes candidates; a later look at the
        same image with the same context, after redacting what was found (those
        pixels changed, the others not), keeps the first look's candidates and value
        mapping, and reports only what it finds anew.

        Verification then reads only where a candidate was, with what was redacted
        blanked: its fill edges are not strokes, and crops it did not touch are not
        read again (the same words, remembered).
        """
        last = self._last
        if last is not None and last.redacted_since(frames, context):
            last.ink = Ink.of(frames, context.bits_stored, like=last.ink,
                              overlays=not context.photo)
            return last
        ink = Ink.of(frames, context.bits_stored, overlays=not context.photo)
        candidates = scene_lines(ink) if context.photo else propose(ink)
        self._last = _Look(context, ink, candidates, [], b"", b"")
        return self._last

    def _decided(self, candidates: list[Box], look: _Look, context: Context,
                 matcher: Matcher, known: list[Region]) -> list[tuple[Region, bool]]:
        """Read `candidates` and decide what they hold, beside the lines `known` to go:
        regions, each with whether it is a bare identifier label's.

        What earlier looks redacted is blanked in the crops (its fill's edges are not
        strokes). Candidates mostly under `known` are not read; a run that reaches
        into `known` keeps to its own words, and is dropped when they are under it.
        A candidate's first crop is read first; its other crops (an overlay line's
        grey ramps, a cine's differing frames) only where the first readings of all
        (its own, or its twin's at the other extreme) do not already redact it.
        """
        crops = {
            i: [level(_blanked(crop, box, look.taken), box) for crop in look.ink.crops(box)]
            for i, box in enumerate(candidates) if _share_under(_inked(box), known) < _COVERED
        }
        words = self._read_remembered(
            [Task(i, shown[0], scale_for(candidates[i].glyph_height()),
                  candidates[i].glyph_height()) for i, shown in crops.items()])
        found = {i: self._regions(words.get(i, []), candidates[i], look, context, matcher,
                                  known) for i in crops}
        redacted = context.redacted([r for regions in found.values() for r, _ in regions])
        again = [i for i, shown in crops.items()
                 if len(shown) > 1 and _share_under(_inked(candidates[i]), redacted) < _COVERED]
        more = self._read_remembered(
            [Task(i, crop, scale_for(candidates[i].glyph_height()),
                  candidates[i].glyph_height()) for i in again for crop in crops[i][1:]])
        for i in again:
            found[i] = self._regions(words.get(i, []) + more.get(i, []), candidates[i], look,
                                     context, matcher, known)
        return [r for i in crops for r in found[i]]

    def _regions(self, words: list[list[Word]], box: Box, look: _Look, context: Context,
                 matcher: Matcher, known: list[Region]) -> list[tuple[Region, bool]]:
        """The regions of what candidate `box`'s crops read (`words`, a list per crop),
        each with whether it is a level bare identifier label's."""
        lines = [r for crop_words in words for r in runs(crop_words)
                 if is_text(r) or matcher.names_hint(r)]
        # A long word read with no confidence, and a label read one letter wrong, count
        # on an outlined overlay line, not on a stroke candidate over anatomy (whose
        # texture reads as "murergeet", "Pet:"); long words count on a photo's text line.
        overlay = bool(box.extreme)
        if context.mode == "all-text":  # all text goes: the whole line as proposed
            # (what phi mode would remove included: all-text removes no less)
            lines = [r for r in lines if is_sure_text(r, long_words=overlay or context.photo)
                     or matcher.is_phi(r, misread_labels=overlay)]
            decided = [([w for r in lines for w in r], True)] if lines else []
        else:
            decided = [(r, matcher.is_phi(r, misread_labels=overlay)) for r in lines]
        regions: list[tuple[Region, bool]] = []
        for run, phi in decided:
            found = region(run, box, look.ink.shape, phi, self.name)
            if _share_under(found, known) > 0:
                found = region(run, box, look.ink.shape, phi, self.name, whole_line=False)
                if _share_under(found, known) >= _COVERED:
                    continue
            regions.append((found, phi and not (box.turns or box.tilt) and is_bare_label(run)))
        return regions

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


@dataclass(slots=True)
class _Look:
    """A detector's look at one image: its ink, candidates, what it found to redact."""

    context: Context
    ink: Ink
    candidates: list[Box]
    taken: list[Region]
    outside: bytes  # digest of the image outside `taken`, after the look
    inside: bytes  # digest of the pixels under `taken`, after the look

    def redacted_since(self, frames: npt.NDArray[Any], context: Context) -> bool:
        """Whether `frames`, asked about in `context`, is this look's image with what it
        took changed and nothing else."""
        if not self.taken or context != self.context:
            return False
        outside, inside = _digests(frames, self.taken)
        if outside != self.outside or inside == self.inside:
            return False
        self.outside, self.inside = outside, inside  # the image after this look, unless
        return True  # it finds more


def _digests(frames: npt.NDArray[Any], taken: list[Region]) -> tuple[bytes, bytes]:
    """Digests of `frames` outside the regions `taken` (what redacting them keeps) and
    of the pixels under them (what redacting them changes).

    Only the bands of rows that regions cross are copied (to blank the regions);
    the other rows are hashed in place.
    """
    shape = repr((frames.shape, frames.dtype.str)).encode()
    outside, inside = hashlib.sha256(shape), hashlib.sha256(shape)
    crossed = np.zeros(frames.shape[1] + 1, dtype=bool)
    for r in taken:
        inside.update(np.ascontiguousarray(frames[:, r.y0 : r.y1, r.x0 : r.x1]).tobytes())
        crossed[r.y0 : r.y1] = True
    edges = np.flatnonzero(np.diff(crossed[:-1].astype(np.int8), prepend=0, append=0))
    starts = [0, *edges.tolist(), frames.shape[1]]
    for y0, y1 in itertools.pairwise(starts):
        band = frames[:, y0:y1]
        if y1 > y0 and crossed[y0]:
            band = band.copy()
            for r in taken:
                band[:, max(r.y0 - y0, 0) : max(r.y1 - y0, 0), r.x0 : r.x1] = 0
        outside.update(np.ascontiguousarray(band).tobytes())
    return outside.digest(), inside.digest()


def _inked(box: Box) -> Box:
    """`box` cut to its strokes (what decides whether regions already cover it)."""
    y0, x0, y1, x1 = box.inked()
    return replace(box, y0=y0, x0=x0, y1=y1, x1=x1)


def _under(box: Box | Region, known: list[Region]) -> npt.NDArray[np.bool_]:
    """The pixels of `box` under the regions `known`."""
    mask = np.zeros((box.y1 - box.y0, box.x1 - box.x0), dtype=bool)
    for r in known:
        mask[max(r.y0 - box.y0, 0) : max(r.y1 - box.y0, 0),
             max(r.x0 - box.x0, 0) : max(r.x1 - box.x0, 0)] = True
    return mask


def _share_under(box: Box | Region, known: list[Region]) -> float:
    """The fraction of `box` under the regions `known`."""
    return float(_under(box, known).mean()) if known else 0.0


def _blanked(crop: Crop, box: Box, redacted: list[Region]) -> Crop:
    """`crop` with the pixels under the regions `redacted` blanked too."""
    if not redacted:
        return crop
    planes, blank = crop
    under = _under(box, redacted)
    if not under.any():
        return crop
    return planes, under if blank is None else blank | under
