"""Apply a profile to a DICOM header, recursively through every sequence.

:func:`deidentify` is the whole header step on the light element tree of
:mod:`medscrub.dicom.elements`: it changes the tree in place and returns counts
of what it did, never the values it removed. Elements the profile keeps are
never decoded, which is what keeps the header path fast.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pydicom._uid_dict import UID_dictionary

from medscrub._version import __version__
from medscrub.dicom._safe_private import DEIDENTIFICATION_METHOD_CODES
from medscrub.dicom.actions import ActionTable
from medscrub.dicom.dates import shift_value
from medscrub.dicom.elements import PIXEL_DATA, Element, Node
from medscrub.dicom.values import (
    DEFAULT_ENCODINGS,
    TEXT_VRS,
    ascii_element,
    decode_text,
    dictionary_vr,
    encodings_for,
    is_free_text,
    is_known_public,
    strings,
    text_element,
)
from medscrub.hints import PhiHints
from medscrub.keys import SecretKey
from medscrub.profile import PIXEL_OPTIONS, Profile

__all__ = ["HeaderResult", "deidentify", "method_code_item", "patient_key", "record_pixel_option"]

_PATIENT_NAME = 0x00100010
_PATIENT_ID = 0x00100020
_ISSUER = 0x00100021
_BIRTH_DATE = 0x00100030
_STUDY_UID = 0x0020000D
_NUMERIC_VRS = frozenset({"IS", "DS", "US", "SS", "UL", "SL", "FL", "FD", "UV", "SV"})
_STRING_VRS = TEXT_VRS | {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "TM", "UI", "UR"}
_DUMMY = {
    "PN": "ANONYMOUS",
    "DA": "19000101",
    "TM": "000000",
    "DT": "19000101000000",
    "AS": "000Y",
    "IS": "0",
    "DS": "0",
}
_DUMMY_TEXT = "ANONYMIZED"
_ZERO = {"US": b"\0\0", "SS": b"\0\0", "UL": b"\0" * 4, "SL": b"\0" * 4, "FL": b"\0" * 4,
         "FD": b"\0" * 8, "UV": b"\0" * 8, "SV": b"\0" * 8}
#: How a sequence's items are walked: as the table says ("keep"), with unlisted
#: free text cleaned of identifiers ("clean", action C), or with unlisted free
#: text replaced by dummies ("dummy", action D: e.g. SR Text Value under the
#: Basic Profile). A stricter mode holds for every deeper level.
_MODES = ("keep", "clean", "dummy")
_CLEANED_TEXT_VRS = frozenset({"PN", "ST", "LT", "UT", "UC", "LO", "SH"})
_DUMMIED_TEXT_VRS = frozenset({"PN", "ST", "LT", "UT", "UC"})


@dataclass(slots=True)
class HeaderResult:
    """What the header step did: counts by action, and the re-identification pair."""

    actions: Counter[str] = field(default_factory=Counter)
    pseudonym: str = ""
    original_patient: tuple[str, str] = ("", "")
    has_pixels: bool = False


def patient_key(node: Node, encodings: list[str] = DEFAULT_ENCODINGS) -> str:
    """The key that groups files of one patient (ID with issuer, else name+birth date)."""
    pid = " ".join(strings(node, _PATIENT_ID, encodings))
    if pid:
        return f"id\x00{pid}\x00{' '.join(strings(node, _ISSUER, encodings))}"
    name = " ".join(strings(node, _PATIENT_NAME, encodings))
    birth = " ".join(strings(node, _BIRTH_DATE, encodings))
    if name or birth:
        return f"name\x00{name.upper()}\x00{birth}"
    return f"study\x00{' '.join(strings(node, _STUDY_UID, encodings))}"


def _private_block(tag: int) -> int:
    """(group, block) of a private element or of its creator element, as one int."""
    element = tag & 0xFFFF
    block = element if element <= 0x00FF else element >> 8
    return ((tag >> 16) << 8) | block


def _is_creator(tag: int) -> bool:
    return 0x0010 <= (tag & 0xFFFF) <= 0x00FF


class _Cleaner:
    """One data set's walk: the table, the key and the hints it needs."""

    def __init__(
        self, table: ActionTable, key: SecretKey, hints: PhiHints, pkey: str, shift: bool
    ) -> None:
        self.table = table
        self.key = key
        self.hints = hints
        self.days = key.day_shift(pkey) if shift else 0
        self.patient_token = key.token("patient", pkey, 12)
        self.counts: Counter[str] = Counter()

    def clean(self, node: Node, mode: str, parent: list[str]) -> None:
        encodings = encodings_for(node, parent)
        creators: dict[int, str] = {}
        private: list[int] = []
        for tag in list(node):
            if (tag >> 16) & 1:
                private.append(tag)
                if _is_creator(tag):
                    creators[_private_block(tag)] = decode_text(node[tag], encodings).strip()
                continue
            action = self.table.public(tag)
            if action is None:
                self._unlisted(node, tag, mode, encodings)
            else:
                self._apply(node, tag, action, mode, encodings)
        kept_blocks: set[int] = set()
        for tag in private:
            if _is_creator(tag):
                continue
            block = _private_block(tag)
            if self.table.private_element(tag, creators.get(block)) == "K":
                kept_blocks.add(block)
                self._walk_items(node[tag], mode, encodings)
                self._scrub_kept(node, tag, encodings)
            else:
                self._remove(node, tag)
        for tag in private:
            if _is_creator(tag) and _private_block(tag) not in kept_blocks:
                self._remove(node, tag)

    # -- per element -----------------------------------------------------------
    def _vr(self, node: Node, tag: int) -> str:
        vr = node[tag].vr
        if vr == "UN":  # a known attribute sent as UN: treat it by its real VR
            return dictionary_vr(tag) or "UN"
        return vr

    def _remove(self, node: Node, tag: int) -> None:
        del node[tag]
        self.counts["X"] += 1

    def _walk_items(self, elem: Element, mode: str, encodings: list[str]) -> None:
        if isinstance(elem.value, list):
            for item in elem.value:
                self.clean(item, mode, encodings)

    def _unlisted(self, node: Node, tag: int, mode: str, encodings: list[str]) -> None:
        if tag & 0xFFFF == 0 or not is_known_public(tag):
            self._remove(node, tag)  # group lengths and unknown public tags
            return
        elem = node[tag]
        vr = self._vr(node, tag)
        if isinstance(elem.value, list):
            self._walk_items(elem, mode, encodings)
        elif vr == "UI" and not self.table.retain_uids:
            values = decode_text(elem, encodings).split("\\")
            if any(v and v not in UID_dictionary for v in values):
                self._remap(node, tag)
        elif mode == "clean" and vr in _CLEANED_TEXT_VRS:
            self._clean_value(node, tag, vr, encodings)
        elif (mode == "dummy" and vr in _DUMMIED_TEXT_VRS) or (vr == "PN" and elem.value):
            self._dummy(node, tag, vr)  # a person's name the table does not list: never kept
        else:
            self._scrub_kept(node, tag, encodings)

    def _scrub_kept(self, node: Node, tag: int, encodings: list[str]) -> None:
        """Clean a kept text value (an attribute the table does not list, a kept private
        element) of identifiers, if it holds any: it is otherwise left as it is."""
        elem = node[tag]
        if not elem.value or not is_free_text(tag, elem.vr):
            return
        text = decode_text(elem, encodings)
        scrubbed = [self.hints.scrub(v) for v in text.split("\\")]
        if any(count for _value, count in scrubbed):
            node[tag] = text_element(elem.vr, "\\".join(v for v, _ in scrubbed), encodings)
            self.counts["C"] += 1

    def _apply(self, node: Node, tag: int, action: str, mode: str, encodings: list[str]) -> None:
        if action == "X":
            self._remove(node, tag)
            return
        elem = node[tag]
        if isinstance(elem.value, list):
            if action == "Z":
                node[tag] = Element("SQ", [])
                self.counts["Z"] += 1
            else:
                inner = {"C": "clean", "D": "dummy"}.get(action, "keep")
                self._walk_items(elem, max(mode, inner, key=_MODES.index), encodings)
            return
        if action == "K":
            return
        vr = self._vr(node, tag)
        if tag in (_PATIENT_NAME, _PATIENT_ID) and action in ("Z", "D"):
            self._pseudonym(node, tag, vr)
        elif action == "Z":
            node[tag] = Element(vr, b"")
            self.counts["Z"] += 1
        elif action == "C":
            self._clean_value(node, tag, vr, encodings)
        elif vr == "UI":  # U, or D on a UID
            self._remap(node, tag)
        else:  # D, or U on a VR that cannot hold a UID
            self._dummy(node, tag, vr)

    def _pseudonym(self, node: Node, tag: int, vr: str) -> None:
        present = bool(node[tag].value)
        token = self.patient_token if present else ""
        if tag == _PATIENT_NAME:
            value = f"ANON^{token}" if token else ""
        else:
            value = f"ANON{token}" if token else ""
        node[tag] = ascii_element(vr, value)
        self.counts["D"] += 1

    def _remap(self, node: Node, tag: int) -> None:
        raw = node[tag].value
        assert isinstance(raw, bytes)
        values = raw.rstrip(b"\x00 ").decode("ascii", "replace").split("\\")
        new = [self.key.uid(v.strip()) if v.strip() else "" for v in values]
        node[tag] = ascii_element("UI", new)
        self.counts["U"] += 1

    def _dummy(self, node: Node, tag: int, vr: str) -> None:
        if vr in _DUMMY:
            node[tag] = ascii_element(vr, _DUMMY[vr])
        elif vr in _ZERO:
            node[tag] = Element(vr, _ZERO[vr])
        elif vr in _STRING_VRS:
            node[tag] = ascii_element(vr, _DUMMY_TEXT)
        else:
            node[tag] = Element(vr, b"")
        self.counts["D"] += 1

    def _clean_value(self, node: Node, tag: int, vr: str, encodings: list[str]) -> None:
        elem = node[tag]
        if not elem.value:
            return
        if vr in ("DA", "DT", "TM"):
            if not self.days:
                self._remove(node, tag)
                return
            moved = shift_value(vr, decode_text(elem, encodings), self.days)
            node[tag] = ascii_element(vr, moved or "")
            self.counts["C" if moved is not None else "Z"] += 1
        elif vr == "AE":
            node[tag] = ascii_element(vr, "AE" + self.key.token("ae", decode_text(elem, []), 14))
            self.counts["C"] += 1
        elif vr in TEXT_VRS or vr == "CS":
            text = decode_text(elem, encodings)
            cleaned = "\\".join(self.hints.scrub(v)[0] for v in text.split("\\"))
            node[tag] = text_element(vr, cleaned, encodings)
            self.counts["C"] += 1
        elif vr not in _NUMERIC_VRS:
            self._remove(node, tag)


