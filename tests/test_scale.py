"""Many files: worker processes, limits, crashed and hung workers, flat memory."""

from __future__ import annotations

import ast
import csv
import io
import itertools
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

import medscrub.pipeline as pipeline_module
from medscrub import workers
from medscrub.cli.main import main
from medscrub.keys import SecretKey
from medscrub.limits import Limits, TimeLimitExceeded, time_limit
from medscrub.model import Outcome
from medscrub.pipeline import Pipeline
from medscrub.profile import PixelRule, Profile
from medscrub.run import LOST
from medscrub_testing.samples import bad_inputs, make_ct, make_mr
from tests.conftest import KEY_TEXT

CT_RULE = PixelRule(boxes=((0, 0, 8, 8),), modality="CT")


def dicom_bytes(ds: Dataset) -> bytes:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def write_archive(root: Path, patients: int = 3, per_patient: int = 4, *,
                  bad: bool = True) -> list[Path]:
    """A small export: per patient a CT and an MR series of 32x32 images; optionally
    malformed files beside them. Returns the image paths."""
    paths = []
    for p in range(patients):
        for i in range(1, per_patient + 1):
            make = make_ct if i % 2 else make_mr
            ds = make(p, instance=i, series=100 + p, rows=32, columns=32)
            path = root / f"P{p:03d}" / f"IM{i:05d}.dcm"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(dicom_bytes(ds))
            paths.append(path)
    if bad:
        bad_inputs(root / "zz_bad")
    return paths


def run(root: Path, out: Path, **kwargs: object) -> pipeline_module.RunSummary:
    """Pipeline.run with the test key and (unless given) the header-only Basic Profile."""
    profile = kwargs.pop("profile", Profile())
    limits = kwargs.pop("limits", None)
    pipeline = Pipeline(profile, key=SecretKey.from_text(KEY_TEXT), limits=limits)  # type: ignore[arg-type]
    return pipeline.run(root, out, **kwargs)  # type: ignore[arg-type]


def by_input(summary: pipeline_module.RunSummary) -> dict[str, tuple[Outcome, str, str]]:
    return {r.input: (r.outcome, r.stage, r.reason) for r in summary.results}


# -- limits -------------------------------------------------------------------------
def test_limits_parse_and_refuse_nonsense() -> None:
    limits = Limits.parse(["decoded_mb=64", "seconds=1.5", "depth=8"])
    assert (limits.decoded_mb, limits.seconds, limits.depth) == (64, 1.5, 8)
    assert limits.file_mb == Limits().file_mb
    for bad in (["nope=1"], ["depth=x"], ["depth=0"], ["seconds=-1"]):
        with pytest.raises(ValueError, match="limit"):
            Limits.parse(bad)


