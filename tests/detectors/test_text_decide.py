"""Reading and deciding: lines cut from blocks; crops made dark on white and read again
where the first reading found no text; labels, dates and hints that make text PHI, and
what OCR noise is not."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageDraw, ImageFont

from medscrub.detectors.text.decision import Matcher, Word, is_sure_text, is_text, label_values
from medscrub.detectors.text.proposal import bands
from medscrub.detectors.text.reading import (
    Task,
    dark_on_white,
    read_crops,
    read_mosaics,
    rescaled,
    scale_for,
)
from medscrub.hints import PhiHints
from medscrub.model import Region

_SERIF_ITALIC = "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Italic.ttf"


def _run(*words: tuple[str, float]) -> list[Word]:
    """A run of words on one line, 40 pixels apart."""
    return [Word(text, 0.0, 40.0 * i, 10.0, 40.0 * i + 30.0, conf)
            for i, (text, conf) in enumerate(words)]


@pytest.fixture
def matcher() -> Matcher:
    return Matcher(PhiHints(names=frozenset({"FAKEDOC^HIPPOLYTA"}),
                             ids=frozenset({"MRN88231907"})))


@pytest.mark.parametrize("text", [
    "DOB: 2011-05-15", "Study 21/12/2021", "12.31.21", "05 - 10 - 1994", "Exam 2O11-O5-15",
])
def test_numeric_dates_are_phi(matcher: Matcher, text: str) -> None:
    assert matcher.is_phi(_run((text, 90.0)))


@pytest.mark.parametrize("text", ["24-MAY-02", "2013 Jul 13", "13 JUL 2013", "Jul 13, 2013",
                                  "Study: 2013-JUL-13"])
def test_dates_with_a_month_name_are_phi(matcher: Matcher, text: str) -> None:
    assert matcher.is_phi(_run((text, 90.0)))


@pytest.mark.parametrize("words", [
    (("Age:", 90.0), ("O47Y", 40.0)),  # the value misread
    (("Sex:", 90.0), ("F", 30.0)),
    (("WESTWAY", 85.0), ("MEDICAL", 88.0)),  # an institution the header does not name
    (("Institution:", 80.0), ("N0RTH", 35.0)),
])
def test_age_sex_and_institution_lines_are_phi(matcher: Matcher,
                                               words: tuple[tuple[str, float], ...]) -> None:
    assert matcher.is_phi(_run(*words))


@pytest.mark.parametrize("text", ["4.0.02", "12.4 min", "3.1 2", "WL 40/400", "99/99/2021",
                                  "Se 3 Im 45", "W 350 L 50", "IMAGE 12"])
def test_numbers_that_are_not_dates_are_kept(matcher: Matcher, text: str) -> None:
    assert not matcher.is_phi(_run((text, 90.0)))


def test_labels_in_capitals_make_a_line_phi(matcher: Matcher) -> None:
    assert matcher.is_phi(_run(("ID:", 90.0), ("XK2@Q", 20.0)))
    assert matcher.is_phi(_run(("Names", 90.0)))  # "Name:" with its colon read as S


def test_a_label_with_one_letter_misread_before_its_colon_is_a_label(matcher: Matcher) -> None:
    """On an overlay line, "Sex: F" read as "hex: F", "Age: 077Y" as "Aqe: O77Y": still
    the label of an identifier. Overlay fields one letter away from a label ("Ser:",
    "Acq:") and other fields ("kVp:", "mAs:") are not; nor is the misread word without
    its colon."""
    assert matcher.is_phi(_run(("hex:", 47.0), ("F", 90.0)), misread_labels=True)
    assert matcher.is_phi(_run(("Aqe:", 69.0), ("O77Y", 83.0)), misread_labels=True)
    for field in ("Ser:", "Acq:", "kVp:", "mAs:"):
        assert not matcher.is_phi(_run((field, 90.0), ("3", 90.0)), misread_labels=True), field
    assert not matcher.is_phi(_run(("hex", 90.0), ("F", 90.0)), misread_labels=True)


def test_words_one_letter_from_a_label_read_over_anatomy_are_not_labels(
        matcher: Matcher) -> None:
    """Off overlay lines, noise read as "Sst;" (SSN), "Pet:" (PAT) or "tet:" (TEL) does
    not make a run PHI: only a label read right does."""
    for words in ((("ae", 22.0), ("Sst;", 9.0), ("4G", 32.0)), (("Pet:", 33.0), ("Fe", 15.0)),
                  (("tet:", 32.0), ("fe", 15.0))):
        assert matcher.is_phi(_run(*words), misread_labels=True), words
        assert not matcher.is_phi(_run(*words)), words
    assert matcher.is_phi(_run(("Sex:", 60.0), ("F", 90.0)))


def test_a_label_whose_colon_was_read_as_a_letter_is_a_label(matcher: Matcher) -> None:
    """Small text: "Sex: O" read as "SexxO:" or "SexvO=", "Age: 022Y" as "Ane= 02?";
    words that merely begin like a label are not ("Sexual", "Agent", "Series")."""
    for words in ((("SexxO:", 15.0),), (("SexvO=", 24.0),), (("Ane=", 66.0), ("02?", 5.0))):
        assert matcher.is_phi(_run(*words), misread_labels=True), words
    for word in ("Sexual", "Agent", "Series", "Patella"):
        assert not matcher.is_phi(_run((word, 90.0))), word


def test_short_lower_case_label_words_read_from_noise_are_not_labels(matcher: Matcher) -> None:
    assert not matcher.is_phi(_run(("id", 41.0), ("«s", 48.0)))
    assert not matcher.is_phi(_run(("pt", 60.0)))


def test_a_long_hint_read_with_no_confidence_is_still_phi(matcher: Matcher) -> None:
    run = _run(("FAKEDOC4HIPPOLYTA", 4.0))
    assert matcher.names_hint(run) and matcher.is_phi(run)
    assert matcher.names_hint(_run(("MRN8823I9O7", 0.0)))  # OCR confusions folded
    assert not matcher.names_hint(_run(("HIPPO", 0.0)))  # too short to tell


def test_hints_are_matched_with_ocr_errors(matcher: Matcher) -> None:
    assert matcher.is_phi(_run(("HIPP0LYTA", 80.0)))
    assert matcher.is_phi(_run(("HlPPOIYTA", 80.0)))  # two confusions, folded
    assert matcher.is_phi(_run(("HIPOLYTA", 80.0)))  # one letter lost
    assert not matcher.is_phi(_run(("HYPOTHESIS", 80.0)))


def test_long_words_are_text_at_any_confidence() -> None:
    assert is_text(_run(("FAKEDOC4HIPPOLYTA", 4.0)))
    assert is_sure_text(_run(("FAKEDOC4HIPPOLYTA", 4.0)))
    assert not is_text(_run(("lllllllll", 4.0)))  # a stripe read as one letter
    # over anatomy (a stroke candidate), texture reads as long words: they need confidence
    texture = _run(("eet", 12.0), ("murergeet", 0.0), ("dita", 18.0))
    assert is_sure_text(texture) and not is_sure_text(texture, long_words=False)
    assert is_sure_text(_run(("murergeet", 0.0), ("KVP:", 91.0)), long_words=False)


def test_short_words_are_sure_text_only_in_capitals_or_digits() -> None:
    assert is_sure_text(_run(("L", 90.0)))
    assert is_sure_text(_run(("12", 85.0)))
    assert not is_sure_text(_run(("w", 87.0)))  # the tip of a shape read as a letter
    assert not is_sure_text(_run(("R", 70.0)))
    assert is_sure_text(_run(("Pan", 88.0)))
    assert not is_sure_text(_run(("mid", 63.0)))  # the edge of a button and a fill
    assert is_sure_text(_run(("W:", 47.0), ("400", 47.0), ("L:40", 74.0)))
    assert not is_sure_text(_run(("3", 32.0), ("F", 64.0), ("vy;r?e?", 0.0)))  # one letter
    # read with confidence, beside noise: the noise does not lend it its length


def test_lines_of_both_polarities_in_one_crop_are_both_kept_as_ink() -> None:
    """A light title bar over a dark menu bar: both lines come out dark on white."""
    crop = np.full((44, 240), 230, np.uint8)
    crop[:22] = 20
    cv2.putText(crop, "DOE JANE 1999", (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, 235, 1)
    cv2.putText(crop, "File Zoom Pan", (4, 38), cv2.FONT_HERSHEY_SIMPLEX, 0.45, 15, 1)
    out = dark_on_white(crop[..., np.newaxis], None, 10.0)
    for band in (out[2:20], out[24:42]):
        assert (band < 128).sum() > 60  # each line's strokes are ink
    assert (out[:, 200:] < 128).sum() == 0  # the bars themselves are background


def _text_on(shape: tuple[int, int], text: str, at: tuple[int, int], size: int, ink: int,
             background: int, noise: float, seed: int) -> npt.NDArray[np.float32]:
    """`text` in DejaVu Serif Italic over a flat background with Gaussian noise."""
    image = Image.fromarray(np.full(shape, background, np.uint8))
    ImageDraw.Draw(image).text(at, text, font=ImageFont.truetype(_SERIF_ITALIC, size), fill=ink)
    rng = np.random.default_rng(seed)
    return np.asarray(image, np.float32) + rng.normal(0.0, noise, shape).astype(np.float32)


def _read_text(task: Task, full: bool = True) -> str:
    words = (read_crops if full else read_mosaics)([task])
    return " ".join(w.text for found in words.values() for w in found).upper()


def test_a_sparse_line_beside_a_dense_one_is_cut_as_its_own_line() -> None:
    """A bold line over a faint thin one: the faint line has fewer strokes per row than
    the share of the bold line's busiest row that parts lines, but it is a line."""
    strokes = np.zeros((30, 100), bool)
    strokes[0:9, :80] = True  # dense line: 80 stroke pixels a row
    strokes[9:19, :2] = True  # the gap between the lines: a descender or two
    strokes[19:28, 10:30] = True  # sparse line: 20 a row, a quarter of the dense one's
    labels = np.ones(strokes.shape, np.int32)
    cut = bands(strokes, labels, 1, 0, 0, 30, 100).tolist()
    assert cut == [[0, 0, 9, 80], [19, 10, 28, 30]]


