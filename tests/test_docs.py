"""The documentation: the MkDocs site builds without a warning, the README stays short.

The site build checks every link and anchor between pages and that the API pages'
names still exist (mkdocstrings reads the docstrings), so a renamed function or a
moved heading fails here rather than on a reader's screen.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README_LIMIT = 10_240  # bytes


def test_site_builds_strict_without_warnings(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    # NO_MKDOCS_2_WARNING: the theme's own banner, not a warning about these docs
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict",
         "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "WARNING" not in output, output
    for page in ("index", "profiles", "cli", "formats", "pixels", "scale", "audit",
                 "development", "api"):
        folder = tmp_path / "site" / ("" if page == "index" else page)
        assert (folder / "index.html").is_file(), page
    api = (tmp_path / "site" / "api" / "index.html").read_text(encoding="utf-8")
    for name in ("medscrub.redact_path", "medscrub.Pipeline", "medscrub.detectors",
                 "medscrub.detectors.plausibility"):
        assert f'id="{name}"' in api, name


def test_readme_is_short_and_starts_with_the_two_commands() -> None:
    data = (ROOT / "README.md").read_bytes()
    assert len(data) < README_LIMIT, f"README.md is {len(data)} bytes"
    text = data.decode("utf-8")
    first = re.search(r"```sh\n(.*?)```", text, re.DOTALL)
    assert first is not None, "README.md has no ```sh block"
    assert text[: first.start()].strip() == "# medscrub", "the ```sh block must come first"
    commands = [line.split("#")[0].strip() for line in first.group(1).splitlines()]
    assert commands == ["make demo", "make test"]
