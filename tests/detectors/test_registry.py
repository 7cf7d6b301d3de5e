"""The detector registry: built-ins, availability, broken plug-ins."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from importlib import metadata
from typing import ClassVar

import numpy as np
import numpy.typing as npt
import pytest

import medscrub.detectors as registry
from medscrub.detectors import ENTRY_POINT_GROUP, Context, Detector
from medscrub.detectors.text import TextDetector
from medscrub.model import Region

HAVE_TESSERACT = shutil.which("tesseract") is not None
NO_TESSERACT = "tesseract not installed (apt-get install tesseract-ocr)"


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[None]:
    registry.reload_plugins()
    yield
    registry.reload_plugins()


def test_text_detector_meets_the_protocol() -> None:
    assert isinstance(TextDetector(), Detector)


@pytest.mark.skipif(not HAVE_TESSERACT, reason=NO_TESSERACT)
def test_tesseract_reported_available() -> None:
    assert ("tesseract", True, "") in registry.detector_status()
    assert isinstance(registry.available_detectors()["tesseract"], TextDetector)


def test_tesseract_reported_unavailable_without_the_program(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    status = {name: (ok, reason) for name, ok, reason in registry.detector_status()}
    ok, reason = status["tesseract"]
    assert not ok
    assert "apt-get install tesseract-ocr" in reason
    assert "tesseract" not in registry.available_detectors()


def test_broken_entry_point_is_recorded_not_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    broken = metadata.EntryPoint(
        name="broken", value="medscrub_no_such_plugin:Detector", group=ENTRY_POINT_GROUP
    )
    not_a_class = metadata.EntryPoint(name="odd", value="os:sep", group=ENTRY_POINT_GROUP)

    def entry_points(*, group: str) -> list[metadata.EntryPoint]:
        assert group == ENTRY_POINT_GROUP
        return [broken, not_a_class]

    monkeypatch.setattr("medscrub.detectors.metadata.entry_points", entry_points)
    with caplog.at_level(logging.WARNING, logger="medscrub"):
        status = {name: (ok, reason) for name, ok, reason in registry.detector_status()}
    assert status["broken"][0] is False
    assert "ModuleNotFoundError" in status["broken"][1]
    assert status["odd"] == (False, "not a detector class")
    assert "tesseract" in status  # the built-in still loads
    assert "broken" not in registry.available_detectors()
    assert any("broken" in record.getMessage() for record in caplog.records)


def test_register_detector_for_scripts() -> None:
    @registry.register_detector
    class Failing:
        name: ClassVar[str] = "failing"

        def is_available(self) -> bool:
            raise RuntimeError("probe exploded")

        def unavailable_reason(self) -> str:
            return ""

        def detect(self, frames: npt.NDArray[np.generic], context: Context) -> list[Region]:
            return []

    status = {name: (ok, reason) for name, ok, reason in registry.detector_status()}
    assert status["failing"][0] is False
    assert "probe exploded" in status["failing"][1]

    with pytest.raises(TypeError):
        registry.register_detector(type("Nameless", (), {}))