def method_code_item(option: str) -> Node:
    """A De-identification Method Code Sequence item for `option` (CID 7050)."""
    value, meaning = DEIDENTIFICATION_METHOD_CODES[option]
    return {
        0x00080100: ascii_element("SH", value),
        0x00080102: ascii_element("SH", "DCM"),
        0x00080104: ascii_element("LO", meaning),
    }


#: The attribute each pixel option answers "NO" in, once its step ran on the pixels.
_PIXEL_OPTION_FLAGS = {"clean_pixel_data": 0x00280301,  # Burned In Annotation
                       "clean_recognizable_visual_features": 0x00280302}


def record_pixel_option(node: Node, option: str) -> None:
    """Record in a cleaned data set that a pixel option's step ran: its attribute
    (Burned In Annotation, Recognizable Visual Features) NO and its CID 7050 code in
    the method sequence :func:`deidentify` wrote."""
    node[_PIXEL_OPTION_FLAGS[option]] = ascii_element("CS", "NO")
    methods = node.get(0x00120064)
    if methods is not None and isinstance(methods.value, list):
        methods.value.append(method_code_item(option))


def _record_method(node: Node, profile: Profile) -> None:
    """Write PatientIdentityRemoved and the de-identification method attributes."""
    node[0x00120062] = ascii_element("CS", "YES")
    node[0x00120063] = ascii_element("LO", [f"medscrub {__version__}", f"profile {profile.name}"])
    options = ["basic", *sorted(profile.options - PIXEL_OPTIONS)]
    node[0x00120064] = Element("SQ", [method_code_item(o) for o in options])
    if "retain_longitudinal_full_dates" in profile.options:
        status = "UNMODIFIED"
    elif "retain_longitudinal_modified_dates" in profile.options:
        status = "MODIFIED"
    else:
        status = "REMOVED"
    node[0x00280303] = ascii_element("CS", status)


