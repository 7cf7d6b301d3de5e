"""Date and date-time shifting keeps precision, ranges and intervals."""

from __future__ import annotations

import pytest

from medscrub.dicom.dates import shift_da, shift_dt, shift_value


@pytest.mark.parametrize(
    ("value", "days", "expected"),
    [
        ("20240315", -10, "20240305"),
        ("20240301", -1, "20240229"),  # leap year
        ("202403", -30, "202402"),  # partial: year and month
        ("2024", -400, "2023"),  # partial: year only
        ("2024.03.15", -1, "20240314"),  # old ACR-NEMA form
        ("20240101-20240301", -1, "20231231-20240229"),
        ("-20240301", -1, "-20240229"),
        ("20240101-", -1, "20231231-"),
        ("20240101\\20240102", -1, "20231231\\20240101"),
    ],
)
def test_shift_da(value: str, days: int, expected: str) -> None:
    assert shift_da(value, days) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20240315102004.719266", "20240314102004.719266"),
        ("20240315102004+0100", "20240314102004+0100"),
        ("2024031510-0500", "2024031410-0500"),  # a UTC offset is not a range
        ("20240315-20240316", "20240314-20240315"),
        ("2024", "2023"),
    ],
)
def test_shift_dt(value: str, expected: str) -> None:
    assert shift_dt(value, -1 if len(value) > 4 else -400) == expected


@pytest.mark.parametrize("bad", ["garbage", "20241301", "2024-13", "99999999"])
def test_unparseable_values_are_refused(bad: str) -> None:
    assert shift_da(bad, -1) is None


def test_time_is_unchanged_by_whole_day_shifts() -> None:
    assert shift_value("TM", "101537.25", -123) == "101537.25"
