"""Identifying file and folder names: pseudonymized in outputs unless kept on purpose."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from medscrub.keys import SecretKey
from medscrub.paths import Known, identifying_components, pseudonymous_path
from medscrub.pipeline import Pipeline
from medscrub.profile import Profile
from medscrub_testing.samples import make_ct
from tests.conftest import KEY_TEXT

_IDENTIFYING = ("MUSTERMANN", "5093318", "DOE", "4821337", "ROE", "19481102", "QUIXOTE")


def _folder(root: Path) -> None:
    """Inputs named the way the issue's hidden folder names them (fake identities)."""
    for rel in ("MUSTERMANN_ERIKA_5093318/CT1.dcm", "MUSTERMANN_ERIKA_5093318/CT2.dcm",
                "DOE_JANE_4821337.dcm", "case_01/CT/CT0001.dcm", "plain/CT0002.dcm"):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        make_ct(0, instance=len(rel)).save_as(path, enforce_file_format=True)
    photo = np.full((64, 96, 3), 180, np.uint8)
    Image.fromarray(photo).save(root / "ROE_RICHARD_19481102.jpg", quality=90)


def _header_only() -> Profile:
    return Profile.preset("basic")


def test_identifying_names_are_pseudonymized_and_the_rest_kept(tmp_path: Path) -> None:
    _folder(tmp_path / "in")
    run = Pipeline(_header_only(), key=SecretKey.from_text(KEY_TEXT)).run(
        tmp_path / "in", tmp_path / "out", audit=tmp_path / "audit.jsonl")
    outputs = {r.input: r.output for r in run.results}
    assert all(outputs.values()) and len(outputs) == 6
    written = [p.relative_to(tmp_path / "out").as_posix()
               for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert len(written) == 6
    for name in written:
        assert not [s for s in _IDENTIFYING if s in name.upper()], name
    # a folder's files stay together; extensions and harmless names are kept
    first = outputs["MUSTERMANN_ERIKA_5093318/CT1.dcm"]
    second = outputs["MUSTERMANN_ERIKA_5093318/CT2.dcm"]
    assert first.split("/")[0] == second.split("/")[0] and first.endswith("/CT1.dcm")
    assert outputs["plain/CT0002.dcm"] == "plain/CT0002.dcm"
    assert outputs["ROE_RICHARD_19481102.jpg"].endswith(".jpg")
    # the patient's own name from the header identifies a folder without digits
    assert not outputs["case_01/CT/CT0001.dcm"].startswith("QUIXOTE")
    assert outputs["case_01/CT/CT0001.dcm"].endswith("/CT/CT0001.dcm")
    # the audit log holds the mapping, input to output
    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    mapped = {r["input"]: r["output"] for r in records if r.get("input") and r.get("output")}
    assert mapped["DOE_JANE_4821337.dcm"] == outputs["DOE_JANE_4821337.dcm"]


def test_keep_paths_copies_names_as_they_are(tmp_path: Path) -> None:
    _folder(tmp_path / "in")
    run = Pipeline(_header_only(), key=SecretKey.from_text(KEY_TEXT), keep_paths=True).run(
        tmp_path / "in", tmp_path / "out")
    assert all(r.input == r.output for r in run.results)


def test_pseudonyms_are_stable_and_keyed() -> None:
    key, other = SecretKey.from_text(KEY_TEXT), SecretKey.from_text(KEY_TEXT + "-other")
    rel = "DOE^JANE/2021-03-04/img.dcm"
    assert [i for i, _ in identifying_components(rel)] == [0, 1]
    once, again = pseudonymous_path(rel, key), pseudonymous_path(rel, key)
    assert once == again and once.endswith("/img.dcm") and "DOE" not in once
    assert pseudonymous_path(rel, other) != once
    known = Known(names=frozenset({"ZEBULON"}))
    assert pseudonymous_path("ZEBULON_scans/a.dcm", key) == "ZEBULON_scans/a.dcm"
    assert "ZEBULON" not in pseudonymous_path("ZEBULON_scans/a.dcm", key, known)