def test_a_sparse_line_between_dense_ones_with_empty_rows_around_it_is_a_line() -> None:
    """Overlay lines stacked with empty rows between them: a short "Sex: M" line between a
    dense birth-date line and a denser institution line, within the rows where the
    busiest line is sought, has under that share of its strokes: the empty rows still
    part it as a line of its own (it was lost, and its text left)."""
    strokes = np.zeros((40, 200), bool)
    strokes[0:9, :90] = True  # "DOB: 12.08.1979": 90 a row
    strokes[13:22, 0:30] = True  # "Sex: M": 30 a row, under 0.35 of the lines beside it
    strokes[26:35, :160] = True  # "PLACEHOLDER UNIV HOSPITAL": 160 a row
    labels = np.ones(strokes.shape, np.int32)
    cut = bands(strokes, labels, 1, 0, 0, 40, 200).tolist()
    assert cut == [[0, 0, 9, 90], [13, 0, 22, 30], [26, 0, 35, 160]]


def test_doubtful_glyph_heights_get_a_second_scale() -> None:
    crop = (np.full((32, 200, 1), 128, np.uint8), None)
    specks = rescaled(Task(0, crop, scale_for(4.0), 4.0))  # specks taken for glyphs
    assert specks is not None and specks.glyph == 28.0 and specks.scale == 1.0
    two_lines = rescaled(Task(0, crop, scale_for(24.0), 24.0))  # two lines taken for one
    assert two_lines is not None and two_lines.glyph == pytest.approx(9.6)
    assert rescaled(Task(0, crop, scale_for(14.0), 14.0)) is None  # plausible


