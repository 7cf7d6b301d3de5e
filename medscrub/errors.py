"""The medscrub exception hierarchy.

Messages name the file and the stage; they never contain PHI values.
"""

from __future__ import annotations

__all__ = [
    "DetectorError",
    "EncodeError",
    "MedscrubError",
    "MissingDependencyError",
    "ProfileError",
    "Refused",
    "UnsupportedInputError",
    "VerificationFailed",
]


class MedscrubError(Exception):
    """Base class of every error medscrub raises on purpose."""


class ProfileError(MedscrubError, ValueError):
    """A profile, recipe or option combination is invalid."""


class MissingDependencyError(MedscrubError, ImportError):
    """An optional dependency needed for the requested feature is missing."""


class UnsupportedInputError(MedscrubError, ValueError):
    """An input cannot be processed (not DICOM, malformed, refused by policy)."""


class Refused(MedscrubError):
    """A file medscrub deliberately does not copy (reported as skipped, not failed)."""


class DetectorError(MedscrubError, RuntimeError):
    """A detector failed while looking for identifying regions."""


class EncodeError(MedscrubError, RuntimeError):
    """Pixel data could not be written back."""


class VerificationFailed(MedscrubError, RuntimeError):
    """The cleaned output still carries identifying information."""
