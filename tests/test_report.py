"""Audit summaries: the totals match the log, file by file."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from medscrub.cli.main import main
from medscrub.keys import SecretKey
from medscrub.model import FileResult
from medscrub.pipeline import Pipeline
from medscrub.profile import PixelRule, Profile
from medscrub.report import read_audit, summarize
from medscrub.run import RunSummary
from medscrub_testing.samples import bad_inputs, make_ct
from tests.conftest import KEY_TEXT

_COMMENTS = 0x00104000  # Patient Comments: holds the patient's name in the samples


def _inputs(root: Path) -> Path:
    """Two CT slices that clean, one whose kept comment names the patient, bad files."""
    src = root / "in"
    bad_inputs(src / "bad")
    for instance in (1, 2, 3):
        ds = make_ct(0, instance=instance)
        if instance != 3:
            del ds.PatientComments
        ds.save_as(src / f"ct{instance}.dcm", enforce_file_format=True)
    return src


def _run(src: Path, out: Path, audit: Path) -> RunSummary:
    """Keep Patient Comments (so one file is quarantined) and black out a known corner."""
    profile = Profile(tag_actions={_COMMENTS: "K"},
                      pixel_rules=(PixelRule(boxes=((0, 0, 16, 32),), modality="CT"),))
    pipeline = Pipeline(profile, key=SecretKey.from_text(KEY_TEXT))
    return pipeline.run(src, out, audit=audit, resume=False)


@pytest.fixture
def logged(tmp_path: Path) -> tuple[RunSummary, Path]:
    audit = tmp_path / "run.audit.jsonl"
    return _run(_inputs(tmp_path), tmp_path / "out", audit), audit


def test_totals_match_the_run(logged: tuple[RunSummary, Path]) -> None:
    run, audit = logged
    summary = summarize(audit)
    results: tuple[FileResult, ...] = run.results
    assert summary.runs == 1 and summary.complete
    assert summary.files == len(results) == 10
    assert summary.outcomes == dict(Counter(r.outcome.value for r in results).most_common())
    assert summary.outcomes["cleaned"] == 2 and summary.outcomes["quarantined"] == 1
    actions: Counter[str] = Counter()
    for r in results:
        actions.update(r.actions)
    assert summary.actions == dict(actions)
    assert summary.regions == {"known": 2}
    assert summary.detectors == {"recipe": 2}
    assert summary.warnings == {w: sum(w in r.warnings for r in results)
                                for w in {w for r in results for w in r.warnings}}
    bad = {(r.input, r.outcome.value, r.stage, r.reason) for r in results if not r.ok}
    assert {(p.input, p.outcome, p.stage, p.reason) for p in summary.problems} == bad
    assert ("ct3.dcm", "quarantined") in {(p.input, p.outcome) for p in summary.problems}
    assert sum(summary.skipped.values()) == summary.outcomes["skipped"]
    assert summary.seconds == pytest.approx(run.seconds, abs=1e-3)
    assert summary.file_seconds == pytest.approx(sum(r.seconds for r in results), abs=1e-3)


def test_runs_appended_to_one_log_add_up(tmp_path: Path) -> None:
    src, audit = _inputs(tmp_path), tmp_path / "run.audit.jsonl"
    first = _run(src, tmp_path / "out", audit)
    second = _run(src, tmp_path / "out", audit)
    summary = summarize(audit)
    assert summary.runs == 2 and summary.complete
    assert summary.files == len(first.results) + len(second.results)
    assert summary.outcomes["cleaned"] == 4
    assert summary.seconds == pytest.approx(first.seconds + second.seconds, abs=2e-3)


def test_an_interrupted_run_is_reported(logged: tuple[RunSummary, Path], tmp_path: Path) -> None:
    _run_summary, audit = logged
    lines = audit.read_text().splitlines()
    assert json.loads(lines[-1])["record"] == "summary"
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(lines[:-1]) + "\nnot json at all\n")
    log = read_audit(cut)
    assert log.unreadable == 1 and log.runs[0].summary is None
    summary = summarize(log)
    assert not summary.complete and summary.unreadable == 1
    assert summary.files == len(lines) - 2
    assert summary.seconds == pytest.approx(summary.file_seconds)


def test_command_line(logged: tuple[RunSummary, Path],
                      capsys: pytest.CaptureFixture[str]) -> None:
    _run_summary, audit = logged
    assert main(["report", str(audit)]) == 1  # a file was quarantined
    text = capsys.readouterr().out
    assert "10 file(s) in 1 run(s)" in text
    assert "QUARANTINED ct3.dcm" in text and "not written (" in text
    assert "X (removed)" in text and "recipe" in text
    assert main(["report", str(audit), "--json"]) == 1
    assert json.loads(capsys.readouterr().out) == summarize(audit).to_dict()


def test_clean_log_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in"
    src.mkdir()
    make_ct(0, instance=1).save_as(src / "a.dcm", enforce_file_format=True)
    run = Pipeline(key=SecretKey.from_text(KEY_TEXT)).run(src, tmp_path / "out")
    assert run.ok
    assert main(["report", str(run.audit)]) == 0
    assert "1 file(s) in 1 run(s)" in capsys.readouterr().out


def test_unreadable_log_is_a_usage_error(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "absent.jsonl")]) == 2
    assert "cannot read audit log" in capsys.readouterr().err
