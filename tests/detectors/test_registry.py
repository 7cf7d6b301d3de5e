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
from medscrub.errors import DetectorError, ProfileError
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
        finds: ClassVar[frozenset[str]] = frozenset({"text"})

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



class _Quiet:
    """A text detector that finds nothing and counts how often it is asked if it can run."""

    name: ClassVar[str] = "quiet"
    finds: ClassVar[frozenset[str]] = frozenset({"text"})
    asked = 0

    def is_available(self) -> bool:
        type(self).asked += 1
        return True

    def unavailable_reason(self) -> str:
        return ""

    def detect(self, frames: npt.NDArray[np.generic], context: Context) -> list[Region]:
        return []


def test_a_name_is_taken_once() -> None:
    registry.register_detector(_Quiet)
    registry.register_detector(_Quiet)  # the same class again changes nothing
    impostor = type("Impostor", (_Quiet,), {})
    with pytest.raises(ValueError, match=r"'quiet' is taken by .*_Quiet"):
        registry.register_detector(impostor)
    builtin = type("Builtin", (_Quiet,), {"name": "tesseract"})
    registry.available_detectors()
    with pytest.raises(ValueError, match=r"'tesseract' is taken by medscrub\.detectors\.text"):
        registry.register_detector(builtin)


def test_an_entry_point_cannot_replace_a_builtin(monkeypatch: pytest.MonkeyPatch) -> None:
    impostor = type("Impostor", (_Quiet,), {"name": "tesseract"})
    monkeypatch.setattr(f"{__name__}.IMPOSTOR", impostor, raising=False)
    entry = metadata.EntryPoint(name="tesseract", value=f"{__name__}:IMPOSTOR",
                                group=ENTRY_POINT_GROUP)
    monkeypatch.setattr("medscrub.detectors.metadata.entry_points", lambda *, group: [entry])
    registry.reload_plugins()
    status = {name: (ok, reason) for name, ok, reason in registry.detector_status()}
    ok, reason = status["tesseract (plug-in)"]
    assert not ok and "'tesseract' is taken by medscrub.detectors.text" in reason
    assert all(type(d) is not impostor for d in registry.available_detectors().values())


def test_a_detector_says_what_it_finds() -> None:
    with pytest.raises(TypeError, match="must say which"):
        registry.register_detector(type("Roleless", (), {"name": "roleless"}))
    with pytest.raises(TypeError, match="must say which"):
        registry.register_detector(type("Odd", (), {"name": "odd", "finds": {"smell"}}))


def test_availability_is_asked_once_and_instances_are_new() -> None:
    _Quiet.asked = 0
    registry.register_detector(_Quiet)
    first = registry.detectors_for("text", ["quiet"])
    second = registry.detectors_for("text", ["quiet"])
    registry.available_detectors()
    registry.detector_status()
    assert _Quiet.asked == 1
    assert first[0] is not second[0]


def test_choices_are_checked_by_role() -> None:
    registry.register_detector(_Quiet)
    registry.check_choices({"text": ("tesseract", "quiet"), "face": ("centerface",)})
    with pytest.raises(ProfileError, match="no detector 'nosuch' for faces"):
        registry.check_choices({"face": ("nosuch",)})
    with pytest.raises(ProfileError, match="detector 'quiet' does not find faces"):
        registry.check_choices({"face": ("quiet",)})
    with pytest.raises(DetectorError, match=r"faces cannot be checked \(quiet: does not find"):
        registry.detectors_for("face", ["quiet"])
