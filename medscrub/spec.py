"""What shapes a run's outputs, as one frozen, picklable value.

A :class:`PipelineSpec` is what worker processes (local or on a cluster) receive
to clean files exactly as the calling pipeline does, and the one thing a resumed
run compares: its :attr:`~PipelineSpec.fingerprint` is a keyed digest of every
setting (profile, key, renaming, PHI terms, size limits, medscrub's version).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from medscrub._version import __version__
from medscrub.keys import SecretKey
from medscrub.limits import DEFAULT_LIMITS, Limits
from medscrub.profile import DEFAULT_PRESET, Profile

__all__ = ["PipelineSpec"]


@dataclass(frozen=True, slots=True)
class PipelineSpec:
    """The settings of a pipeline.

    Attributes
    ----------
    profile : Profile
    key : SecretKey
    rename : bool
        Non-identifying output names (also when the profile asks for it).
    keep_paths : bool
        Copy identifying path components as they are (by default they are
        replaced by keyed pseudonyms).
    phi_terms : tuple of str
        Extra identifying strings to find in text (blank ones dropped).
    limits : Limits
    fingerprint : str
        Keyed digest of all of the above (not of the time limit, which shapes
        no output); the key cannot be recovered from it.
    """

    profile: Profile
    key: SecretKey
    rename: bool = False
    phi_terms: tuple[str, ...] = ()
    limits: Limits = DEFAULT_LIMITS
    keep_paths: bool = False
    fingerprint: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rename", self.rename or self.profile.rename)
        object.__setattr__(self, "phi_terms",
                           tuple(t.strip() for t in self.phi_terms if t.strip()))
        object.__setattr__(self, "fingerprint", _fingerprint(self))

    @classmethod
    def make(
        cls,
        profile: Profile | None = None,
        *,
        key: SecretKey | None = None,
        rename: bool = False,
        phi_terms: Iterable[str] = (),
        limits: Limits | None = None,
        keep_paths: bool = False,
    ) -> PipelineSpec:
        """A spec with defaults for what is not given: the ``standard`` preset, a
        random key, the default limits."""
        return cls(profile or Profile.preset(DEFAULT_PRESET), key or SecretKey.random(),
                   rename, tuple(phi_terms), limits or DEFAULT_LIMITS, keep_paths)


def _canonical(value: Any) -> Any:
    """`value` as plain JSON data with a fixed order (sets and mappings sorted)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return _canonical(value.value)
    if isinstance(value, Mapping):
        return sorted([str(k), _canonical(v)] for k, v in value.items())
    if isinstance(value, (set, frozenset)):
        return sorted((_canonical(v) for v in value), key=json.dumps)
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def _fingerprint(spec: PipelineSpec) -> str:
    sizes = dataclasses.replace(spec.limits, seconds=Limits().seconds)  # time is not a result
    settings = {"medscrub": __version__, "profile": _canonical(spec.profile),
                "rename": spec.rename, "keep_paths": spec.keep_paths,
                "phi_terms": sorted(spec.phi_terms),
                "limits": _canonical(sizes)}
    return spec.key.token("run settings", json.dumps(settings, sort_keys=True), 26)