def test_text_whose_glyph_height_was_misjudged_is_read_at_its_line_height() -> None:
    """Light text under the dark tips of anatomy: the tips, taken for glyphs, made the
    glyph estimate 4 pixels, too small to read 14-pixel capitals."""
    crop = _text_on((36, 240), "PLACEBOE^OPHIRA", (4, 6), 18, 225, 150, 3.0, seed=3)
    for x in np.linspace(15, 220, 6):
        cv2.circle(crop, (int(x), 0), 3, 40.0, -1)
    pixels = np.clip(crop, 0, 255).astype(np.uint8)[..., np.newaxis]
    task = Task(0, (pixels, None), scale_for(4.0), 4.0)
    assert "PLACEBOE" not in _read_text(task, full=False)  # the first reading fails
    assert "PLACEBOE" in _read_text(task)


def test_faint_dark_text_beside_dark_anatomy_is_read_in_the_other_polarity() -> None:
    """A dark shape beside faint dark text wins the polarity vote for the light side
    (its contrast sets the level that glyph pieces must pass, and only noise is left)."""
    crop = _text_on((18, 240), "Phantomson", (120, 2), 12, 150, 170, 3.0, seed=3)
    cv2.line(crop, (0, 9), (40, 9), 70.0, 15)
    pixels = np.clip(crop, 0, 255).astype(np.uint8)[..., np.newaxis]
    task = Task(0, (pixels, None), scale_for(8.5), 8.5)
    assert "PHANTOMSON" not in _read_text(task, full=False)
    assert "PHANTOMSON" in _read_text(task)


