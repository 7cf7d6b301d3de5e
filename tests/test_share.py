"""The share preset: the strictest settings together, for posting outside the hospital."""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path

import pydicom
import pytest
from pydicom.datadict import tag_for_keyword

from medscrub.errors import ProfileError
from medscrub.keys import SecretKey
from medscrub.pipeline import Pipeline
from medscrub.profile import PIXEL_OPTIONS, Profile, load_recipe
from medscrub_testing.samples import make_ct
from tests.conftest import KEY_TEXT

_DATE_ATTRIBUTES = ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate",
                    "PatientBirthDate", "InstanceCreationDate", "AcquisitionDateTime",
                    "PerformedProcedureStepStartDate", "ExpiryDate", "ProcedureCreationDate")


def test_share_is_the_strictest_preset() -> None:
    share = Profile.preset("share")
    assert share.options == {"clean_pixel_data", "clean_recognizable_visual_features",
                             "clean_structured_content", "clean_graphics"}
    assert not [o for o in share.options if o.startswith("retain")]
    assert share.text_mode == "all-text" and share.rename and not share.keep_icc
    assert pickle.loads(pickle.dumps(share)) == share  # worker processes get it whole
    for keyword in ("ExpiryDate", "ProcedureCreationDate", "StudyUpdateDateTime"):
        assert share.tag_actions[tag_for_keyword(keyword)] == "X", keyword


def _header_only(profile: Profile) -> Profile:
    """The preset without the pixel steps (no detector needed to test the header)."""
    return replace(profile, options=profile.options - PIXEL_OPTIONS)


def test_dates_are_removed_not_shifted(tmp_path: Path) -> None:
    ds = make_ct(0, instance=1)
    ds.ExpiryDate = "20300101"  # a date Table E.1-1 does not list
    ds.ProcedureCreationDate = "20240301"
    src = tmp_path / "in" / "ct.dcm"
    src.parent.mkdir()
    ds.save_as(src, enforce_file_format=True)
    share = _header_only(Profile.preset("share"))
    run = Pipeline(share, key=SecretKey.from_text(KEY_TEXT)).run(src, tmp_path / "out")
    [result] = run.results
    out = pydicom.dcmread(tmp_path / "out" / str(result.output))
    for keyword in _DATE_ATTRIBUTES:
        value = str(out.get(keyword, "") or "")
        assert value in ("", "19000101", "19000101000000"), (keyword, value)
    assert out.LongitudinalTemporalInformationModified == "REMOVED"
    # the Basic Profile alone keeps the dates the table does not list
    Pipeline(key=SecretKey.from_text(KEY_TEXT)).run(src, tmp_path / "basic")
    assert pydicom.dcmread(tmp_path / "basic" / "ct.dcm").ExpiryDate == "20300101"


def test_share_renames_whatever_the_caller_says(tmp_path: Path) -> None:
    src = tmp_path / "DOE^JOHN" / "ct.dcm"
    src.parent.mkdir()
    make_ct(0, instance=1).save_as(src, enforce_file_format=True)
    share = _header_only(Profile.preset("share"))
    for jobs in (0, 1):
        out = tmp_path / f"out{jobs}"
        run = Pipeline(share, key=SecretKey.from_text(KEY_TEXT), rename=False).run(
            src.parent, out, jobs=jobs)
        [result] = run.results
        assert result.output is not None and result.output != "ct.dcm"
        assert [p.name for p in out.iterdir()] == [result.output]


def test_remove_dates_excludes_retained_dates(tmp_path: Path) -> None:
    recipe = tmp_path / "r.toml"
    recipe.write_text('base = "share"\noptions = ["retain_longitudinal_modified_dates"]\n'
                      "remove_dates = true\n")
    with pytest.raises(ProfileError, match="remove_dates excludes"):
        load_recipe(recipe)
    recipe.write_text('options = ["retain_longitudinal_full_dates"]\nremove_dates = true\n')
    with pytest.raises(ProfileError, match="remove_dates excludes"):
        load_recipe(recipe)


def _shared(ds: pydicom.Dataset, tmp_path: Path) -> tuple[Path, Path]:
    """Save `ds` as ``in/ct.dcm`` and clean it with share's header steps: (input, output)."""
    src = tmp_path / "in" / "ct.dcm"
    src.parent.mkdir()
    ds.save_as(src, enforce_file_format=True)
    share = _header_only(Profile.preset("share"))
    [result] = Pipeline(share, key=SecretKey.from_text(KEY_TEXT)).run(
        src, tmp_path / "out").results
    return src, tmp_path / "out" / str(result.output)


_FREE_TEXT = "Tel 555-0199 jane.doe@example.org 12 Elm Street 62704 06/16/1976"


