"""Hostile input: mutated DICOM, JPEG and PNG files never crash, hang or leak.

Valid files from the sample generator are mutated (bit flips, truncation,
absurd and undefined lengths, wrong VRs, deep sequence nesting, decompression
bombs) and cleaned one at a time with a profile that decodes and re-encodes
every image, under tight limits. Whatever happens, a result comes back within
the time limit, and an output exists only for a file reported cleaned; that
output is valid (DICOM without the identifiers pydicom reads from the mutated
input; a photo without metadata or any planted identifier). ``tests/corpus/``
keeps inputs that once broke these rules; each is run again as a regression
test. CI runs a fixed set of cases;
``MEDSCRUB_FUZZ_EXAMPLES=5000`` fuzzes longer, on fresh random cases.
"""

from __future__ import annotations

import io
import os
import struct
import tempfile
import time
import zlib
from functools import cache
from pathlib import Path

import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from pydicom.dataset import FileDataset
from pydicom.uid import ImplicitVRLittleEndian, JPEG2000Lossless, RLELossless

from medscrub.keys import SecretKey
from medscrub.limits import Limits
from medscrub.model import Outcome
from medscrub.pipeline import Pipeline
from medscrub.profile import PixelRule, Profile
from medscrub_testing.samples import (
    FAKE_PHI_STRINGS,
    make_ct,
    make_mr,
    make_photo_jpeg,
    make_photo_png,
    make_us_cine,
)
from medscrub_testing.samples import to_jpeg_baseline as jpeg_baseline
from tests.conftest import KEY_TEXT

CORPUS = Path(__file__).parent / "corpus"
LIMITS = Limits(decoded_mb=64, pixels=1 << 22, element_mb=4, seconds=20)
EXAMPLES = int(os.environ.get("MEDSCRUB_FUZZ_EXAMPLES", "120"))
#: Header values pydicom reads that must not reach an output.
LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR",
                      b"UT", b"SV", b"UV"})
IDENTIFYING = ("PatientName", "PatientID", "PatientBirthDate", "OtherPatientIDs",
               "PatientAddress", "InstitutionName", "ReferringPhysicianName", "AccessionNumber")


def _bytes(ds: FileDataset) -> bytes:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


@cache
def bases() -> dict[str, bytes]:
    """Small valid inputs of every kind the pipeline meets."""
    found = {"ct.dcm": _bytes(make_ct(0, rows=32, columns=32))}
    mr = make_mr(0, rows=32, columns=32)
    mr.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    found["mr_implicit.dcm"] = _bytes(mr)
    rle = make_ct(0, instance=2, rows=32, columns=32)
    rle.compress(RLELossless, generate_instance_uid=False, encoding_plugin="pydicom")
    found["ct_rle.dcm"] = _bytes(rle)
    j2k = make_ct(0, instance=3, rows=32, columns=32)
    try:
        j2k.compress(JPEG2000Lossless, generate_instance_uid=False)
        found["ct_j2k.dcm"] = _bytes(j2k)
    except (RuntimeError, ImportError):  # no JPEG 2000 encoder installed
        pass
    us = make_us_cine(0, frames=2, rows=32, columns=48)
    jpeg_baseline(us, us.pixel_array)
    found["us_jpeg.dcm"] = _bytes(us)
    with tempfile.TemporaryDirectory() as tmp:
        found["photo.jpg"] = make_photo_jpeg(Path(tmp) / "photo.jpg").read_bytes()
        found["photo.png"] = make_photo_png(Path(tmp) / "photo.png").read_bytes()
    return found


