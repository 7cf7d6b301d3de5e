"""PHI hints: the identifying strings a file carries, to find them in free text.

Hints are taken from the original header before cleaning and live in memory
only. :meth:`PhiHints.scrub` removes every hint, plus generic identifier
patterns (dates, long digit runs, phone numbers), from descriptive text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

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

_GENERIC = (
    r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}",  # numeric dates
    r"\d{6,}",  # record numbers, accession numbers, compact dates
    r"\+?\d[\d ()-]{7,}\d",  # telephone numbers
)
_EDGE = r"(?<![A-Za-z0-9])(?:{})(?![A-Za-z0-9])"
_TIDY = re.compile(r"[\s^,;:]*\s[\s^,;:]*|\^+")
_MIN_LEN = 2


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
        """Remove hints and generic identifier patterns; return text and count."""
        pattern = _pattern(tuple(sorted(self.all(), key=len, reverse=True)))
        cleaned, count = pattern.subn(" ", text)
        if count:
            cleaned = _TIDY.sub(" ", cleaned).strip()
        return cleaned, count


_cache: dict[tuple[str, ...], re.Pattern[str]] = {}


def _pattern(hints: tuple[str, ...]) -> re.Pattern[str]:
    compiled = _cache.get(hints)
    if compiled is None:
        literal = [re.escape(h).replace(r"\ ", r"[\s^]+") for h in hints]
        compiled = re.compile(_EDGE.format("|".join([*literal, *_GENERIC])), re.IGNORECASE)
        if len(_cache) > 256:
            _cache.clear()
        _cache[hints] = compiled
    return compiled
