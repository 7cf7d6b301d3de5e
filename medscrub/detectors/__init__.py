"""Detectors: plug-ins that find the parts of an image to redact.

A detector looks at a stack of frames ``(n_frames, rows, cols, samples)`` and
returns :class:`~medscrub.model.Region` values; it never redacts and never
writes. It declares the roles it can fill (``finds = {"text"}``, ``{"face"}``);
a profile names which detectors fill each role (:data:`DEFAULT_DETECTORS`
unless a recipe says otherwise), and the pipeline runs every one named.

Built-in detectors are loaded exactly as third-party ones are, from an
``"module:attribute"`` reference; third-party detectors come from the
entry-point group :data:`ENTRY_POINT_GROUP`, scripts may call
:func:`register_detector`. Names are unique: a second class under a name
already taken is refused. A plug-in that fails to import is logged and
recorded as unavailable with the reason, so that ``medscrub detectors`` can
say what is missing and how to install it; whether a detector can run is asked
once per process::

    >>> for name, available, reason in detector_status():  # doctest: +SKIP
    ...     print(name, "ok" if available else f"unavailable \u2014 {reason}")
    tesseract ok
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import ClassVar, Literal, Protocol, TypeVar, runtime_checkable

import numpy as np
import numpy.typing as npt

from medscrub.errors import DetectorError, ProfileError
from medscrub.hints import PhiHints
from medscrub.model import Region

__all__ = [
    "DEFAULT_DETECTORS",
    "ENTRY_POINT_GROUP",
    "ROLES",
    "Context",
    "Detector",
    "available_detectors",
    "check_choices",
    "detector_roles",
    "detector_status",
    "detectors_for",
    "register_detector",
    "reload_plugins",
]

#: The entry-point group third-party detectors register under.
ENTRY_POINT_GROUP = "medscrub.detectors"

#: Built-in detectors, as ``"module:attribute"`` references.
_BUILTINS: tuple[tuple[str, str], ...] = (
    ("tesseract", "medscrub.detectors.text:TextDetector"),
    ("centerface", "medscrub.detectors.faces:CenterFaceDetector"),
    ("blazeface", "medscrub.detectors.faces:BlazeFaceDetector"),
)

#: The roles a detector can fill, and what each checks (for reasons and reports).
ROLES: dict[str, str] = {"text": "burned-in text", "face": "faces"}

#: The detectors that fill each role when a profile names none.
DEFAULT_DETECTORS: dict[str, tuple[str, ...]] = {"text": ("tesseract",), "face": ("centerface",)}

_log = logging.getLogger("medscrub")


@dataclass(frozen=True, slots=True)
class Context:
    """What a detector may know about the image besides its pixels.

    Attributes
    ----------
    photometric : str
        Photometric interpretation, e.g. ``"MONOCHROME2"``, ``"RGB"``.
    modality : str
        DICOM modality (``"US"``, ``"CT"``, ...), or ``""`` for photos.
    bits_stored : int or None
        Significant bits per sample; None when unknown (photos: 8).
    hints : PhiHints
        Identifying strings taken from the original header (memory only).
    mode : {"phi", "all-text"}
        ``"phi"``: report all text found, marking identifying text
        ``phi=True`` and other text ``phi=False``. ``"all-text"``: all text is
        to be removed.
    photo : bool
        The frames are a photo (a camera picture or a scan), not a DICOM image.
    """

    photometric: str = "MONOCHROME2"
    modality: str = ""
    bits_stored: int | None = None
    hints: PhiHints = field(default_factory=PhiHints)
    mode: Literal["phi", "all-text"] = "phi"
    photo: bool = False

    def redacted(self, regions: Sequence[Region]) -> list[Region]:
        """The regions this mode removes: PHI only, or (all-text) every one found."""
        return [r for r in regions if r.phi or self.mode == "all-text"]


@runtime_checkable
class Detector(Protocol):
    """The contract every detector meets.

    Attributes
    ----------
    name : str
        Unique, short, lower-case name (``"tesseract"``).
    finds : frozenset of str
        The roles of :data:`ROLES` it can fill.
    """

    name: ClassVar[str]
    finds: ClassVar[frozenset[str]]

    def is_available(self) -> bool:
        """Return True if the detector's dependencies are installed."""
        ...

    def unavailable_reason(self) -> str:
        """Return why the detector cannot run and how to fix it (``""`` if it can)."""
        ...

    def detect(self, frames: npt.NDArray[np.generic], context: Context) -> Sequence[Region]:
        """Find regions in `frames`, shaped ``(n_frames, rows, cols, samples)``."""
        ...


_D = TypeVar("_D", bound=type[Detector])


@dataclass
class _Registry:
    classes: dict[str, type[Detector]] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)
    #: why a class cannot run ("" when it can), asked once per process and class
    reasons: dict[str, str] = field(default_factory=dict)
    loaded: bool = False


_registry = _Registry()


def register_detector(cls: _D) -> _D:
    """Register a detector class (usable as a class decorator).

    Parameters
    ----------
    cls : type
        A class whose instances satisfy :class:`Detector`; it is instantiated
        without arguments when the registry is queried.

    Returns
    -------
    type
        `cls`, unchanged.

    Raises
    ------
    TypeError
        If `cls` has no string ``name`` or no role in ``finds``.
    ValueError
        If another class is registered under the same name.
    """
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"detector class {cls!r} has no string 'name'")
    finds = getattr(cls, "finds", None)
    if not isinstance(finds, frozenset | set) or not finds or not finds <= set(ROLES):
        raise TypeError(f"detector {name!r} must say which of {sorted(ROLES)} it finds")
    taken = _registry.classes.get(name)
    if taken is not None and taken is not cls:
        raise ValueError(f"detector name {name!r} is taken by "
                         f"{taken.__module__}.{taken.__qualname__}")
    _registry.classes[name] = cls
    _registry.broken.pop(name, None)
    _registry.reasons.pop(name, None)
    return cls


