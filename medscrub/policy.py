"""What a DICOM file needs, decided from its original header before anything is cleaned.

:func:`plan_pixels` reads the header once (its values are gone after cleaning)
and says which pixel steps the profile asks of this image: the known boxes of a
device recipe, overlay bits to clear, burned-in text to look for, faces to look
for. :func:`check_copyable` refuses what medscrub never copies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from medscrub.dicom.elements import PIXEL_DATA, Node
from medscrub.dicom.io import (
    DICOMDIR_CLASS,
    ENCAPSULATED_DOCUMENT_CLASSES,
    DicomFile,
    embedded_overlay_bits,
    sop_class,
)
from medscrub.dicom.values import DEFAULT_ENCODINGS, strings, tag_of, us_value
from medscrub.errors import Refused, UnsupportedInputError
from medscrub.profile import PixelRule, Profile

__all__ = ["PixelPlan", "check_copyable", "may_show_faces", "plan_pixels"]

#: SOP classes of photographs, endoscopy, microscopy and screen captures: the face step
#: runs on these, on modalities XC, ES, OP, GM, SM and on every colour image.
_PHOTOGRAPHIC_CLASSES = frozenset({
    "1.2.840.10008.5.1.4.1.1.7", "1.2.840.10008.5.1.4.1.1.7.1", "1.2.840.10008.5.1.4.1.1.7.2",
    "1.2.840.10008.5.1.4.1.1.7.3", "1.2.840.10008.5.1.4.1.1.7.4",
    "1.2.840.10008.5.1.4.1.1.77.1.1", "1.2.840.10008.5.1.4.1.1.77.1.1.1",
    "1.2.840.10008.5.1.4.1.1.77.1.2", "1.2.840.10008.5.1.4.1.1.77.1.2.1",
    "1.2.840.10008.5.1.4.1.1.77.1.3", "1.2.840.10008.5.1.4.1.1.77.1.4",
    "1.2.840.10008.5.1.4.1.1.77.1.4.1", "1.2.840.10008.5.1.4.1.1.77.1.5.1",
    "1.2.840.10008.5.1.4.1.1.77.1.5.2",
})
_PHOTOGRAPHIC_MODALITIES = frozenset({"XC", "ES", "OP", "GM", "SM"})
#: Image Type values, and words of a derived image's description, that mark a 3-D
#: rendering (a volume-rendered head CT shows the face), whatever its modality. A 3-D
#: *acquisition* (an MR "3D" series) is slices, and is not one.
_RENDERING_TYPES = frozenset({"VRT", "VR", "VOLUME_RENDER", "VOLUME RENDER", "VOLUME RENDERING",
                              "SSD", "SURFACE", "SURFACE RENDER", "3D", "CINEMATIC"})
_RENDERING_WORDS = re.compile(
    r"\b(?:VRT|VR|3D[ _-]?(?:RECON|RENDER|VR|VRT|SSD)\w*|VOLUME[ _-]?REND\w*"
    r"|SURFACE[ _-]?REND\w*|SSD|CINEMATIC\w*)\b", re.IGNORECASE)
_DIRECTORY_RECORDS = tag_of("DirectoryRecordSequence")
_ENCAPSULATED_DOCUMENT = tag_of("EncapsulatedDocument")
_BURNED_IN_ANNOTATION = tag_of("BurnedInAnnotation")
_SAMPLES_PER_PIXEL = tag_of("SamplesPerPixel")
_IMAGE_TYPE = tag_of("ImageType")
_DESCRIPTIONS = (tag_of("SeriesDescription"), tag_of("DerivationDescription"))


@dataclass(frozen=True, slots=True)
class PixelPlan:
    """The pixel steps one image needs.

    Attributes
    ----------
    modality : str
    rules : tuple of PixelRule
        The recipe's known boxes for this device.
    overlay_bits : bool
        Overlay planes live in the pixel cells' unused high bits: clear them.
    text : bool
        Look for burned-in text (Clean Pixel Data).
    faces : bool
        Look for faces (Clean Recognizable Visual Features, on an image that can show one).
    faces_checked : bool
        The face option is on: an image that cannot show a face counts as checked.
    """

    modality: str = ""
    rules: tuple[PixelRule, ...] = ()
    overlay_bits: bool = False
    text: bool = False
    faces: bool = False
    faces_checked: bool = False

    @property
    def touches_pixels(self) -> bool:
        """Whether the pixel data must be decoded at all."""
        return bool(self.rules or self.overlay_bits or self.text or self.faces)


def check_copyable(file: DicomFile) -> None:
    """Refuse what medscrub never copies.

    Raises
    ------
    Refused
        A DICOMDIR (it indexes the original patients' records).
    UnsupportedInputError
        An encapsulated document, whose content cannot be checked.
    """
    klass = sop_class(file)
    if klass == DICOMDIR_CLASS or _DIRECTORY_RECORDS in file.body:
        raise Refused("DICOMDIR indexes the original patient records; not copied "
                      "(build a new one from the cleaned files)")
    if klass in ENCAPSULATED_DOCUMENT_CLASSES or _ENCAPSULATED_DOCUMENT in file.body:
        raise UnsupportedInputError(
            "encapsulated document (PDF/CDA/3-D model): its content cannot be checked")


def plan_pixels(file: DicomFile, profile: Profile) -> PixelPlan:
    """The pixel steps `profile` asks of `file` (read from its original header)."""
    device = _device(file.body)
    modality = str(device["Modality"])
    faces_option = "clean_recognizable_visual_features" in profile.options
    if PIXEL_DATA not in file.body:
        return PixelPlan(modality, faces_checked=faces_option)
    return PixelPlan(
        modality=modality,
        rules=tuple(r for r in profile.pixel_rules if r.matches(device)),
        overlay_bits=bool(embedded_overlay_bits(file.body)),
        text=_looks_for_text(profile, modality, file.body),
        faces=faces_option and may_show_faces(sop_class(file), modality, file.body),
        faces_checked=faces_option,
    )


def may_show_faces(klass: str, modality: str, body: Node) -> bool:
    """Whether Clean Recognizable Visual Features looks for faces in a DICOM image; the
    one rule the pipeline and scan follow (every photo file is searched).

    Searched, greyscale, palette or colour alike: photographic SOP classes (VL
    photographs, endoscopy, microscopy, Secondary Capture: screenshots and scanned
    pictures) and modalities (XC, ES, OP, GM, SM); 3-D renderings of any modality
    (Image Type VRT, VOLUME RENDER, SSD, 3D...; or a derived image described as a
    volume or surface rendering); every other colour image but ultrasound. Not
    searched: greyscale cross-sections and projections (CT, MR, PET slices,
    radiographs, mammograms) and ultrasound (colour Doppler cines of hundreds of
    frames), which cannot show a recognisable face.
    """
    if klass in _PHOTOGRAPHIC_CLASSES or modality.upper() in _PHOTOGRAPHIC_MODALITIES:
        return True
    if _is_rendering(body):
        return True
    return modality.upper() != "US" and us_value(body.get(_SAMPLES_PER_PIXEL), 1) >= 3


def _is_rendering(body: Node) -> bool:
    """Whether the header says the image is a 3-D rendering."""
    image_type = [v.upper() for v in strings(body, _IMAGE_TYPE, DEFAULT_ENCODINGS)]
    if set(image_type) & _RENDERING_TYPES:
        return True
    derived = bool(image_type) and image_type[0] == "DERIVED"
    return derived and any(_RENDERING_WORDS.search(text) for tag in _DESCRIPTIONS
                           for text in strings(body, tag, DEFAULT_ENCODINGS))


def _looks_for_text(profile: Profile, modality: str, body: Node) -> bool:
    """Whether Clean Pixel Data looks for burned-in text in this image."""
    if "clean_pixel_data" not in profile.options:
        return False
    if profile.scan_modalities and modality.upper() not in profile.scan_modalities:
        return False
    flag = " ".join(strings(body, _BURNED_IN_ANNOTATION, DEFAULT_ENCODINGS)).upper()
    return not (profile.trust_burned_in_annotation and flag == "NO")


def _device(body: Node) -> dict[str, str | int]:
    """Header values pixel rules are matched on (read before cleaning)."""
    found: dict[str, str | int] = {}
    for keyword in ("Modality", "Manufacturer", "ManufacturerModelName"):
        found[keyword] = " ".join(strings(body, tag_of(keyword), DEFAULT_ENCODINGS))
    for keyword in ("Rows", "Columns"):
        found[keyword] = us_value(body.get(tag_of(keyword)), 0)
    return found
