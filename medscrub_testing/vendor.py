"""Where the real vendor files are: pydicom's test data and the pydicom-data package.

Found on disk, never fetched (``pydicom.data.get_testdata_file`` would try to
download a file it does not have).
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pydicom

__all__ = ["pydicom_data_files", "pydicom_test_files", "vendor_roots"]


def pydicom_test_files() -> Path:
    """The test files inside the installed pydicom."""
    return Path(pydicom.__file__).parent / "data" / "test_files"


def pydicom_data_files() -> Path | None:
    """``data_store/data`` of the installed pydicom-data package (None if absent)."""
    try:
        dist = importlib.metadata.distribution("pydicom-data")
    except importlib.metadata.PackageNotFoundError:
        return None
    folder = Path(str(dist.locate_file("data_store"))) / "data"
    return folder if folder.is_dir() else None


def vendor_roots() -> list[Path]:
    """Every folder of vendor files installed here."""
    data = pydicom_data_files()
    return [pydicom_test_files(), *([data] if data is not None else [])]
