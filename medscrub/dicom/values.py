"""Reading and making element values on the light tree of :mod:`medscrub.dicom.elements`."""

from __future__ import annotations

from functools import lru_cache

from pydicom.charset import convert_encodings, decode_bytes, encode_string
from pydicom.datadict import dictionary_VR, get_entry, tag_for_keyword

from medscrub.dicom.elements import Element, Node

__all__ = [
    "CHARSET",
    "TEXT_VRS",
    "ascii_element",
    "decode_text",
    "dictionary_vr",
    "encodings_for",
    "is_free_text",
    "is_known_public",
    "strings",
    "tag_of",
    "text_element",
    "us_value",
]

CHARSET = 0x00080005
#: VRs whose values are character strings in the data set's character set.
TEXT_VRS = frozenset({"LO", "SH", "ST", "LT", "UT", "UC", "PN"})
_ASCII_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "TM", "UI", "UR"})
_PN_DELIMITERS = {ord("^"), ord("=")}
DEFAULT_ENCODINGS: list[str] = ["iso8859"]


@lru_cache(maxsize=65536)
def is_known_public(tag: int) -> bool:
    """True if the data dictionary (repeating groups included) knows `tag`."""
    try:
        get_entry(tag)
    except KeyError:
        return False
    return True


@lru_cache(maxsize=65536)
def dictionary_vr(tag: int) -> str | None:
    """The dictionary VR of `tag` (first of an ambiguous pair), or None."""
    try:
        vr = dictionary_VR(tag)
    except KeyError:
        return None
    return str(vr).split(" ")[0]


@lru_cache(maxsize=4096)
def tag_of(keyword: str) -> int:
    """The tag of a DICOM keyword (KeyError if unknown)."""
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise KeyError(keyword)
    return int(tag)


#: Code values (SNOMED and DCM codes are digit runs) and versions: never free text.
_CODES = frozenset({0x00080100, 0x00080119, 0x00080103})  # Code Value, Long Code Value, version


def is_free_text(tag: int, vr: str) -> bool:
    """Whether an element of `vr` may hold free text a person wrote (not a code)."""
    return vr in TEXT_VRS and tag not in _CODES


def encodings_for(node: Node, parent: list[str]) -> list[str]:
    """The Python codecs for text in `node` (its own Specific Character Set, else the parent's)."""
    elem = node.get(CHARSET)
    if elem is None or not isinstance(elem.value, bytes) or not elem.value.strip():
        return parent
    return _codecs(elem.value)


@lru_cache(maxsize=256)
def _codecs(raw: bytes) -> list[str]:
    terms = [t.strip() for t in raw.decode("ascii", "replace").split("\\")]
    return list(convert_encodings(terms))


def decode_text(elem: Element, encodings: list[str]) -> str:
    """The value of a leaf element as text (binary values as Latin-1)."""
    value = elem.value
    if not isinstance(value, bytes):
        return ""
    if elem.vr in TEXT_VRS:
        delimiters: set[int] = _PN_DELIMITERS if elem.vr == "PN" else set()
        return str(decode_bytes(value, encodings, delimiters)).rstrip(" \x00")
    return value.decode("latin-1").rstrip(" \x00")


def strings(node: Node, tag: int, encodings: list[str]) -> list[str]:
    """The values of a text element as a list (empty if absent or empty)."""
    elem = node.get(tag)
    if elem is None:
        return []
    text = decode_text(elem, encodings)
    return [v.strip() for v in text.split("\\") if v.strip()] if text else []


def us_value(elem: Element | None, default: int) -> int:
    """The first value of a US element, or `default` when absent or empty."""
    if elem is None or not isinstance(elem.value, bytes) or len(elem.value) < 2:
        return default
    return int.from_bytes(elem.value[:2], "little")


def ascii_element(vr: str, values: str | list[str]) -> Element:
    """An element whose (multi-)value is plain ASCII, padded as its VR needs."""
    text = values if isinstance(values, str) else "\\".join(values)
    return Element(vr, text.encode("ascii"))


def text_element(vr: str, text: str, encodings: list[str]) -> Element:
    """An element holding `text` encoded in the data set's character set."""
    if vr in _ASCII_VRS or text.isascii():
        return Element(vr, text.encode("ascii", "replace"))
    return Element(vr, encode_string(text, encodings))
