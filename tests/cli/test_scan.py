"""``medscrub scan``: the table, the JSON, exit statuses, and no values printed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from medscrub.cli.main import main
from medscrub.scan import KINDS
from medscrub_testing.samples import FAKE_PHI_STRINGS, PATIENT_DIR


def test_table_and_exit_status(samples: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["scan", str(samples), "--no-pixels", "--details", "-j", "1"])
    printed = capsys.readouterr()
    assert code == 1  # identifiers found
    lines = printed.out.splitlines()
    assert lines[0].split() == ["FILE", "KIND", "FOUND"]
    ct = next(line for line in lines if line.split()[0].endswith("CT/CT000001.dcm"))
    assert "private 9" in ct and "overlay 9" in ct and "icon 1" in ct
    assert "filename" not in ct  # the sample folder does not name the patient
    assert any(line.split()[:2] == ["header", "PatientName"] for line in lines)
    summary = {line.split()[0]: int(line.split()[1]) for line in lines
               if line.split() and line.split()[0] in KINDS and line.split()[1].isdigit()}
    assert summary["header"] == 16 and summary["text"] == 0
    assert "19 files, 18 with identifiers, 0 not fully scanned" in printed.out
    assert "pixels not checked (--no-pixels)" in printed.out
    assert not [s for s in FAKE_PHI_STRINGS if s in printed.out + printed.err]


def test_json_on_stdout(samples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = samples / PATIENT_DIR / "MR"
    assert main(["scan", str(src), "--no-pixels", "--json", "-"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["files_scanned"] == 2 and report["files_with_findings"] == 2
    assert [f["path"] for f in report["files"]] == ["IM0001", "IM0002"]
    assert report["summary"]["private"] == 2
    # and to a file, with the table on stdout
    target = tmp_path / "scan.json"
    assert main(["scan", str(src), "--no-pixels", "--json", str(target)]) == 1
    assert json.loads(target.read_text())["summary"] == report["summary"]
    assert "FILE" in capsys.readouterr().out


def test_nothing_found_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "teaching"
    folder.mkdir()
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(folder / "plain.png")
    assert main(["scan", str(folder), "--no-pixels"]) == 0
    assert "1 files, 0 with identifiers" in capsys.readouterr().out


def test_missing_input_is_a_usage_error(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(tmp_path / "absent")]) == 2
    assert "no such file" in capsys.readouterr().err
