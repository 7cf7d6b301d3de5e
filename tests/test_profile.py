"""Profiles, presets and recipes: valid ones load, invalid ones fail early."""

from __future__ import annotations

from pathlib import Path

import pytest

from medscrub.errors import ProfileError
from medscrub.profile import PRESETS, Profile, load_recipe


def write(tmp_path: Path, text: str, name: str = "recipe.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", PRESETS)
def test_presets_load(name: str) -> None:
    assert Profile.preset(name).name == name


def test_unknown_preset() -> None:
    with pytest.raises(ProfileError, match="unknown profile"):
        Profile.preset("nope")


def test_toml_recipe(tmp_path: Path) -> None:
    profile = load_recipe(write(tmp_path, """
name = "trial-42"
base = "research"
options = ["retain_uids"]
[actions]
PatientAge = "k"
"(0008,103E)" = "X"
"(0019,xxxx)" = "K"
[private_creators]
"ACME IMAGING 1.0" = "K"
[[pixels]]
modality = "US"
manufacturer = "acme"
rows = 600
boxes = [[0, 0, 40, 800], [560, 0, 600, 200]]
method = "blur"
"""))
    assert profile.name == "trial-42"
    assert "retain_uids" in profile.options and "clean_descriptors" in profile.options
    assert profile.tag_actions[0x00101010] == "K"
    assert profile.tag_actions[0x0008103E] == "X"
    assert profile.group_actions[0x0019] == "K"
    assert profile.creator_actions["ACME IMAGING 1.0"] == "K"
    (rule,) = profile.pixel_rules
    assert rule.boxes == ((0, 0, 40, 800), (560, 0, 600, 200)) and rule.method == "blur"
    assert rule.matches({"Modality": "US", "Manufacturer": "ACME Imaging", "Rows": 600})
    assert not rule.matches({"Modality": "US", "Manufacturer": "Other", "Rows": 600})
    assert not rule.matches({"Modality": "US", "Manufacturer": "ACME", "Rows": 480})


def test_yaml_recipe(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    profile = load_recipe(write(tmp_path, "options: [retain_uids]\nactions:\n  PatientSex: K\n",
                                "r.yaml"))
    assert profile.options == frozenset({"retain_uids"})
    assert profile.tag_actions[0x00100040] == "K"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('options = ["retain_everything"]', "unknown option"),
        ('[actions]\nNotAKeyword = "X"', "neither a DICOM keyword nor a tag"),
        ('[actions]\nPatientAge = "Q"', "action must be one of"),
        ('[actions]\n"(0010,10xx)" = "X"', "only whole groups"),
        ('[private_creators]\n"ACME" = "Z"', "takes K or X"),
        ('colour = "blue"', "unknown key"),
        ("this is not toml", "not a valid recipe"),
        ('options = ["retain_longitudinal_full_dates", "retain_longitudinal_modified_dates"]',
         "exclude"),
        ('[[pixels]]\nboxes = [[10, 0, 5, 20]]', "empty or negative"),
        ('[[pixels]]\nboxes = [[0, 0, 5]]', "boxes must be a list"),
        ('[[pixels]]\nboxes = [[0, 0, 5, 5]]\nmethod = "smudge"', "pixel method"),
        ('[[pixels]]\nboxes = [[0, 0, 5, 5]]\ncolour = "red"', "unknown \\[\\[pixels\\]\\] key"),
        ('lossy = "sometimes"', "lossy must be"),
        ('[detectors]\nsmell = ["nose"]', "unknown detector role"),
        ('[detectors]\nface = []', "must be a list of detector names"),
        ('[detectors]\nface = 3', "must be a table of role"),
        ('detectors = "centerface"', "must be a table of role"),
    ],
)
def test_invalid_recipes_fail_with_a_clear_message(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        load_recipe(write(tmp_path, text))


def test_missing_recipe(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read recipe"):
        load_recipe(tmp_path / "absent.toml")


def test_detector_choices(tmp_path: Path) -> None:
    assert dict(Profile().detectors) == {"text": ("tesseract",), "face": ("centerface",)}
    profile = load_recipe(write(tmp_path, 'base = "share"\n[detectors]\nface = "blazeface"\n'))
    assert dict(profile.detectors) == {"text": ("tesseract",), "face": ("blazeface",)}
    assert profile.describe().endswith("; detectors face=blazeface")
    assert "detectors" not in Profile.preset("share").describe()
    both = Profile(detectors={"face": ("centerface", "blazeface")})
    assert both.detectors["face"] == ("centerface", "blazeface")
    assert both.detectors["text"] == ("tesseract",)
