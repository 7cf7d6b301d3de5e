"""Apply a profile to a DICOM header, recursively through every sequence.

:func:`deidentify_header` is the whole header step: it changes the dataset in
place and returns counts of what it did, never the values it removed.
Elements the profile keeps are never decoded: pydicom's raw elements pass
through untouched, which is what keeps the header path fast.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pydicom._uid_dict import UID_dictionary
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from medscrub._version import __version__
from medscrub.dicom._safe_private import DEIDENTIFICATION_METHOD_CODES
from medscrub.dicom.actions import ActionTable, is_known_public
from medscrub.dicom.dates import shift_value
from medscrub.errors import UnsupportedInputError
from medscrub.hints import PhiHints
from medscrub.keys import SecretKey
from medscrub.profile import Profile

__all__ = ["HeaderResult", "deidentify_header", "patient_key"]

MAX_DEPTH = 32
_PATIENT_NAME = 0x00100010
_PATIENT_ID = 0x00100020
_TEXT_VRS = frozenset({"LO", "SH", "ST", "LT", "UT", "UC", "PN", "CS"})
_STRING_VRS = frozenset({"AE", "AS", "DA", "DS", "DT", "IS", "TM", "UI", "UR"})
_NUMERIC_VRS = frozenset({"IS", "DS", "US", "SS", "UL", "SL", "FL", "FD", "UV", "SV"})
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


def patient_key(ds: Dataset) -> str:
    """The key that groups files of one patient (ID with issuer, else name+birth date)."""
    pid = str(ds.get("PatientID", "") or "").strip()
    if pid:
        return f"id\x00{pid}\x00{str(ds.get('IssuerOfPatientID', '') or '').strip()}"
    name = str(ds.get("PatientName", "") or "").strip()
    birth = str(ds.get("PatientBirthDate", "") or "").strip()
    if name or birth:
        return f"name\x00{name.upper()}\x00{birth}"
    return f"study\x00{ds.get('StudyInstanceUID', '')}"


class _Cleaner:
    """One dataset's walk: the table, the key and the hints it needs."""

    def __init__(
        self, table: ActionTable, key: SecretKey, hints: PhiHints, pkey: str, shift: bool
    ) -> None:
        self.table = table
        self.key = key
        self.hints = hints
        self.pkey = pkey
        self.days = key.day_shift(pkey) if shift else 0
        self.patient_token = key.token("patient", pkey, 12)
        self.counts: Counter[str] = Counter()

    # -- helpers -------------------------------------------------------------
    @staticmethod
    def _vr(ds: Dataset, tag: int) -> str:
        elem = ds.get_item(tag)
        vr = elem.VR if elem is not None else None
        if not vr or vr == "UN":  # implicit VR, or a known tag sent as UN
            try:
                vr = dictionary_VR(tag)
            except KeyError:
                vr = "UN"
        return "OW" if vr in ("OB or OW", "US or OW", "US or SS or OW") else str(vr).split(" ")[0]

    def _set(self, ds: Dataset, tag: int, vr: str, value: object) -> None:
        ds[tag] = DataElement(tag, vr, value)

    def _remap(self, elem: DataElement) -> None:
        if elem.VM > 1:
            elem.value = [self.key.uid(str(v)) if str(v).strip() else "" for v in elem.value]
        elif elem.value:
            elem.value = self.key.uid(str(elem.value))

    def _pseudonym(self, tag: int, value: str) -> str:
        token = self.patient_token if value else ""
        if tag == _PATIENT_NAME:
            return f"ANON^{token}" if token else ""
        return f"ANON{token}" if token else ""

    # -- the walk -------------------------------------------------------------
    def clean(self, ds: Dataset, depth: int, mode: str = "keep") -> None:
        if depth > MAX_DEPTH:
            raise UnsupportedInputError(f"sequences nested deeper than {MAX_DEPTH} levels")
        creators: dict[int, str] = {}
        kept_blocks: set[int] = set()
        private_tags: list[int] = []
        for tag in [int(t) for t in ds.keys()]:
            group = tag >> 16
            if group & 1:
                private_tags.append(tag)
                if 0x0010 <= (tag & 0xFFFF) <= 0x00FF:
                    value = ds[tag].value
                    if isinstance(value, bytes):
                        value = value.decode("latin-1", "replace")
                    creators[(group << 8) | (tag & 0xFF)] = str(value or "").strip()
                continue
            action = self.table.public(tag)
            if action is None:
                if tag & 0xFFFF == 0 or not is_known_public(tag):
                    self._remove(ds, tag, "X")
                    continue
                vr = self._vr(ds, tag)
                if vr == "SQ":
                    self._recurse(ds, tag, depth, mode)
                elif vr == "UI" and not self.table.retain_uids:
                    self._remap_unregistered(ds, tag)
                elif mode == "clean" and vr in _CLEANED_TEXT_VRS:
                    self._clean_value(ds, tag, vr)
                elif mode == "dummy" and vr in _DUMMIED_TEXT_VRS:
                    self._dummy(ds, tag, vr)
                continue
            self._apply(ds, tag, action, depth, mode)
        for tag in private_tags:
            if 0x0010 <= (tag & 0xFFFF) <= 0x00FF:
                continue
            block = ((tag >> 16) << 8) | ((tag >> 8) & 0xFF)
            action = self.table.private_element(tag, creators.get(block))
            if action == "K":
                kept_blocks.add(block)
                if self._vr(ds, tag) == "SQ":
                    self._recurse(ds, tag, depth, mode)
            else:
                self._remove(ds, tag, "X")
        for tag in private_tags:
            if 0x0010 <= (tag & 0xFFFF) <= 0x00FF:
                block = ((tag >> 16) << 8) | (tag & 0xFF)
                if block not in kept_blocks:
                    self._remove(ds, tag, "X")

    def _remove(self, ds: Dataset, tag: int, code: str) -> None:
        del ds[tag]
        self.counts[code] += 1

    def _recurse(self, ds: Dataset, tag: int, depth: int, mode: str) -> None:
        for item in ds[tag].value or ():
            self.clean(item, depth + 1, mode)

    def _remap_unregistered(self, ds: Dataset, tag: int) -> None:
        elem = ds[tag]
        values = elem.value if elem.VM > 1 else [elem.value]
        if any(str(v) and str(v) not in UID_dictionary for v in values):
            self._remap(elem)
            self.counts["U"] += 1

    def _apply(self, ds: Dataset, tag: int, action: str, depth: int, mode: str) -> None:
        vr = self._vr(ds, tag)
        if vr == "SQ":
            if action == "X":
                self._remove(ds, tag, "X")
            elif action == "Z":
                self._set(ds, tag, "SQ", Sequence([]))
                self.counts["Z"] += 1
            else:
                inner = {"C": "clean", "D": "dummy"}.get(action, "keep")
                self._recurse(ds, tag, depth, max(mode, inner, key=_MODES.index))
            return
        if action == "K":
            return
        if action == "X":
            self._remove(ds, tag, "X")
            return
        if tag in (_PATIENT_NAME, _PATIENT_ID) and action in ("Z", "D"):
            raw = ds.get_item(tag)
            present = raw is not None and raw.value not in (None, b"", "")
            self._set(ds, tag, vr, self._pseudonym(tag, "x" if present else ""))
            self.counts["D"] += 1
            return
        if action == "Z":
            self._set(ds, tag, vr, "" if vr in _TEXT_VRS or vr in _STRING_VRS else None)
            self.counts["Z"] += 1
        elif action == "U" and vr == "UI":
            elem = ds[tag]
            self._remap(elem)
            self.counts["U"] += 1
        elif action == "C":
            self._clean_value(ds, tag, vr)
        else:  # D, or U on a VR that cannot hold a UID
            self._dummy(ds, tag, vr)

    def _dummy(self, ds: Dataset, tag: int, vr: str) -> None:
        if vr == "UI":
            elem = ds[tag]
            self._remap(elem)
            self.counts["U"] += 1
            return
        if vr in _DUMMY:
            value: object = _DUMMY[vr]
        elif vr in _NUMERIC_VRS:
            value = 0
        elif vr in _TEXT_VRS or vr == "AE":
            value = _DUMMY_TEXT
        else:
            value = None
        self._set(ds, tag, vr, value)
        self.counts["D"] += 1

    def _clean_value(self, ds: Dataset, tag: int, vr: str) -> None:
        elem = ds[tag]
        if elem.value in (None, "", b""):
            return
        if vr in ("DA", "DT", "TM"):
            if not self.days:
                self._remove(ds, tag, "X")
                return
            values = elem.value if elem.VM > 1 else [elem.value]
            text = "\\".join(str(v) for v in values)
            moved = shift_value(vr, text, self.days)
            if moved is None:
                self._set(ds, tag, vr, None)
                self.counts["Z"] += 1
            else:
                self._set(ds, tag, vr, moved)
                self.counts["C"] += 1
        elif vr == "AE":
            self._set(ds, tag, vr, f"AE{self.key.token('ae', str(elem.value), 14)}")
            self.counts["C"] += 1
        elif vr in _TEXT_VRS:
            values = elem.value if elem.VM > 1 else [elem.value]
            cleaned = [self.hints.scrub(str(v))[0] for v in values]
            elem.value = cleaned if len(cleaned) > 1 else cleaned[0]
            self.counts["C"] += 1
        elif vr in _NUMERIC_VRS:
            return
        else:
            self._remove(ds, tag, "X")


