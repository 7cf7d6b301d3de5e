"""The review page: every output, its redactions outlined, no original pixels unless asked.

The page is checked twice: its embedded data and thumbnails from Python, and
as a person would see it, in headless Chromium (skipped, with the reason,
where Chromium, its driver or selenium is missing; ``scripts/setup.sh``
installs them).
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from medscrub.cli.main import main
from medscrub.errors import UnsupportedInputError
from medscrub.keys import SecretKey
from medscrub.pipeline import Pipeline
from medscrub.profile import PixelRule, Profile
from medscrub.render import render_dicom
from medscrub.report import read_audit
from medscrub.review import THUMBNAIL_SIZE, write_review
from medscrub.run import RunSummary
from medscrub_testing.samples import (
    FAKE_PHI_STRINGS,
    bad_inputs,
    make_ct,
    make_mr,
    make_secondary_capture_with_boxes,
    make_us_cine_with_boxes,
)
from tests.conftest import KEY_TEXT

_COMMENTS = 0x00104000  # Patient Comments: kept by the profile below, so ct_named is quarantined
SC_BOX = (4, 2, 85, 246)  # the screenshot's five identifying lines
US_BOX = (3, 2, 29, 184)  # the cine's banner
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _write_inputs(src: Path, extra_slices: int = 0) -> None:
    src.mkdir(parents=True)
    sc, _ = make_secondary_capture_with_boxes(0)
    us, _ = make_us_cine_with_boxes(0)
    for name, ds in (("sc.dcm", sc), ("us_cine.dcm", us), ("ct.dcm", make_ct(0, instance=1))):
        if "PatientComments" in ds:
            del ds.PatientComments
        ds.save_as(src / name, enforce_file_format=True)
    make_ct(0, instance=2).save_as(src / "ct_named.dcm", enforce_file_format=True)
    (src / "mr").mkdir()
    for i in range(extra_slices):
        ds = make_mr(0, instance=i + 1, rows=64, columns=64)
        del ds.PatientComments
        ds.save_as(src / "mr" / f"{i:04d}.dcm", enforce_file_format=True)
    bad_inputs(src / "bad")


def _clean(src: Path, out: Path) -> RunSummary:
    profile = Profile(
        tag_actions={_COMMENTS: "K"},
        pixel_rules=(PixelRule(boxes=(SC_BOX,), modality="OT"),
                     PixelRule(boxes=(US_BOX,), modality="US")),
    )
    return Pipeline(profile, key=SecretKey.from_text(KEY_TEXT), rename=True).run(
        src, out, resume=False)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> RunSummary:
    root = tmp_path_factory.mktemp("review")
    _write_inputs(root / "in")
    return _clean(root / "in", root / "out")


def _data(page: Path) -> dict[str, Any]:
    match = re.search(r'<script id="review-data" type="application/json">(.*?)</script>',
                      page.read_text(encoding="utf-8"), re.S)
    assert match is not None
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def _picture(uri: str) -> np.ndarray[Any, Any]:
    assert uri.startswith("data:image/jpeg;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def _expected(data: bytes, size: tuple[int, int]) -> np.ndarray[Any, Any]:
    """A file's representative frame shrunk to the thumbnail's size."""
    frame = render_dicom(data, frame="middle").frames[0]
    image = Image.fromarray(frame, "L" if frame.ndim == 2 else "RGB")
    return np.asarray(image.resize(size, Image.Resampling.LANCZOS))


def _box(picture: np.ndarray[Any, Any], box: tuple[int, int, int, int], scale: float,
         ) -> np.ndarray[Any, Any]:
    y0, x0, y1, x1 = (int(v * scale) for v in box)
    return picture[y0 + 1:y1 - 1, x0 + 1:x1 - 1].astype(float)


def _by_input(run: RunSummary) -> dict[str, str]:
    return {r.input: str(r.output) for r in run.results if r.output}


def test_page_lists_every_output_and_every_problem(run: RunSummary, tmp_path: Path) -> None:
    page = write_review(run.audit, run.output, tmp_path / "review.html")  # type: ignore[arg-type]
    data = _data(page.path)
    cleaned = {str(r.output) for r in run.results if r.outcome.value == "cleaned"}
    assert {item["name"] for item in data["items"]} == cleaned and len(cleaned) == 3
    assert page.cards == 3 and page.not_shown == 0 and not page.originals
    text = page.path.read_text(encoding="utf-8")
    problems = text[text.index('id="problems"'):]
    problems = problems[:problems.index("</section>")]
    bad = [r for r in run.results if not r.ok]
    assert page.problems == len(bad) == 6  # one quarantined, five unreadable
    for r in bad:
        assert r.input in problems and r.reason.split(" (")[0] in problems
    assert "QUARANTINED</b> ct_named.dcm" in problems
    assert 'id="skipped"' in text  # the README and the random bytes


def test_no_original_pixels_by_default(run: RunSummary, tmp_path: Path) -> None:
    page = write_review(run.audit, run.output, tmp_path / "review.html")  # type: ignore[arg-type]
    text = page.path.read_text(encoding="utf-8")
    assert "contains PHI" not in text and "CONTAINS PHI" not in text
    assert not [s for s in FAKE_PHI_STRINGS if s in text]
    src = run.output.parent / "in"
    items = {item["name"]: item for item in _data(page.path)["items"]}
    for rel, box in (("sc.dcm", SC_BOX), ("us_cine.dcm", US_BOX)):
        item = items[_by_input(run)[rel]]
        assert "before" not in item
        shown = _picture(item["uri"])
        scale = THUMBNAIL_SIZE / max(item["rows"], item["columns"])
        size = (shown.shape[1], shown.shape[0])
        cleaned = _expected((run.output / item["name"]).read_bytes(), size)
        original = _expected((src / rel).read_bytes(), size)
        assert np.abs(shown.astype(float) - cleaned).mean() < 4  # the cleaned image
        inside = _box(shown, box, scale)
        assert inside.mean() < 12, "redacted area is not black in the thumbnail"
        assert _box(original, box, scale).std() > 20, "the original has text there"


def test_regions_frames_and_actions(run: RunSummary, tmp_path: Path) -> None:
    page = write_review(run.audit, run.output, tmp_path / "review.html")  # type: ignore[arg-type]
    items = {item["name"]: item for item in _data(page.path)["items"]}
    records = {r["output"]: r for r in read_audit(run.audit).files}  # type: ignore[arg-type]
    for name, item in items.items():
        assert [r["box"] for r in item["regions"]] == [r["box"] for r in records[name]["regions"]]
        assert all(r["shown"] for r in item["regions"])
        assert "removed" in item["actions"]
    us = items[_by_input(run)["us_cine.dcm"]]
    assert (us["frames"], us["frame"]) == (8, 3)
    assert us["regions"] == [{"box": list(US_BOX), "kind": "known", "detector": "recipe",
                              "shown": True}]
    ct = items[_by_input(run)["ct.dcm"]]
    assert (ct["frames"], ct["regions"]) == (1, [])


def test_page_is_self_contained(run: RunSummary, tmp_path: Path) -> None:
    page = write_review(run.audit, run.output, tmp_path / "review.html")  # type: ignore[arg-type]
    text = page.path.read_text(encoding="utf-8")
    assert "default-src 'none'; img-src data:" in text  # the browser may fetch nothing
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:|//)""", text)
    assert "<link" not in text and "<script src" not in text


