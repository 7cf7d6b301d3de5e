"""The generated Table E.1-1 module is complete and reproducible."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path

from medscrub import _annex_e

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tools" / "standards" / "ps3.15-table-e.1-1.json"


def test_every_row_is_present() -> None:
    assert _annex_e.ROW_COUNT == 621
    assert len(_annex_e.ROWS) + 1 == 621  # plus the private-attributes row


def test_basic_action_counts_match_the_standard() -> None:
    counts = Counter(row[3] for row in _annex_e.ROWS) + Counter([_annex_e.PRIVATE_ROW[1]])
    assert counts == {"X": 384, "D": 92, "U": 54, "Z": 42, "X/D": 22, "X/Z": 11,
                      "X/Z/D": 8, "Z/D": 6, "X/Z/U*": 2}


def test_repeating_groups_are_masks() -> None:
    masked = {(row[0], row[1]) for row in _annex_e.ROWS if row[0] != 0xFFFFFFFF}
    assert masked == {(0xFF000000, 0x50000000), (0xFF00FFFF, 0x60003000),
                      (0xFF00FFFF, 0x60004000)}


def test_generator_reproduces_the_committed_module(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("gen", ROOT / "tools" / "gen_annex_e.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    rows = json.loads(SOURCE.read_text(encoding="utf-8"))
    committed = (ROOT / "medscrub" / "_annex_e.py").read_text(encoding="utf-8")
    assert gen.render(rows, SOURCE) == committed
