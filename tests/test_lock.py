"""The locks match pyproject.toml: every dependency pinned, inside its range, with hashes.

A dependency edited in pyproject.toml without ``make lock`` fails here, before an
install from a stale lock can test something other than what the metadata says.
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)(?:\s*;\s*(.+?))?\s*\\?$")


def _group(name: str) -> list[str]:
    found: list[str] = []
    for item in PYPROJECT["dependency-groups"][name]:
        found += _group(item["include-group"]) if isinstance(item, dict) else [item]
    return found


def _wanted(groups: tuple[str, ...]) -> list[Requirement]:
    project = PYPROJECT["project"]
    texts = list(project["dependencies"])
    texts += [t for extra in project["optional-dependencies"].values() for t in extra]
    texts += [t for g in groups for t in _group(g)]
    return [Requirement(t) for t in texts if not t.startswith("medscrub[")]


def _pins(lock: Path) -> dict[str, list[tuple[str, str]]]:
    """Name -> [(version, marker)] of every pin in `lock`; each pin carries hashes."""
    pins: dict[str, list[tuple[str, str]]] = {}
    lines = lock.read_text().splitlines()
    for i, line in enumerate(lines):
        match = _PIN.match(line)
        if match:
            name, version, marker = match.groups()
            assert lines[i + 1].strip().startswith("--hash=sha256:"), f"{name} has no hash"
            pins.setdefault(canonicalize_name(name), []).append((version, marker or ""))
    return pins


@pytest.mark.parametrize(("lock", "groups"), [("requirements.lock", ("dev",)),
                                              ("requirements-bench.lock", ("dev", "bench"))])
def test_every_dependency_is_pinned_inside_its_range(lock: str, groups: tuple[str, ...]) -> None:
    pins = _pins(ROOT / lock)
    here = dict(default_environment())
    for requirement in _wanted(groups):
        if requirement.marker is not None and not requirement.marker.evaluate(here):
            continue
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in {lock}: run make lock"
        versions = [v for v, marker in pins[name]
                    if not marker or Requirement(f"x; {marker}").marker.evaluate(here)]
        assert versions, f"{lock} pins {requirement.name} for no environment like this one"
        for version in versions:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{lock} pins {requirement.name}=={version} outside {requirement.specifier}: "
                "run make lock"
            )


def test_this_environment_is_the_lock() -> None:
    pins = _pins(ROOT / "requirements.lock")
    here = dict(default_environment())
    for name in ("numpy", "opencv-python-headless", "onnxruntime", "pydicom", "pillow"):
        [version] = [v for v, marker in pins[name]
                     if not marker or Requirement(f"x; {marker}").marker.evaluate(here)]
        assert importlib.metadata.version(name) == version
