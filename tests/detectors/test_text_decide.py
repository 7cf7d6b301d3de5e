"""Reading and deciding: crops made dark on white; labels, dates and hints that make
text PHI, and what OCR noise is not."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from medscrub.detectors.text import _dark_on_white, _is_sure_text, _is_text, _Matcher, _Word
from medscrub.hints import PhiHints


def _run(*words: tuple[str, float]) -> list[_Word]:
    """A run of words on one line, 40 pixels apart."""
    return [_Word(text, 0.0, 40.0 * i, 10.0, 40.0 * i + 30.0, conf)
            for i, (text, conf) in enumerate(words)]


@pytest.fixture
def matcher() -> _Matcher:
    return _Matcher(PhiHints(names=frozenset({"FAKEDOC^HIPPOLYTA"}),
                             ids=frozenset({"MRN88231907"})))


@pytest.mark.parametrize("text", [
    "DOB: 2011-05-15", "Study 21/12/2021", "12.31.21", "05 - 10 - 1994", "Exam 2O11-O5-15",
])
def test_numeric_dates_are_phi(matcher: _Matcher, text: str) -> None:
    assert matcher.is_phi(_run((text, 90.0)))


@pytest.mark.parametrize("text", ["4.0.02", "12.4 min", "3.1 2", "WL 40/400", "99/99/2021"])
def test_numbers_that_are_not_dates_are_kept(matcher: _Matcher, text: str) -> None:
    assert not matcher.is_phi(_run((text, 90.0)))


def test_labels_in_capitals_make_a_line_phi(matcher: _Matcher) -> None:
    assert matcher.is_phi(_run(("ID:", 90.0), ("XK2@Q", 20.0)))
    assert matcher.is_phi(_run(("Names", 90.0)))  # "Name:" with its colon read as S


def test_short_lower_case_label_words_read_from_noise_are_not_labels(matcher: _Matcher) -> None:
    assert not matcher.is_phi(_run(("id", 41.0), ("«s", 48.0)))
    assert not matcher.is_phi(_run(("pt", 60.0)))


def test_a_long_hint_read_with_no_confidence_is_still_phi(matcher: _Matcher) -> None:
    run = _run(("FAKEDOC4HIPPOLYTA", 4.0))
    assert matcher.names_hint(run) and matcher.is_phi(run)
    assert matcher.names_hint(_run(("MRN8823I9O7", 0.0)))  # OCR confusions folded
    assert not matcher.names_hint(_run(("HIPPO", 0.0)))  # too short to tell


def test_hints_are_matched_with_ocr_errors(matcher: _Matcher) -> None:
    assert matcher.is_phi(_run(("HIPP0LYTA", 80.0)))
    assert matcher.is_phi(_run(("HlPPOIYTA", 80.0)))  # two confusions, folded
    assert matcher.is_phi(_run(("HIPOLYTA", 80.0)))  # one letter lost
    assert not matcher.is_phi(_run(("HYPOTHESIS", 80.0)))


def test_long_words_are_text_at_any_confidence() -> None:
    assert _is_text(_run(("FAKEDOC4HIPPOLYTA", 4.0)))
    assert _is_sure_text(_run(("FAKEDOC4HIPPOLYTA", 4.0)))
    assert not _is_text(_run(("lllllllll", 4.0)))  # a stripe read as one letter


def test_short_words_are_sure_text_only_in_capitals_or_digits() -> None:
    assert _is_sure_text(_run(("L", 90.0)))
    assert _is_sure_text(_run(("12", 85.0)))
    assert not _is_sure_text(_run(("w", 87.0)))  # the tip of a shape read as a letter
    assert not _is_sure_text(_run(("R", 70.0)))


def test_lines_of_both_polarities_in_one_crop_are_both_kept_as_ink() -> None:
    """A light title bar over a dark menu bar: both lines come out dark on white."""
    crop = np.full((44, 240), 230, np.uint8)
    crop[:22] = 20
    cv2.putText(crop, "DOE JANE 1999", (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, 235, 1)
    cv2.putText(crop, "File Zoom Pan", (4, 38), cv2.FONT_HERSHEY_SIMPLEX, 0.45, 15, 1)
    out = _dark_on_white(crop[..., np.newaxis], None, 10.0)
    for band in (out[2:20], out[24:42]):
        assert (band < 128).sum() > 60  # each line's strokes are ink
    assert (out[:, 200:] < 128).sum() == 0  # the bars themselves are background
