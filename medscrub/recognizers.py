"""Identifiers written in free text, found by their form: one place for every reader.

The header cleaner (Clean actions and kept free text), the burned-in text
decision and ``medscrub scan`` ask the same recognizers. Each finds one kind of
identifier by how it is written, whatever file it is in:

``date``
    numeric dates in a plausible day, month and year order (2021-03-04,
    04/03/2021, 4.3.21) and dates with a month name (4 Mar 2021, March 4, 2021,
    2013 Jul 13, 24-MAY-02, March 2021);
``phone``
    telephone and fax numbers (+44 20 7946 0958, (555) 010-0199, 555-0199,
    "Tel 0123 4567");
``email``, ``url``
``address``
    a house number and a street (12 Main Street, Springfield), a PO box;
``postcode``
    a US state and ZIP code (IL 62704), a labelled ZIP, a UK postcode (SW1A 1AA);
``id-number``
    six digits or more (record and accession numbers, compact dates), social
    security numbers (123-45-6789), a value after an ID label (MRN: AB-1234);
``name``
    a person's name after a title (Dr J. Smith, Mrs O'Brien) or a label
    (Patient: ..., Name: ..., Ref: ...), and caret-separated names (DOE^JANE).

Two forms identify in a short field (a burned-in overlay line) but are too loose for
prose, so only :func:`holds_field_identifier` looks for them: an age as overlays write
it (DICOM's "039Y", "45 yo") and a month with its day ("Dec 18", what is left of a date
whose year was misread).

The file's own identifiers (its patient's name, ID, birth date) are found by
:class:`medscrub.hints.PhiHints`, which adds them to these forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Span", "find", "holds_field_identifier", "holds_identifier", "kinds_in", "scrub"]

_B = r"(?<![A-Za-z0-9])"  # no letter or digit before
_E = r"(?![A-Za-z0-9])"  # no letter or digit after
_MONTH = (r"(?:JAN(?:UARY)?|FEB(?:RUARY)?|MAR(?:CH)?|APR(?:IL)?|MAY|JUNE?|JULY?|AUG(?:UST)?"
          r"|SEP(?:T(?:EMBER)?)?|OCT(?:OBER)?|NOV(?:EMBER)?|DEC(?:EMBER)?)\.?")
_FIELD_FORMS = (  # identifiers in a short field only (see the module's text)
    re.compile(r"(?<![A-Za-z0-9.])(?:\d{3}\s?[DWMY]|\d{1,3}\s?(?:Y|YO|YRS?|YEARS?))"
               rf"{_E}", re.IGNORECASE),  # "039Y", "077Y F", "45 yo", "45 yrs"
    re.compile(rf"{_B}(?:{_MONTH}[\s-]?[0-3]?\d|[0-3]?\d[\s-]?{_MONTH})"
               r"(?![A-Za-z0-9]|\.\d)", re.IGNORECASE),  # "Dec 18", "18-DEC"
)
_NUMERIC_DATE = re.compile(  # the three parts are checked in _plausible_date (OCR may space them)
    rf"{_B}(\d{{1,4}}) ?[./-] ?(\d{{1,2}}) ?[./-] ?(\d{{1,4}}){_E}")
_STATES = ("AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE"
           "|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY")
_STREET_WORDS = ("street", "st", "road", "rd", "avenue", "ave", "lane", "ln", "drive", "dr",
                 "boulevard", "blvd", "way", "court", "ct", "place", "pl", "terrace", "close",
                 "crescent", "square", "sq", "parkway", "pkwy", "highway", "hwy", "gardens")
_STREET = "(?:{})".format("|".join(  # Street or STREET, not "2 way valve"
    form for word in _STREET_WORDS for form in (word.capitalize(), word.upper())))
_CAPITALISED = r"[A-Z][A-Za-z'.-]*"
_TITLE = r"(?:Dr|Prof|Mr|Mrs|Ms|Miss|Mx|Sister|Nurse|DR\.|PROF\.|MR\.|MRS\.|MS\.)"
_NAME_LABEL = (r"(?i:patient(?:'s)?(?:\s+name)?|pt|name|ref(?:erred\s+by|erring(?:\s+physician)?)?"
               r"|physician|surgeon|consultant|attending|operator|technologist|radiographer"
               r"|(?:signed|reported|requested|dictated|read)\s+by)")
_ID_LABEL = (r"(?i:mrn|acc(?:ession)?|id|nhs|ssn|record|chart|case|hospital\s+(?:no|number)"
             r"|patient\s+id|pid|encounter|visit)")

_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern)) for kind, pattern in (
        ("date", rf"(?i){_B}(?:\d{{1,2}}(?:st|nd|rd|th)?[ ./-]*{_MONTH}[ ./,-]*\d{{2,4}}"
                 rf"|{_MONTH}[ ./-]*\d{{1,2}}(?:st|nd|rd|th)?[ ,./-]+\d{{4}}"
                 rf"|\d{{4}}[ ./-]*{_MONTH}[ ./-]*\d{{1,2}}"
                 rf"|{_MONTH}[ ,./-]*(?:19|20)\d{{2}}){_E}"),
        ("phone", rf"{_B}\+?\d[\d ()-]{{7,}}\d{_E}"),
        ("phone", rf"{_B}\(\d{{3}}\) ?\d{{3}}[ .-]\d{{4}}{_E}"),
        ("phone", rf"{_B}\d{{3}}-\d{{4}}{_E}"),
        ("phone", r"(?i)\b(?:tel|phone|fax|mobile|cell|ph)\.?(?: ?no\.?)?\s*[:#]?\s*"
                  r"\+?\d[\d ()./-]{4,}\d"),
        ("email", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
        ("url", r"(?i)\b(?:https?://|www\.)[^\s<>\"'\\]+"),
        ("address", rf"{_B}\d{{1,5}}[A-Za-z]?,?\s+(?:{_CAPITALISED}\s+){{0,3}}{_STREET}\b\.?"
                    rf"(?:,?\s+{_CAPITALISED}(?:\s+{_CAPITALISED}){{0,2}}){{0,2}}"),
        ("address", r"(?i)\bP\.? ?O\.? ?Box\s+\d+"),
        ("postcode", rf"\b(?:{_STATES}),?\s+\d{{5}}(?:-\d{{4}})?{_E}"),
        ("postcode", rf"(?i)\b(?:zip|post ?code)(?: ?code)?\s*[:#]?\s*"
                     rf"[A-Z0-9]{{3,5}}(?:[ -][A-Z0-9]{{3,4}})?{_E}"),
        ("postcode", rf"{_B}[A-Z]{{1,2}}\d[A-Z\d]? ?\d[A-Z]{{2}}{_E}"),
        ("id-number", r"(?<!\d)\d{6,}(?!\d)"),
        ("id-number", rf"{_B}\d{{3}}-\d{{2}}-\d{{4}}{_E}"),
        ("id-number", rf"\b{_ID_LABEL}\b\.?(?:\s*(?i:no|number)\.?)?\s*[:#]\s*"
                      r"[A-Za-z0-9-]*\d[A-Za-z0-9-]*"),
        ("name", rf"\b{_TITLE}\.?\s+(?:[A-Z]\.?\s+){{0,2}}"
                 r"[A-Z][A-Za-z'-]+(?:[ -][A-Z][A-Za-z'-]+)?"),
        ("name", rf"\b{_NAME_LABEL}\s*:\s*[^,;:\n\r\\]{{1,40}}"),
        ("name", rf"{_B}[A-Za-z][A-Za-z'-]+\^[A-Za-z][A-Za-z'^ -]*"),
    )
)
_TIDY = re.compile(r"[\s^,;:]*\s[\s^,;:]*|\^+")
#: What every form needs somewhere in the text (a digit, an @, a caret, a colon, a title or
#: a web prefix): text without any of these holds none, and is passed over quickly.
_MAYBE = re.compile(rf"[\d@^:]|\b{_TITLE}|(?i:www\.|https?:)")


@dataclass(frozen=True, slots=True)
class Span:
    """Where one identifier was found in a text: its kind and character range."""

    kind: str
    start: int
    end: int


def _plausible_date(match: re.Match[str]) -> bool:
    """Whether three numbers read as day, month and year in a common order."""
    first, middle, last = match.groups()
    a, b, c = int(first), int(middle), int(last)
    if len(first) == 4:  # year-month-day
        return 1 <= b <= 12 and 1 <= c <= 31 and len(last) <= 2
    return len(last) in (2, 4) and 1 <= a <= 31 and 1 <= b <= 31 and min(a, b) <= 12


def find(text: str, also: re.Pattern[str] | None = None) -> list[Span]:
    """Every identifier in `text`, in order of position (they may overlap); `also`
    adds the matches of a caller's own pattern as kind ``"known"``."""
    spans = []
    if _MAYBE.search(text):
        spans = [Span("date", m.start(), m.end())
                 for m in _NUMERIC_DATE.finditer(text) if _plausible_date(m)]
        for kind, pattern in _FORMS:
            spans.extend(Span(kind, m.start(), m.end()) for m in pattern.finditer(text))
    if also is not None:
        spans.extend(Span("known", m.start(), m.end())
                     for m in also.finditer(text) if m.end() > m.start())
    return sorted(spans, key=lambda s: (s.start, -s.end))


