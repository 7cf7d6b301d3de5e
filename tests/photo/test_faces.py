"""Clean Recognizable Visual Features: heads redacted in photos and photographic DICOM."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pydicom
import pytest
from PIL import Image
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

import medscrub.detectors as registry
from medscrub.detectors import Context
from medscrub.detectors.faces import CenterFaceDetector
from medscrub.dicom._safe_private import DEIDENTIFICATION_METHOD_CODES
from medscrub.model import Outcome, Region
from medscrub.pipeline import FACES_NOT_CHECKED, Pipeline
from medscrub.profile import Profile
from medscrub.redact import as_frames
from medscrub_testing.faceset import FaceSample, face_set
from medscrub_testing.samples import fill_phi_header
from tests.stubs import StubDetector

FACES = frozenset({"clean_recognizable_visual_features"})
VL_PHOTOGRAPHIC = "1.2.840.10008.5.1.4.1.1.77.1.4"
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
CASES = ("astronaut-h32", "profile-h96-r+30", "astronaut-h40-r-15", "astronaut-h96-gray",
         "astronaut-mask", "two-faces", "lfw45-h40-r+28")


@pytest.fixture(scope="module")
def samples() -> dict[str, FaceSample]:
    return {s.name: s for s in face_set() if s.name in CASES}


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[None]:
    registry.reload_plugins()
    yield
    registry.reload_plugins()


def png(image: npt.NDArray[np.uint8]) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "PNG")
    return buf.getvalue()


def decoded(data: bytes) -> npt.NDArray[np.uint8]:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.mark.parametrize("name", CASES)
def test_every_face_box_is_filled(name: str, samples: dict[str, FaceSample]) -> None:
    sample = samples[name]
    cleaned = Pipeline(Profile(options=FACES)).redact_photo_bytes(png(sample.image))
    out = decoded(cleaned.data)
    for y0, x0, y1, x1 in sample.faces:
        assert (out[y0:y1, x0:x1] == 0).all(), name
    assert cleaned.regions and all(r.kind == "face" for r in cleaned.regions)
    assert all(r.detector == "centerface" for r in cleaned.regions)
    assert FACES_NOT_CHECKED not in cleaned.warnings
    changed = (out != sample.image).any(axis=2)
    assert changed.mean() < 0.5  # the rest of the photo stays


@pytest.mark.parametrize("method", ["blur", "pixelate"])
def test_blurred_and_pixelated_heads_no_longer_show_a_face(
    method: str, samples: dict[str, FaceSample]
) -> None:
    for name in ("two-faces",):
        sample = samples[name]
        profile = Profile(options=FACES, face_method=method)
        out = decoded(Pipeline(profile).redact_photo_bytes(png(sample.image)).data)
        assert CenterFaceDetector().detect(as_frames(out), Context(photometric="RGB")) == []
        for y0, x0, y1, x1 in sample.faces:
            before = sample.image[y0:y1, x0:x1].astype(int)
            assert np.abs(out[y0:y1, x0:x1].astype(int) - before).mean() > 10, (name, method)


def test_without_the_option_faces_stay_and_the_output_says_so(
    samples: dict[str, FaceSample],
) -> None:
    sample = samples["two-faces"]
    cleaned = Pipeline(Profile()).redact_photo_bytes(png(sample.image))
    assert np.array_equal(decoded(cleaned.data), sample.image)
    assert cleaned.regions == () and FACES_NOT_CHECKED in cleaned.warnings


def test_run_writes_the_photo_and_audits_the_face_regions(
    samples: dict[str, FaceSample], tmp_path: Path
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "visit.png").write_bytes(png(samples["two-faces"].image))
    summary = Pipeline(Profile(options=FACES), rename=True).run(src, tmp_path / "out")
    [result] = summary.results
    assert result.outcome is Outcome.CLEANED and result.output is not None
    assert result.output.endswith(".png") and "visit" not in result.output
    assert summary.audit is not None
    [record] = [json.loads(line) for line in summary.audit.read_text().splitlines()
                if '"record": "file"' in line]
    assert [r["kind"] for r in record["regions"]] == ["face", "face"]
    assert FACES_NOT_CHECKED not in record["warnings"]


def dicom_photo(image: npt.NDArray[np.uint8], sop_class: str, modality: str) -> bytes:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("", pydicom.Dataset(), file_meta=meta, preamble=b"\x00" * 128)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    fill_phi_header(ds)
    for tag in [t for t in ds.keys() if t.group == 0x6000]:
        del ds[tag]  # no overlay plane: this photo has its own size
    ds.set_pixel_data(image, "RGB", 8)
    buf = DicomBytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def method_codes(ds: pydicom.Dataset) -> list[str]:
    return [str(item.CodeValue) for item in ds.DeidentificationMethodCodeSequence]


def test_photographic_dicom_gets_the_face_step(samples: dict[str, FaceSample]) -> None:
    sample = samples["two-faces"]
    data = dicom_photo(sample.image, VL_PHOTOGRAPHIC, "XC")
    cleaned = Pipeline(Profile(options=FACES)).redact_dicom_bytes(data)
    ds = pydicom.dcmread(io.BytesIO(cleaned.data))
    out = ds.pixel_array
    for y0, x0, y1, x1 in sample.faces:
        assert (out[y0:y1, x0:x1] == 0).all()
    assert ds.RecognizableVisualFeatures == "NO"
    code = DEIDENTIFICATION_METHOD_CODES["clean_recognizable_visual_features"][0]
    assert code in method_codes(ds)
    assert [r.kind for r in cleaned.regions] == ["face", "face"]
    assert FACES_NOT_CHECKED not in cleaned.warnings


def test_option_off_leaves_dicom_faces_and_warns(samples: dict[str, FaceSample]) -> None:
    sample = samples["two-faces"]
    data = dicom_photo(sample.image, VL_PHOTOGRAPHIC, "XC")
    cleaned = Pipeline(Profile()).redact_dicom_bytes(data)
    ds = pydicom.dcmread(io.BytesIO(cleaned.data))
    assert np.array_equal(ds.pixel_array, sample.image)
    assert "RecognizableVisualFeatures" not in ds
    assert FACES_NOT_CHECKED in cleaned.warnings


def test_cross_sections_are_out_of_the_face_step(samples: dict[str, FaceSample]) -> None:
    grey = samples["astronaut-h96-gray"].image[..., 0]
    meta_data = dicom_photo(np.dstack([grey] * 3), CT_IMAGE, "CT")
    ds = pydicom.dcmread(io.BytesIO(meta_data))
    ds.set_pixel_data(grey, "MONOCHROME2", 8)
    buf = DicomBytesIO()
    ds.save_as(buf, enforce_file_format=True)
    cleaned = Pipeline(Profile(options=FACES)).redact_dicom_bytes(buf.getvalue())
    out = pydicom.dcmread(io.BytesIO(cleaned.data))
    assert np.array_equal(out.pixel_array, grey)
    assert "RecognizableVisualFeatures" not in out and cleaned.regions == ()
    assert FACES_NOT_CHECKED not in cleaned.warnings


@pytest.mark.parametrize(("image_type", "description", "searched"), [
    ("DERIVED\\SECONDARY\\VRT", "", True),  # a volume rendering, by Image Type
    ("DERIVED\\SECONDARY\\AXIAL", "3D Volume Rendering head", True),  # by its description
    ("DERIVED\\SECONDARY\\MPR", "", False),  # a reformatted slice
    ("ORIGINAL\\PRIMARY\\AXIAL", "T1 3D MPRAGE", False),  # a 3-D acquisition: slices
])
def test_greyscale_3d_renderings_get_the_face_step(
        samples: dict[str, FaceSample], image_type: str, description: str,
        searched: bool) -> None:
    """A volume-rendered head CT shows the face: it is searched though greyscale CT,
    while slices (reformatted, or of a 3-D acquisition) are not."""
    sample = samples["astronaut-h96-gray"]
    grey = sample.image[..., 0]
    ds = pydicom.dcmread(io.BytesIO(dicom_photo(np.dstack([grey] * 3), CT_IMAGE, "CT")))
    ds.set_pixel_data(grey, "MONOCHROME2", 8)
    ds.ImageType = image_type
    ds.SeriesDescription = description
    buf = DicomBytesIO()
    ds.save_as(buf, enforce_file_format=True)
    cleaned = Pipeline(Profile(options=FACES)).redact_dicom_bytes(buf.getvalue())
    out = pydicom.dcmread(io.BytesIO(cleaned.data)).pixel_array
    assert [r.kind for r in cleaned.regions] == (["face"] if searched else [])
    for y0, x0, y1, x1 in sample.faces:
        assert (out[y0:y1, x0:x1] == 0).all() == searched


class _StubbornFaces(StubDetector):
    """A third-party face detector that finds the same face whatever the pixels."""

    name: ClassVar[str] = "stubborn-faces"
    finds: ClassVar[frozenset[str]] = frozenset({"face"})

    def detect(self, frames: npt.NDArray[Any], context: Context) -> Sequence[Region]:
        return [Region(10, 10, 60, 50, kind="face", detector=self.name)]


class _MissingFaces(_StubbornFaces):
    name: ClassVar[str] = "missing-faces"

    def is_available(self) -> bool:
        return False

    def unavailable_reason(self) -> str:
        return "model missing"


def test_a_face_found_after_redaction_quarantines_the_photo(
    samples: dict[str, FaceSample], tmp_path: Path
) -> None:
    registry.register_detector(_StubbornFaces)
    src = tmp_path / "in"
    src.mkdir()
    (src / "p.png").write_bytes(png(samples["two-faces"].image))
    profile = Profile(options=FACES, face_method="blur", detectors={"face": ("stubborn-faces",)})
    [result] = Pipeline(profile).run(src, tmp_path / "out").results
    assert result.outcome is Outcome.QUARANTINED and result.stage == "verify"
    assert "face is still found" in result.reason
    assert not (tmp_path / "out" / "p.png").exists()


def test_no_face_detector_quarantines_the_photo(
    samples: dict[str, FaceSample], tmp_path: Path
) -> None:
    registry.register_detector(_MissingFaces)
    src = tmp_path / "in"
    src.mkdir()
    (src / "p.png").write_bytes(png(samples["two-faces"].image))
    profile = Profile(options=FACES, detectors={"face": ("centerface", "missing-faces")})
    [result] = Pipeline(profile).run(src, tmp_path / "out").results
    assert result.outcome is Outcome.QUARANTINED and result.stage == "pixels"
    assert result.reason == "faces cannot be checked (missing-faces: model missing)"
    assert not (tmp_path / "out").joinpath("p.png").exists()


def test_a_face_in_a_single_channel_photo_is_redacted(samples: dict[str, FaceSample]) -> None:
    sample = samples["astronaut-h96-gray"]
    grey = np.ascontiguousarray(sample.image[..., 0])  # one channel, as a greyscale PNG
    cleaned = Pipeline(Profile(options=FACES)).redact_photo_bytes(png(grey))
    out = np.asarray(Image.open(io.BytesIO(cleaned.data)))
    assert out.ndim == 2 and [r.kind for r in cleaned.regions] == ["face"]
    for y0, x0, y1, x1 in sample.faces:
        assert (out[y0:y1, x0:x1] == 0).all()


def _palette_dicom(image: npt.NDArray[np.uint8]) -> tuple[bytes, npt.NDArray[np.uint8]]:
    """`image` as a PALETTE COLOR secondary capture whose entry 0 is white (so the darkest
    entry, not index 0, is black); returns the file and its palette (256, 3)."""
    quantized = Image.fromarray(image).quantize(255)
    indices = np.asarray(quantized, dtype=np.uint8) + 1  # entry 0 is kept for white
    palette = np.zeros((256, 3), np.uint8)
    palette[0] = 255
    palette[1:] = np.asarray(quantized.getpalette()[: 255 * 3], np.uint8).reshape(255, 3)
    ds = pydicom.dcmread(io.BytesIO(dicom_photo(image, "1.2.840.10008.5.1.4.1.1.7", "OT")))
    ds.PhotometricInterpretation = "PALETTE COLOR"
    ds.SamplesPerPixel = 1
    del ds.PlanarConfiguration
    ds.PixelData = indices.tobytes()
    for colour, channel in zip(("Red", "Green", "Blue"), range(3), strict=True):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [256, 0, 16])
        ds[f"{colour}PaletteColorLookupTableDescriptor"].VR = "US"
        setattr(ds, f"{colour}PaletteColorLookupTableData",
                (palette[:, channel].astype("<u2") * 257).tobytes())
    buf = DicomBytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue(), palette


def test_a_face_in_a_palette_colour_image_is_found_and_filled_black(
    samples: dict[str, FaceSample]
) -> None:
    sample = samples["two-faces"]
    data, palette = _palette_dicom(sample.image)
    cleaned = Pipeline(Profile(options=FACES)).redact_dicom_bytes(data)
    ds = pydicom.dcmread(io.BytesIO(cleaned.data))
    assert ds.PhotometricInterpretation == "PALETTE COLOR"
    assert [r.kind for r in cleaned.regions] == ["face", "face"]
    darkest = int(np.argmin(palette.astype(int).sum(axis=1)))
    stored = ds.pixel_array
    for y0, x0, y1, x1 in sample.faces:
        assert (stored[y0:y1, x0:x1] == darkest).all()  # black, not entry 0 (white)
    assert ds.RecognizableVisualFeatures == "NO"