def test_originals_on_request_with_a_plain_warning(run: RunSummary, tmp_path: Path) -> None:
    src = run.output.parent / "in"
    page = write_review(run.audit, run.output, tmp_path / "phi.html",  # type: ignore[arg-type]
                        originals=src)
    assert page.originals
    text = page.path.read_text(encoding="utf-8")
    assert "This page contains PHI." in text and "CONTAINS PHI" in text
    item = next(i for i in _data(page.path)["items"] if i["name"] == _by_input(run)["sc.dcm"])
    before = _picture(item["before"])
    original = _expected((src / "sc.dcm").read_bytes(), (before.shape[1], before.shape[0]))
    assert np.abs(before.astype(float) - original).mean() < 4


def test_outputs_that_cannot_be_shown_are_listed(run: RunSummary, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(run.output, out)
    broken = out / _by_input(run)["ct.dcm"]
    broken.write_bytes(broken.read_bytes()[:400])
    page = write_review(run.audit, out, tmp_path / "review.html")  # type: ignore[arg-type]
    assert page.not_shown == 1
    text = page.path.read_text(encoding="utf-8")
    assert 'id="not-shown"' in text and broken.name in text


def test_page_inside_the_output_is_refused(run: RunSummary) -> None:
    with pytest.raises(UnsupportedInputError, match="must not be inside the output"):
        write_review(run.audit, run.output, run.output / "review.html")  # type: ignore[arg-type]


def test_redact_writes_the_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in"
    src.mkdir()
    make_ct(0, instance=1).save_as(src / "a.dcm", enforce_file_format=True)
    page = tmp_path / "review.html"
    code = main(["redact", str(src), "-o", str(tmp_path / "out"), "--key", KEY_TEXT,
                 "--review", str(page), "-j", "0"])
    assert code == 0
    assert f"review page: {page} (1 output(s))" in capsys.readouterr().out
    assert [i["name"] for i in _data(page)["items"]] == ["a.dcm"]
    assert main(["review", str(tmp_path / "out"), "-o", str(tmp_path / "again.html"),
                 "--originals", str(src)]) == 0
    assert "holds PHI" in capsys.readouterr().out
    assert main(["redact", str(src), "-o", str(tmp_path / "o2"), "--review",
                 str(tmp_path / "o2" / "r.html")]) == 2
    assert not (tmp_path / "o2").exists()


# -- in a browser ---------------------------------------------------------------------

_CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_DRIVER = shutil.which("chromedriver")


def _browser() -> Any:
    if _CHROMIUM is None or _DRIVER is None:
        pytest.skip("Chromium and chromedriver are not installed (scripts/setup.sh installs "
                    "them: apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed "
                                    "(pip install -e '.[test]')")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = _CHROMIUM
    profile = tempfile.mkdtemp(prefix="medscrub-chromium-")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(_DRIVER))


