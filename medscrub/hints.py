"""PHI hints: the identifying strings a file carries, to find them in free text.

Hints are taken from the original header before cleaning and live in memory
only. :meth:`PhiHints.scrub` removes every hint, in any spelling (names in any
order and case, IDs with or without separators, the birth date in common date
forms), and every identifier :mod:`medscrub.recognizers` finds by its form.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from medscrub import recognizers
from medscrub.dicom.elements import Node
from medscrub.dicom.values import DEFAULT_ENCODINGS, strings, tag_of

__all__ = ["PhiHints"]

#: Header keywords whose values identify the patient or the encounter.
_ID_KEYWORDS = (
    "PatientID",
    "OtherPatientIDs",
    "IssuerOfPatientID",
    "AccessionNumber",
    "StudyID",
    "MedicalRecordLocator",
    "RequestedProcedureID",
    "PerformedProcedureStepID",
)
_NAME_KEYWORDS = (
    "PatientName",
    "OtherPatientNames",
    "PatientBirthName",
    "PatientMotherBirthName",
    "ResponsiblePerson",
    "ReferringPhysicianName",
    "PerformingPhysicianName",
    "OperatorsName",
    "PhysiciansOfRecord",
    "NameOfPhysiciansReadingStudy",
    "RequestingPhysician",
)
_PLACE_KEYWORDS = ("InstitutionName", "InstitutionalDepartmentName", "PatientAddress")
_DATE_KEYWORDS = ("PatientBirthDate",)

_EDGE = r"(?<![A-Za-z0-9])(?:{})(?![A-Za-z0-9])"
_MIN_LEN = 2
_SEPARATOR = r"[\s./-]?"  # an ID written with separators: 4821337, 482-1337, 482 13 37


def _date_spellings(value: str) -> list[str]:
    try:
        day = dt.datetime.strptime(value.strip()[:8], "%Y%m%d").date()
    except ValueError:
        return []
    forms = ("%Y%m%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y-%m-%d", "%d-%m-%Y",
             "%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d, %Y", "%d/%m/%y", "%m/%d/%y")
    return [day.strftime(f) for f in forms]


@dataclass(frozen=True, slots=True)
class PhiHints:
    """Identifying strings known for one file (kept in memory only)."""

    names: frozenset[str] = frozenset()
    ids: frozenset[str] = frozenset()
    places: frozenset[str] = frozenset()
    dates: frozenset[str] = frozenset()
    pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", _compiled(self.all(), self.ids))

    @classmethod
    def from_node(
        cls, node: Node, encodings: list[str] = DEFAULT_ENCODINGS, extra: Iterable[str] = ()
    ) -> PhiHints:
        """Collect hints from the top level of an original, uncleaned header."""

        def values(keywords: tuple[str, ...]) -> list[str]:
            return [v for k in keywords for v in strings(node, tag_of(k), encodings)]

        names: set[str] = set()
        for value in values(_NAME_KEYWORDS):
            names.add(value.strip("^ "))
            names.update(part.strip() for part in re.split(r"[\^=]", value))
        ids = set(values(_ID_KEYWORDS)) | {e.strip() for e in extra}
        places = set(values(_PLACE_KEYWORDS))
        dates = {s for v in values(_DATE_KEYWORDS) for s in _date_spellings(v)}

        def keep(items: set[str]) -> frozenset[str]:
            return frozenset(i for i in items if len(i) >= _MIN_LEN)

        return cls(keep(names), keep(ids), keep(places), keep(dates))

    def all(self) -> frozenset[str]:
        """Every hint string."""
        return self.names | self.ids | self.places | self.dates

    def scrub(self, text: str) -> tuple[str, int]:
        """Remove hints and every recognized identifier; return text and count."""
        return recognizers.scrub(text, self.pattern)

    def kinds_in(self, text: str) -> frozenset[str]:
        """The kinds of identifier in `text` (``"known"`` for a hint), never the values."""
        return recognizers.kinds_in(text, self.pattern)


@functools.lru_cache(maxsize=256)
def _compiled(hints: frozenset[str], ids: frozenset[str]) -> re.Pattern[str] | None:
    """The pattern that finds every hint, longest first (the files of one patient share
    it: it is made once)."""
    ordered = sorted(hints, key=len, reverse=True)
    literal = [_spelling(h, h in ids) for h in ordered]
    return re.compile(_EDGE.format("|".join(literal)), re.IGNORECASE) if ordered else None


def _spelling(hint: str, is_id: bool) -> str:
    """A pattern for `hint`: spaces as any run of spaces or carets; an ID's characters
    with or without a separator between them."""
    if is_id:
        bare = [ch for ch in hint if ch.isalnum()]
        if len(bare) >= 4:
            return _SEPARATOR.join(re.escape(ch) for ch in bare)
    return re.escape(hint).replace(r"\ ", r"[\s^]+")