def test_making_a_crop_dark_on_white_leaves_the_crop_unchanged() -> None:
    """The moving pixels of a cine's median crop are blanked in a copy: the median,
    shared by every candidate, keeps its pixels."""
    rng = np.random.default_rng(0)
    planes = rng.integers(0, 255, (20, 60, 1), dtype=np.uint8)
    before = planes.copy()
    blank = np.zeros((20, 60), bool)
    blank[:, 30:] = True
    dark_on_white(planes, blank, 8.0)
    assert np.array_equal(planes, before)


def _line(y0: int, x0: int, x1: int, phi: bool) -> Region:
    return Region(y0, x0, y0 + 30, x1, kind="text", detector="tesseract", phi=phi)


def test_the_first_line_along_a_bare_labels_row_is_its_value() -> None:
    """Only the nearest line to the label's right on its row, within 15 line heights of
    the label's start, becomes PHI; lines on other rows, behind the label or further
    along stay as they were."""
    label = _line(100, 50, 200, True)
    value, next_field = _line(102, 300, 500, False), _line(100, 520, 600, False)
    below, behind, far = _line(160, 300, 500, False), _line(100, 0, 40, False), \
        _line(300, 560, 700, False)
    far_label = _line(300, 50, 200, True)
    found = label_values([(label, True), (value, False), (next_field, False), (below, False),
                          (behind, False), (far_label, True), (far, False)])
    assert [r.phi for r in found] == [True, True, False, False, False, True, False]
    assert label_values([(label, False), (value, False)])[1].phi is False  # not a bare label


@pytest.mark.parametrize("text", ["077Y F", "O77Y F", "039Y", "45 yo", "45 yrs", "Dec 18",
                                  "18-DEC", "Sept. 4", "Que) Dec 18"])
def test_an_age_or_a_month_and_day_without_its_label_is_phi(matcher: Matcher, text: str) -> None:
    """A vendor's age/sex field ("077Y F", no label) and a date whose year was misread
    ("Que) Dec 18" for "2009 Dec 18") still identify."""
    assert matcher.is_phi(_run(*((word, 90.0) for word in text.split())))


@pytest.mark.parametrize("text", ["kVp 120 mAs 5", "TR 520 TE 14", "3D", "10 D", "DEC 5.0",
                                  "Decimal 18", "MARK 1", "Septal 3", "100 mm"])
def test_numbers_beside_units_and_month_like_words_are_kept(matcher: Matcher,
                                                            text: str) -> None:
    assert not matcher.is_phi(_run(*((word, 90.0) for word in text.split())))
