"""A third-party detector, installed with an entry point, runs once a recipe names it."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from tests.conftest import KEY_TEXT

_PLUGIN = '''
from typing import ClassVar

import numpy as np

from medscrub.model import Region


class CornerText:
    """Finds "text" in the top-left 8x8 corner while it is not one flat colour."""

    name: ClassVar[str] = "corner-text"
    finds: ClassVar[frozenset[str]] = frozenset({"text"})

    def is_available(self) -> bool:
        return True

    def unavailable_reason(self) -> str:
        return ""

    def detect(self, frames, context):
        corner = frames[:, :8, :8]
        if np.ptp(corner) == 0:
            return []
        return [Region(0, 0, 8, 8, kind="text", detector=self.name, score=0.9)]
'''


def _install_plugin(site: Path) -> None:
    """A package with a ``medscrub.detectors`` entry point, importable from `site`."""
    (site / "medscrub_corner_plugin.py").write_text(_PLUGIN)
    dist = site / "medscrub_corner_plugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: medscrub-corner-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[medscrub.detectors]\ncorner-text = medscrub_corner_plugin:CornerText\n")


def _medscrub(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    return subprocess.run([sys.executable, "-m", "medscrub.cli.main", *args], env=env,
                          capture_output=True, text=True, timeout=180, check=False)


def test_a_recipe_runs_an_entry_point_detector(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    _install_plugin(site)
    rng = np.random.default_rng(7)
    noise = rng.integers(30, 220, (64, 96, 3), dtype=np.uint8)
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(noise).save(src / "photo.png")
    recipe = tmp_path / "plugin.toml"
    recipe.write_text('base = "basic"\noptions = ["clean_pixel_data"]\n\n'
                      '[detectors]\ntext = ["corner-text"]\n')

    listed = _medscrub(site, "detectors")
    assert "corner-text: available" in listed.stdout

    done = _medscrub(site, "redact", str(src), "-o", str(tmp_path / "out"),
                     "--recipe", str(recipe), "--key", KEY_TEXT)
    assert done.returncode == 0, done.stderr
    out = np.asarray(Image.open(io.BytesIO((tmp_path / "out" / "photo.png").read_bytes())))
    assert (out[:8, :8] == 0).all()
    assert np.array_equal(out[8:], noise[8:]) and np.array_equal(out[:, 8:], noise[:, 8:])
    records = [json.loads(line) for line in (tmp_path / "out.audit.jsonl").read_text()
               .splitlines()]
    [record] = [r for r in records if r.get("record") == "file"]
    assert [r["detector"] for r in record["regions"]] == ["corner-text"]
    assert "detectors text=corner-text" in record["profile"]


def test_a_recipe_naming_an_unknown_detector_is_refused(tmp_path: Path) -> None:
    recipe = tmp_path / "bad.toml"
    recipe.write_text('[detectors]\nface = ["no-such-model"]\n')
    src = tmp_path / "in"
    src.mkdir()
    done = _medscrub(tmp_path, "redact", str(src), "-o", str(tmp_path / "out"),
                     "--recipe", str(recipe), "--key", KEY_TEXT)
    assert done.returncode == 2
    assert "no detector 'no-such-model' for faces" in done.stderr
