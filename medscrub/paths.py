"""File and folder names that identify: found, masked in reports, pseudonymized in outputs.

A path component identifies when it holds the patient's own name, ID or a date of the
file (:class:`Known`, from its header), or looks like a name (``DOE^JANE``), a date
(``19481102``, ``16-06-1976``) or a record number (six significant digits or more).
``medscrub scan`` reports such components (masked), and outputs get a keyed pseudonym
in their place unless paths are kept on purpose.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from medscrub.dicom.elements import Node
from medscrub.dicom.values import strings, tag_of
from medscrub.hints import PhiHints
from medscrub.keys import SecretKey

__all__ = ["NOTHING_KNOWN", "Known", "identifying_components", "masked_path",
           "pseudonymous_path"]

_DATE_KEYWORDS = ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate",
                  "PatientBirthDate", "InstanceCreationDate")
_MIN_NAME_PART = 3
_MIN_ID = 4
_DATE_LIKE = re.compile(
    r"(?<!\d)(?:(?:19|20)\d{2}[-_.]?(?:0[1-9]|1[0-2])[-_.]?(?:0[1-9]|[12]\d|3[01])"
    r"|(?:0[1-9]|[12]\d|3[01])[-_.](?:0[1-9]|1[0-2])[-_.](?:19|20)\d{2})(?!\d)"
)
_DIGIT_RUN = re.compile(r"\d+")
_MIN_ID_DIGITS = 6  # significant digits (leading zeros of counters do not count)
_NAME_LIKE = re.compile(r"^[A-Za-z][A-Za-z'-]+\s*[\^,]\s*[A-Za-z][A-Za-z'-]+")
_PSEUDONYM = 12  # characters of a component's pseudonym


@dataclass(frozen=True, slots=True)
class Known:
    """The identifying strings of one file, to find them in its path (memory only)."""

    names: frozenset[str] = frozenset()
    ids: frozenset[str] = frozenset()
    dates: frozenset[str] = frozenset()

    @classmethod
    def of(cls, node: Node, hints: PhiHints, encodings: list[str]) -> Known:
        """What `node` (an original header, in `encodings`) and its `hints` know."""
        dates = {v[:8] for k in _DATE_KEYWORDS for v in strings(node, tag_of(k), encodings)}
        names = {n.upper() for part in hints.names for n in re.split(r"[\s^,.]+", part)}
        return cls(
            names=frozenset(n for n in names if len(n) >= _MIN_NAME_PART),
            ids=frozenset(i.upper() for i in hints.ids if len(i) >= _MIN_ID),
            dates=frozenset(d for d in dates | set(hints.dates) if len(d) >= 6),
        )


#: What is known of a file before its header is read: only the patterns apply.
NOTHING_KNOWN = Known()


def _reason(component: str, known: Known) -> str:
    """Why a path component identifies the patient (``""`` if it does not seem to)."""
    upper = component.upper()
    tokens = set(re.split(r"[^A-Z0-9]+", upper))
    if tokens & known.names:
        return "patient name"
    if any(i in upper for i in known.ids):
        return "patient ID"
    digits = re.sub(r"[^0-9]", "", component)
    if any(d in component or (d.isdigit() and d in digits) for d in known.dates):
        return "date"
    if _NAME_LIKE.match(component):
        return "name-like"
    if _DATE_LIKE.search(component):
        return "date-like"
    if any(len(run.lstrip("0")) >= _MIN_ID_DIGITS for run in _DIGIT_RUN.findall(component)):
        return "ID-like"
    return ""


def _stem(part: str, last: bool) -> str:
    return part.rsplit(".", 1)[0] if last and "." in part[1:] else part


def identifying_components(rel: str, known: Known = NOTHING_KNOWN) -> list[tuple[int, str]]:
    """(index, reason) of each identifying component of the relative path `rel` (a file
    name is judged without its extension)."""
    parts = rel.split("/")
    found = []
    for index, part in enumerate(parts):
        reason = _reason(_stem(part, index == len(parts) - 1), known)
        if reason:
            found.append((index, reason))
    return found


def masked_path(rel: str, hidden: Iterable[int], salt: bytes) -> str:
    """`rel` with the components at `hidden` replaced by a short keyed token."""
    parts = rel.split("/")
    for index in hidden:
        digest = hashlib.blake2b(parts[index].encode(), key=salt, digest_size=3).hexdigest()
        parts[index] = f"[hidden-{digest}]"
    return "/".join(parts)


def pseudonymous_path(rel: str, key: SecretKey, known: Known = NOTHING_KNOWN) -> str:
    """`rel` with each identifying component (`known`: the file's own strings) replaced
    by a stable keyed pseudonym (a file keeps its extension): the same component gives
    the same pseudonym under the same key, so files of one folder stay together."""
    parts = rel.split("/")
    for index, _reason_found in identifying_components(rel, known):
        last = index == len(parts) - 1
        stem = _stem(parts[index], last)
        pseudonym = key.token("path component", stem, _PSEUDONYM).lower()
        parts[index] = pseudonym + parts[index][len(stem):]
    return "/".join(parts)
