"""Verification: after cleaning, search the header for the original's identifiers.

The identifiers are taken from the original header before cleaning (patient
names, patient IDs and accession number, birth date) and kept in memory only.
A hit means something let PHI through (typically a recipe keeping a free-text
attribute): the caller must quarantine the file. Placeholder words that
de-identified data commonly carries (``ANONYMOUS``, ``TEST``, …) and very short
values are not searched for, so that clean files are not quarantined by them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medscrub.dicom.elements import Node
from medscrub.dicom.values import DEFAULT_ENCODINGS, decode_text, encodings_for, strings, tag_of
from medscrub.errors import VerificationFailed

__all__ = ["IDENTIFIER_KEYWORDS", "HeaderVerifier"]

#: Kind of identifier -> the attributes of the original header it is taken from.
IDENTIFIER_KEYWORDS: dict[str, tuple[str, ...]] = {
    "names": ("PatientName", "OtherPatientNames", "PatientBirthName", "PatientMotherBirthName"),
    "ids": ("PatientID", "OtherPatientIDs", "AccessionNumber", "MedicalRecordLocator"),
    "dates": ("PatientBirthDate",),
}
_MIN_LENGTH = {"names": 3, "ids": 5, "dates": 8}
_PLACEHOLDERS = frozenset(
    {
        "ANON", "ANONYMOUS", "ANONYMIZED", "ANONYMISED", "ANONYMIZE", "PATIENT", "NAME", "NAMES",
        "HERE", "TEST", "TESTING", "UNKNOWN", "NONE", "NULL", "DEMO", "SAMPLE", "PHANTOM", "FIRST",
        "LAST", "MIDDLE", "GIVEN", "FAMILY", "PREFIX", "SUFFIX", "MRS", "MISS", "PROF", "SIR",
        "BABY", "BOY", "GIRL", "MALE", "FEMALE", "OTHER", "DOE", "JOHN", "JANE",
    }
)
_PIXEL_TAGS = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})
_MAX_SCANNED_VALUE = 1 << 20


def header_text(node: Node, parent: list[str] = DEFAULT_ENCODINGS) -> str:
    """Every non-pixel value of a data set tree, recursively, as one searchable string."""
    encodings = encodings_for(node, parent)
    parts: list[str] = []
    for tag, elem in node.items():
        if tag in _PIXEL_TAGS:
            continue
        if isinstance(elem.value, list):
            parts.extend(header_text(item, encodings) for item in elem.value)
        elif len(elem.value) <= _MAX_SCANNED_VALUE:
            parts.append(decode_text(elem, encodings))
    return "\x00".join(parts)


@dataclass(frozen=True, slots=True)
class HeaderVerifier:
    """The identifiers of one original header, and the search for them."""

    identifiers: dict[str, frozenset[str]]

    @classmethod
    def from_node(
        cls,
        node: Node,
        skip_kinds: frozenset[str] = frozenset(),
        encodings: list[str] = DEFAULT_ENCODINGS,
    ) -> HeaderVerifier:
        """Collect identifiers from the original (uncleaned) top-level header."""
        found: dict[str, frozenset[str]] = {}
        for kind, keywords in IDENTIFIER_KEYWORDS.items():
            if kind in skip_kinds:
                continue
            collected: set[str] = set()
            for keyword in keywords:
                for value in strings(node, tag_of(keyword), encodings):
                    parts = re.split(r"[\^=]", value) if kind == "names" else [value]
                    collected.update(p.strip() for p in parts)
            found[kind] = frozenset(
                s for s in collected
                if len(s) >= _MIN_LENGTH[kind] and s.upper() not in _PLACEHOLDERS
            )
        return cls(found)

    def check(self, node: Node) -> None:
        """Raise VerificationFailed if a cleaned data set still holds an identifier."""
        strings = sorted({s for v in self.identifiers.values() for s in v}, key=len, reverse=True)
        if not strings:
            return
        pattern = re.compile(
            r"(?<![\w])(?:" + "|".join(map(re.escape, strings)) + r")(?![\w])", re.IGNORECASE
        )
        found = {m.upper() for m in pattern.findall(header_text(node))}
        if found:
            kinds = sorted(
                kind for kind, values in self.identifiers.items()
                if found & {v.upper() for v in values}
            )
            raise VerificationFailed(
                f"the cleaned header still holds {len(found)} identifier(s) of kind "
                f"{', '.join(kinds)}; check recipe overrides"
            )
