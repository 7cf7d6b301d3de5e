"""The free-text identifier recognizers: each kind found, ordinary clinical text kept."""

from __future__ import annotations

import pytest

from medscrub import recognizers
from medscrub.hints import PhiHints


@pytest.mark.parametrize(("text", "kind"), [
    ("2021-03-04", "date"), ("04/03/2021", "date"), ("4.3.21", "date"),
    ("4 Mar 2021", "date"), ("March 4, 2021", "date"), ("2013 Jul 13", "date"),
    ("24-MAY-02", "date"), ("1st of", None), ("March 2021", "date"), ("3rd Sept 1999", "date"),
    ("+44 20 7946 0958", "phone"), ("(555) 010-0199", "phone"), ("555-0199", "phone"),
    ("Tel 0123 4567", "phone"), ("fax: 0123 45678", "phone"),
    ("jane.doe@example.org", "email"), ("https://example.org/case?id=3", "url"),
    ("www.example.org", "url"),
    ("12 Main Street", "address"), ("221B Baker St", "address"), ("PO Box 42", "address"),
    ("Springfield, IL 62704", "postcode"), ("ZIP: 62704", "postcode"), ("SW1A 1AA", "postcode"),
    ("4821337091", "id-number"), ("123-45-6789", "id-number"), ("MRN: AB-1234", "id-number"),
    ("Acc # 77X1", "id-number"),
    ("Dr J. Smith", "name"), ("Mrs O'Brien", "name"), ("Patient: Jane Doe", "name"),
    ("Ref: Rogers", "name"), ("DOE^JANE", "name"), ("referred by: Quincy", "name"),
])
def test_each_kind_is_found(text: str, kind: str | None) -> None:
    found = recognizers.kinds_in(f"seen {text} today")
    if kind is None:
        assert not found
    else:
        assert kind in found
        assert recognizers.holds_identifier(text)
        assert text not in recognizers.scrub(f"seen {text} today")[0]


@pytest.mark.parametrize("text", [
    "T1 AX 3mm post contrast", "CHEST PA 2 views", "software 1.2.3", "2 way valve",
    "Series 10001", "kVp 120 mAs 3.2", "W: 1500 L: 400", "AX T2 FLAIR 5mm", "LEFT HAND 3 VIEWS",
    "Marked 12 2022", "ID 4", "Head first-supine", "MAYO stand", "Dr", "Decubitus 3 2019",
    "B30f medium smooth", "ROUTINE BRAIN W/WO", "12/40 degree", "fl3d1_16ns",
])
def test_ordinary_clinical_text_is_kept(text: str) -> None:
    assert not recognizers.holds_identifier(text), recognizers.kinds_in(text)
    assert recognizers.scrub(text) == (text, 0)


def test_scrub_removes_overlapping_finds_once_and_tidies() -> None:
    text, count = recognizers.scrub("Call Dr Ann Lee on 555-0199, or jane@example.org.")
    assert text == "Call on or ."
    assert count == 3


def test_hints_add_the_files_own_values_in_any_spelling() -> None:
    hints = PhiHints(names=frozenset({"QUIXOTE", "ZEBULON"}), ids=frozenset({"4821337"}))
    for text in ("zebulon quixote seen", "ID 482-1337 seen", "id 482 13 37 seen",
                 "Quixote, Z. seen"):
        cleaned, count = hints.scrub(text)
        assert count and "seen" in cleaned
        for part in ("quixote", "zebulon", "482", "1337"):
            assert part not in cleaned.lower(), (text, cleaned)


@pytest.mark.parametrize("text", ["077Y F", "45 yo", "Dec 18", "18-DEC"])
def test_ages_and_month_days_are_field_identifiers_only(text: str) -> None:
    """Found in a short field (an overlay line), left alone in prose ("a 10 year follow-up"
    is not an age to scrub from a comment)."""
    assert recognizers.holds_field_identifier(text)
    assert not recognizers.holds_identifier(text)
