"""Resolve, per tag, the action a profile asks for (PS3.15 Table E.1-1).

The table's combined codes are narrowed to the choice that is always safe and
keeps the object valid: X/Z -> Z, X/D, Z/D and X/Z/D -> D, X/Z/U* -> U. Where
several selected options give a row an action, C (clean) wins over K (keep).

Beyond the table, medscrub also removes whole curve (50xx) and overlay (60xx)
groups (their labels and descriptions are free text), group lengths and public
tags unknown to the data dictionary; recipe overrides come last and win.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from medscrub._annex_e import PRIVATE_ROW, ROWS, Row
from medscrub.dicom._safe_private import SAFE_PRIVATE
from medscrub.profile import Profile

__all__ = ["ADDED_ROWS", "ActionTable", "describe_actions", "resolve_row"]

#: Free text the shipped table edition does not list, handled as its descriptors are:
#: a waveform channel group's label (removed), and a text annotation on a waveform or
#: in a presentation state's text object (a dummy, as the table's graphic annotations:
#: the text object needs one; cleaned where graphics or descriptors are).
ADDED_ROWS: tuple[Row, ...] = (
    (0xFFFFFFFF, 0x003A0020, "Multiplex Group Label", "X", (("clean_descriptors", "C"),)),
    (0xFFFFFFFF, 0x00700006, "Unformatted Text Value", "D",
     (("clean_graphics", "C"), ("clean_descriptors", "C"))),
)

_NARROW = {"X/Z": "Z", "X/D": "D", "X/Z/D": "D", "Z/D": "D", "X/Z/U*": "U"}
_REMOVED_GROUPS = frozenset(range(0x5000, 0x5020, 2)) | frozenset(range(0x6000, 0x6020, 2))


def resolve_row(basic: str, options: tuple[tuple[str, str], ...], chosen: frozenset[str]) -> str:
    """The single action for one table row under the `chosen` options."""
    codes = {code for option, code in options if option in chosen}
    if "C" in codes:
        return "C"
    if "K" in codes:
        return "K"
    return _NARROW.get(basic, basic)


@dataclass(frozen=True, slots=True)
class ActionTable:
    """The action of every tag under one profile; built once, used per element."""

    exact: dict[int, str]
    groups: dict[int, str]
    private: str
    creators: dict[str, str]
    retain_uids: bool
    kept_only: frozenset[int] | None = None

    @classmethod
    def for_profile(cls, profile: Profile) -> ActionTable:
        """Resolve the table for `profile` (recipe overrides applied last)."""
        exact: dict[int, str] = {}
        groups: dict[int, str] = {group: "X" for group in _REMOVED_GROUPS}
        for mask, value, _name, basic, options in (*ROWS, *ADDED_ROWS):
            action = resolve_row(basic, options, profile.options)
            if mask == 0xFFFFFFFF:
                exact[value] = action
        exact.update(profile.tag_actions)
        groups.update(profile.group_actions)
        _name, basic, options = PRIVATE_ROW
        return cls(
            exact=exact,
            groups=groups,
            private=resolve_row(basic, options, profile.options),
            creators=dict(profile.creator_actions),
            retain_uids="retain_uids" in profile.options,
            kept_only=frozenset(
                {tag for _why, tags in profile.keep_only for tag in tags}
                | {tag for tag, action in profile.tag_actions.items() if action == "K"}
            ) if profile.keep_only else None,
        )

    def public(self, tag: int) -> str | None:
        """Action for an even-group tag; None where the table is silent (and the
        profile keeps what the table would keep)."""
        action = self.exact.get(tag)
        if action is None and (tag >> 16) in self.groups:
            return self.groups[tag >> 16]  # a removed group, or a recipe's whole group
        if self.kept_only is not None and action in (None, "K") and tag not in self.kept_only:
            return "X"
        return action

    def private_element(self, tag: int, creator: str | None) -> str:
        """K or X for a private element of block `creator` (None: no creator)."""
        override = self.exact.get(tag) or self.groups.get(tag >> 16)
        if override is not None:
            return "K" if override == "K" else "X"
        if creator is None:
            return "X"
        by_creator = self.creators.get(creator)
        if by_creator is not None:
            return by_creator
        if self.private == "C":
            group, offset = tag >> 16, tag & 0xFF
            return "K" if (creator, group, offset) in SAFE_PRIVATE else "X"
        return "K" if self.private == "K" else "X"


def describe_actions(profile: Profile) -> Iterator[tuple[str, str, str]]:
    """Yield (tag pattern, attribute name, action) for every table row: the action
    the header cleaner takes, read from the same resolved :class:`ActionTable`
    (whole curve and overlay groups removed, recipe overrides applied)."""
    table = ActionTable.for_profile(profile)
    for mask, value, name, _basic, _options in (*ROWS, *ADDED_ROWS):
        pattern = "".join(
            "x" if (mask >> (4 * (7 - i))) & 0xF == 0 else f"{value:08X}"[i] for i in range(8)
        )
        action = table.exact[value] if mask == 0xFFFFFFFF else table.groups[value >> 16]
        yield f"({pattern[:4]},{pattern[4:]})", name, action
    yield "(gggg,eeee) odd gggg", PRIVATE_ROW[0], table.private