def test_share_removes_free_text_descriptions_at_any_depth(tmp_path: Path) -> None:
    """Descriptions and comments holding a phone number, an e-mail, an address and a
    date, at the top level and inside a sequence: none survives share (they go, not
    cleaned of the header's own values only), while the Basic Profile with Clean
    Descriptors keeps the element."""
    ds = make_ct(0, instance=1)
    for keyword in ("ImageComments", "SeriesDescription", "StudyDescription",
                    "DerivationDescription", "ProtocolName"):
        setattr(ds, keyword, _FREE_TEXT)
    request = pydicom.Dataset()
    request.RequestedProcedureDescription = _FREE_TEXT
    request.ScheduledProcedureStepDescription = _FREE_TEXT
    ds.RequestAttributesSequence = pydicom.Sequence([request])
    src, output = _shared(ds, tmp_path)
    written = output.read_bytes()
    for planted in ("555-0199", "jane.doe", "Elm Street", "62704", "06/16/1976"):
        assert planted.encode() not in written, planted
    descriptors = replace(_header_only(Profile.preset("basic")),
                          options=frozenset({"clean_descriptors"}))
    Pipeline(descriptors, key=SecretKey.from_text(KEY_TEXT)).run(src, tmp_path / "kept")
    assert "ImageComments" in pydicom.dcmread(tmp_path / "kept" / "ct.dcm")


def test_share_keeps_only_what_a_viewer_needs(tmp_path: Path) -> None:
    """Every attribute left in a share output is one the profile keeps on purpose
    (with a reason), one the table replaces (a dummy, an empty value, a new UID), or
    one medscrub writes about the de-identification; acquisition parameters, device
    labels and text the table does not list are gone. A recipe's own K still keeps."""
    from medscrub.dicom.actions import ActionTable

    ds = make_ct(0, instance=1)
    ds.KVP = "120"  # acquisition parameters: not needed to show the image
    ds.ConvolutionKernel = "B30f"
    ds.CalibrationNotes = "phantom run"  # free text the table does not list
    ds.WindowCenterWidthExplanation = "Dr Adams' window"
    src, output = _shared(ds, tmp_path)
    out = pydicom.dcmread(output)
    share = _header_only(Profile.preset("share"))
    kept = {tag for _why, tags in share.keep_only for tag in tags}
    table = ActionTable.for_profile(Profile())
    written = {tag_for_keyword(k) for k in (
        "PatientIdentityRemoved", "DeidentificationMethod", "DeidentificationMethodCodeSequence",
        "LongitudinalTemporalInformationModified")}
    for elem in out:
        assert (elem.tag in kept or elem.tag in written
                or table.public(elem.tag) in ("Z", "D", "U", "C")), elem.keyword
    for keyword in ("KVP", "ConvolutionKernel", "CalibrationNotes",
                    "WindowCenterWidthExplanation"):
        assert keyword not in out, keyword
    assert out.Rows == ds.Rows and out.WindowCenter == ds.WindowCenter
    assert out.PixelData == ds.PixelData
    recipe = tmp_path / "r.toml"
    recipe.write_text('base = "share"\n[actions]\nKVP = "K"\n')
    mine = _header_only(load_recipe(recipe))
    assert mine.keep_only == share.keep_only
    [result] = Pipeline(mine, key=SecretKey.from_text(KEY_TEXT)).run(
        src, tmp_path / "mine").results
    assert pydicom.dcmread(tmp_path / "mine" / str(result.output)).KVP == 120


@pytest.mark.parametrize(("text", "error"), [
    ('[[keep_only]]\nwhy = "rows"\nattributes = ["NoSuchKeyword"]\n', "not a keyword"),
    ('[[keep_only]]\nattributes = ["Rows"]\n', "needs why and attributes"),
    ('keep_only = "Rows"\n', "list of tables"),
])
def test_keep_only_is_checked(tmp_path: Path, text: str, error: str) -> None:
    recipe = tmp_path / "r.toml"
    recipe.write_text(text)
    with pytest.raises(ProfileError, match=error):
        load_recipe(recipe)


def test_actions_explains_why_share_keeps_each_attribute(
        capsys: pytest.CaptureFixture[str]) -> None:
    from medscrub.cli.main import main

    assert main(["actions", "--profile", "share"]) == 0
    out = capsys.readouterr().out
    assert "keeps only these attributes" in out
    for why, tags in Profile.preset("share").keep_only:
        assert f"Kept: {why}." in out
        assert all(pydicom.datadict.keyword_for_tag(t) in out for t in tags)


def test_an_ecg_keeps_its_waveform_and_loses_its_labels_and_annotations(
        tmp_path: Path) -> None:
    """A real ECG (pydicom's waveform_ecg.dcm): share keeps every sample of every
    channel and drops the channel group labels and the annotation text; the default
    profile removes the labels and replaces the annotation text with a dummy."""
    import numpy as np
    from pydicom.data import get_testdata_file

    src = Path(get_testdata_file("waveform_ecg.dcm"))
    original = pydicom.dcmread(src)
    labels = {str(g.MultiplexGroupLabel) for g in original.WaveformSequence}
    notes = {str(a.UnformattedTextValue) for a in original.WaveformAnnotationSequence
             if "UnformattedTextValue" in a}
    for name in ("share", "standard"):
        profile = _header_only(Profile.preset(name))
        [result] = Pipeline(profile, key=SecretKey.from_text(KEY_TEXT)).run(
            src, tmp_path / name).results
        out = pydicom.dcmread(tmp_path / name / str(result.output))
        for index in range(len(original.WaveformSequence)):
            assert np.array_equal(out.waveform_array(index), original.waveform_array(index))
        assert all("MultiplexGroupLabel" not in g for g in out.WaveformSequence)
        left = {str(a.UnformattedTextValue) for a in out.get("WaveformAnnotationSequence", [])
                if "UnformattedTextValue" in a}
        assert not left & (labels | notes), name
