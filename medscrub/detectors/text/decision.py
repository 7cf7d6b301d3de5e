"""Deciding: which words are text, and which text identifies the patient.

Words are grouped into runs (words of one line with no wide gap); a run is PHI
when it holds an identifier label (Name, DOB, MRN...), a header hint (names,
IDs, places, birth-date spellings; compared after folding the OCR confusions
O/0, I/l/1, S/5, B/8, Z/2, and allowing an edit or two in long hints) or an
identifier :mod:`medscrub.recognizers` finds by its form (dates, telephone
numbers, record numbers, names after a title...), read as written and with
confusable letters read as digits in mostly numeric words. A PHI run is
reported across its whole candidate line, so a name split into tokens is
covered end to end. OCR text never leaves the text
detector: it is not stored, logged or returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from medscrub import recognizers
from medscrub.detectors.text.proposal import PAD, Box
from medscrub.hints import PhiHints
from medscrub.model import Region

__all__ = ["Matcher", "Word", "is_bare_label", "is_sure_text", "is_text", "label_values",
           "reads_text", "region", "runs"]

_MIN_CONFIDENCE = 30.0  # a run is text when a word is read with more (0..100),
_MIN_SHORT_CONFIDENCE = 10.0  # or when it has this and _MIN_CHARS alphanumerics
_MIN_CHARS = 3
_SURE, _SURE_SHORT = 60.0, 80.0  # all-text mode: confidence that makes a run surely text
_SHORT_RUN = 3  # lower-case words of this many letters or fewer need _SURE_SHORT
_LONG_WORD, _LONG_WORD_VARIETY = 8, 5  # a word this long, of this many distinct characters,
# is text at any confidence
_RUN_GAP = 2.0  # a gap wider than this many line heights ends a run
_ONE_LINE = 1.6  # a box at most this many run heights tall holds one line
_MARGIN = 2  # pixels added around a reported run
_MARK = 2  # alphanumerics of a run that covers only its own glyphs (a mark, not a line)
_VALUE_REACH = 5.0  # line heights a bare identifier label's region reaches to its right
_VALUE_SEARCH = 15.0  # line heights from a bare label's start within which the first line
# to its right on its row is its value (a form's field)
_SPLIT_DIGITS = re.compile(r"(?<=\d)\s+(?=\d)")  # "MRN8823 1907": an ID the OCR split
_CONFUSIONS = str.maketrans("OILSBZ|", "0115821")
_MIN_HINT = 3  # shortest hint token compared
_TELLING_HINT = 6  # a hint token this long, read at any confidence, makes a run PHI
_PLACE_WORDS = frozenset(
    {"THE", "AND", "DEPT", "DEPARTMENT", "HOSPITAL", "CLINIC", "CENTER", "CENTRE", "MEDICAL",
     "RADIOLOGY", "IMAGING", "ROAD", "STREET", "LANE", "UNIVERSITY", "HEALTH", "SAINT"}
)
#: Words that label or name an identifier: a line holding one is PHI even where its
#: value is misread (compared after folding OCR confusions, as whole words).
_LABELS = frozenset(
    "".join(ch for ch in word if ch.isalnum()).translate(_CONFUSIONS)
    for word in (
        "NAME", "PATIENT", "PAT", "PT", "MRN", "ID", "PID", "DOB", "BIRTH", "BORN", "AGE",
        "SEX", "ACC", "ACCESSION", "ADDRESS", "PHONE", "TEL", "NHS", "SSN", "HOSPITAL", "CLINIC",
        "INFIRMARY", "MEDICAL", "CTR", "CENTRE", "CENTER", "INSTITUTE", "INSTITUTION",
        "UNIVERSITY", "STUDY", "DATE",
    )
)
#: Overlay field names one letter away from a label ("Ser:" series, "Acq:" acquisition).
_OVERLAY_FIELDS = frozenset({"5ER", "ACQ"})  # folded as labels are (S reads as 5)
_BEFORE_COLON = re.compile(r"(?<![A-Za-z0-9|])([A-Za-z|]{3,})\s?[:;=]")  # "Sex:", "Ane="
_COLON_READ_AS = frozenset("5XV1J")  # letters a small colon is read as (folded: S is 5)
_VALUE_RUN_IN = 5  # characters after a label whose colon was read as a letter


@dataclass(frozen=True, slots=True)
class Word:
    """One OCR word in crop coordinates (relative to its candidate box)."""

    text: str
    y0: float
    x0: float
    y1: float
    x1: float
    conf: float


def reads_text(words: list[Word]) -> bool:
    """Whether `words` hold a run of text of :data:`_MIN_CHARS` or more alphanumerics."""
    return any(
        is_text(run) and sum(ch.isalnum() for w in run for ch in w.text) >= _MIN_CHARS
        for run in runs(words)
    )




def _is_mark(run: list[Word]) -> bool:
    """Whether a run holds two alphanumerics or fewer (a side marker, a lone digit)."""
    return sum(ch.isalnum() for w in run for ch in w.text) <= _MARK


def runs(words: list[Word]) -> list[list[Word]]:
    """Group words into runs: same line, no gap wider than :data:`_RUN_GAP` heights."""
    runs: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.x0, w.y0)):
        height = word.y1 - word.y0
        for run in runs:
            last = run[-1]
            same_line = word.y0 < last.y1 and last.y0 < word.y1
            if same_line and word.x0 - last.x1 <= _RUN_GAP * max(height, last.y1 - last.y0):
                run.append(word)
                break
        else:
            runs.append([word])
    return runs


def is_text(run: list[Word]) -> bool:
    """Whether a run is text rather than OCR noise (short words read with low confidence)."""
    best = max(w.conf for w in run)
    chars = sum(ch.isalnum() for w in run for ch in w.text)
    return (best > _MIN_CONFIDENCE or (best >= _MIN_SHORT_CONFIDENCE and chars >= _MIN_CHARS)
            or _spells_word(run))


def is_sure_text(run: list[Word], *, long_words: bool = True) -> bool:
    """Whether a run is surely text: it spells a long word (where `long_words` says such
    a word counts), or one of its words is sure.

    A word is sure when read with :data:`_SURE` confidence, but one or two
    alphanumerics only in capitals or digits (side markers, view codes) read with
    :data:`_SURE_SHORT`, and a short lower-case word (:data:`_SHORT_RUN` letters or
    fewer) only with :data:`_SURE_SHORT`. Stripes, the tips of anatomy and the edges
    of buttons and fills read as short words ("w", "u", "mid"), or as a confident
    letter beside noise ("F", "vy;r?e?"), are not; nor, over busy anatomy, a long
    "word" read with no confidence from its texture ("murergeet").
    """
    return (long_words and _spells_word(run)) or any(_is_sure_word(word) for word in run)


def _is_sure_word(word: Word) -> bool:
    chars = "".join(ch for ch in word.text if ch.isalnum())
    if len(chars) <= 2:
        return word.conf >= _SURE_SHORT and not any(ch.islower() for ch in chars)
    if len(chars) <= _SHORT_RUN and chars.islower():
        return word.conf >= _SURE_SHORT
    return word.conf >= _SURE


def _spells_word(run: list[Word]) -> bool:
    """Whether a run holds a long word of varied characters, whatever its confidence.

    Tesseract can rate a cleanly read word near 0 (a name with one odd sign
    in it, "DOE^JANE"). Noise and stripes read as short words or as runs of
    one letter ("lllll"), not as these.
    """
    for word in run:
        chars = [ch for ch in word.text.upper() if ch.isalnum()]
        if len(chars) >= _LONG_WORD and len(set(chars)) >= _LONG_WORD_VARIETY:
            return True
    return False


def region(run: list[Word], box: Box, shape: tuple[int, int], phi: bool,
           detector: str, *, whole_line: bool = True) -> Region:
    """The image box of a run of words in candidate `box`, over every frame.

    A PHI run also covers the whole width of its candidate (and its height
    when the candidate holds one line), so that words the OCR missed or split
    are covered too, unless `whole_line` is False or the run is a mark of a glyph
    or two (a side marker, or one glyph read in the anatomy: it covers its own
    glyphs, not a long candidate around it); a margin of :data:`_MARGIN` is added.
    A level identifier label read without its value ("Sex:", "Age") also covers
    :data:`_VALUE_REACH` line heights to its right, past its candidate: the value
    follows on the same line, and a candidate cut at the colon leaves it out.
    """
    rows, cols = shape
    whole_line = whole_line and not _is_mark(run)
    if box.turns or box.tilt:  # side or tilted text: the whole (one-line) box
        run = [Word("", PAD, PAD, box.y1 - box.y0 - PAD, box.x1 - box.x0 - PAD,
                     float(np.mean([w.conf for w in run])))]
    # within the candidate: a word's box can reach past its crop into the mosaic around
    y0 = max(box.y0 + min(w.y0 for w in run), box.y0)
    x0 = max(box.x0 + min(w.x0 for w in run), box.x0)
    y1 = min(box.y0 + max(w.y1 for w in run), box.y1)
    x1 = min(box.x0 + max(w.x1 for w in run), box.x1)
    if phi and whole_line:  # the whole line; rows of other lines in a multi-line box stay
        top, start, bottom, end = box.inked()  # its strokes, not the reach of their
        x0, x1 = min(x0, start), max(x1, end)  # dilation or the reading padding
        if box.y1 - box.y0 <= _ONE_LINE * (y1 - y0) + 2 * PAD:
            y0, y1 = min(y0, top), max(y1, bottom)
        if not (box.turns or box.tilt) and is_bare_label(run):
            x1 = max(x1, box.x0 + max(w.x1 for w in run) + _VALUE_REACH * (y1 - y0))
    return Region(
        y0=max(0, int(np.floor(y0)) - _MARGIN),
        x0=max(0, int(np.floor(x0)) - _MARGIN),
        y1=min(rows, int(np.ceil(y1)) + _MARGIN),
        x1=min(cols, int(np.ceil(x1)) + _MARGIN),
        kind="text",
        detector=detector,
        score=round(float(np.mean([w.conf for w in run])) / 100.0, 3),
        phi=phi,
    )


def _fold(text: str) -> str:
    """Upper-case alphanumerics with OCR confusions folded (O->0, I/L->1, S->5, ...)."""
    return "".join(ch for ch in text.upper() if ch.isalnum()).translate(_CONFUSIONS)


def _digits(text: str) -> str:
    """`text` with confusable letters read as digits inside mostly-numeric tokens."""

    def fix(match: re.Match[str]) -> str:
        token = match.group()
        digits = sum(ch.isdigit() for ch in token)
        return token.upper().translate(_CONFUSIONS) if digits * 2 >= len(token) else token

    return re.sub(r"[A-Za-z0-9|]+", fix, text)


class Matcher:
    """Decides whether a run of words holds an identifier."""

    def __init__(self, hints: PhiHints) -> None:
        tokens: set[str] = set()
        for hint in hints.all():
            tokens.add(_fold(hint))
        for hint in hints.names | hints.places:
            tokens.update(
                _fold(part) for part in re.split(r"[^0-9A-Za-z]+", hint)
                if part.upper() not in _PLACE_WORDS
            )
        self._tokens = sorted((t for t in tokens if len(t) >= _MIN_HINT), key=len, reverse=True)
        self._pairs = {t: _pairs(t) for t in self._tokens}

    def names_hint(self, run: list[Word]) -> bool:
        """Whether a run holds a hint token of :data:`_TELLING_HINT` characters or more.

        Such a run is PHI even when Tesseract reads it with little confidence:
        noise does not spell a patient's name or record number.
        """
        return self._has_token(_fold(_digits(" ".join(w.text for w in run))), _TELLING_HINT)

    def is_phi(self, run: list[Word], *, misread_labels: bool = False) -> bool:
        """Whether a run holds an identifier; with `misread_labels`, also a label read
        with one letter wrong before a colon (an overlay line's small glyphs are misread
        so; over anatomy, noise reads as such words: "Sst;", "Pet:")."""
        raw = " ".join(w.text for w in run)
        if any(_is_label(token) for token in re.split(r"[^0-9A-Za-z|]+", raw)):
            return True
        if misread_labels and any(_is_misread_label(m.group(1))
                                  for m in _BEFORE_COLON.finditer(raw)):
            return True
        text = _digits(raw)
        if any(recognizers.holds_identifier(t) for t in (raw, text, _SPLIT_DIGITS.sub("", text))):
            return True
        if recognizers.holds_field_identifier(text):  # an age, a month and day ("077Y F")
            return True
        return self._has_token(_fold(text), _MIN_HINT)

    def _has_token(self, folded: str, shortest: int) -> bool:
        """Whether `folded` holds a hint token of `shortest` characters or more (OCR errors
        allowed). Tokens sharing too few character pairs with it are passed over unread."""
        present = _pairs(folded)
        for token in self._tokens:
            if len(token) < shortest:
                break
            errors = _allowed_errors(token)
            # An edit spoils at most two of a token's pairs: fewer shared pairs, no match.
            if len(self._pairs[token] & present) >= len(self._pairs[token]) - 2 * errors and \
                    _contains(folded, token, errors):
                return True
        return False


def _is_label(token: str) -> bool:
    """Whether a token read is an identifier label, also with its colon read as a letter
    ("NAMES") and the value run into it ("SexxO" for "Sex: O", "SexvO").

    Short labels in lower case ("id", "pt") are not counted: overlays write
    them in capitals, and OCR reads noise as short lower-case words.
    """
    if len(token) <= 3 and token.islower():
        return False
    folded = _fold(token)
    return folded in _LABELS or (len(folded) >= 5 and folded[:-1] in _LABELS) or any(
        len(label) >= 3 and folded.startswith(label) and len(folded) > len(label)
        and folded[len(label)] in _COLON_READ_AS and len(folded) - len(label) <= _VALUE_RUN_IN
        for label in _LABELS)


def is_bare_label(run: list[Word]) -> bool:
    """Whether every word of a run is an identifier label (or one misread by a letter):
    a label read without its value."""
    tokens = [t for w in run for t in re.split(r"[^0-9A-Za-z|]+", w.text) if t]
    return bool(tokens) and all(_is_label(t) or _is_misread_label(t) for t in tokens)


def label_values(found: list[tuple[Region, bool]]) -> list[Region]:
    """`found` regions, each with whether it is a bare label's, with the value of every
    bare label made PHI: the first region to the label's right on its row, within
    :data:`_VALUE_SEARCH` line heights of its start, read as no identifier ("Name:" on a
    form, "Jane Q. Doe" read as a line of its own further along its row)."""
    regions = [r for r, _ in found]
    values: set[int] = set()
    for label in (r for r, bare in found if bare):
        height = label.y1 - label.y0
        on_row = [(r.x0, i) for i, r in enumerate(regions)
                  if not r.phi and label.x0 < r.x0 <= label.x0 + _VALUE_SEARCH * height
                  and min(r.y1, label.y1) - max(r.y0, label.y0) >= 0.5 * min(height, r.y1 - r.y0)]
        if on_row:
            values.add(min(on_row)[1])
    return [replace(r, phi=True) if i in values else r for i, r in enumerate(regions)]


def _is_misread_label(token: str) -> bool:
    """Whether a word written before a colon is a label with one letter misread
    ("hex:" for "Sex:", "Aqe:" for "Age:"): same length, three letters or more, one
    substitution (a colon makes a label of it; noise rarely reads as a word and a colon)."""
    folded = _fold(token)
    return len(folded) >= 3 and folded not in _OVERLAY_FIELDS and any(
        len(label) == len(folded) and sum(a != b for a, b in zip(label, folded, strict=True)) == 1
        for label in _LABELS)


def _pairs(text: str) -> set[str]:
    """The distinct adjacent character pairs of `text`."""
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _allowed_errors(token: str) -> int:
    return 0 if len(token) < 5 else 1 if len(token) < 9 else 2


def _contains(text: str, pattern: str, errors: int) -> bool:
    """True if some substring of `text` is within `errors` edits of `pattern` (Sellers)."""
    if errors == 0 or len(pattern) <= errors:
        return pattern in text
    column = list(range(len(pattern) + 1))
    for ch in text:
        new = [0]
        for i, expected in enumerate(pattern, start=1):
            new.append(min(column[i] + 1, new[i - 1] + 1, column[i - 1] + (ch != expected)))
        if new[-1] <= errors:
            return True
        column = new
    return False