def _record_method(ds: Dataset, profile: Profile) -> None:
    """Write PatientIdentityRemoved and the de-identification method attributes."""
    ds.PatientIdentityRemoved = "YES"
    names = ["basic", *sorted(profile.options)]
    ds.DeidentificationMethod = [f"medscrub {__version__}", f"profile {profile.name}"]
    items = []
    for option in names:
        value, meaning = DEIDENTIFICATION_METHOD_CODES[option]
        item = Dataset()
        item.CodeValue = value
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = meaning
        items.append(item)
    ds.DeidentificationMethodCodeSequence = Sequence(items)
    if "retain_longitudinal_full_dates" in profile.options:
        ds.LongitudinalTemporalInformationModified = "UNMODIFIED"
    elif "retain_longitudinal_modified_dates" in profile.options:
        ds.LongitudinalTemporalInformationModified = "MODIFIED"
    else:
        ds.LongitudinalTemporalInformationModified = "REMOVED"


def deidentify_header(
    ds: Dataset,
    profile: Profile,
    key: SecretKey,
    *,
    table: ActionTable | None = None,
    hints: PhiHints | None = None,
) -> HeaderResult:
    """De-identify `ds` in place (not its file meta) and return what was done.

    Parameters
    ----------
    ds : pydicom.Dataset
        The dataset; changed in place.
    profile : Profile
        Options and overrides.
    key : SecretKey
        Source of UIDs, pseudonyms and date shifts.
    table : ActionTable, optional
        The resolved table for `profile` (pass it when cleaning many files).
    hints : PhiHints, optional
        Hints for cleaning free text; taken from `ds` when not given.
    """
    table = table or ActionTable.for_profile(profile)
    hints = hints or PhiHints.from_dataset(ds)
    pkey = patient_key(ds)
    original = (str(ds.get("PatientID", "") or ""), str(ds.get("PatientName", "") or ""))
    shift = "retain_longitudinal_modified_dates" in profile.options
    cleaner = _Cleaner(table, key, hints, pkey, shift)
    cleaner.clean(ds, 0)
    _record_method(ds, profile)
    return HeaderResult(cleaner.counts, cleaner.patient_token, original, "PixelData" in ds)
