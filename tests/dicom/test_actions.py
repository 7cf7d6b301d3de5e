"""``medscrub actions`` says what the header cleaner does, row by row."""

from __future__ import annotations

from medscrub.dicom.actions import describe_actions
from medscrub.profile import Profile


def _described(profile: Profile) -> dict[str, str]:
    return {name: action for _pattern, name, action in describe_actions(profile)}


def test_overlay_and_curve_groups_are_described_as_removed() -> None:
    for options in (frozenset(), frozenset({"clean_graphics"})):
        described = _described(Profile(options=options))
        assert described["Overlay Data"] == described["Overlay Comments"] == "X"
        assert described["Curve Data"] == "X"


def test_options_and_recipe_overrides_show() -> None:
    basic = _described(Profile())
    assert basic["Patient's Age"] == "X" and basic["Study Description"] == "X"
    kept = _described(Profile(options=frozenset({"retain_patient_characteristics",
                                                 "clean_descriptors"}),
                              tag_actions={0x00081030: "K"}, group_actions={0x6000: "K"}))
    assert kept["Patient's Age"] == "K"
    assert kept["Study Description"] == "K"  # the recipe's word beats the option's C
    assert kept["Series Description"] == "C"
    assert kept["Overlay Data"] == "K"
    assert kept["Multiplex Group Label"] == kept["Unformatted Text Value"] == "C"
    assert len(kept) == 623  # the table's rows, two added rows and the private row
