"""Shift DICOM dates (DA) and date-times (DT) by whole days.

Whole-day shifts keep times of day, so TM values need no change and every
interval between two shifted values is preserved. A value that cannot be
parsed returns ``None``: the caller must then remove it, never keep it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

__all__ = ["shift_da", "shift_dt", "shift_value"]

_DA = re.compile(r"^(\d{4})(?:\.?(\d{2})(?:\.?(\d{2}))?)?$")
_DT = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{6}(?:\.\d{1,6})?|\d{2,4})?([+-]\d{4})?$")


def _shift_parts(year: str, month: str | None, day: str | None, days: int) -> str | None:
    """Shift a full or partial date; partial values keep their precision."""
    try:
        anchor = dt.date(int(year), int(month or 7), int(day or (15 if month else 1)))
        moved = anchor + dt.timedelta(days=days)
    except (ValueError, OverflowError):
        return None
    if day:
        return moved.strftime("%Y%m%d")
    if month:
        return moved.strftime("%Y%m")
    return f"{moved.year:04d}"


def _one_da(value: str, days: int) -> str | None:
    match = _DA.match(value.strip())
    if match is None:
        return None
    return _shift_parts(match.group(1), match.group(2), match.group(3), days)


def _one_dt(value: str, days: int) -> str | None:
    match = _DT.match(value.strip())
    if match is None:
        return None
    date = _shift_parts(match.group(1), match.group(2), match.group(3), days)
    if date is None:
        return None
    return date + (match.group(4) or "") + (match.group(5) or "")


def _shift_range(part: str, days: int, shift_one: Callable[[str, int], str | None]) -> str | None:
    """Shift one value, or a ``low-high`` range whose ends may be empty."""
    whole = shift_one(part, days)
    if whole is not None:
        return whole
    for i, char in enumerate(part):
        if char != "-":
            continue
        low, high = part[:i], part[i + 1 :]
        if not (low or high):
            return None
        ends = [shift_one(end, days) if end else "" for end in (low, high)]
        if None not in ends:
            return f"{ends[0]}-{ends[1]}"
    return None


def _shift_each(value: str, days: int, shift_one: Callable[[str, int], str | None]) -> str | None:
    out = []
    for part in value.split("\\"):
        moved = _shift_range(part.strip(), days, shift_one) if part.strip() else ""
        if moved is None:
            return None
        out.append(moved)
    return "\\".join(out)


def shift_da(value: str, days: int) -> str | None:
    """Shift a DA value (multi-valued and ranges allowed) by `days`."""
    return _shift_each(value, days, _one_da)


def shift_dt(value: str, days: int) -> str | None:
    """Shift a DT value (multi-valued and ranges allowed) by `days`."""
    return _shift_each(value, days, _one_dt)


def shift_value(vr: str, value: str, days: int) -> str | None:
    """Shift a DA or DT value; TM values are returned as they are."""
    if vr == "DA":
        return shift_da(value, days)
    if vr == "DT":
        return shift_dt(value, days)
    return value
