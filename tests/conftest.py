"""Shared fixtures: the sample generator writes every input, so truth is exact."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from medscrub.keys import SecretKey
from medscrub_testing.samples import write_samples

KEY_TEXT = "test-key-0123456789abcdef"

#: Marks a test (or, as ``pytestmark``, a module) that runs Tesseract.
needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None,
    reason="tesseract not installed (apt-get install tesseract-ocr)",
)


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The full sample set, generated once per session (treat as read-only)."""
    root = tmp_path_factory.mktemp("samples")
    write_samples(root)
    return root


@pytest.fixture
def key() -> SecretKey:
    return SecretKey.from_text(KEY_TEXT)