def reload_plugins() -> None:
    """Forget loaded plug-ins; the next query loads built-ins and entry points again."""
    _registry.classes.clear()
    _registry.broken.clear()
    _registry.reasons.clear()
    _registry.loaded = False


def _load_one(name: str, load: Callable[[], object]) -> None:
    """Call `load` (an entry point's ``load`` or an import) and register the result."""
    try:
        obj = load()
    except Exception as exc:  # a broken plug-in must never stop the others
        _log.warning("detector plug-in %r failed to load: %s: %s", name, type(exc).__name__, exc)
        _registry.broken[name] = f"failed to load ({type(exc).__name__}: {exc})"
        return
    if not isinstance(obj, type) or not isinstance(getattr(obj, "name", None), str):
        _log.warning("detector plug-in %r is not a detector class", name)
        _registry.broken[name] = "not a detector class"
        return
    try:
        register_detector(obj)
    except (TypeError, ValueError) as exc:
        _log.warning("detector plug-in %r refused: %s", name, exc)
        label = f"{name} (plug-in)" if name in _registry.classes else name
        _registry.broken[label] = f"refused ({exc})"


def _import_ref(ref: str) -> object:
    module, _, attribute = ref.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _ensure_loaded() -> None:
    if _registry.loaded:
        return
    _registry.loaded = True
    for name, ref in _BUILTINS:
        _load_one(name, functools.partial(_import_ref, ref))
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        _load_one(entry.name, entry.load)


def _reason(name: str) -> str:
    """Why the detector registered as `name` cannot run (``""`` when it can), asked of
    the class once per process."""
    if name not in _registry.reasons:
        cls = _registry.classes[name]
        try:
            detector = cls()
            reason = "" if detector.is_available() else (
                detector.unavailable_reason() or "unavailable")
        except Exception as exc:  # a plug-in's own failure must not stop the others
            _log.warning("detector %r failed its availability check: %s", name, exc)
            reason = f"availability check failed ({type(exc).__name__}: {exc})"
        _registry.reasons[name] = reason
    return _registry.reasons[name]


def available_detectors() -> dict[str, Detector]:
    """Return a new instance of every detector that can run, by name.

    Availability is asked once per process and class; the instances are new at
    every call (a detector may keep memory of what it read, which must not carry
    from one file to the next: outputs depend on the file alone).

    Returns
    -------
    dict[str, Detector]
        Name -> a new detector instance, sorted by name.
    """
    _ensure_loaded()
    return {name: _registry.classes[name]() for name in sorted(_registry.classes)
            if not _reason(name)}


def detector_status() -> list[tuple[str, bool, str]]:
    """Report every known detector, available or not, and why not.

    Returns
    -------
    list[tuple[str, bool, str]]
        ``(name, available, reason)`` sorted by name; `reason` is ``""`` for an
        available detector, else what is missing and how to install it (e.g.
        ``"apt-get install tesseract-ocr"``) or why the plug-in failed to load.
    """
    _ensure_loaded()
    status = [(name, not _reason(name), _reason(name)) for name in _registry.classes]
    status += [(name, False, reason) for name, reason in _registry.broken.items()]
    return sorted(status)


def detector_roles() -> dict[str, tuple[str, ...]]:
    """The roles each registered detector can fill, by name (broken plug-ins: none)."""
    _ensure_loaded()
    return {name: tuple(sorted(cls.finds)) for name, cls in _registry.classes.items()}


def check_choices(chosen: Mapping[str, Sequence[str]]) -> None:
    """Refuse a profile's detector choices that name no known detector, or one that
    does not fill the role (one that is known but cannot run here fails each file
    that needs it instead).

    Raises
    ------
    ProfileError
        Naming the detector and the role.
    """
    _ensure_loaded()
    for role, names in chosen.items():
        for name in names:
            cls = _registry.classes.get(name)
            if cls is None and name not in _registry.broken:
                known = ", ".join(sorted(_registry.classes))
                raise ProfileError(f"no detector {name!r} for {ROLES[role]} (known: {known})")
            if cls is not None and role not in cls.finds:
                raise ProfileError(f"detector {name!r} does not find {ROLES[role]}")


def detectors_for(role: str, names: Sequence[str]) -> list[Detector]:
    """New instances of the detectors `names`, which fill `role`.

    Raises
    ------
    DetectorError
        Naming each detector that is unknown, does not fill `role`, or cannot
        run here, and why: the role cannot be checked, so the file fails.
    """
    _ensure_loaded()
    what = ROLES.get(role, role)
    problems = []
    for name in names:
        cls = _registry.classes.get(name)
        if cls is None:
            problems.append(f"{name}: {_registry.broken.get(name, 'no such detector')}")
        elif role not in cls.finds:
            problems.append(f"{name}: does not find {what}")
        elif _reason(name):
            problems.append(f"{name}: {_reason(name)}")
    if problems or not names:
        raise DetectorError(f"{what} cannot be checked ({'; '.join(problems) or 'no detector'})")
    return [_registry.classes[name]() for name in names]