def holds_identifier(text: str) -> bool:
    """Whether `text` holds any identifier the recognizers know."""
    return bool(_MAYBE.search(text)) and (
        any(_plausible_date(m) for m in _NUMERIC_DATE.finditer(text))
        or any(pattern.search(text) for _kind, pattern in _FORMS))


def holds_field_identifier(text: str) -> bool:
    """Whether `text`, a short field such as an overlay line, holds an age or a month with
    its day (forms too loose to look for in prose)."""
    return any(pattern.search(text) for pattern in _FIELD_FORMS)


def kinds_in(text: str, also: re.Pattern[str] | None = None) -> frozenset[str]:
    """The kinds of identifier in `text` (for reports: never the values)."""
    return frozenset(span.kind for span in find(text, also))


def scrub(text: str, also: re.Pattern[str] | None = None) -> tuple[str, int]:
    """`text` with every identifier (and every match of `also`) removed; the count removed."""
    spans = find(text, also)
    if not spans:
        return text, 0
    kept: list[str] = []
    at = 0
    for span in spans:
        if span.end <= at:
            continue
        kept.append(text[at:max(at, span.start)])
        kept.append(" ")
        at = span.end
    kept.append(text[at:])
    return _TIDY.sub(" ", "".join(kept)).strip(), len(spans)