def element_fields(data: bytes) -> tuple[list[tuple[int, int]], list[int]]:
    """Where the length fields (offset, width) and the VRs (offset) of every Explicit VR LE
    element are, nested ones included (a plain walk, independent of medscrub's codec)."""
    lengths: list[tuple[int, int]] = []
    vrs: list[int] = []
    if data[128:132] != b"DICM":
        return lengths, vrs
    pos = 132
    while pos + 12 <= len(data):
        group = struct.unpack_from("<H", data, pos)[0]
        if group == 0xFFFE:  # an item or a delimiter: step into it
            lengths.append((pos + 4, 4))
            pos += 8
            continue
        vrs.append(pos + 4)
        vr = data[pos + 4 : pos + 6]
        if vr in LONG_VRS:
            lengths.append((pos + 8, 4))
            length = struct.unpack_from("<I", data, pos + 8)[0]
            pos += 12 if vr == b"SQ" or length == 0xFFFFFFFF else 12 + length
        else:
            lengths.append((pos + 6, 2))
            pos += 8 + struct.unpack_from("<H", data, pos + 6)[0]
    return lengths, vrs


def _nested(depth: int) -> bytes:
    """A Content Sequence nested `depth` deep, undefined lengths throughout."""
    inner = b"\x08\x00\x00\x01SH\x02\x00X "
    for _ in range(depth):
        item = b"\xfe\xff\x00\xe0\xff\xff\xff\xff" + inner + b"\xfe\xff\x0d\xe0\x00\x00\x00\x00"
        inner = (b"\x40\x00\x30\xa7SQ\x00\x00\xff\xff\xff\xff" + item
                 + b"\xfe\xff\xdd\xe0\x00\x00\x00\x00")
    return inner


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@st.composite
def mutate(draw: st.DrawFn, data: bytes) -> bytes:
    """One hostile change to `data`."""
    buf = bytearray(data)
    lengths, vrs = element_fields(data)
    ops = ["flip", "truncate", "splice"]
    if lengths:
        ops += ["length", "undefined", "vr", "nest", "bomb"]
    if data.startswith(b"\x89PNG"):
        ops += ["png_bomb"]
    if data.startswith(b"\xff\xd8"):
        ops += ["jpeg_bomb"]
    op = draw(st.sampled_from(ops))
    if op == "flip":
        for _ in range(draw(st.integers(1, 8))):
            pos = draw(st.integers(0, len(buf) - 1))
            buf[pos] ^= 1 << draw(st.integers(0, 7))
    elif op == "truncate":
        del buf[draw(st.integers(0, len(buf) - 1)):]
    elif op == "splice":  # a run of random bytes over part of the file
        pos = draw(st.integers(0, len(buf) - 1))
        junk = draw(st.binary(min_size=1, max_size=64))
        buf[pos : pos + len(junk)] = junk
    elif op in ("length", "undefined"):
        at, width = draw(st.sampled_from(lengths))
        value = 0xFFFFFFFF if op == "undefined" else draw(st.sampled_from(
            [0xFFFFFFFE, 0x7FFFFFFF, 0x80000000, len(buf) * 2, 0, 1, 3]))
        size = "<I" if width == 4 else "<H"
        buf[at : at + width] = struct.pack(size, value & (0xFFFFFFFF if width == 4 else 0xFFFF))
    elif op == "vr":
        at = draw(st.sampled_from(vrs))
        buf[at : at + 2] = draw(st.sampled_from(
            [b"SQ", b"UN", b"OB", b"OW", b"US", b"AT", b"FD", b"XX", b"\x00\x00", b"ss"]))
    elif op == "nest":
        at = bytes(buf).rfind(b"\xe0\x7f\x10\x00")
        at = at if at > 0 else len(buf)
        buf[at:at] = _nested(draw(st.integers(1, 300)))
    elif op == "bomb":  # absurd Rows, Columns (US) and Number of Frames
        for tag in (b"\x28\x00\x10\x00US\x02\x00", b"\x28\x00\x11\x00US\x02\x00"):
            at = bytes(buf).find(tag)
            if at >= 0:
                buf[at + 8 : at + 10] = struct.pack("<H", draw(st.integers(1, 0xFFFF)))
        at = bytes(buf).find(b"\x28\x00\x08\x00IS")
        if at >= 0:
            length = struct.unpack_from("<H", buf, at + 6)[0]
            frames = str(draw(st.integers(1, 10**9))).encode().ljust(length)[:length]
            buf[at + 8 : at + 8 + length] = frames
    elif op == "png_bomb":  # the first chunk is IHDR: declare a huge image
        ihdr = bytearray(buf[16:29])
        ihdr[0:8] = struct.pack(">II", draw(st.integers(1, 1 << 31)), draw(st.integers(1, 1 << 31)))
        buf[8:33] = _png_chunk(b"IHDR", bytes(ihdr))
    elif op == "jpeg_bomb":  # the first frame header (SOF0/SOF2) declares 65535 x 65535
        for marker in (b"\xff\xc0", b"\xff\xc2"):
            at = bytes(buf).find(marker)
            if at >= 0:
                buf[at + 5 : at + 9] = struct.pack(">HH", 0xFFFF, 0xFFFF)
    return bytes(buf)


