"""The command line: exit codes, summaries, errors that name the file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pydicom
import pytest

import medscrub.detectors as registry
from medscrub.cli.main import main
from medscrub_testing.samples import FAKE_PHI_STRINGS, bad_inputs, make_ct
from tests.conftest import KEY_TEXT


def test_redact_samples(samples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "clean"
    code = main(["redact", str(samples), "-o", str(out), "--key", KEY_TEXT])
    printed = capsys.readouterr()
    assert code == 0
    assert "18 cleaned, 1 skipped, 0 failed, 0 quarantined" in printed.out
    assert f"output:    {out}" in printed.out
    assert f"audit log: {out}.audit.jsonl" in printed.out
    assert "random key" not in printed.out
    assert not [s for s in FAKE_PHI_STRINGS if s in printed.out + printed.err]


def test_failures_name_the_file_and_set_the_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in"
    bad = bad_inputs(src)
    make_ct(0, instance=1).save_as(src / "good.dcm", enforce_file_format=True)
    code = main(["redact", str(src), "-o", str(tmp_path / "out"), "--key", KEY_TEXT])
    printed = capsys.readouterr()
    assert code == 1
    assert "1 cleaned" in printed.out and "5 failed" in printed.out
    error_lines = printed.err.strip().splitlines()
    assert len(error_lines) == 5
    for name in ("empty.dcm", "truncated.dcm", "notdicom.dcm", "huge_length.dcm"):
        assert any(line.startswith(f"FAILED {name}: ") for line in error_lines), name
    assert bad["empty"].read_bytes() == b""  # inputs untouched


def test_generated_key_is_announced(samples: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDSCRUB_KEY", raising=False)
    assert main(["redact", str(samples / "case_01" / "CT"), "-o", str(tmp_path / "o")]) == 0
    assert "random key" in capsys.readouterr().out


def test_invalid_recipe_stops_before_any_file(samples: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    recipe = tmp_path / "bad.toml"
    recipe.write_text('[actions]\nPatientNam = "K"\n')
    out = tmp_path / "o"
    code = main(["redact", str(samples), "-o", str(out), "--recipe", str(recipe)])
    assert code == 2
    assert "PatientNam" in capsys.readouterr().err
    assert not out.exists()


def test_output_inside_input_is_a_usage_error(samples: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["redact", str(samples), "-o", str(samples / "x")]) == 2
    assert "inside" in capsys.readouterr().err
    assert not (samples / "x").exists()


def test_options_on_the_command_line(samples: Path, tmp_path: Path) -> None:
    import pydicom

    src = samples / "case_01" / "CT" / "CT000001.dcm"
    code = main(["redact", str(src), "-o", str(tmp_path / "o"), "--key", KEY_TEXT,
                 "--option", "retain_uids", "-q"])
    assert code == 0
    before, after = pydicom.dcmread(src), pydicom.dcmread(tmp_path / "o" / "CT000001.dcm")
    assert after.StudyInstanceUID == before.StudyInstanceUID


def test_actions_lists_every_row(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["actions", "--option", "retain_patient_characteristics"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 623
    assert any("K  Patient's Age" in line for line in lines)
    assert any(line.startswith("(50xx,xxxx)") for line in lines)


def test_console_script_runs() -> None:
    done = subprocess.run([sys.executable, "-m", "medscrub", "--version"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.startswith("medscrub ")


def test_recipe_pixel_rule_redacts_the_banner(samples: Path, tmp_path: Path) -> None:
    import json

    import numpy as np
    import pydicom

    from medscrub_testing.samples import load_ground_truth

    truth = load_ground_truth(samples / "ground_truth.json")["case_01/US/cine.dcm"]
    boxes = [[b.y0, b.x0, b.y1, b.x1] for b in truth if b.phi]
    recipe = tmp_path / "us.toml"
    recipe.write_text(
        '[[pixels]]\nmodality = "US"\nboxes = ' + json.dumps(boxes) + "\n"
        '[[pixels]]\nmodality = "CT"\nboxes = [[0, 0, 8, 8]]\nmethod = "pixelate"\n'
    )
    src = samples / "case_01" / "US"
    out = tmp_path / "o"
    assert main(["redact", str(src), "-o", str(out), "--key", KEY_TEXT,
                 "--recipe", str(recipe), "-q"]) == 0
    before = pydicom.dcmread(src / "cine.dcm").pixel_array
    after = pydicom.dcmread(out / "cine.dcm").pixel_array
    inside = np.zeros(before.shape[1:3], dtype=bool)
    for y0, x0, y1, x1 in boxes:
        inside[y0:y1, x0:x1] = True
    assert np.all(after[:, inside] == 0)
    assert np.array_equal(after[:, ~inside], before[:, ~inside])
    records = [json.loads(line) for line in Path(f"{out}.audit.jsonl").read_text().splitlines()]
    (record,) = [r for r in records if r["record"] == "file"]
    assert [r["box"] for r in record["regions"]] == boxes
    assert {r["kind"] for r in record["regions"]} == {"known"}


def test_detectors_command(capsys: pytest.CaptureFixture[str],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    code = main(["detectors"])
    out = capsys.readouterr().out
    if shutil.which("tesseract"):
        assert code == 0 and "tesseract: available (finds burned-in text by default)" in out
    assert "blazeface: available (finds faces)\n" in out  # chosen by a recipe only
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    registry.reload_plugins()  # availability is asked once per process: ask again
    try:
        assert main(["detectors"]) == 1
        assert "tesseract: unavailable" in capsys.readouterr().out
    finally:
        monkeypatch.undo()
        registry.reload_plugins()


@pytest.mark.parametrize("verbose", [False, True])
def test_a_decoder_refusal_is_one_line_and_tracebacks_need_verbose(
    tmp_path: Path, verbose: bool
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    files = Path(pydicom.__file__).parent / "data" / "test_files"
    # a 12-bit JPEG whose scan header is invalid (refused before any decoder sees it)
    (src / "ct.dcm").write_bytes((files / "JPEG-lossy.dcm").read_bytes())
    (src / "odd.dcm").write_bytes((files / "badVR.dcm").read_bytes())  # IS '1A': a warning
    flags = ["-v"] if verbose else []
    done = subprocess.run(
        [sys.executable, "-m", "medscrub.cli.main", *flags, "redact", str(src), "-o",
         str(tmp_path / "out"), "--key", KEY_TEXT],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 1
    assert ("Traceback" in done.stderr) is verbose
    assert ("UserWarning" in done.stderr) is verbose
    if not verbose:
        twelve, odd = done.stderr.strip().splitlines()
        assert twelve.startswith("QUARANTINED ct.dcm: 12-bit JPEG frame 1: invalid scan")
        assert odd.startswith("QUARANTINED odd.dcm: ")


def test_keep_paths_on_the_command_line(tmp_path: Path) -> None:
    src = tmp_path / "in" / "DOE_JANE_4821337.dcm"
    src.parent.mkdir()
    make_ct(0).save_as(src, enforce_file_format=True)
    assert main(["redact", str(src.parent), "-o", str(tmp_path / "a"), "--key", KEY_TEXT,
                 "-q"]) == 0
    assert [p.name for p in (tmp_path / "a").iterdir()] != [src.name]
    assert main(["redact", str(src.parent), "-o", str(tmp_path / "b"), "--key", KEY_TEXT,
                 "-q", "--keep-paths"]) == 0
    assert [p.name for p in (tmp_path / "b").iterdir()] == [src.name]


def test_output_piped_into_a_reader_that_stops_is_no_error() -> None:
    """`medscrub actions | head -1`: the closed pipe ends the command quietly, status 0."""
    done = subprocess.run(
        f"{sys.executable} -m medscrub.cli.main actions --profile share | head -1",
        shell=True, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.stdout.startswith("(0008,0050)")
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
