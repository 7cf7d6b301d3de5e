"""12-bit JPEG Extended (Process 2/4) pixel data, decoded by GDCM's own image reader.

pydicom's decoders refuse 12-bit JPEG Extended unless the GPL-licensed
pylibjpeg-libjpeg is installed, and pydicom's GDCM plug-in refuses it too; GDCM's
own reader (python-gdcm, BSD licence, with its 12-bit IJG libjpeg) decodes it.
The reader only takes a file, so a copy holding nothing but the pixel module goes
to a private temporary folder for the time of the call.

GDCM's 12-bit path corrupts memory on some malformed streams (a sequential
scan whose spectral selection ends before coefficient 63), so every frame's
markers are checked first: one baseline or extended sequential frame of the
declared size and precision, and scans GDCM can read. A frame that fails is
refused, never decoded.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import generate_frames
from pydicom.uid import UID, JPEGExtended12Bit

from medscrub._optional import import_optional
from medscrub.errors import UnsupportedInputError

__all__ = ["decode_jpeg12"]

#: The pixel module: all the decoder needs (no other attribute reaches the temporary file).
_PIXEL_KEYWORDS = ("SamplesPerPixel", "PhotometricInterpretation", "Rows", "Columns",
                   "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation",
                   "PlanarConfiguration", "NumberOfFrames")
_SOF = {0xC0, 0xC1}  # baseline and extended sequential, Huffman coded
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM, RSTn: no length field


def _check_frame(frame: bytes, rows: int, columns: int, samples: int, index: int) -> None:
    """Refuse a frame that is not one sequential JPEG of the declared size and precision."""

    def refuse(why: str) -> UnsupportedInputError:
        return UnsupportedInputError(f"12-bit JPEG frame {index + 1}: {why}")

    if frame[:2] != b"\xff\xd8":
        raise refuse("no JPEG start marker")
    at, frames_seen, scans = 2, 0, 0
    while at + 4 <= len(frame):
        if frame[at] != 0xFF:
            raise refuse("broken marker structure")
        marker = frame[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in _STANDALONE:
            at += 2
            continue
        length = int.from_bytes(frame[at + 2:at + 4], "big")
        segment = frame[at + 4:at + 2 + length]
        if length < 2 or len(segment) != length - 2:
            raise refuse("truncated segment")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if marker not in _SOF:
                raise refuse("not a sequential Huffman JPEG")
            precision, height = segment[0], int.from_bytes(segment[1:3], "big")
            width, components = int.from_bytes(segment[3:5], "big"), segment[5]
            if (precision not in (8, 12) or (height, width) != (rows, columns)
                    or components != samples):
                raise refuse("frame header does not match the image attributes")
            frames_seen += 1
        elif marker == 0xDA:
            count = segment[0]
            start, end, approximation = segment[1 + 2 * count:4 + 2 * count]
            if not frames_seen or (start, end, approximation) != (0, 63, 0):
                raise refuse("invalid scan parameters for a sequential JPEG")
            scans += 1
            break  # entropy-coded data follows
        at += 2 + length
    if frames_seen != 1 or not scans:
        raise refuse("no complete frame and scan header")


def decode_jpeg12(ds: Dataset) -> npt.NDArray[np.integer]:
    """All frames of a JPEG Extended `ds` as ``(frames, rows, columns, samples)``.

    Raises
    ------
    UnsupportedInputError
        If a frame is not a well-formed sequential JPEG of the declared size, or
        GDCM cannot decode it.
    """
    rows, columns = int(ds.Rows), int(ds.Columns)
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    count = int(ds.get("NumberOfFrames", 1) or 1)
    try:
        frames = list(generate_frames(ds.PixelData, number_of_frames=count))
    except Exception as exc:  # pydicom raises several kinds for bad encapsulation
        raise UnsupportedInputError(
            f"12-bit JPEG fragments cannot be read ({type(exc).__name__})") from None
    if len(frames) != count:
        raise UnsupportedInputError(f"12-bit JPEG holds {len(frames)} frames, not {count}")
    for index, frame in enumerate(frames):
        _check_frame(frame, rows, columns, samples, index)
    gdcm = import_optional("gdcm", "codecs")
    signed = int(ds.get("PixelRepresentation", 0) or 0) == 1
    dtype = np.dtype("<i2" if signed else "<u2")
    with tempfile.TemporaryDirectory(prefix="medscrub-") as folder:
        path = Path(folder) / "pixels.dcm"
        _pixel_module(ds).save_as(path, enforce_file_format=True)
        reader = gdcm.ImageReader()
        reader.SetFileName(str(path))
        with _quiet_stderr():  # its 8-bit libjpeg says it cannot, before the 12-bit one does
            if not reader.Read():
                raise UnsupportedInputError("12-bit JPEG: GDCM cannot read the pixel data")
            image = reader.GetImage()
            raw = image.GetBuffer().encode("utf-8", "surrogateescape")
        if image.GetPixelFormat().GetBitsAllocated() != 16:
            raise UnsupportedInputError("12-bit JPEG: GDCM returned an unexpected sample size")
    expected = count * rows * columns * samples * dtype.itemsize
    if len(raw) != expected:
        raise UnsupportedInputError(
            f"12-bit JPEG: GDCM returned {len(raw)} bytes, not {expected}")
    return np.frombuffer(raw, dtype=dtype).reshape(count, rows, columns, samples).copy()


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Send what C libraries write to the process's standard error to nowhere."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _pixel_module(ds: Dataset) -> Dataset:
    """A copy of `ds` holding only what decoding needs."""
    copy = Dataset()
    for keyword in _PIXEL_KEYWORDS:
        if keyword in ds:
            copy[keyword] = ds[keyword]
    copy["PixelData"] = ds["PixelData"]
    copy.file_meta = FileMetaDataset()
    copy.file_meta.TransferSyntaxUID = JPEGExtended12Bit
    copy.file_meta.MediaStorageSOPClassUID = UID("1.2.840.10008.5.1.4.1.1.7")
    copy.file_meta.MediaStorageSOPInstanceUID = UID("1.2.826.0.1.3680043.10.999.1")
    copy.SOPClassUID = copy.file_meta.MediaStorageSOPClassUID
    copy.SOPInstanceUID = copy.file_meta.MediaStorageSOPInstanceUID
    return copy