@st.composite
def hostile(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(bases())))
    data = bases()[name]
    for _ in range(draw(st.integers(1, 3))):
        data = draw(mutate(data))
        if not data:
            break
    return name, data


@cache
def pipeline() -> Pipeline:
    # every image is decoded, redacted and encoded again: DICOM by a pixel rule, photos by
    # the face step (burned-in text is left out: OCR would make each case slow)
    decode_everything = Profile(options=frozenset({"clean_recognizable_visual_features"}),
                                pixel_rules=(PixelRule(boxes=((0, 0, 4, 4),)),))
    return Pipeline(decode_everything, key=SecretKey.from_text(KEY_TEXT), limits=LIMITS)


def identifiers(data: bytes) -> list[bytes]:
    """Identifying values a plain pydicom read finds in `data` (4+ characters)."""
    try:
        ds = pydicom.dcmread(io.BytesIO(data), force=True)
        values = [str(ds.get(k, "") or "") for k in IDENTIFYING]
    except Exception:  # unreadable to pydicom: nothing to compare with
        return []
    return [v.strip().encode("latin-1", "ignore") for v in values if len(v.strip()) >= 4]


def check_one(name: str, data: bytes, folder: Path) -> None:
    """Clean one input; assert the hostile-input rules."""
    src = folder / name
    src.write_bytes(data)
    out = folder / "out"
    start = time.monotonic()
    result, _header = pipeline().process_file(src, name, out)
    assert time.monotonic() - start < LIMITS.seconds + 5
    written = out / name
    if result.outcome is not Outcome.CLEANED:
        assert not written.exists(), result
        assert result.reason and "\n" not in result.reason
        return
    cleaned = written.read_bytes()
    if result.kind == "photo":  # a valid image without metadata; no planted string left
        with Image.open(io.BytesIO(cleaned)) as image:
            image.load()
            assert not image.getexif() and not set(image.info) & {"exif", "comment", "xmp"}
        for value in FAKE_PHI_STRINGS:
            assert value.encode() not in cleaned, (name, result.stage)
    else:
        ds = pydicom.dcmread(io.BytesIO(cleaned))  # a valid file, whatever came in
        assert ds.SOPInstanceUID.startswith("2.25.")
        for found in identifiers(data):
            assert found not in cleaned, (name, result.stage)
    written.unlink()


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          derandomize="MEDSCRUB_FUZZ_EXAMPLES" not in os.environ,  # CI: the same cases each run
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(case=hostile())
def test_mutated_inputs_never_crash_hang_or_leak(case: tuple[str, bytes], tmp_path: Path) -> None:
    check_one(*case, tmp_path)


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*")) if CORPUS.is_dir() else [],
                         ids=lambda p: p.name)
def test_corpus_of_inputs_that_once_failed(path: Path, tmp_path: Path) -> None:
    name = path.name.split("--")[-1]  # <what broke>--<original name>
    check_one(name, path.read_bytes(), tmp_path)