_CHECK_IMAGES = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.querySelectorAll('#cards img'));
Promise.all(images.map(i => i.decode().then(() => true, () => false))).then(() => done({
  cards: document.querySelectorAll('#cards .card').length,
  names: Array.from(document.querySelectorAll('#cards .card')).map(c => c.dataset.name),
  broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).length,
  images: images.length,
  outlines: document.querySelectorAll('#cards svg rect').length,
}));
"""


def test_page_in_a_browser(tmp_path: Path) -> None:
    driver = _browser()
    try:
        _write_inputs(tmp_path / "in", extra_slices=100)
        run = _clean(tmp_path / "in", tmp_path / "out")
        page = write_review(run.audit, run.output, tmp_path / "review.html")  # type: ignore[arg-type]
        records = read_audit(run.audit).files  # type: ignore[arg-type]
        cleaned = [r["output"] for r in records if r["outcome"] == "cleaned"]
        regions = sum(len(r["regions"]) for r in records if r["outcome"] == "cleaned")
        not_written = [r for r in records if r["outcome"] in ("failed", "quarantined")]
        driver.get(page.path.as_uri())
        pages = driver.execute_script("return window.medscrubReview.pages()")
        assert pages == 3  # 103 outputs, 48 a page
        seen: list[str] = []
        outlines = 0
        for number in range(pages):
            driver.execute_script("window.medscrubReview.show(arguments[0])", number)
            state = driver.execute_async_script(_CHECK_IMAGES)
            assert state["broken"] == 0, f"page {number + 1}: images that did not render"
            assert state["images"] == state["cards"]
            seen += state["names"]
            outlines += state["outlines"]
        assert sorted(seen) == sorted(cleaned)  # every output, once
        assert outlines == regions
        problems = driver.execute_script("return document.querySelectorAll('#problems li').length")
        assert problems == len(not_written) == 6
        fetched = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)")
        assert [u for u in fetched if not u.startswith("data:")] == []
        driver.execute_script("var s = document.getElementById('filter'); s.value = 'regions';"
                              "s.onchange({target: s});")
        assert driver.execute_async_script(_CHECK_IMAGES)["cards"] == 2
        ARTIFACTS.mkdir(exist_ok=True)
        assert driver.save_screenshot(str(ARTIFACTS / "review.png"))
    finally:
        driver.quit()


def test_photos_are_reviewed(samples: Path, tmp_path: Path) -> None:
    run = Pipeline(key=SecretKey.from_text(KEY_TEXT)).run(samples / "photos", tmp_path / "out")
    page = write_review(run.audit, run.output, tmp_path / "review.html")  # type: ignore[arg-type]
    items = {item["name"]: item for item in _data(page.path)["items"]}
    assert sorted(items) == ["rash.png", "wound.jpg"]
    for name, item in items.items():
        shown = _picture(item["uri"])
        with Image.open(tmp_path / "out" / name) as image:
            assert (item["frames"], item["columns"], item["rows"]) == (1, *image.size)
            expected = np.asarray(image.convert("RGB").resize(
                (shown.shape[1], shown.shape[0]), Image.Resampling.LANCZOS))
        assert np.abs(shown.astype(float) - expected).mean() < 4


def test_a_missing_original_leaves_the_card(run: RunSummary, tmp_path: Path) -> None:
    originals = tmp_path / "in"
    shutil.copytree(run.output.parent / "in", originals)
    (originals / "ct.dcm").unlink()
    page = write_review(run.audit, run.output, tmp_path / "phi.html",  # type: ignore[arg-type]
                        originals=originals)
    items = {item["name"]: item for item in _data(page.path)["items"]}
    ct = items[_by_input(run)["ct.dcm"]]
    assert "before" not in ct and not ct["error"] and ct["uri"]
    assert any(w.startswith("original not shown") for w in ct["warnings"])
    assert "before" in items[_by_input(run)["sc.dcm"]]
