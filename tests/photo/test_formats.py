"""One recogniser of photo formats: the folder walk and the photo reader agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from medscrub.errors import UnsupportedInputError
from medscrub.files import FileKind, classify
from medscrub.photo.formats import photo_format, sniff_format

HEADS = {
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00": "JPEG",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR": "PNG",
    b"II*\x00\x08\x00\x00\x00": "TIFF",
    b"MM\x00*\x00\x00\x00\x08": "TIFF",
    b"RIFF\x24\x00\x00\x00WEBPVP8 ": "WEBP",
    b"GIF89a\x01\x00\x01\x00": "GIF",
    b"BM\x3a\x00\x00\x00\x00\x00": "BMP",
    b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00": "HEIF",
    b"\x00\x00\x00\x18ftyphevc\x00\x00\x00\x00": "HEIF",
    b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00": None,  # not read: skipped, not half-read
    b"%PDF-1.7\n%\xe2\xe3": None,
}


@pytest.mark.parametrize(("head", "fmt"), HEADS.items())
def test_the_walk_and_the_reader_agree(head: bytes, fmt: str | None) -> None:
    assert sniff_format(head) == fmt
    kind = classify(Path("picture.bin"), head)
    assert kind is (FileKind.PHOTO if fmt else FileKind.OTHER)
    if fmt is None:
        with pytest.raises(UnsupportedInputError):
            photo_format(head)
    else:
        assert photo_format(head) == fmt
