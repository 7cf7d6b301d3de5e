"""The sharing workflow on a mixed folder: what leaks through ``standard`` and ``share``.

A folder is built in a temporary directory, as a clinician's export might look:

* the sample DICOM series (fake PHI in every header place, burned-in text, overlays,
  compressed syntaxes, a file without preamble or file meta) under a folder named
  after the patient, each file with a phone number, an e-mail, an address, dates in
  five forms and a titled name planted in its comments, descriptions, a request
  sequence and a private block;
* pydicom's real ECG with the same free text in a waveform annotation, and its real
  12-bit JPEG Extended CT;
* the sample photos (EXIF with GPS, XMP, IPTC, PNG text) under patient-like names;
* face photos in colour and grey (the face set);
* a zero-byte and a truncated DICOM file (these must fail alone).

Each preset cleans the folder with :meth:`medscrub.Pipeline.run`; then, per preset:

* **written**: valid inputs written (every valid input should be);
* **header PHI**: DICOM outputs whose bytes hold any planted or fake-PHI string;
* **kept text**: identifying free text ``medscrub scan`` still reports in the outputs;
* **photo metadata**: metadata channels ``scan`` reports in the photo outputs;
* **paths**: output paths holding a name, ID or date of the input paths;
* **faces**: face boxes of which under 90 % of the pixels changed (a leaked face), and
  the share of pixels changed outside the face boxes (the hair, ears and neck of a
  head area are outside a face box, so this is an upper bound of over-redaction).

Run from the project root::

    .venv/bin/python benchmarks/bench_share.py

The exit code is always 0: this is a report, not a test.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image
from pydicom.data import get_testdata_file

from medscrub import Outcome, Pipeline, Profile, SecretKey
from medscrub.scan import scan_path
from medscrub_testing.faceset import face_set
from medscrub_testing.samples import FAKE_PHI_STRINGS, PATIENT_DIR

KEY = "bench-share-key-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[1]
PLANTED = ("Tel 555-0199", "jane.doe@example.org", "12 Elm Street, Springfield, IL 62704",
           "06/16/1976", "1976-06-16", "16 Jun 1976", "June 16, 1976", "16.06.1976",
           "Dr Quincy Adams")
FREE_TEXT = "; ".join(PLANTED)
NEEDLES = tuple(n.encode() for n in (
    "555-0199", "jane.doe", "Elm Street", "62704", "1976", "Quincy", "Adams",
    *(s for s in FAKE_PHI_STRINGS if len(s) >= 5 and not s[0].isdigit())))
PATIENT_FOLDER = "DOE_JANE_4821337"
PATH_PARTS = ("DOE", "JANE", "4821337", "ROE", "RICHARD", "19481102")
FILLED = 0.9


def _plant(ds: pydicom.Dataset) -> None:
    for keyword in ("ImageComments", "StudyDescription", "SeriesDescription",
                    "DerivationDescription", "CalibrationNotes"):
        setattr(ds, keyword, FREE_TEXT)
    request = pydicom.Dataset()
    request.RequestedProcedureDescription = FREE_TEXT
    ds.RequestAttributesSequence = pydicom.Sequence([request])
    ds.add_new(0x00990010, "LO", "ACME CLINICAL 1.0")
    ds.add_new(0x00991001, "LT", FREE_TEXT)


def build(folder: Path) -> tuple[int, dict[str, tuple[tuple[int, int, int, int], ...]]]:
    """Write the mixed folder; return the number of valid inputs and the face boxes."""
    valid = 0
    for src in sorted((ROOT / "sample_images" / PATIENT_DIR).rglob("*")):
        if not src.is_file():
            continue
        target = folder / PATIENT_FOLDER / src.relative_to(ROOT / "sample_images" / PATIENT_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        ds = pydicom.dcmread(src, force=True)
        _plant(ds)
        ds.save_as(target, enforce_file_format="FileMetaInformationGroupLength" in ds.file_meta)
        valid += 1
    ecg = pydicom.dcmread(get_testdata_file("waveform_ecg.dcm"))
    ecg.PatientName, ecg.PatientID = "DOE^JANE", "4821337"  # the file is named after them
    ecg.WaveformAnnotationSequence[0].UnformattedTextValue = FREE_TEXT
    _plant(ecg)
    (folder / "ecg").mkdir()
    ecg.save_as(folder / "ecg" / "ECG_DOE_JANE.dcm", enforce_file_format=True)
    shutil.copy(get_testdata_file("JPGExtended.dcm"), folder / "ecg" / "ct12.dcm")
    valid += 2
    for index, photo in enumerate(sorted((ROOT / "sample_images" / "photos").iterdir())):
        shutil.copy(photo, folder / f"ROE_RICHARD_19481102_{index}{photo.suffix}")
        valid += 1
    faces: dict[str, tuple[tuple[int, int, int, int], ...]] = {}
    (folder / "faces").mkdir()
    for sample in face_set():
        name = f"faces/{sample.name}.png"
        Image.fromarray(sample.image).save(folder / name)
        faces[name] = sample.faces
        valid += 1
    (folder / "hostile").mkdir()
    (folder / "hostile" / "empty.dcm").write_bytes(b"")
    whole = (folder / PATIENT_FOLDER / "CT" / "CT000001.dcm").read_bytes()
    (folder / "hostile" / "truncated.dcm").write_bytes(whole[: len(whole) // 3])
    return valid, faces


def _face_figures(src: Path, out: Path,
                  boxes: tuple[tuple[int, int, int, int], ...]) -> tuple[int, float]:
    """(leaked face boxes, share of pixels changed outside the face boxes)."""
    before = np.asarray(Image.open(src).convert("RGB")).astype(np.int16)
    after = np.asarray(Image.open(out).convert("RGB")).astype(np.int16)
    changed = np.any(before != after, axis=-1)
    inside = np.zeros(changed.shape, dtype=bool)
    leaked = 0
    for y0, x0, y1, x1 in boxes:
        inside[y0:y1, x0:x1] = True
        leaked += int(changed[y0:y1, x0:x1].mean() < FILLED)
    return leaked, float(changed[~inside].mean())


def report(preset: str, folder: Path, work: Path, valid: int,
           faces: dict[str, tuple[tuple[int, int, int, int], ...]]) -> None:
    out = work / f"out-{preset}"
    started = time.perf_counter()
    run = Pipeline(Profile.preset(preset), key=SecretKey.from_text(KEY)).run(folder, out)
    seconds = time.perf_counter() - started
    written = {r.input: r.output for r in run.results if r.outcome is Outcome.CLEANED}
    lost = [r for r in run.results if r.outcome is not Outcome.CLEANED
            and not r.input.startswith("hostile/") and r.outcome is not Outcome.SKIPPED]
    header = 0
    for rel in written.values():
        data = (out / str(rel)).read_bytes()
        if data[128:132] == b"DICM" or rel.endswith(".dcm"):
            header += any(n in data for n in NEEDLES)
    scanned = scan_path(out, pixels=False)
    kept_text = sum(1 for f in scanned.files for x in f.findings
                    if x.detail.startswith("free text"))
    metadata = sum(1 for f in scanned.files for x in f.findings if x.kind == "photo-metadata")
    paths = sum(1 for rel in written.values()
                if any(part in str(rel).upper() for part in PATH_PARTS))
    leaked, outside, leaking = 0, [], []
    for name, boxes in faces.items():
        if name in written:
            n, fraction = _face_figures(folder / name, out / str(written[name]), boxes)
            leaked += n
            outside.append(fraction)
            if n:
                leaking.append(name)
    hostile = [r for r in run.results if r.input.startswith("hostile/")]
    print(f"{preset:<9} {len(written):>3}/{valid:<3} {header:>6} {kept_text:>9} {metadata:>9} "
          f"{paths:>6} {leaked:>3}/{sum(len(b) for b in faces.values()):<3} "
          f"{100 * float(np.mean(outside)):>7.1f}%  "
          f"{sum(r.outcome is Outcome.FAILED for r in hostile)}/{len(hostile)} "
          f"{seconds:>6.1f}")
    if leaking:
        print(f"  faces left: {', '.join(leaking)}")
    for result in lost:
        print(f"  not written: {result.input}: {result.outcome.value} at {result.stage}: "
              f"{result.reason}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        folder = work / "in"
        folder.mkdir()
        valid, faces = build(folder)
        print(f"mixed folder: {valid} valid inputs, {sum(len(b) for b in faces.values())} "
              "face boxes, 2 hostile files")
        print("preset    written header kept-text photo-meta  paths faces  outside  "
              "hostile-failed seconds")
        for preset in ("standard", "share"):
            report(preset, folder, work, valid, faces)


if __name__ == "__main__":
    main()
