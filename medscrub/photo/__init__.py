"""Photos: every metadata channel removed, orientation kept, pixels cleaned like DICOM's.

* :mod:`medscrub.photo.formats` decodes JPEG, PNG, TIFF (multi-page), WebP,
  GIF, BMP and HEIC/HEIF into oriented pages and writes them back with
  nothing but pixels (and, by default, the ICC colour profile);
* :mod:`medscrub.photo.jpeg` removes metadata from a JPEG without decoding it
  (no quality loss), for photos whose pixels need no change;
* :mod:`medscrub.photo.metadata` lists the metadata channels left in a file:
  the pipeline checks every photo it writes with it.

:meth:`medscrub.Pipeline.redact_photo_bytes` runs the whole path (faces and
burned-in text through the detectors and the redaction kernel).
"""

from medscrub.photo.formats import (
    FORMATS,
    Photo,
    jpeg_rotates,
    photo_format,
    read_photo,
    write_photo,
)
from medscrub.photo.jpeg import strip_segments
from medscrub.photo.metadata import metadata_channels

__all__ = [
    "FORMATS",
    "Photo",
    "jpeg_rotates",
    "metadata_channels",
    "photo_format",
    "read_photo",
    "strip_segments",
    "write_photo",
]
