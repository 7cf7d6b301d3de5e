"""Every metadata channel goes, in every format; orientation is kept; JPEG loses nothing."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageOps, ImageSequence, JpegImagePlugin

from medscrub.model import Outcome
from medscrub.photo import metadata_channels, read_photo, strip_segments
from medscrub.photo.jpeg import segments
from medscrub.pipeline import FACES_NOT_CHECKED, CleanedPhoto, Pipeline
from medscrub.profile import Profile
from medscrub_testing.faceset import face_set
from medscrub_testing.photoset import PHOTO_PHI_STRINGS, phi_photo

HAVE_HEIF = find_spec("pillow_heif") is not None
EXIFTOOL = shutil.which("exiftool")
FORMATS = ["JPEG", "PNG", "TIFF", "WEBP", "GIF", "BMP",
           pytest.param("HEIF", marks=pytest.mark.skipif(not HAVE_HEIF, reason="pillow-heif "
                                                          "not installed (medscrub[heif])"))]
ORIENTED = ["JPEG", "PNG", "TIFF", "WEBP"]


@pytest.fixture(scope="module")
def scene() -> npt.NDArray[np.uint8]:
    """A 480x640 photo with a face, stored as the camera saw it."""
    return next(s.image for s in face_set() if s.name == "astronaut-h96")


def clean(data: bytes, profile: Profile | None = None) -> CleanedPhoto:
    return Pipeline(profile or Profile()).redact_photo_bytes(data)


def pillow_dump(data: bytes) -> str:
    """Everything Pillow reads besides pixels, every page, as text."""
    parts = []
    image = Image.open(io.BytesIO(data))
    for page in ImageSequence.Iterator(image):
        parts.append(repr(sorted(page.info.items(), key=str)))
        exif = page.getexif()
        parts.append(repr(dict(exif)))
        for ifd in (0x8769, 0x8825, 0xA005):
            parts.append(repr(dict(exif.get_ifd(ifd))))
        parts.append(repr(getattr(page, "text", {})))
        tags = getattr(page, "tag_v2", None)
        if tags is not None:
            parts.append(repr(dict(tags)))
    return "\n".join(parts)


def exiftool_dump(path: Path) -> dict[str, object]:
    assert EXIFTOOL is not None
    out = subprocess.run([EXIFTOOL, "-j", "-a", "-G1", "-u", "-b", str(path)],
                         capture_output=True, text=True, check=True).stdout
    record: dict[str, object] = json.loads(out)[0]
    return record


@pytest.mark.parametrize("fmt", FORMATS)
def test_planted_phi_is_in_the_input(fmt: str, scene: npt.NDArray[np.uint8]) -> None:
    data = phi_photo(scene, fmt)
    planted = [s for s in PHOTO_PHI_STRINGS if s in pillow_dump(data)]
    if fmt == "BMP":
        assert metadata_channels(data) == []  # BMP has nowhere to put it
    else:
        assert planted and metadata_channels(data)


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_metadata_survives(fmt: str, scene: npt.NDArray[np.uint8]) -> None:
    out = clean(phi_photo(scene, fmt, orientation=6 if fmt in ORIENTED else 1)).data
    assert [s for s in PHOTO_PHI_STRINGS if s.encode() in out] == []
    assert [s for s in PHOTO_PHI_STRINGS if s in pillow_dump(out)] == []
    assert metadata_channels(out) == []
    image = Image.open(io.BytesIO(out))
    assert 0x0112 not in image.getexif() or fmt == "TIFF"
    assert image.format == fmt


@pytest.mark.skipif(EXIFTOOL is None, reason="exiftool not installed (libimage-exiftool-perl)")
@pytest.mark.parametrize("fmt", FORMATS)
def test_exiftool_finds_nothing(fmt: str, scene: npt.NDArray[np.uint8], tmp_path: Path) -> None:
    source = tmp_path / f"in.{fmt.lower()}"
    source.write_bytes(phi_photo(scene, fmt, orientation=6 if fmt in ORIENTED else 1))
    before = json.dumps(exiftool_dump(source))
    if fmt != "BMP":
        assert any(s in before for s in PHOTO_PHI_STRINGS)
    target = tmp_path / f"out.{fmt.lower()}"
    target.write_bytes(clean(source.read_bytes()).data)
    dump = exiftool_dump(target)
    text = json.dumps(dump)
    assert [s for s in PHOTO_PHI_STRINGS if s in text] == []
    groups = {key.split(":")[0] for key in dump if ":" in key}
    if fmt == "TIFF":
        groups.discard("IFD1")  # a TIFF's second page, not a thumbnail
    assert not groups & {"GPS", "IFD1", "ExifIFD", "XMP-dc", "IPTC", "Photoshop", "MakerNotes"}
    assert not [k for k in dump if "Thumbnail" in k or "GPS" in k or "Orientation" in k]


@pytest.mark.parametrize("fmt", ORIENTED)
@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_output_looks_as_the_input_did(
    fmt: str, orientation: int, scene: npt.NDArray[np.uint8]
) -> None:
    data = phi_photo(scene, fmt, orientation=orientation)
    shown = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))
    out = clean(data).data
    stored = np.asarray(Image.open(io.BytesIO(out)).convert("RGB"))
    assert stored.shape == shown.shape != scene.shape or orientation == 3
    tolerance = 0 if fmt in ("PNG", "TIFF") else 4.0  # JPEG and lossy WebP: a re-encode
    assert np.abs(stored.astype(int) - shown.astype(int)).mean() <= tolerance


def test_jpeg_without_pixel_changes_is_not_reencoded(scene: npt.NDArray[np.uint8]) -> None:
    data = phi_photo(scene, "JPEG")
    cleaned = clean(data)
    assert not cleaned.reencoded
    assert FACES_NOT_CHECKED in cleaned.warnings
    before = np.asarray(Image.open(io.BytesIO(data)))
    after = np.asarray(Image.open(io.BytesIO(cleaned.data)))
    assert np.array_equal(before, after)
    scans = [data[s.start:s.end] for s in segments(data) if s.marker == 0xDA]
    assert scans and all(scan in cleaned.data for scan in scans)
    assert len(cleaned.data) < len(data)


@pytest.mark.parametrize("subsampling", [0, 1, 2])
def test_reencoded_jpeg_keeps_quantization_and_subsampling(
    subsampling: int, scene: npt.NDArray[np.uint8]
) -> None:
    buf = io.BytesIO()
    Image.fromarray(scene).save(buf, "JPEG", quality=83, subsampling=subsampling,
                                exif=Image.Exif())
    profile = Profile(options=frozenset({"clean_recognizable_visual_features"}))
    cleaned = clean(buf.getvalue(), profile)
    assert cleaned.reencoded and cleaned.regions  # the face was redacted
    source = Image.open(buf)
    out = Image.open(io.BytesIO(cleaned.data))
    assert isinstance(source, JpegImagePlugin.JpegImageFile)
    assert isinstance(out, JpegImagePlugin.JpegImageFile)
    assert out.quantization == source.quantization
    assert JpegImagePlugin.get_sampling(out) == JpegImagePlugin.get_sampling(source) == subsampling


def test_icc_profile_kept_by_default_and_removable(scene: npt.NDArray[np.uint8]) -> None:
    data = phi_photo(scene, "JPEG")
    icc = Image.open(io.BytesIO(data)).info["icc_profile"]
    kept = clean(data).data
    assert Image.open(io.BytesIO(kept)).info.get("icc_profile") == icc
    assert metadata_channels(kept, allow_icc=False) == ["JPEG icc_profile", "JPEG marker 0xE2"]
    gone = clean(data, Profile(keep_icc=False)).data
    assert "icc_profile" not in Image.open(io.BytesIO(gone)).info
    assert metadata_channels(gone, allow_icc=False) == []
    png = clean(phi_photo(scene, "PNG"), Profile(keep_icc=False)).data
    assert metadata_channels(png, allow_icc=False) == []


def test_every_tiff_page_is_kept_and_cleaned(scene: npt.NDArray[np.uint8]) -> None:
    data = phi_photo(scene, "TIFF")
    out = clean(data).data
    photo = read_photo(out)
    assert len(photo.pages) == 2
    assert np.array_equal(photo.pages[0], scene)
    assert np.array_equal(photo.pages[1], scene[:, ::-1])
    assert metadata_channels(out) == []


def test_strip_drops_data_after_the_end_of_image(scene: npt.NDArray[np.uint8]) -> None:
    data = phi_photo(scene, "JPEG")
    stripped = strip_segments(data)
    assert stripped.endswith(b"\xff\xd9") and stripped.count(b"\xff\xd8") == 1
    assert "JPEG data after end of image" in metadata_channels(data)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF"])
def test_damaged_photo_fails_alone_and_is_not_written(
    fmt: str, scene: npt.NDArray[np.uint8], tmp_path: Path
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    good = phi_photo(scene, fmt)
    (src / "a_damaged.img").write_bytes(good[: len(good) // 3])
    (src / "b_good.img").write_bytes(good)
    summary = Pipeline(Profile()).run(src, tmp_path / "out")
    outcomes = {r.input: r.outcome for r in summary.results}
    assert outcomes == {"a_damaged.img": Outcome.FAILED, "b_good.img": Outcome.CLEANED}
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["b_good.img"]
    [bad] = [r for r in summary.results if r.outcome is Outcome.FAILED]
    assert bad.reason and not [s for s in PHOTO_PHI_STRINGS if s in bad.reason]


@pytest.mark.parametrize("mode", ["L", "RGBA", "I;16", "P", "CMYK"])
def test_pixel_modes_round_trip(mode: str, scene: npt.NDArray[np.uint8]) -> None:
    image = Image.fromarray(scene).convert(mode if mode != "I;16" else "L")
    if mode == "I;16":  # 16-bit grayscale
        image = Image.fromarray(np.asarray(image, np.uint16) * 257)
    fmt = "JPEG" if mode == "CMYK" else "PNG" if mode != "P" else "GIF"
    buf = io.BytesIO()
    image.save(buf, fmt, **({"comment": b"FAKE QUIXOTE"} if fmt != "PNG" else {}))
    out = clean(buf.getvalue()).data
    assert metadata_channels(out) == [] and b"QUIXOTE" not in out
    back = Image.open(io.BytesIO(out))
    expected = {"L": "L", "RGBA": "RGBA", "I;16": "I;16", "P": "P", "CMYK": "CMYK"}[mode]
    assert back.mode == expected and back.size == image.size
    if mode in ("L", "RGBA", "I;16"):  # lossless formats keep every value
        assert np.array_equal(np.asarray(back), np.asarray(image))
