"""medscrub: de-identify medical images so they can be shared.

Quick start::

    import medscrub

    # a folder (or one file) of DICOM studies -> a cleaned copy + audit log
    summary = medscrub.redact_path("exports/", "clean/", key="a long secret of 16+ bytes")
    print(summary.counts, summary.audit)

    # an in-memory pydicom Dataset (a cleaned copy is returned)
    clean = medscrub.redact_dataset(ds, profile=medscrub.Profile.preset("research"))

The default profile is ``standard``: the Basic Application Level
Confidentiality Profile of DICOM PS3.15 plus Clean Pixel Data (burned-in text)
and Clean Recognizable Visual Features (faces); options and recipes loosen or
tighten it. Files that cannot be fully
cleaned are never written: they are reported with a reason.
"""

from __future__ import annotations

import logging
import os

from pydicom.dataset import Dataset

from medscrub._version import __version__
from medscrub.errors import (
    DetectorError,
    EncodeError,
    MedscrubError,
    MissingDependencyError,
    ProfileError,
    Refused,
    UnsupportedInputError,
    VerificationFailed,
)
from medscrub.keys import SecretKey
from medscrub.model import FileResult, Outcome
from medscrub.pipeline import CleanedDicom, CleanedPhoto, Pipeline
from medscrub.profile import Profile, load_recipe
from medscrub.run import RunSummary

__all__ = [
    "CleanedDicom",
    "CleanedPhoto",
    "DetectorError",
    "EncodeError",
    "FileResult",
    "MedscrubError",
    "MissingDependencyError",
    "Outcome",
    "Pipeline",
    "Profile",
    "ProfileError",
    "Refused",
    "RunSummary",
    "SecretKey",
    "UnsupportedInputError",
    "VerificationFailed",
    "__version__",
    "load_recipe",
    "redact_dataset",
    "redact_path",
]

logging.getLogger("medscrub").addHandler(logging.NullHandler())


def _key(key: str | SecretKey | None) -> SecretKey:
    if isinstance(key, SecretKey):
        return key
    return SecretKey.resolve(key)


def redact_path(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    profile: Profile | None = None,
    key: str | SecretKey | None = None,
    rename: bool = False,
    audit: str | os.PathLike[str] | None = None,
    keep_paths: bool = False,
) -> RunSummary:
    """De-identify a file or a folder of files into `output`.

    Parameters
    ----------
    source : path
        A file, or a folder walked recursively (DICOM recognized by content).
    output : path
        Output folder; must not be `source` or lie inside it.
    profile : Profile, optional
        Defaults to the ``standard`` preset (the Basic Profile, burned-in text, faces).
    key : str or SecretKey, optional
        Secret for pseudonyms, UIDs and date shifts; else ``$MEDSCRUB_KEY``, else
        a random key (results then not linkable across runs).
    rename : bool
        Give outputs non-identifying names.
    audit : path, optional
        Audit log location (default ``<output>.audit.jsonl``).
    keep_paths : bool
        Copy file and folder names as they are (by default identifying ones get
        keyed pseudonyms).
    """
    pipeline = Pipeline(profile, key=_key(key), rename=rename, keep_paths=keep_paths)
    return pipeline.run(source, output, audit=audit)


def redact_dataset(
    ds: Dataset,
    *,
    profile: Profile | None = None,
    key: str | SecretKey | None = None,
    in_place: bool = False,
) -> Dataset:
    """Return a de-identified copy of `ds` (or clean `ds` itself with `in_place`).

    Raises
    ------
    VerificationFailed
        If the cleaned header still holds an identifier of the original.
    """
    return Pipeline(profile, key=_key(key)).redact_dataset(ds, in_place=in_place)
