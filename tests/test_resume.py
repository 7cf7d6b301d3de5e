"""Resumable runs: a second run finishes the first, a kill at any moment loses nothing."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from medscrub.audit import AuditLog
from medscrub.errors import UnsupportedInputError
from medscrub.files import TEMP_SUFFIX
from medscrub.keys import SecretKey
from medscrub.model import Outcome
from medscrub.pipeline import Pipeline
from medscrub.profile import Profile, load_recipe
from tests.conftest import KEY_TEXT
from tests.test_scale import write_archive

#: What a file record says about a file (not when, nor how long it took).
SAME = ("input", "output", "kind", "outcome", "stage", "reason", "input_sha256",
        "output_sha256", "actions", "regions", "warnings", "profile")


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def records(audit: Path, kind: str = "file") -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    return [r for r in lines if r["record"] == kind]


def essentials(audit: Path) -> list[tuple[Any, ...]]:
    return [tuple(json.dumps(r[k], sort_keys=True) for k in SAME) for r in records(audit)]


def pipeline(key: str = KEY_TEXT) -> Pipeline:
    return Pipeline(Profile(), key=SecretKey.from_text(key))  # headers only: quick


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    write_archive(tmp_path / "in", patients=3, per_patient=4)
    return tmp_path / "in"


def test_a_second_run_keeps_what_the_first_finished(archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = pipeline().run(archive, out, jobs=2)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    second = pipeline().run(archive, out, jobs=2)
    assert second.resumed == len(second.results) == 19
    assert second.counts == first.counts and not second.ok  # earlier failures still count
    assert [r.input for r in second.results] == [r.input for r in first.results]
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before  # nothing rewritten
    assert len(records(tmp_path / "out.audit.jsonl")) == 19  # no second record
    assert [r["resumed"] for r in records(tmp_path / "out.audit.jsonl", "summary")] == [0, 19]


def test_changed_files_are_cleaned_again(archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    pipeline().run(archive, out)
    clean = tree(out)
    (archive / "P000" / "IM00001.dcm").write_bytes(b"now broken")  # the input changed
    tampered = out / "P001" / "IM00002.dcm"
    tampered.write_bytes(tampered.read_bytes()[:-10])  # an output was damaged
    (out / "P002" / "IM00003.dcm").unlink()  # an output was lost
    again = pipeline().run(archive, out)
    assert again.resumed == 16
    redone = [r for r in records(tmp_path / "out.audit.jsonl")][19:]
    assert [r["input"] for r in redone] == ["P000/IM00001.dcm", "P001/IM00002.dcm",
                                            "P002/IM00003.dcm"]
    assert redone[0]["outcome"] == "failed"
    expected = {k: v for k, v in clean.items() if k != "P000/IM00001.dcm"}
    assert tree(out) == expected  # the changed input's old output is gone, the rest restored


def test_other_settings_are_refused_then_started_afresh(archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    pipeline().run(archive, out)
    log = tmp_path / "out.audit.jsonl"
    size = log.stat().st_size
    with pytest.raises(UnsupportedInputError, match=r"other settings.* recorded 19 file"):
        pipeline("another key, 0123456789").run(archive, out)
    assert log.stat().st_size == size  # refused before anything was written
    fresh = pipeline("another key, 0123456789").run(archive, out, resume=False)
    assert fresh.resumed == 0
    again = pipeline("another key, 0123456789").run(archive, out)
    assert again.resumed == 19
    with pytest.raises(UnsupportedInputError, match="other settings"):
        pipeline().run(archive, out)


def test_a_record_cut_short_is_dropped_and_redone(archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    pipeline().run(archive, tmp_path / "ref")
    pipeline().run(archive, out)
    log = tmp_path / "out.audit.jsonl"
    lines = log.read_text().splitlines(keepends=True)
    # as if killed while writing the 7th file record: no summary, half a line
    log.write_text("".join(lines[:7]) + lines[7][: len(lines[7]) // 2])
    again = pipeline().run(archive, out)
    assert again.resumed == 6
    assert essentials(log) == essentials(tmp_path / "ref.audit.jsonl")
    assert tree(out) == tree(tmp_path / "ref")


def test_one_run_at_a_time_writes_a_log(archive: Path, tmp_path: Path) -> None:
    held = AuditLog(tmp_path / "out.audit.jsonl")
    try:
        with pytest.raises(UnsupportedInputError, match="another medscrub run"):
            pipeline().run(archive, tmp_path / "out")
    finally:
        held.close()
    assert pipeline().run(archive, tmp_path / "out").counts["cleaned"] == 12


def test_the_reid_map_lists_each_pseudonym_once_across_runs(archive: Path,
                                                            tmp_path: Path) -> None:
    reid = tmp_path / "reid.jsonl"
    pipeline().run(archive / "P000", tmp_path / "out", reid_map=reid, jobs=2)
    pipeline().run(archive / "P000", tmp_path / "out", reid_map=reid, resume=False)
    pairs = [json.loads(line) for line in reid.read_text().splitlines()]
    assert len(pairs) == 1 and pairs[0]["patient_id"]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killed_runs_resume_to_exactly_a_clean_run(tmp_path: Path) -> None:
    write_archive(tmp_path / "in", patients=10, per_patient=20)
    recipe = tmp_path / "recipe.toml"  # the pixel path too: slower files, more to interrupt
    recipe.write_text('base = "basic"\n[[pixels]]\nmodality = "CT"\nboxes = [[0, 0, 8, 8]]\n')
    command = [sys.executable, "-m", "medscrub", "redact", str(tmp_path / "in"), "--key", KEY_TEXT,
               "--recipe", str(recipe), "-j", "2", "-q", "-o"]
    reference = Pipeline(load_recipe(recipe), key=SecretKey.from_text(KEY_TEXT))
    reference.run(tmp_path / "in", tmp_path / "ref")  # an uninterrupted run, in this process
    out, log = tmp_path / "out", tmp_path / "out.audit.jsonl"
    for fraction in (0.2, 0.6):  # two kills, at different moments
        run = subprocess.Popen([*command, str(out)])
        while run.poll() is None and (
            not log.exists() or log.read_text().count('"record": "file"') < 207 * fraction
        ):
            time.sleep(0.005)
        workers = _children(run.pid)
        run.send_signal(signal.SIGKILL)
        assert run.wait() == -signal.SIGKILL, "the run ended before the kill"
        deadline = time.monotonic() + 10
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(w) for w in workers), "worker processes outlived their parent"
    assert subprocess.run([*command, str(out)], check=False, timeout=120).returncode == 1
    assert tree(out) == tree(tmp_path / "ref")
    assert not [p for p in out.rglob("*") if p.name.endswith(TEMP_SUFFIX)]
    assert essentials(log) == essentials(tmp_path / "ref.audit.jsonl")  # none twice, none lost
    runs = records(log, "run")
    assert len(runs) == 3 and len(records(log, "summary")) == 1
    final = records(log, "summary")[0]
    assert final["resumed"] > 0 and sum(final["counts"].values()) == 207
    assert final["counts"][Outcome.FAILED.value] == 5
