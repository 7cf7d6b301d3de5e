"""De-identification profiles: the PS3.15 options chosen, plus recipe overrides.

A :class:`Profile` is an immutable value. Build one in code, take a preset
(``Profile.preset("basic")``) or load a TOML/YAML recipe with
:func:`load_recipe`; every recipe is validated before any file is touched.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from pydicom._dicom_dict import DicomDictionary
from pydicom.datadict import tag_for_keyword

from medscrub._annex_e import ROWS
from medscrub._optional import import_optional
from medscrub.detectors import DEFAULT_DETECTORS, ROLES
from medscrub.errors import ProfileError
from medscrub.redact import METHODS

__all__ = [
    "ACTION_CODES",
    "DEFAULT_PRESET",
    "OPTIONS",
    "PIXEL_OPTIONS",
    "PRESETS",
    "PixelRule",
    "Profile",
    "TextMode",
    "load_recipe",
]

#: The PS3.15 options (CID 7050 names), in the order the standard lists them.
OPTIONS: tuple[str, ...] = (
    "clean_pixel_data",
    "clean_recognizable_visual_features",
    "clean_graphics",
    "clean_structured_content",
    "clean_descriptors",
    "retain_longitudinal_full_dates",
    "retain_longitudinal_modified_dates",
    "retain_patient_characteristics",
    "retain_device_identity",
    "retain_uids",
    "retain_safe_private",
    "retain_institution_identity",
)
#: Options declared by the standard whose pixel steps this version cannot run yet.
NOT_YET_AVAILABLE: frozenset[str] = frozenset()
#: Options whose steps work on pixels: recorded per file, only where the step ran.
PIXEL_OPTIONS = frozenset({"clean_pixel_data", "clean_recognizable_visual_features"})
_EXCLUSIVE = ("retain_longitudinal_full_dates", "retain_longitudinal_modified_dates")

#: Action codes a recipe may give: keep, remove, zero-length, dummy, new UID, clean.
ACTION_CODES = frozenset({"K", "X", "Z", "D", "U", "C"})

PRESETS: tuple[str, ...] = ("standard", "basic", "research", "share")
#: The preset used when none is named: the Basic Profile plus the pixel options.
DEFAULT_PRESET = "standard"

_TAG = re.compile(r"^\(?\s*([0-9A-Fa-f]{4})\s*,\s*([0-9A-Fa-fXx]{4})\s*\)?$")
_RECIPE_KEYS = frozenset(
    {
        "name", "base", "options", "actions", "private_creators", "pixels", "lossy",
        "text_mode", "scan_modalities", "trust_burned_in_annotation", "rename", "remove_dates",
        "face_method", "face_margin", "keep_icc", "detectors", "keep_only",
    }
)
TextMode = Literal["phi", "all-text"]
LossyPolicy = Literal["uncompressed", "recompress"]
_RULE_FILTERS = ("modality", "manufacturer", "model", "rows", "columns")


@dataclass(frozen=True, slots=True)
class PixelRule:
    """Known places of burned-in text for one kind of device (a recipe's ``[[pixels]]``).

    A rule applies to an image whose header matches every filter given
    (Modality, Manufacturer, Manufacturer's Model Name: case-insensitive
    prefixes; Rows, Columns: exact); its boxes ``(y0, x0, y1, x1)`` are then
    redacted on every frame with `method`.
    """

    boxes: tuple[tuple[int, int, int, int], ...]
    modality: str = ""
    manufacturer: str = ""
    model: str = ""
    rows: int = 0
    columns: int = 0
    method: str = "fill"

    def matches(self, header: Mapping[str, str | int]) -> bool:
        """True if the header values (keyword -> value) satisfy every filter."""
        for name, keyword in (("modality", "Modality"), ("manufacturer", "Manufacturer"),
                              ("model", "ManufacturerModelName")):
            wanted = str(getattr(self, name))
            if wanted and not str(header.get(keyword, "")).upper().startswith(wanted.upper()):
                return False
        for name, keyword in (("rows", "Rows"), ("columns", "Columns")):
            wanted_size = int(getattr(self, name))
            if wanted_size and int(header.get(keyword, 0) or 0) != wanted_size:
                return False
        return True


def _frozen(mapping: Mapping[Any, str]) -> Mapping[Any, str]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class Profile:
    """What to do to a header: the PS3.15 options plus user overrides.

    Parameters
    ----------
    name : str
        A label recorded in the audit log.
    options : frozenset of str
        Option ids from :data:`OPTIONS`.
    tag_actions : Mapping[int, str]
        Action code per exact tag, overriding the table.
    group_actions : Mapping[int, str]
        Action code for every element of a group, overriding the table.
    creator_actions : Mapping[str, str]
        ``"K"`` or ``"X"`` for every private element of a private creator.
    rename : bool
        Give outputs non-identifying names (as the pipeline's ``rename``).
    face_method : {"fill", "blur", "pixelate"}
        How Clean Recognizable Visual Features redacts a head.
    face_margin : float
        Fraction of a face box's size added on each side (twice on top) to
        cover the whole head.
    keep_icc : bool
        Keep a photo's ICC colour profile (it describes colour, not the patient).
    detectors : Mapping[str, tuple[str, ...]]
        The detectors that fill each role (``"text"``, ``"face"``); every one named
        runs. A role not given keeps its default (:data:`DEFAULT_DETECTORS`).
    keep_only : tuple of (str, tuple of int)
        If given, the only attributes kept as they are, in groups of (why it is
        safe, tags): every other attribute the table would keep, or does not list,
        is removed (a recipe's own K actions are kept too). Empty: no such list.
    """

    name: str = "basic"
    options: frozenset[str] = frozenset()
    tag_actions: Mapping[int, str] = field(default_factory=lambda: _frozen({}))
    group_actions: Mapping[int, str] = field(default_factory=lambda: _frozen({}))
    creator_actions: Mapping[str, str] = field(default_factory=lambda: _frozen({}))
    pixel_rules: tuple[PixelRule, ...] = ()
    lossy: LossyPolicy = "uncompressed"
    text_mode: TextMode = "phi"
    scan_modalities: frozenset[str] = frozenset()
    trust_burned_in_annotation: bool = False
    rename: bool = False
    face_method: str = "fill"
    face_margin: float = 0.5
    keep_icc: bool = True
    detectors: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType(dict(DEFAULT_DETECTORS)))
    keep_only: tuple[tuple[str, tuple[int, ...]], ...] = ()

    def __post_init__(self) -> None:
        for name in ("tag_actions", "group_actions", "creator_actions"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        roles = set(self.detectors) - set(tuple(ROLES))
        if roles:
            raise ProfileError(f"unknown detector role(s): {', '.join(sorted(roles))}; "
                               f"roles are {', '.join(tuple(ROLES))}")
        chosen = {**DEFAULT_DETECTORS, **self.detectors}
        for role, names in chosen.items():
            if (isinstance(names, str) or not names
                    or not all(isinstance(n, str) and n for n in names)):
                raise ProfileError(f"detectors for {role} must be a list of detector names")
        object.__setattr__(self, "detectors",
                           MappingProxyType({r: tuple(chosen[r]) for r in tuple(ROLES)}))
        unknown = set(self.options) - set(OPTIONS)
        if unknown:
            raise ProfileError(f"unknown option(s): {', '.join(sorted(unknown))}")
        missing = set(self.options) & NOT_YET_AVAILABLE
        if missing:
            raise ProfileError(
                f"option(s) not available in this version: {', '.join(sorted(missing))}"
            )
        if all(o in self.options for o in _EXCLUSIVE):
            raise ProfileError(f"options {_EXCLUSIVE[0]} and {_EXCLUSIVE[1]} exclude each other")
        for where, actions in (
            ("tag", self.tag_actions.values()),
            ("group", self.group_actions.values()),
        ):
            bad = set(actions) - ACTION_CODES
            if bad:
                raise ProfileError(f"invalid {where} action(s): {', '.join(sorted(bad))}")
        bad = set(self.creator_actions.values()) - {"K", "X"}
        if bad:
            raise ProfileError(f"private creators take K or X, not {', '.join(sorted(bad))}")
        if self.lossy not in ("uncompressed", "recompress"):
            raise ProfileError("lossy must be 'uncompressed' or 'recompress'")
        if self.text_mode not in ("phi", "all-text"):
            raise ProfileError("text_mode must be 'phi' or 'all-text'")
        if self.face_method not in METHODS:
            raise ProfileError(f"face_method must be one of {', '.join(METHODS)}")
        if not 0 <= self.face_margin <= 2:
            raise ProfileError("face_margin must be between 0 and 2")
        for rule in self.pixel_rules:
            if rule.method not in METHODS:
                raise ProfileError(f"pixel method must be one of {', '.join(METHODS)}")
            for y0, x0, y1, x1 in rule.boxes:
                if not (0 <= y0 < y1 and 0 <= x0 < x1):
                    raise ProfileError(f"pixel box {[y0, x0, y1, x1]} is empty or negative")

    def __reduce__(self) -> tuple[type[Profile], tuple[Any, ...]]:
        # read-only mapping views do not pickle: send plain dicts (worker processes)
        return (type(self), (
            self.name, self.options, dict(self.tag_actions), dict(self.group_actions),
            dict(self.creator_actions), self.pixel_rules, self.lossy, self.text_mode,
            self.scan_modalities, self.trust_burned_in_annotation, self.rename,
            self.face_method, self.face_margin, self.keep_icc, dict(self.detectors),
            self.keep_only,
        ))

    @classmethod
    def preset(cls, name: str) -> Profile:
        """Return a shipped preset (see :data:`PRESETS`)."""
        if name not in PRESETS:
            raise ProfileError(f"unknown profile {name!r}; choose from {', '.join(PRESETS)}")
        text = resources.files("medscrub.profiles").joinpath(f"{name}.toml").read_text("utf-8")
        return _profile_from_mapping(tomllib.loads(text), f"preset {name}")

    def with_options(self, options: Iterable[str]) -> Profile:
        """Return a copy with `options` added."""
        return replace(self, options=self.options | frozenset(options))

    def describe(self) -> str:
        """One line naming the profile and its options, for audit records."""
        opts = ", ".join(sorted(self.options)) or "no options"
        extra = len(self.tag_actions) + len(self.group_actions) + len(self.creator_actions)
        chosen = [f"{role}={'+'.join(names)}" for role, names in self.detectors.items()
                  if names != DEFAULT_DETECTORS[role]]
        return (f"{self.name}: {opts}" + (f"; {extra} recipe override(s)" if extra else "")
                + (f"; detectors {', '.join(chosen)}" if chosen else ""))


def parse_tag_key(key: str) -> tuple[str, int]:
    """Parse a recipe key into ``("tag", tag)`` or ``("group", group)``.

    Accepts keywords (``PatientAge``), ``(0010,1010)``, ``0010,1010`` and
    ``(0019,xxxx)`` for a whole group.
    """
    tag = tag_for_keyword(key)
    if tag is not None:
        return "tag", tag
    match = _TAG.match(key)
    if match is None:
        raise ProfileError(f"recipe key {key!r} is neither a DICOM keyword nor a tag")
    group = int(match.group(1), 16)
    element = match.group(2)
    if element.lower() == "xxxx":
        return "group", group
    if "x" in element.lower():
        raise ProfileError(f"recipe key {key!r}: only whole groups may use xxxx")
    return "tag", (group << 16) | int(element, 16)


def _action(value: object, where: str) -> str:
    if not isinstance(value, str) or value.upper() not in ACTION_CODES:
        raise ProfileError(f"{where}: action must be one of {', '.join(sorted(ACTION_CODES))}")
    return value.upper()


def _fraction(value: object, origin: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProfileError(f"{origin}: face_margin must be a number")
    return float(value)


def _pixel_rule(data: object, origin: str) -> PixelRule:
    if not isinstance(data, dict):
        raise ProfileError(f"{origin}: each [[pixels]] entry must be a table")
    unknown = set(data) - {*_RULE_FILTERS, "boxes", "method"}
    if unknown:
        raise ProfileError(f"{origin}: unknown [[pixels]] key(s) {', '.join(sorted(unknown))}")
    boxes = data.get("boxes")
    if not isinstance(boxes, list) or not boxes or not all(
        isinstance(b, list) and len(b) == 4 and all(isinstance(v, int) for v in b) for b in boxes
    ):
        raise ProfileError(f"{origin}: [[pixels]] boxes must be a list of [y0, x0, y1, x1]")
    try:
        return PixelRule(
            boxes=tuple((b[0], b[1], b[2], b[3]) for b in boxes),
            modality=str(data.get("modality", "")),
            manufacturer=str(data.get("manufacturer", "")),
            model=str(data.get("model", "")),
            rows=int(data.get("rows", 0)),
            columns=int(data.get("columns", 0)),
            method=str(data.get("method", "fill")),
        )
    except (TypeError, ValueError):
        raise ProfileError(f"{origin}: [[pixels]] rows and columns must be integers") from None


def _detector_table(data: object, origin: str) -> dict[str, tuple[str, ...]]:
    """A recipe's ``[detectors]``: role -> a detector name or a list of them."""
    if not isinstance(data, dict) or not all(
            isinstance(names, str | list) for names in data.values()):
        raise ProfileError(f"{origin}: [detectors] must be a table of role = [names]")
    return {str(role): (names,) if isinstance(names, str) else tuple(names)
            for role, names in data.items()}


def _keep_only(data: object, origin: str) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """A recipe's ``[[keep_only]]``: groups of attributes kept as they are, each with
    ``why`` (what makes them safe to keep) and ``attributes`` (keywords)."""
    if not isinstance(data, list):
        raise ProfileError(f"{origin}: [[keep_only]] must be a list of tables")
    groups = []
    for entry in data:
        if not isinstance(entry, dict) or set(entry) != {"why", "attributes"}:
            raise ProfileError(f"{origin}: each [[keep_only]] needs why and attributes")
        why, keywords = entry["why"], entry["attributes"]
        if not isinstance(why, str) or not why.strip() or not isinstance(keywords, list):
            raise ProfileError(f"{origin}: [[keep_only]] why is a text, attributes a list")
        tags = []
        for keyword in keywords:
            tag = tag_for_keyword(str(keyword))
            if tag is None:
                raise ProfileError(f"{origin}: [[keep_only]] {keyword!r} is not a keyword")
            tags.append(int(tag))
        groups.append((" ".join(why.split()), tuple(tags)))
    return tuple(groups)


def _unlisted_date_tags() -> list[int]:
    """Date and date-time attributes of the data dictionary that Table E.1-1 does not list.

    The table's own date rows already remove or blank every date unless a retain
    dates option is chosen; ``remove_dates = true`` removes these too.
    """
    listed = {value for mask, value, *_rest in ROWS if mask == 0xFFFFFFFF}
    return sorted(tag for tag, entry in DicomDictionary.items()
                  if entry[0] in ("DA", "DT") and tag not in listed)


def _profile_from_mapping(data: Mapping[str, Any], origin: str) -> Profile:
    unknown = set(data) - _RECIPE_KEYS
    if unknown:
        raise ProfileError(f"{origin}: unknown key(s) {', '.join(sorted(unknown))}")
    base = Profile.preset(data["base"]) if "base" in data else Profile()
    options = data.get("options", [])
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise ProfileError(f"{origin}: options must be a list of option names")
    tags = dict(base.tag_actions)
    groups = dict(base.group_actions)
    if data.get("remove_dates"):
        if set(options) & set(_EXCLUSIVE) or base.options & set(_EXCLUSIVE):
            raise ProfileError(f"{origin}: remove_dates excludes the retain dates options")
        tags.update(dict.fromkeys(_unlisted_date_tags(), "X"))
    for key, value in dict(data.get("actions", {})).items():
        kind, number = parse_tag_key(str(key))
        (tags if kind == "tag" else groups)[number] = _action(value, f"{origin}: {key}")
    creators = dict(base.creator_actions)
    for creator, value in dict(data.get("private_creators", {})).items():
        code = _action(value, f"{origin}: private creator {creator!r}")
        if code not in ("K", "X"):
            raise ProfileError(f"{origin}: private creator {creator!r} takes K or X")
        creators[str(creator)] = code
    rules = base.pixel_rules + tuple(_pixel_rule(r, origin) for r in data.get("pixels", []))
    try:
        return Profile(
            name=str(data.get("name", base.name)),
            options=base.options | frozenset(options),
            tag_actions=_frozen(tags),
            group_actions=_frozen(groups),
            creator_actions=_frozen(creators),
            pixel_rules=rules,
            lossy=data.get("lossy", base.lossy),
            text_mode=data.get("text_mode", base.text_mode),
            scan_modalities=frozenset(
                str(m).upper() for m in data.get("scan_modalities", base.scan_modalities)
            ),
            trust_burned_in_annotation=bool(
                data.get("trust_burned_in_annotation", base.trust_burned_in_annotation)
            ),
            rename=bool(data.get("rename", base.rename)),
            face_method=str(data.get("face_method", base.face_method)),
            face_margin=_fraction(data.get("face_margin", base.face_margin), origin),
            keep_icc=bool(data.get("keep_icc", base.keep_icc)),
            detectors={**base.detectors, **_detector_table(data.get("detectors", {}), origin)},
            keep_only=_keep_only(data["keep_only"], origin) if "keep_only" in data
            else base.keep_only,
        )
    except ProfileError as exc:
        raise ProfileError(f"{origin}: {exc}") from None


def load_recipe(path: str | Path) -> Profile:
    """Load and validate a TOML (``.toml``) or YAML (``.yaml``/``.yml``) recipe.

    Raises
    ------
    ProfileError
        If the file cannot be read or parsed, or holds an invalid setting.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot read recipe ({exc.__class__.__name__})") from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            yaml = import_optional("yaml", "yaml")
            data = yaml.safe_load(text)
        else:
            data = tomllib.loads(text)
    except ProfileError:
        raise
    except Exception as exc:
        raise ProfileError(f"{path}: not a valid recipe: {exc}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: a recipe must be a table of settings")
    return _profile_from_mapping(data, str(path))
