"""Detectors: plug-ins that find the parts of an image to redact.

A detector looks at a stack of frames ``(n_frames, rows, cols, samples)`` and
returns :class:`~medscrub.model.Region` values; it never redacts and never
writes. Built-in detectors are loaded exactly as third-party ones are, from an
``"module:attribute"`` reference; third-party detectors come from the
entry-point group :data:`ENTRY_POINT_GROUP`, scripts may call
:func:`register_detector`. A plug-in that fails to import is logged and
recorded as unavailable with the reason, so that ``medscrub detectors`` can
say what is missing and how to install it::

    >>> for name, available, reason in detector_status():  # doctest: +SKIP
    ...     print(name, "ok" if available else f"unavailable \u2014 {reason}")
    tesseract ok
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import ClassVar, Literal, Protocol, TypeVar, runtime_checkable

import numpy as np
import numpy.typing as npt

from medscrub.hints import PhiHints
from medscrub.model import Region

__all__ = [
    "ENTRY_POINT_GROUP",
    "Context",
    "Detector",
    "available_detectors",
    "detector_status",
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
    """

    photometric: str = "MONOCHROME2"
    modality: str = ""
    bits_stored: int | None = None
    hints: PhiHints = field(default_factory=PhiHints)
    mode: Literal["phi", "all-text"] = "phi"

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
    """

    name: ClassVar[str]

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
        If `cls` has no string ``name``.
    """
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"detector class {cls!r} has no string 'name'")
    _registry.classes[name] = cls
    _registry.broken.pop(name, None)
    return cls


def reload_plugins() -> None:
    """Forget loaded plug-ins; the next query loads built-ins and entry points again."""
    _registry.classes.clear()
    _registry.broken.clear()
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
    register_detector(obj)


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
        if entry.name not in _registry.classes:
            _load_one(entry.name, entry.load)


def _probe(cls: type[Detector]) -> tuple[Detector | None, str]:
    """Instantiate `cls` and ask it whether it can run: (instance or None, reason)."""
    try:
        detector = cls()
        if detector.is_available():
            return detector, ""
        return None, detector.unavailable_reason() or "unavailable"
    except Exception as exc:  # a plug-in's own failure must not stop the others
        _log.warning("detector %r failed its availability check: %s", cls.name, exc)
        return None, f"availability check failed ({type(exc).__name__}: {exc})"


def available_detectors() -> dict[str, Detector]:
    """Return an instance of every detector that can run, by name.

    Returns
    -------
    dict[str, Detector]
        Name -> a new detector instance, sorted by name.
    """
    _ensure_loaded()
    found: dict[str, Detector] = {}
    for name in sorted(_registry.classes):
        detector, _reason = _probe(_registry.classes[name])
        if detector is not None:
            found[name] = detector
    return found


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
    status = [(name, *_availability(cls)) for name, cls in _registry.classes.items()]
    status += [(name, False, reason) for name, reason in _registry.broken.items()]
    return sorted(status)


def _availability(cls: type[Detector]) -> tuple[bool, str]:
    detector, reason = _probe(cls)
    return detector is not None, reason