def test_each_limit_fails_its_file_with_a_clear_reason(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    big_element = make_mr(0, instance=1, rows=32, columns=32)
    big_element.add_new(0x00091010, "OB", b"\x00" * (2 << 20))  # a 2 MB private blob
    big_element.add_new(0x00090010, "LO", "ACME")
    (src / "element.dcm").write_bytes(dicom_bytes(big_element))
    deep = make_mr(0, instance=2, rows=32, columns=32)
    inner = Dataset()
    inner.CodeValue = "1"
    for _ in range(12):
        outer = Dataset()
        outer.ContentSequence = Sequence([inner])
        inner = outer
    deep.ContentSequence = inner.ContentSequence
    (src / "deep.dcm").write_bytes(dicom_bytes(deep))
    bomb = make_ct(0, instance=3, rows=32, columns=32)
    bomb.NumberOfFrames = 50_000  # declares 50 000 frames of 4096 x 4096 it does not hold
    bomb.Rows = bomb.Columns = 4096
    (src / "bomb.dcm").write_bytes(dicom_bytes(bomb))
    (src / "large.dcm").write_bytes(dicom_bytes(make_ct(0, instance=4, rows=1536, columns=1536)))
    (src / "fine.dcm").write_bytes(dicom_bytes(make_ct(0, instance=5, rows=32, columns=32)))
    limits = Limits(file_mb=3, element_mb=1, depth=10, pixels=1 << 20)
    summary = run(src, tmp_path / "out", limits=limits, profile=Profile(pixel_rules=(CT_RULE,)))
    found = by_input(summary)
    assert found["element.dcm"][0] is Outcome.FAILED
    assert "(0009,1010) is 2 MB, over the 1 MB limit (limit element_mb)" in found["element.dcm"][2]
    assert found["deep.dcm"][0] is Outcome.FAILED
    assert "nested deeper than 10 levels (limit depth)" in found["deep.dcm"][2]
    assert found["bomb.dcm"][0] is Outcome.QUARANTINED and found["bomb.dcm"][1] == "pixels"
    assert "(limit pixels)" in found["bomb.dcm"][2]
    assert found["large.dcm"][0] is Outcome.FAILED
    assert "file is 5 MB, over the 3 MB limit (limit file_mb)" in found["large.dcm"][2]
    assert found["fine.dcm"][0] is Outcome.CLEANED
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["fine.dcm"]
    # the defaults take the same files (a generous machine-sized budget)
    again = run(src, tmp_path / "default", profile=Profile(pixel_rules=(CT_RULE,)))
    assert by_input(again)["large.dcm"][0] is Outcome.CLEANED
    assert by_input(again)["bomb.dcm"][0] is Outcome.QUARANTINED  # 1.6 TB decoded: never


def test_decoded_bytes_limit_counts_samples_and_bit_depth(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "ct.dcm").write_bytes(dicom_bytes(make_ct(0, rows=768, columns=1024)))  # 1.5 MB
    limits = Limits(decoded_mb=1)
    summary = run(src, tmp_path / "out", limits=limits, profile=Profile(pixel_rules=(CT_RULE,)))
    (result,) = summary.results
    assert result.outcome is Outcome.QUARANTINED
    assert result.reason == ("decoded pixel data would be 2 MB, over the 1 MB limit "
                             "(limit decoded_mb)")


def test_photo_pixels_are_held_to_the_limits(tmp_path: Path) -> None:
    from PIL import Image

    src = tmp_path / "in"
    src.mkdir()
    buf = io.BytesIO()
    Image.new("RGB", (2000, 1500), (40, 90, 160)).save(buf, "PNG")  # a few kB, 3 million pixels
    (src / "bomb.png").write_bytes(buf.getvalue())
    summary = run(src, tmp_path / "out", limits=Limits(pixels=1_000_000))
    (result,) = summary.results
    assert result.outcome is not Outcome.CLEANED
    assert result.reason == ("1 frame(s) of 1500x2000 is 3000000 pixels, over the 1000000 "
                             "limit (limit pixels)")
    assert not (tmp_path / "out" / "bomb.png").exists()


# -- time ---------------------------------------------------------------------------
def test_time_limit_interrupts_python_code_and_clears_after() -> None:
    start = time.monotonic()
    with pytest.raises(TimeLimitExceeded), time_limit(0.2):
        while True:
            pass
    assert time.monotonic() - start < 2
    with time_limit(0.05):
        pass
    time.sleep(0.2)  # a disarmed limit never fires later


def test_a_file_over_the_time_limit_fails_alone(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    write_archive(tmp_path / "in", patients=1, per_patient=3, bad=False)

    def endless(*_args: object, **_kwargs: object) -> None:
        while True:
            pass

    monkeypatch.setattr(pipeline_module, "redact", endless)
    summary = run(tmp_path / "in", tmp_path / "out", limits=Limits(seconds=0.5),
                  profile=Profile(pixel_rules=(CT_RULE,)))
    found = by_input(summary)
    assert found["P000/IM00001.dcm"] == (Outcome.FAILED, "pixels",
                                         "took over 0.5 s (limit seconds); not written")
    assert found["P000/IM00002.dcm"][0] is Outcome.CLEANED  # MR: no rule, no pixels
    assert not (tmp_path / "out" / "P000" / "IM00001.dcm").exists()


def test_a_worker_stuck_in_c_code_is_ended_and_its_file_fails_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_archive(tmp_path / "in", patients=1, per_patient=2, bad=False)

    def stuck(*_args: object, **_kwargs: object) -> None:
        time.sleep(120)  # C code: the soft limit waits for it; the hard watchdog does not

    monkeypatch.setattr(pipeline_module, "redact", stuck)  # worker processes fork it in
    start = time.monotonic()
    summary = run(tmp_path / "in", tmp_path / "out", jobs=1, limits=Limits(seconds=0.5),
                  profile=Profile(pixel_rules=(CT_RULE,)))
    assert time.monotonic() - start < 30
    found = by_input(summary)
    assert found["P000/IM00001.dcm"] == (Outcome.FAILED, "worker", LOST)
    assert found["P000/IM00002.dcm"][0] is Outcome.CLEANED


def test_a_crashing_worker_fails_only_its_file(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    write_archive(tmp_path / "in", patients=2, per_patient=4, bad=False)

    def crash(*_args: object, **_kwargs: object) -> None:
        os.kill(os.getpid(), signal.SIGKILL)  # as a segfault in a codec or the OOM killer would

    monkeypatch.setattr(pipeline_module, "redact", crash)
    summary = run(tmp_path / "in", tmp_path / "out", jobs=2,
                  profile=Profile(pixel_rules=(CT_RULE,)))
    outcomes = {rel: found[0] for rel, found in by_input(summary).items()}
    assert list(outcomes) == [f"P{p:03d}/IM{i:05d}.dcm" for p in range(2) for i in range(1, 5)]
    for rel, outcome in outcomes.items():  # odd instances are CT: the rule crashes them
        crashed = int(rel[-5]) % 2 == 1
        assert outcome is (Outcome.FAILED if crashed else Outcome.CLEANED), rel
        assert (tmp_path / "out" / rel).exists() is not crashed


# -- many files ---------------------------------------------------------------------
def test_the_map_streams_in_order_with_a_bounded_window() -> None:
    taken = itertools.count()

    def endless() -> Iterator[int]:
        while True:
            yield next(taken)

    first = list(itertools.islice(workers.ordered_map(abs, endless(), lost=abs, jobs=2), 400))
    assert first == list(range(400))
    in_flight = workers.IN_FLIGHT_PER_WORKER * 2 * workers.MAX_BATCH
    assert next(taken) <= 400 + in_flight + workers.MAX_BATCH


def test_the_map_imports_nothing_of_medscrub() -> None:
    tree = ast.parse(Path(workers.__file__).read_text())
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert imported and not [name for name in imported if name.startswith("medscrub")]


def test_keep_results_false_keeps_counts_and_failures_only(tmp_path: Path) -> None:
    write_archive(tmp_path / "in")
    full = run(tmp_path / "in", tmp_path / "a")
    lean = run(tmp_path / "in", tmp_path / "b", jobs=2, keep_results=False)
    assert lean.counts == full.counts and lean.counts["cleaned"] == 12
    assert [r.input for r in lean.results] == [r.input for r in full.results if not r.ok]
    assert not lean.ok and lean.results


def test_quarantine_report_and_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                           ) -> None:
    write_archive(tmp_path / "in")
    code = main(["redact", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--key", KEY_TEXT,
                 "--profile", "basic", "-j", "2"])
    assert code == 1
    printed = capsys.readouterr()
    report = tmp_path / "out.quarantine.tsv"
    rows = list(csv.reader(report.read_text().splitlines(), dialect="excel-tab"))
    assert rows[0] == ["input", "outcome", "stage", "reason"]
    failed = {row[0]: row for row in rows[1:]}
    assert set(failed) == {"zz_bad/empty.dcm", "zz_bad/huge_length.dcm",
                           "zz_bad/huge_length_explicit.dcm", "zz_bad/notdicom.dcm",
                           "zz_bad/truncated.dcm"}
    assert failed["zz_bad/empty.dcm"][1:] == ["failed", "read", "empty file"]
    assert f"quarantine report: {report} (5 file(s) not written)" in printed.out
    assert "12 cleaned, 2 skipped, 5 failed, 0 quarantined" in printed.out
    assert not any((tmp_path / "out" / name).exists() for name in failed)
    for bad in (tmp_path / "in" / "zz_bad").iterdir():  # fixed inputs: the report goes away
        bad.unlink()
    assert main(["redact", str(tmp_path / "in"), "-o", str(tmp_path / "out2"),
                 "--key", KEY_TEXT, "--profile", "basic"]) == 0
    assert not (tmp_path / "out2.quarantine.tsv").exists()


def test_outputs_are_the_same_for_any_number_of_jobs(tmp_path: Path) -> None:
    write_archive(tmp_path / "in", patients=4, per_patient=6)
    trees = []
    for jobs in (0, 1, 3):
        summary = run(tmp_path / "in", tmp_path / f"out{jobs}", jobs=jobs,
                      profile=Profile(pixel_rules=(CT_RULE,)))
        trees.append({p.relative_to(tmp_path / f"out{jobs}").as_posix(): p.read_bytes()
                      for p in sorted((tmp_path / f"out{jobs}").rglob("*")) if p.is_file()})
        assert summary.counts == {"cleaned": 24, "failed": 5, "skipped": 2}
    assert trees[0] == trees[1] == trees[2]
    ds = pydicom.dcmread(io.BytesIO(trees[0]["P000/IM00001.dcm"]))
    assert (ds.pixel_array[:8, :8] == ds.pixel_array.min()).all()  # the rule ran in workers