def deidentify(
    node: Node,
    profile: Profile,
    key: SecretKey,
    *,
    table: ActionTable | None = None,
    hints: PhiHints | None = None,
) -> HeaderResult:
    """De-identify a data set tree in place and return what was done.

    Parameters
    ----------
    node : Node
        The data set (not its file meta); changed in place.
    profile : Profile
        Options and overrides.
    key : SecretKey
        Source of UIDs, pseudonyms and date shifts.
    table : ActionTable, optional
        The resolved table for `profile` (pass it when cleaning many files).
    hints : PhiHints, optional
        Hints for cleaning free text; taken from `node` when not given.
    """
    table = table or ActionTable.for_profile(profile)
    encodings = encodings_for(node, DEFAULT_ENCODINGS)
    hints = hints or PhiHints.from_node(node, encodings)
    pkey = patient_key(node, encodings)
    original = (
        " ".join(strings(node, _PATIENT_ID, encodings)),
        " ".join(strings(node, _PATIENT_NAME, encodings)),
    )
    shift = "retain_longitudinal_modified_dates" in profile.options
    cleaner = _Cleaner(table, key, hints, pkey, shift)
    cleaner.clean(node, "keep", encodings)
    _record_method(node, profile)
    return HeaderResult(cleaner.counts, cleaner.patient_token, original, PIXEL_DATA in node)
